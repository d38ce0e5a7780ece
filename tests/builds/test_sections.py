"""Each document is one section of the PDF's structure tree, whatever its pages and its chapter's pieces."""
from __future__ import annotations

import io
import random
import re

import pikepdf
import pytest

from publish.build import build
from publish.pdf import join, pieces, writer

from conftest import make_manuscript
from readers import TaggedText, assert_accessible_and_archival, structure_elements

DOCUMENTS = 14
# Words no hyphenation cuts (they hold digits), each found once: its document, paragraph and place.
WORD = re.compile(r"\bd(\d+)p(\d+)w(\d+)\b")


def _paragraphs(rng: random.Random, document: int) -> list[str]:
    """Return a document's paragraphs, of lengths that end some pages cleanly and run others on."""
    return [" ".join(f"d{document}p{p}w{w}" for w in range(rng.randint(30, 160))) + "."
            for p in range(rng.randint(2, 6))]


def _chapter() -> tuple[str, dict[int, list[str]]]:
    """Return a chapter of documents, one with a note and one with a lower heading, and each document's words."""
    rng = random.Random(26)
    lines, words = ["# The Chapter", "", "[Page 1] Opening text of the chapter.", ""], {}
    for number in range(1, DOCUMENTS + 1):
        paragraphs = _paragraphs(rng, number)
        if number == 3:
            paragraphs[0] += "[^3]"
        lines += [f"## {number}. Memorandum of Conversation", ""]
        if number == 5:
            lines += paragraphs[:1] + ["### Enclosure"] + paragraphs[1:]
        else:
            lines += paragraphs
        lines += [""]
        words[number] = [w for p in paragraphs for w in p.replace("[^3]", "").rstrip(".").split()]
    lines += ["[^3]: The note of the third document.", ""]
    return "\n\n".join(lines), words


@pytest.fixture(scope="module")
def sectioned(tmp_path_factory):
    """The chapter built with a piece at every page that begins cleanly, read back; the PDF page on which each
    piece begins; and the book joined again from the cache with its documents left ungrouped, as it was."""
    tmp = tmp_path_factory.mktemp("sections")
    text, words = _chapter()
    folder = make_manuscript(tmp / "ms", {"one.md": text})
    laid, joined = [], writer.join
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pieces, "PIECE_EVERY", 1)  # as in test_pieces: a cut wherever a page begins cleanly
        patch.setattr(writer, "join", lambda parts, *rest: (laid.append(parts), joined(parts, *rest))[1])
        result = build(folder, tmp / "out", ("pdf",), jobs=1)
        grouped = tmp / "grouped.pdf"
        grouped.write_bytes(result.outputs["pdf"].read_bytes())
        patch.setattr(join._Structure, "divide", lambda self, part, chapter: None)
        flat = tmp / "flat.pdf"
        flat.write_bytes(build(folder, tmp / "out", ("pdf",), jobs=1).outputs["pdf"].read_bytes())
    prelims, chapter = laid[0]
    first = len(pikepdf.open(io.BytesIO(prelims.pdfs[0])).pages)
    first += first % 2  # a blank verso after prelims ending on a recto
    starts = []
    for piece in chapter.pdfs:
        starts.append(first)
        first += len(pikepdf.open(io.BytesIO(piece)).pages)
    return result, words, TaggedText(grouped), starts, grouped, flat


def _words(tagged: TaggedText, element) -> list[str]:
    return [m[0] for m in WORD.finditer(tagged.text(element))]


def _kids(element) -> list:
    kids = element.get("/K", [])
    return [k for k in (kids if isinstance(kids, pikepdf.Array) else [kids]) if isinstance(k, pikepdf.Dictionary)
            and "/S" in k]


def _documents(tagged: TaggedText) -> list:
    """Return the sections that open with a document's heading, in structure order."""
    return [e for e in tagged.elements("/Sect") if _kids(e) and _kids(e)[0].S == "/H2"]


