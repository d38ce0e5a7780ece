"""Whole real FRUS volumes imported from TEI and built: every word, note and original page survives."""
from __future__ import annotations

import pytest
from lxml import etree

from publish.book.citation import citations
from publish.build import load
from publish.tei.importer import import_tei
from publish.tei.text import XML_ID

from conftest import ROOT
from conftest import TEI_DATA as TEI
from test_chunks import chunk_heads
from test_facsimile import assert_scans_as_the_tei_gives_them, scan_links
from test_tei import assert_faithful, imported

pytestmark = pytest.mark.slow


def test_document_fragment(tmp_path):
    folder = imported(tmp_path, "frus1961-63v05_d270")
    # The fragment's text begins on p. 587, whose break lies in the document before it: book.yaml's start_page.
    result = assert_faithful(TEI / "frus1961-63v05_d270.xml", folder, tmp_path / "out")
    text = (folder / "01-270-editorial-note.md").read_text(encoding="utf-8")
    assert text.startswith("# 270. Editorial Note {#d270}\n")
    assert "revolution; [Page 588]{facs=0616}as a matter" in text
    assert "[*Foreign Relations*, 1961-1963, volume XI](https://history.state.gov/historicaldocuments/frus1961-63v11)" \
        in text
    assert [pb.label for pb in result.book.page_breaks] == ["587", "588", "589"]
    assert result.book.meta.start_page == "587"


def test_nicaragua_1894(tmp_path):
    folder = imported(tmp_path, "frus1894Nicaragua")
    result = assert_faithful(TEI / "frus1894Nicaragua.xml", folder, tmp_path / "out")
    meta = result.book.meta
    assert (meta.id, meta.volume_title, meta.year) == ("frus1894Nicaragua", "Nicaragua (Mosquito Territory)", "1895")
    assert len(meta.front_matter) == 3 and len(result.book.chapters) == 4
    assert sum(len(c.sections) for c in result.book.chapters) == 138
    assert [pb.label for pb in result.book.page_breaks][:5] == ["[I]", "[II]", "[1]", "2", "3"]
    # Every page of the volume has its scan: each of the 209 margin numbers and page markers links to it.
    assert_scans_as_the_tei_gives_them(TEI / "frus1894Nicaragua.xml", result)
    assert len(scan_links(result.outputs["pdf"], meta.facsimile_url)) == len(result.book.page_breaks) == 209


def test_near_east_1936(tmp_path):
    # The index points to 35 entries, of which the TEI gives only 15 an id.
    folder = imported(tmp_path, "frus1936v03", dangling=r"'#in\d+'")
    # Ethiopia, half the volume in one file, is read by pandoc in chunks of a few tens of KB.
    assert len([h for h in chunk_heads(folder) if h.startswith("## ")]) >= 20
    # Every note is in the PDF, even where deferred notes pile up (document 557, note 4, once lost).
    result = assert_faithful(TEI / "frus1936v03.xml", folder, tmp_path / "out")
    documents = [s for c in result.book.chapters for s in c.sections if s.number]
    assert len(documents) == 586 and documents[-1].anchor == "d586"
    # 677 footnotes; the 622 source notes are printed in place, under each document's heading.
    assert sum(len(c.notes) for c in result.book.chapters) == 677


def tei_document_pages(path) -> dict[str, tuple[str, ...]]:
    """Return each TEI document's pages, read from the TEI: the page its head begins on, then each page
    whose break is followed by more of its text (a head's words, a note's included where it stands)."""
    tei, found, open_, current = "{http://www.tei-c.org/ns/1.0}", {}, {}, None
    for event, el in etree.iterwalk(etree.parse(str(path)).find(f".//{tei}text"), events=("start", "end")):
        if not isinstance(el.tag, str):
            continue
        document = el.get(XML_ID) if el.tag == f"{tei}div" and el.get("type") == "document" else None
        owner = el if event == "start" else el.getparent()
        words = (el.text if event == "start" else el.tail) or ""
        in_head = owner is not None and any(a.tag == f"{tei}head" for a in (owner, *owner.iterancestors()))
        if event == "start" and el.tag == f"{tei}pb":
            current = el.get("n")
            for seen in open_.values():
                seen["pages"] += [current] if seen["pages"] else []
        elif event == "start" and document:
            open_[document] = {"pages": [], "upto": 0}
        elif event == "end" and document:
            seen = open_.pop(document)
            found[document] = tuple(dict.fromkeys(seen["pages"][:seen["upto"]]))
        if words.strip():
            for seen in open_.values():
                seen["pages"] = seen["pages"] or [current]
                seen["upto"] = seen["upto"] if in_head else len(seen["pages"])
    return found


def test_near_east_1936_cites_each_document_on_the_pages_the_tei_gives_it(tmp_path):
    """A citation's pages, from the Markdown's markers, are the TEI's: 586 documents, none laid out."""
    book, _ = load(imported(tmp_path, "frus1936v03", dangling=r"'#in\d+'"))
    cited = {c.anchor: c.pages for c in citations(book)}
    tei = tei_document_pages(TEI / "frus1936v03.xml")
    assert len(tei) == 586 and {a: cited.get(a) for a in tei} == tei


def test_example_is_the_import(tmp_path):
    """The committed example is exactly what the importer makes of the volume."""
    folder = imported(tmp_path, "frus1894Nicaragua")
    example = ROOT / "examples" / "frus1894Nicaragua"
    assert sorted(p.name for p in example.iterdir()) == sorted(p.name for p in folder.iterdir())
    for made in folder.iterdir():
        assert (example / made.name).read_text(encoding="utf-8") == made.read_text(encoding="utf-8"), made.name


# Every other volume in tests/data: the EPUB of each; the PDF (about a minute each) of the one with page
# breaks between table rows, of the one with the most tables and nested ones, and of the one with row
# spans and the widest tables. (The notes' places and marks are read from every PDF built here; the
# volume with the most notes, frus1936v03, has its own test.)
OWN_TESTS = {"frus1961-63v05_d270", "frus1894Nicaragua", "frus1936v03"}
VOLUMES = sorted(p.stem for p in TEI.glob("*.xml") if p.stem not in OWN_TESTS)
PDF_VOLUMES = {"frus1861", "frus1872p2v5", "frus1901China"}


@pytest.mark.parametrize("name", VOLUMES)
def test_every_volume_imports_and_builds_page_for_page(tmp_path, name):
    result = import_tei(TEI / f"{name}.xml", tmp_path / name)
    # Only what the TEI itself lacks (link targets, image files).
    assert {w.code for w in result.warnings} <= {"I003", "I004"}, result.warnings
    formats = ("pdf", "epub") if name in PDF_VOLUMES else ("epub",)
    assert_faithful(TEI / f"{name}.xml", tmp_path / name, tmp_path / "out", formats)
