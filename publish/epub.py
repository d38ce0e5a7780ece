"""The EPUB writer: one XHTML per chapter, navigation written from the book's own outline and pages."""
from __future__ import annotations

import copy
import datetime as dt
import io
import zipfile
from pathlib import Path
from urllib.parse import unquote

from ebooklib import epub
from lxml import etree
from lxml.html import builder as H

from . import __version__
from .frontmatter import edition_notice, title_lines
from .fsutil import atomic_output
from .images import SUFFIX
from .model import Book, Chapter, NavPoint

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
NCX = "http://www.daisy.org/z3986/2005/ncx/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
STYLESHEET = "epub.css"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # zip's epoch: the archive does not depend on when it was built
A11Y_FEATURES = ("tableOfContents", "readingOrder", "structuralNavigation", "pageNavigation",
                 "pageBreakMarkers")


def chapter_file(index: int) -> str:
    """Return the file name of a chapter in the EPUB."""
    return f"chapter-{index + 1:03d}.xhtml"


def write_epub(book: Book, target: Path, styles: Path) -> None:
    """Write the book as an EPUB 3 to target."""
    meta = book.meta
    ebook = epub.EpubBook()
    _metadata(ebook, book)
    css = epub.EpubItem(uid="css", file_name=f"styles/{STYLESHEET}", media_type="text/css",
                        content=(styles / STYLESHEET).read_bytes())
    ebook.add_item(css)
    lang = meta.language
    anchors = book.anchors()
    media = _media_names(book)
    spine = []

    def add(uid: str, name: str, title: str, body: list, properties=(), body_type: str = "") -> epub.EpubItem:
        item = epub.EpubItem(uid=uid, file_name=name, media_type="application/xhtml+xml",
                             content=_document(title, lang, body, body_type))
        item.properties = list(properties)
        ebook.add_item(item)
        spine.append(item)
        return item

    lines = title_lines(meta)
    add("titlepage", "titlepage.xhtml", meta.title,
        [H.SECTION(H.CLASS("titlepage"), *[H.P(H.CLASS(k), v) for k, v in lines])], body_type="titlepage")
    add("edition", "edition.xhtml", "About this edition",
        [H.SECTION(H.CLASS("edition"), *edition_notice(book, "epub"))], body_type="frontmatter")
    nav = add("nav", "nav.xhtml", "Contents", _nav_body(book, anchors), properties=["nav"])
    for index, chapter in enumerate(book.chapters):
        add(f"chapter-{index + 1}", chapter_file(index), chapter.title, [_epub_chapter(chapter, anchors, media)],
            body_type="frontmatter" if chapter.front else "bodymatter")
    for src, resource in book.resources.items():
        ebook.add_item(epub.EpubItem(uid=f"img-{len(ebook.items)}", file_name=media[src],
                                     media_type=resource.media_type, content=resource.path.read_bytes()))
    ebook.add_item(epub.EpubItem(uid="ncx", file_name="toc.ncx", media_type="application/x-dtbncx+xml",
                                 content=_ncx(book, anchors)))
    ebook.spine = spine
    del nav  # the nav document is in the spine as the visible contents page

    modified = dt.datetime.strptime(book.date, "%Y-%m-%dT%H:%M:%SZ") if book.date else dt.datetime.now()
    raw = io.BytesIO()
    # ebooklib compresses with no effort (level 0): the archive is compressed once, by _repack.
    writer = epub.EpubWriter(raw, ebook, {"mtime": modified, "epub2_guide": False, "raise_exceptions": True,
                                          "compresslevel": 0})
    writer.process()
    writer.write()
    with atomic_output(target) as tmp:
        _repack(raw.getvalue(), tmp)


def _metadata(ebook: epub.EpubBook, book: Book) -> None:
    meta = book.meta
    ebook.set_identifier(meta.urn)
    ebook.set_title(meta.title)
    ebook.set_language(meta.language)
    for i, editor in enumerate(meta.editors, 1):
        ebook.add_author(editor, role="edt", uid=f"editor{i}")
    if meta.general_editor:
        ebook.add_metadata("DC", "contributor", meta.general_editor, {"id": "general-editor"})
        ebook.add_metadata(None, "meta", "edt", {"refines": "#general-editor", "property": "role",
                                                  "scheme": "marc:relators"})
    if meta.publisher:
        ebook.add_metadata("DC", "publisher", meta.publisher)
    ebook.add_metadata("DC", "rights", meta.rights)
    ebook.add_metadata("DC", "source", meta.source_edition)
    if book.date:
        ebook.add_metadata("DC", "date", book.date)
    if meta.description:
        ebook.add_metadata("DC", "description", meta.description)
    for keyword in meta.keywords:
        ebook.add_metadata("DC", "subject", keyword)
    series = meta.series + (f", {meta.subseries}" if meta.subseries else "")
    ebook.add_metadata(None, "meta", series, {"property": "belongs-to-collection", "id": "series"})
    ebook.add_metadata(None, "meta", "series", {"refines": "#series", "property": "collection-type"})
    if meta.version:
        ebook.add_metadata(None, "meta", meta.version, {"property": "schema:version"})
    ebook.add_metadata(None, "meta", meta.source_edition, {"property": "pageBreakSource"})
    a11y = [("schema:accessMode", "textual"), ("schema:accessModeSufficient", "textual")]
    a11y += [("schema:accessibilityFeature", f) for f in A11Y_FEATURES]
    a11y += [("schema:accessibilityHazard", "none"),
             ("schema:accessibilitySummary",
              "A text-only publication with a table of contents, structured headings in reading order, "
              "and the page numbers of the print edition as page-break markers and a page list."),
             ("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"),
             ("a11y:certifiedBy", f"frus-publish {__version__} (self-declared)")]
    for prop, value in a11y:
        ebook.add_metadata(None, "meta", value, {"property": prop})


