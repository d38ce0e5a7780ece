"""After an edit in a long chapter, only the pieces around it are laid out again, and the book is the clean build's."""
from __future__ import annotations

import re

import pdfplumber
import pytest

from publish.build import build
from publish.pdf import join, pieces, typeset

from readers import assert_accessible_and_archival
from synthetic import generate


def _pages(path):
    """Return every page's words with their places, as a reader's tool reads them."""
    with pdfplumber.open(path) as pdf:
        return [[(round(w["x0"], 1), round(w["top"], 1), w["text"]) for w in page.extract_words()]
                for page in pdf.pages]


def _at(text: str, fraction: float, pattern: str) -> re.Match:
    """Return the first match of pattern at or after the given fraction of the text."""
    return re.compile(pattern, re.M).search(text, int(len(text) * fraction))


def _word(fraction):
    def edit(text):
        found = _at(text, fraction, r" (the|was) ")
        return text[:found.start(1)] + found[1].upper() + text[found.end(1):]
    return edit


def _paragraph(text):
    found = _at(text, 0.4, r"\n\n(?=[A-Z])")
    added = " ".join(["An inserted paragraph of the kind an editor adds on reading the proofs again."] * 6)
    return text[:found.end()] + added + "\n\n" + text[found.end():]


def _footnote(text):
    found = _at(text, 0.6, r"^\[\^n[0-9-]+\]: \S+ ")
    return text[:found.end()] + "(as corrected) " + text[found.end():]


EDITS = {"one word mid-chapter": _word(0.5), "one word near the start": _word(0.12),
         "one word near the end": _word(0.9), "a paragraph inserted": _paragraph, "a footnote": _footnote}


@pytest.fixture(scope="module", autouse=True)
def every_clean_start_cuts():
    """Cut at every page that begins cleanly."""
    # A synthetic chapter of long paragraphs has few such pages; which the content's hash picks is luck.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pieces, "PIECE_EVERY", 1)
        yield


@pytest.fixture(scope="module")
def manuscript(tmp_path_factory, every_clean_start_cuts):
    """A manuscript of one chapter of some seventy pages, built once into a cache the edits reuse."""
    root = tmp_path_factory.mktemp("long")
    folder = generate(root / "src", 50, chapter_pages=50)
    build(folder, root / "incremental", ("pdf",), jobs=1)
    return folder, root


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_rebuilt_from_the_cache_is_the_clean_build(manuscript, edit, tmp_path, monkeypatch):
    folder, root = manuscript
    chapter = next(folder.glob("*.md"))
    chapter.write_text(EDITS[edit](chapter.read_text(encoding="utf-8")), encoding="utf-8")
    laid, before = [], dict(join._OPEN)
    layout = typeset.Typesetter.layout
    monkeypatch.setattr(typeset.Typesetter, "layout",
                        lambda self, html, *rest: (d := layout(self, html, *rest), laid.append(len(d.pages)))[0])
    incremental = build(folder, root / "incremental", ("pdf",), jobs=1).outputs["pdf"]
    monkeypatch.undo()
    # The pieces the edit left as they were are joined from the sources the build before opened.
    assert [digest for digest, source in join._OPEN.items() if before.get(digest) is source]
    # The clean build as a new process makes it, with no part checked or opened before: the rebuild (as in
    # `publish watch`) took the pieces it had checked, and opened, in the build before.
    monkeypatch.setattr(join, "_SOUND", set())
    monkeypatch.setattr(join, "_OPEN", {})
    clean = build(folder, tmp_path / "clean", ("pdf",), jobs=1).outputs["pdf"]
    assert _pages(incremental) == _pages(clean)
    assert incremental.read_bytes() == clean.read_bytes()
    if edit == "one word mid-chapter":
        # A chapter in pieces is one tagged, archival part: the pieces' structure trees are merged.
        assert_accessible_and_archival(incremental)
    # The chapter's layouts (the prelims, unchanged, come from the cache): only in part (a paragraph moves
    # every later page), and once, from the cut before the edit to a little past the cut where the layout is
    # back in step.
    if edit != "a paragraph inserted":
        assert sum(laid) < len(_pages(clean)) * 0.8, laid
        assert len(laid) == 1, laid


def _remove_chapter(folder):
    """Take the book's last chapter out of book.yaml's list."""
    meta = folder / "book.yaml"
    last = max(folder.glob("*.md")).name
    meta.write_text(meta.read_text(encoding="utf-8").replace(f"  - {last}\n", ""), encoding="utf-8")


def test_edits_in_a_row_in_one_process_each_join_as_a_new_process_joins(tmp_path, monkeypatch):
    folder = generate(tmp_path / "src", 75, chapter_pages=25)
    first, second = sorted(folder.glob("*.md"))[:2]
    joined, shaped, walked, repointed = [], [], [], []
    real_join, expect, walk, finish = join.join, join._Merger.expect, join._Merger.walk, join._Structure.finish
    monkeypatch.setattr(join._Merger, "expect",
                        lambda self, blocks, shapes: (expect(self, blocks, shapes), shaped.append(len(self.shaped))))
    monkeypatch.setattr(join._Merger, "walk", lambda self, element: (walked.append(element), walk(self, element)))
    monkeypatch.setattr(join._Structure, "finish", lambda self, first: (
        repointed.append(sum(end - start for start, end in self.moving) / len(self.parents)), finish(self, first))[1])
    monkeypatch.setattr("publish.pdf.writer.join",
                        lambda laid, book, first_main: joined.append((laid, book, first_main)) or
                        real_join(laid, book, first_main))
    build(folder, tmp_path / "out", ("pdf",), jobs=1)
    steps = [(first, _word(0.5)), (first, _paragraph), (first, _footnote), (second, _word(0.3)), (None, None)]
    for path, edit in steps:
        if path is None:
            _remove_chapter(folder)
        else:
            path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
        shaped.clear()
        warm = build(folder, tmp_path / "out", ("pdf",), jobs=1).outputs["pdf"].read_bytes()
        # The chapters' pieces were merged, each block taken as it was, none walked (none continues another).
        assert sum(shaped) > 10 and not walked
        # Only the parts whose parent tree may point at an element joined to another were repointed.
        assert repointed[-1] < 0.5, repointed
        # The same parts joined with nothing kept, as a new process joins them, the whole parent tree repointed.
        with monkeypatch.context() as fresh:
            fresh.setattr(join, "_SOUND", set())
            fresh.setattr(join, "_OPEN", {})
            fresh.setattr(join, "_READ", {})
            fresh.setattr(join._Structure, "finish", lambda self, first: (
                setattr(self, "moving", [(0, len(self.parents))]), finish(self, first))[1])
            assert real_join(*joined[-1]) == warm, (path, edit)
    # The last, with a chapter gone, as a clean build gives it.
    monkeypatch.setattr(join, "_SOUND", set())
    monkeypatch.setattr(join, "_OPEN", {})
    monkeypatch.setattr(join, "_READ", {})
    assert build(folder, tmp_path / "clean", ("pdf",), jobs=1).outputs["pdf"].read_bytes() == warm
