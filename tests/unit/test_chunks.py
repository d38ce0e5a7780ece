"""pandoc reads each file in chunks, and the book is exactly the one it makes of each file read whole."""
from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest
from lxml import html

import publish.markdown.convert
from publish.book.config import load_metadata
from publish.markdown.check import check_book, clean
from publish.markdown.convert import PandocCache, chunked, convert, read_sources


def model(folder: Path, whole: bool, cache: PandocCache | None = None, alone: bool = False) -> list:
    """Return the book made of the manuscript (each chunk read by its own pandoc run if alone), serialized."""
    meta, _ = load_metadata(folder)
    sources = {p: clean(t) for p, t in read_sources(meta, folder).items()}
    with pytest.MonkeyPatch.context() as patch:
        if alone:
            patch.setattr("publish.markdown.convert.RUN_BYTES", 1)
        book = convert(meta, folder, sources, cache, whole=whole)

    def text(el) -> str:
        return html.tostring(el, encoding="unicode")

    chapters = [(ch.title, ch.anchor, str(ch.path), ch.front, text(ch.body),
                 [dataclasses.astuple(s) for s in ch.sections],
                 [(n.anchor, n.number, n.page, [text(b) for b in n.blocks]) for n in ch.notes.values()],
                 [dataclasses.astuple(pb) for pb in ch.page_breaks]) for ch in book.chapters]
    return [chapters, [str(d) for d in check_book(book, sources)]]


def assert_chunked_as_whole(folder: Path) -> None:
    """Assert that the manuscript read in chunks, alone or in runs, makes the book it makes read file by file."""
    whole = model(folder, whole=True)
    assert model(folder, whole=False, alone=True) == whole
    assert model(folder, whole=False) == whole


def chunk_heads(folder: Path) -> list[str]:
    """Return the first line of each chunk of the manuscript's files after the first chunk."""
    meta, _ = load_metadata(folder)
    return [c.split("\n", 1)[0] for p, t in read_sources(meta, folder).items() for _, c in chunked(t, str(p))[1:]]


def manuscript(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "book.yaml").write_text("id: guards\nvolume_title: Guards\nsubseries: '1936'\nvolume: Volume I\n"
                                      "editors: [A. Editor]\nyear: 1954\nchapters:\n  - 01.md\n", encoding="utf-8")
    (folder / "01.md").write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return folder


# Each case: a manuscript with a heading no cut may precede (the guard), and one free to (past a
# code fence or an HTML comment the file is not cut at all).
GUARDS = {
    "note defined past a heading": """
        # Chapter

        ## 1. First {#d1}

        Text with a note.[^a]

        ## 2. Guarded {#d2}

        Other text.

        [^a]: The note, defined in the next document.

        ## 3. Free {#d3}

        Text.
        """,
    "fenced div holding a heading": """
        # Chapter

        ## 1. First {#d1}

        :::: attachment

        ## Guarded

        Enclosure text.

        ::: dateline
        Rome, 1936.
        :::

        ::::

        ## 2. Free {#d2}

        Text.
        """,
    "code fence holding comment lines": """
        # Chapter

        ## 1. First {#d1}

        ## 2. Free {#d2}

        ````
        x = 1

        # Guarded

        ```
        ~~~

        # Guarded too
        ````

        ~~~
        # Guarded three
        ~~~

        ## 3. Guarded too {#d3}

        Text.
        """,
    "inline code that opens a line like a fence": """
        # Chapter

        ## 1. First {#d1}

        `` ` `` inline code.

        ## 2. Free {#d2}

        ```inline``` code, not a fence, but the file is not cut past it.

        # Guarded

        ```

        ## 3. Guarded {#d3}

        Text.
        """,
    "raw div holding a heading": """
        # Chapter

        ## 1. First {#d1}

        <div class="attachment"><div>

        ## Guarded

        Text in a div.

        </div>

        # Guarded chapter

        Still in the outer div.

        </div>

        ## 2. Free {#d2}

        Text.
        """,
    "reference link defined in another section": """
        # Chapter

        ## 1. First {#d1}

        See [the second][second] and [The Heading Named].

        ## 2. Guarded {#d2}

        Text.

        [second]: #d2

        ## The Heading Named

        Text.

        ## 3. Free {#d3}

        Text.
        """,
    "reference label over a line break": """
        # Chapter

        ## 1. First {#d1}

        A label [run over
        two lines].

        ## 2. Guarded {#d2}

        [Run over two lines]: #d1

        ## 3. Free {#d3}

        Text.
        """,
    "HTML comment holding a heading": """
        # Chapter

        ## 1. First {#d1}

        ## 2. Free {#d2}

        <!-- an editor's remark

        # Guarded

        -->

        ## 3. Guarded {#d3}

        Text.
        """,
}