def _media_names(book: Book) -> dict[str, str]:
    """Name each image in the EPUB by its order: the names in the manuscript folder may be anything."""
    return {src: f"media/image-{i:03d}{SUFFIX[resource.media_type]}"
            for i, (src, resource) in enumerate(book.resources.items(), 1)}


def _epub_chapter(chapter: Chapter, anchors: dict[str, int], media: dict[str, str]):
    """Copy a chapter's body as EPUB content: page-break markers, noterefs, footnote asides, images."""
    body = copy.deepcopy(chapter.body)
    body.set("epub-type", "frontmatter" if chapter.front else "chapter")
    body.set("role", "doc-preface" if chapter.front else "doc-chapter")
    body.set("aria-labelledby", chapter.anchor)
    for span in body.xpath(".//span[@class='pagebreak']") + [s for n in chapter.notes.values() for b in n.blocks
                                                            for s in b.xpath(".//span[@class='pagebreak']")]:
        span.set("epub-type", "pagebreak")
        span.set("role", "doc-pagebreak")
        span.set("aria-label", span.attrib.pop("data-label"))
    asides = []
    for ref in body.xpath(".//a[@class='noteref']"):
        note = chapter.notes[ref.get("href")[1:]]
        ref.set("epub-type", "noteref")
        ref.set("role", "doc-noteref")
        sup = H.SUP()
        ref.getparent().replace(ref, sup)
        sup.tail, ref.tail = ref.tail, None
        sup.append(ref)
        asides.append(_aside(note))
    if asides:
        notes = H.SECTION(H.CLASS("footnotes"), *asides)
        notes.set("epub-type", "footnotes")
        notes.set("aria-label", "Notes")
        body.append(notes)
    for img in body.xpath(".//img[@src]"):  # safety.problems bound every src to a resource
        img.set("src", media[unquote(img.get("src"))])
    # After the notes are in: a note may link to another chapter too.
    for link in body.xpath(".//a[starts-with(@href, '#')]"):
        target = link.get("href")[1:]
        if link.get("class") != "noteref" and target in anchors and anchors[target] != anchors[chapter.anchor]:
            link.set("href", f"{chapter_file(anchors[target])}#{target}")
    return body


def _aside(note):
    aside = H.ASIDE(id=note.anchor)
    aside.set("epub-type", "footnote")
    aside.set("role", "doc-footnote")
    blocks = [copy.deepcopy(b) for b in note.blocks] or [H.P()]
    back = H.A(f"{note.number}.", href=f"#{note.anchor}ref")
    back.set("role", "doc-backlink")
    back.tail = " " + (blocks[0].text or "")
    blocks[0].text = None
    blocks[0].insert(0, back)
    aside.extend(blocks)
    return aside


def _nav_body(book: Book, where: dict[str, int]) -> list:
    """Return the navigation document: toc, page-list and landmarks."""
    def entries(points: tuple[NavPoint, ...] | list[NavPoint]):
        items = []
        for p in points:
            li = H.LI(H.A(p.title, href=f"{chapter_file(p.chapter)}#{p.anchor}"))
            if p.children:
                li.append(entries(p.children))
            items.append(li)
        return H.OL(*items)

    toc = H.NAV(H.H1("Contents"), entries(book.outline), id="toc", role="doc-toc")
    toc.set("epub-type", "toc")
    pages = H.NAV(H.H2("Pages of the print edition"),
                  H.OL(*[H.LI(H.A(pb.label, href=f"{chapter_file(where[pb.anchor])}#{pb.anchor}"))
                         for pb in book.page_breaks]), id="page-list", role="doc-pagelist", hidden="hidden")
    pages.set("epub-type", "page-list")
    first_body = next((i for i, ch in enumerate(book.chapters) if not ch.front), 0)
    marks = [("titlepage", "titlepage.xhtml", "Title page"), ("toc", "nav.xhtml#toc", "Contents"),
             ("bodymatter", chapter_file(first_body), "Start of the text")]
    links = []
    for kind, href, text in marks:
        link = H.A(text, href=href)
        link.set("epub-type", kind)
        links.append(H.LI(link))
    landmarks = H.NAV(H.H2("Landmarks"), H.OL(*links), id="landmarks", hidden="hidden")
    landmarks.set("epub-type", "landmarks")
    return [toc, pages, landmarks]


