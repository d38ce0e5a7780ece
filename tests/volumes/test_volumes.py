"""Whole real FRUS volumes imported from TEI and built: every word, note and original page survives."""
from __future__ import annotations

import pytest

from publish.tei.importer import import_tei

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