@pytest.mark.parametrize("body", GUARDS.values(), ids=GUARDS)
def test_no_cut_parts_what_pandoc_reads_as_one(tmp_path, monkeypatch, body):
    monkeypatch.setattr("publish.markdown.chunks.CHUNK_EVERY", 1)  # every valid point a cut
    folder = manuscript(tmp_path, body)
    heads = chunk_heads(folder)
    assert heads and not any("Guarded" in h or "Heading Named" in h for h in heads), heads
    assert any("Free" in h for h in heads), heads
    assert_chunked_as_whole(folder)


def test_example_lists_number_across_the_file_so_it_is_not_cut(tmp_path, monkeypatch):
    monkeypatch.setattr("publish.markdown.chunks.CHUNK_EVERY", 1)
    folder = manuscript(tmp_path, """
        # Chapter

        ## 1. First {#d1}

        (@) One.

        ## 2. Second {#d2}

        (@) Two.
        """)
    assert chunk_heads(folder) == []
    assert_chunked_as_whole(folder)


def test_an_edit_runs_pandoc_on_the_one_chunk_holding_it(tmp_path, monkeypatch):
    from synthetic import generate

    folder = generate(tmp_path / "long", 120, chapter_pages=120)
    source = next(folder.glob("*.md"))
    runs = []
    real = publish.markdown.convert.to_html
    monkeypatch.setattr("publish.markdown.convert.to_html", lambda markdown: runs.append(markdown) or real(markdown))

    def build() -> tuple[list[str], list]:
        """Convert the manuscript with the cache kept in tmp_path; return the file's chunks and the book."""
        runs.clear()
        cache = PandocCache(tmp_path / "cache")
        book = model(folder, whole=False, cache=cache)
        cache.save()
        return [c for _, c in chunked(source.read_text(encoding="utf-8"), str(source))], book

    def edit(change) -> None:
        lines = source.read_text(encoding="utf-8").split("\n")
        middle = next(i for i in range(len(lines) // 2, len(lines)) if lines[i][:1].isupper() and " the " in lines[i])
        lines[middle:middle + 1] = change(lines[middle])
        source.write_text("\n".join(lines), encoding="utf-8")

    before, _ = build()
    # A clean build reads the chunks in runs of several.
    assert len(before) >= 3 and 1 <= len(runs) < len(before)
    for change in (lambda line: [line.replace(" the ", " this ", 1)],  # one word
                   lambda line: [line, "", "A paragraph inserted, with a page [Page 9999] in it.", ""]):
        edit(change)
        after, book = build()
        # The chunks are cut at the same places, and only the one holding the edit reads otherwise: the
        # lines below an insertion moved, but the source lines in a chunk count from its start.
        assert len(after) == len(before)
        changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
        assert len(changed) == 1 and runs == [after[changed[0]]]
        assert book == model(folder, whole=True)
        before = after


def test_page_breaks_and_headings_keep_the_file_s_lines(tmp_path, monkeypatch):
    monkeypatch.setattr("publish.markdown.chunks.CHUNK_EVERY", 1)
    folder = manuscript(tmp_path, """
        # Chapter {#ch page=1}

        ## 1. First {#d1}

        Text [Page 2] on.

        ## 2. Second {#d2 page=3}

        More [Page 4] text.

        ## 3. Third {#d3}

        Last [Page 5] words.
        """)
    assert len(chunk_heads(folder)) == 3
    lines = (folder / "01.md").read_text(encoding="utf-8").split("\n")
    want = [(label, next(i for i, line in enumerate(lines, 1)
                             if f"[Page {label}]" in line or f"page={label}}}" in line))
            for label in "12345"]
    chapters, _ = model(folder, whole=False)
    assert [(pb[0], pb[2]) for pb in chapters[0][-1]] == want
    assert_chunked_as_whole(folder)


# The Markdown of issue 23: a comment the chunker took for code, after an indented line like a fence
# (code to pandoc) or a backtick escaped before inline code.
@pytest.mark.parametrize("remark", ["    ```\n\n<!-- remark\n\n```",
                                    "An escaped \\` then <!-- remark and `code`"])
def test_text_commented_out_is_not_in_the_book(tmp_path, monkeypatch, remark):
    monkeypatch.setattr("publish.markdown.chunks.CHUNK_EVERY", 1)
    folder = manuscript(tmp_path, "# Chapter\n\n## 1. First {#d1}\n\nKept.\n\n## 2. Second {#d2}\n\n" + remark
                        + "\n\n## 3. Hidden {#d3}\n\nwithdrawn words\n\n-->\n\n## 4. Last {#d4}\n\nKept too.\n")
    chapters, _ = model(folder, whole=False)
    assert "Kept too." in chapters[0][4] and "withdrawn" not in str(chapters) and "Hidden" not in str(chapters)
    assert_chunked_as_whole(folder)
