"""The PDF's structure tree is the book's, whatever the pages: read in structure order as assistive technology does."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest
from conftest import make_manuscript
from readers import TaggedText, assert_accessible_and_archival, structure_elements

from publish.build import build

# Words no hyphenation cuts (they hold digits), each found once: a letter says where it stands.
LONG = " ".join(f"w{i:04d}" for i in range(700))  # a paragraph of some two pages
NOTE = " ".join(f"n{i:04d}" for i in range(900))  # a note too tall for one page's foot
ROWS = 90
TABLE = "| Number | Item |\n|---|---|\n" + "\n".join(f"| r{i:04d} | t{i:04d} |" for i in range(ROWS))
ITEM = " ".join(f"i{i:04d}" for i in range(600))  # a list item running onto the next page


@pytest.fixture(scope="module")
def long_book(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("structure")
    text = "\n\n".join(["# One", "[Page 1] a0001 a0002 a0003.", f"{LONG}.", "b0001 b0002[^1] b0003.", TABLE,
                         f"- {ITEM}\n- j0001", "c0001 c0002.", f"[^1]: {NOTE}."])
    folder = make_manuscript(tmp / "ms", {"one.md": text + "\n"})
    result = build(folder, tmp / "out", ("pdf",))
    return result, TaggedText(result.outputs["pdf"])


def words(text: str) -> list[str]:
    return re.findall(r"\b[a-z]\d{4}\b", text)


def test_a_paragraph_over_a_page_break_is_one_paragraph(long_book):
    _, tagged = long_book
    paragraphs = [words(tagged.text(p)) for p in tagged.elements("/P")]
    long = [p for p in paragraphs if "w0000" in p or "w0699" in p]
    assert long == [words(LONG)], "the paragraph is one P holding all its words, in order"
    pages = {page for p in tagged.elements("/P") for page in tagged.pages(p) if "w0000" in words(tagged.text(p))}
    assert len(pages) >= 2, "the paragraph runs over a page break"


def test_a_note_that_runs_on_is_one_note_beside_its_call(long_book):
    result, tagged = long_book
    notes = tagged.elements("/Note")
    assert len(notes) == 1 and [str(notes[0].ID)] == list(result.book.chapters[0].notes)
    assert len(tagged.pages(notes[0])) >= 2, "the note runs on to the next page"
    assert words(tagged.text(notes[0])) == words(NOTE)
    paragraph = notes[0].P
    roles = [str(k.S) for k in paragraph.K if isinstance(k, pikepdf.Dictionary) and "/S" in k]
    assert paragraph.S == "/P" and roles[roles.index("/Note") - 1] == "/Reference", "the note follows its call"


def test_a_table_over_pages_is_one_table_its_header_tagged_once(long_book):
    _, tagged = long_book
    tables = tagged.elements("/Table")
    assert len(tables) == 1 and len(tagged.pages(tables[0])) >= 2
    assert len(tagged.elements("/TR")) == ROWS + 1
    headers = tagged.elements("/TH")
    assert [tagged.text(h).strip() for h in headers] == ["Number", "Item"]
    names = {str(h.ID) for h in headers}
    cells = tagged.elements("/TD")
    assert len(cells) == 2 * ROWS
    assert all(len(c.A.Headers) == 1 and str(c.A.Headers[0]) in names for c in cells), "each cell names its header"
    assert words(tagged.text(tables[0])) == [w for i in range(ROWS) for w in (f"r{i:04d}", f"t{i:04d}")]


def test_a_list_item_over_a_page_break_is_one_item(long_book):
    _, tagged = long_book
    lists = [e for e in tagged.elements("/L") if "i0000" in tagged.text(e)]  # the contents are a list too
    assert len(lists) == 1
    items = [k for k in lists[0].K if k.S == "/LI"]
    assert len(items) == 2
    for item in items:
        assert [str(k.S) for k in item.K] == ["/Lbl", "/LBody"]
    assert words(tagged.text(items[0])) == words(ITEM)


def test_structure_order_reads_the_manuscript_words_in_order(long_book):
    _, tagged = long_book
    chapters = [k for k in tagged.pdf.Root.StructTreeRoot.K[0].K if "a0001" in tagged.text(k)]
    assert len(chapters) == 1 and chapters[0].S == "/Sect", "the chapter is one section"
    expected = (["a0001", "a0002", "a0003"] + words(LONG) + ["b0001", "b0002"] + words(NOTE) + ["b0003"]
                + [w for i in range(ROWS) for w in (f"r{i:04d}", f"t{i:04d}")] + words(ITEM) + ["j0001", "c0001", "c0002"])
    assert words(tagged.text(tagged.pdf.Root.StructTreeRoot)) == expected


def test_validators_pass_on_a_book_of_many_pages(long_book):
    result, _ = long_book
    path = result.outputs["pdf"]
    assert_accessible_and_archival(path)
    run = subprocess.run([str(Path(sys.executable).parent / "pdfua"), "check", str(path)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0 and "result: PASS" in run.stdout, run.stdout
    assert not any("/PublishElement" in e or "/PublishNote" in e for e in structure_elements(pikepdf.open(path)))


def test_the_sample_reads_without_a_paragraph_or_note_cut_by_a_page(sample_build):
    tagged = TaggedText(sample_build.outputs["pdf"])
    paragraphs = tagged.elements("/P")
    assert any(len(tagged.pages(p)) > 1 for p in paragraphs), "a paragraph of the sample runs over a page"
    assert not [tagged.text(p)[-30:] for p in paragraphs if tagged.text(p).rstrip().endswith("\u2010")]
    notes = tagged.elements("/Note")
    anchors = [a for chapter in sample_build.book.chapters for a in chapter.notes]
    assert sorted(str(n.ID) for n in notes) == sorted(anchors), "one Note per note, named by its anchor"