def _ncx(book: Book, where: dict[str, int]) -> bytes:
    """Return the EPUB 2 NCX: navMap and pageList, play order by reading order."""
    order = _reading_order(book)
    targets = sorted({(where[a], order[a], a) for a in order})
    play = {a: n for n, (_, _, a) in enumerate(targets, 1)}

    def el(parent, tag, **attrs):
        return etree.SubElement(parent, f"{{{NCX}}}{tag}", **attrs)

    root = etree.Element(f"{{{NCX}}}ncx", nsmap={None: NCX}, version="2005-1")
    root.set(XML_LANG, book.meta.language)
    head = el(root, "head")
    numbers = [pb.number for pb in book.page_breaks if pb.kind == "arabic"]
    for name, content in (("dtb:uid", book.meta.urn), ("dtb:depth", "2"),
                          ("dtb:totalPageCount", str(len(book.page_breaks))),
                          ("dtb:maxPageNumber", str(max(numbers, default=0)))):
        el(head, "meta", name=name, content=content)
    el(el(root, "docTitle"), "text").text = book.meta.title

    nav_map = el(root, "navMap")

    def add_points(parent, points):
        for p in points:
            point = el(parent, "navPoint", id=f"nav-{p.anchor}", playOrder=str(play[p.anchor]))
            el(el(point, "navLabel"), "text").text = p.title
            el(point, "content", src=f"{chapter_file(p.chapter)}#{p.anchor}")
            add_points(point, p.children)
    add_points(nav_map, book.outline)

    page_list = el(root, "pageList")
    el(el(page_list, "navLabel"), "text").text = "Pages of the print edition"
    for pb in book.page_breaks:
        kind = {"arabic": "normal", "roman": "front"}.get(pb.kind, "special")
        target = el(page_list, "pageTarget", id=f"nav-{pb.anchor}", type=kind, playOrder=str(play[pb.anchor]))
        if pb.kind == "arabic":
            target.set("value", pb.label)
        el(el(target, "navLabel"), "text").text = pb.label
        el(target, "content", src=f"{chapter_file(where[pb.anchor])}#{pb.anchor}")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _reading_order(book: Book) -> dict[str, tuple[int, int]]:
    """Rank every navigation target (headings and page breaks) by its place in the text."""
    wanted = {p.anchor for p in book.outline} | {c.anchor for p in book.outline for c in p.children}
    wanted |= {pb.anchor for pb in book.page_breaks}
    order = {}
    for index, chapter in enumerate(book.chapters):
        elements = list(chapter.body.iter()) + [e for n in chapter.notes.values() for b in n.blocks for e in b.iter()]
        for position, element in enumerate(elements):
            ident = element.get("id") if isinstance(element.tag, str) else None
            if ident in wanted:
                order[ident] = (index, position)
    return order


def _document(title: str, lang: str, body: list, body_type: str = "") -> bytes:
    """Return an XHTML content document holding the given HTML elements."""
    root = etree.Element(f"{{{XHTML}}}html", nsmap={None: XHTML, "epub": OPS})
    root.set("lang", lang)
    root.set(XML_LANG, lang)
    head = etree.SubElement(root, f"{{{XHTML}}}head")
    etree.SubElement(head, f"{{{XHTML}}}meta", charset="utf-8")
    etree.SubElement(head, f"{{{XHTML}}}title").text = title
    etree.SubElement(head, f"{{{XHTML}}}link", rel="stylesheet", type="text/css", href=f"styles/{STYLESHEET}")
    body_el = etree.SubElement(root, f"{{{XHTML}}}body")
    if body_type:
        body_el.set(f"{{{OPS}}}type", body_type)
    for element in body:
        body_el.append(_xhtml(element))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")


def _xhtml(element):
    """Copy an HTML element tree into the XHTML namespace; 'epub-type' becomes epub:type."""
    if not isinstance(element.tag, str):
        return copy.copy(element)
    out = etree.Element(f"{{{XHTML}}}{element.tag}")
    for name, value in element.attrib.items():
        if name == "epub-type":
            out.set(f"{{{OPS}}}type", value)
        elif name == "hidden":
            out.set("hidden", "hidden")
        elif ":" not in name:
            out.set(name, value)
    out.text, out.tail = element.text, element.tail
    for child in element:
        out.append(_xhtml(child))
    return out


def _repack(data: bytes, target: Path) -> None:
    """Rewrite the archive reproducibly: mimetype first and stored, fixed times, fixed order."""
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(target, "w") as out:
        names = source.namelist()
        names.sort(key=lambda n: (n != "mimetype", n != "META-INF/container.xml", n))
        for name in names:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix: zipfile would write 0 when the build runs on Windows
            out.writestr(info, source.read(name))