def test_the_chapter_is_cut_into_pieces_and_its_documents_cross_pages_and_pieces(sectioned):
    _, _, tagged, starts, _, _ = sectioned
    assert len(starts) >= 3, "the chapter is laid out in pieces"
    spans = [sorted(tagged.pages(d)) for d in _documents(tagged)]
    assert any(len(pages) > 1 for pages in spans), "a document runs over a page break"
    crossing = [pages for pages in spans if any(pages[0] < start <= pages[-1] for start in starts)]
    assert crossing, f"a document runs from one piece into the next ({starts}, {spans})"


def test_each_document_is_one_section_holding_its_heading_then_its_text(sectioned):
    result, words, tagged, _, _, _ = sectioned
    documents = _documents(tagged)
    chapter = result.book.chapters[0]
    assert len(documents) == DOCUMENTS == len(chapter.sections), "one section per document, none split in two"
    for number, (section, model) in enumerate(zip(documents, chapter.sections), 1):
        heading = _kids(section)[0]
        assert tagged.text(heading).strip() == model.title == f"{number}. Memorandum of Conversation"
        assert str(section.T) == model.title, "the section is titled as the book names the document"
        assert _words(tagged, section) == words[number], "it holds its own paragraphs, all, in order"
        assert section.P.S == "/Sect" and _kids(section.P)[0].S == "/H1", "it is in its chapter's section"
    top = [k for k in tagged.pdf.Root.StructTreeRoot.K[0].K if "Opening text" in tagged.text(k)]
    assert len(top) == 1, "the chapter is one section, its pieces joined"
    assert [str(k.S) for k in _kids(top[0])] == ["/H1", "/P"] + ["/Sect"] * DOCUMENTS, \
        "the chapter's section holds its title, its opening text and its documents' sections"


def test_a_lower_heading_opens_a_section_in_its_document(sectioned):
    _, words, tagged, _, _, _ = sectioned
    fifth = _documents(tagged)[4]
    kids = _kids(fifth)
    # Its heading, the line citing it, its first paragraph, then the enclosure's section.
    assert [str(k.S) for k in kids] == ["/H2", "/Div", "/P", "/Sect"]
    inner = kids[-1]
    assert _kids(inner)[0].S == "/H3" and tagged.text(_kids(inner)[0]).strip() == "Enclosure"
    assert not inner.get("/T"), "only a document is titled"
    assert _words(tagged, kids[2]) + _words(tagged, inner) == words[5]


def test_a_note_stays_beside_its_call_in_its_document(sectioned):
    _, _, tagged, _, _, _ = sectioned
    [note] = tagged.elements("/Note")
    paragraph = note.P
    roles = [str(k.S) for k in _kids(paragraph)]
    assert paragraph.S == "/P" and roles[roles.index("/Note") - 1] == "/Reference"
    assert paragraph.P.objgen == _documents(tagged)[2].objgen, "the note is in the third document's section"
    assert "The note of the third document" in tagged.text(note)


def test_grouping_the_documents_changes_no_page(sectioned):
    _, _, _, _, grouped, flat = sectioned
    with pikepdf.open(grouped) as a, pikepdf.open(flat) as b:
        assert len(a.pages) == len(b.pages)
        for one, other in zip(a.pages, b.pages):
            assert one.Contents.read_bytes() == other.Contents.read_bytes()
        assert len(list(structure_elements(b))) + DOCUMENTS + 1 == len(list(structure_elements(a)))
    # Nothing moved in reading order: the text read in structure order is the same.
    one, other = TaggedText(grouped), TaggedText(flat)
    assert one.text(one.pdf.Root.StructTreeRoot) == other.text(other.pdf.Root.StructTreeRoot)


def test_the_sectioned_book_is_accessible_and_archival(sectioned):
    _, _, _, _, grouped, _ = sectioned
    assert_accessible_and_archival(grouped)
