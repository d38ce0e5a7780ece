"""Reading again in a warm process (`publish watch`): what is remembered block by block gives what the whole gives."""
from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from publish.book.errors import ManuscriptError
from publish.build import load
from publish.markdown import check, chunks, convert, safety

from conftest import make_manuscript

PROPERTY = settings(max_examples=500, deadline=None, derandomize=True, database=None)
# Lines that open and close what a block's scan must carry over (divs, tags, lists, quotes, dashed blocks),
# headings that begin blocks or do not, and each finding the text checks make; and, rarer, lines after
# which a file is not cut at all (fences, comments, brackets in code, example lists), or whose state the
# scans of the text carry over (a fence or a comment open).
COMMON = ["", "", "", " ", "# H", "## 1. Doc", "## 2. Doc {#d2}", "#", "#\t", "  # x", "[^a]", "[^a]: def", "[^b]: d",
          "text [^b] x", '"quoted"', "“curly”", "2#3", "| a | b |", "|---|---|", "[page 3]", "[Page 3]{facs=a b}",
          "[Page\u200b 4]", "\x07bell", "> [^a]: q", "- item", "    - deeper", "> > quote", "::: div", ":::", "<div>",
          "</div>", "<table>x</table>", "---", "[alpha]", "[alpha]: #h", "# Alpha", "plain"]
RARE = ["```", "~~~", "<!--", "-->", "a <!-- b", "c --> d", "`code [x]`", "(@ex)", "[[[", ")))",
        '<span class="pagebreak">', "{.noteref}"]
LINE = st.sampled_from(COMMON * 8 + RARE)
TEXT = st.lists(LINE, min_size=5, max_size=40)
# Where a line is put in (a fraction of the lines), and which.
EDITS = st.lists(st.tuples(st.floats(0, 1), LINE), min_size=1, max_size=3)


def whole_file(monkeypatch) -> None:
    """Make every scan read a file as one block, as it was read before blocks were remembered."""
    for module in (chunks, check, safety):
        monkeypatch.setattr(module, "blocks", lambda markdown: [(0, markdown)])


def findings(text: str, remember=chunks.computed) -> list:
    """Return what each scan of a file's text finds, cut in chunks by its valid headings."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks, "CHUNK_EVERY", 1)  # every valid point a cut
        return [chunks.starts(text, remember), check._check_text("a.md", text, remember),
                safety.before_pandoc({Path("a.md"): text}, remember), check._document_headings(text, remember)]


class Memory:
    """A warm process's memory of computed results, as PandocCache.remember keeps it."""

    def __init__(self):
        self.results: dict = {}

    def __call__(self, compute, *args):
        key = (compute.__qualname__, *args)
        if key not in self.results:
            self.results[key] = compute(*args)
        return self.results[key]


@PROPERTY
@given(TEXT, EDITS)
# What a block ends in, carried into the next: a fence, a comment, a div open.
@example(["# A", "", "```", "", "# H", "", "2#3"], [(0.0, "plain")])
@example(["# A", "", "<!--", "", "## 1. Doc", "[page 3]", "-->"], [(1.0, "[^a]")])
@example(["# A", "", "<div>", "", "# H", "", "text"], [(0.5, "</div>")])
def test_a_file_scanned_in_remembered_blocks_gives_what_it_gives_read_whole(lines, edits):
    memory = Memory()
    for where, line in [(0.0, "")] + edits:
        at = round(where * len(lines))
        lines = lines[:at] + [line] + lines[at:]
        text = "\n".join(lines)
        warm = findings(text, memory)
        with pytest.MonkeyPatch.context() as patch:
            whole_file(patch)
            assert warm == findings(text)


BODY = "".join(f"## {n}. Document {n}\n\n[Page {n}] Text of document {n}.\n\n" for n in range(1, 41))


def test_after_an_edit_only_the_edited_block_is_scanned_again(tmp_path, monkeypatch):
    folder = make_manuscript(tmp_path / "m", {"one.md": "# One\n\n" + BODY})
    scans = {chunks: ("_marks", "_labels", "_scan"), check: ("_findings", "_headings_in"),
             safety: ("_tangled", "_deepest_in"), convert: ("_read",)}
    calls: list[str] = []
    for module, names in scans.items():
        for name in names:
            monkeypatch.setattr(module, name, counting(getattr(module, name), calls))
    memory: dict = {}
    load(folder, out=tmp_path / "out", memory=memory)
    assert calls.count("_scan") == 41  # a block a document, and the chapter's heading
    calls.clear()
    one = folder / "one.md"
    one.write_text(one.read_text().replace("Text of document 20.", "Text of the document 20."))
    load(folder, out=tmp_path / "out", memory=memory)
    # The edited block's findings (and its one chunk's HTML read): the others' come from memory.
    assert sorted(calls) == sorted(name for names in scans.values() for name in names)


def counting(compute, calls: list[str]):
    """Return compute, noting its name in calls each time it is called."""
    @functools.wraps(compute)  # the same name: remembered under the same key
    def counted(*args):
        calls.append(compute.__name__)
        return compute(*args)
    return counted


def test_a_warm_reading_reports_what_a_cold_one_does_at_the_lines_it_does(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"one.md": "# One\n\n" + BODY})
    one = folder / "one.md"
    memory: dict = {}
    load(folder, out=tmp_path / "out", memory=memory)
    text = one.read_text()
    for edited, code in ((text.replace("[Page 30]", "[page 30]"), "P001"),  # a problem after the edited block
                         # lines put in above it: it is found as many lines further down
                         (text.replace("Text of document 5.", "Text\n\nof document\n\n5.")
                          .replace("[Page 30]", "[page 30]"), "P001"),
                         # a refused element: its verdict is the edited block's, found again
                         (text.replace("Text of document 12.", "Text <script>x</script>of document 12."), "R001"),
                         (text, None)):  # and back: nothing to report
        one.write_text(edited)
        try:
            load(folder, out=tmp_path / "out", memory=memory)
            warm = []
        except ManuscriptError as exc:
            warm = [str(d) for d in exc.diagnostics]
        try:
            load(folder)
            cold = []
        except ManuscriptError as exc:
            cold = [str(d) for d in exc.diagnostics]
        assert warm == cold
        if code:
            line = next(n for n, row in enumerate(edited.split("\n"), 1) if "[page" in row or "script" in row)
            assert any(f"one.md:{line}:" in d and f" {code} " in d for d in warm), warm
        else:
            assert warm == []
