"""The EPUB writer: the package, its metadata and navigation, written from the book's own outline and pages."""
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

from .. import __version__
from ..book.errors import Diagnostic
from ..book.frontmatter import edition_notice, title_lines
from ..book.images import SUFFIX
from ..book.markup import EDITION, TITLE_PAGE
from ..book.model import Book, NavPoint
from ..system.fsutil import atomic_output
from ..system.progress import QUIET, Progress
from .content import chapter_documents, chapter_file, locations

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
NCX = "http://www.daisy.org/z3986/2005/ncx/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
STYLESHEET = "epub.css"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # zip's epoch: the archive does not depend on when it was built
A11Y_FEATURES = ("tableOfContents", "readingOrder", "structuralNavigation")
PAGE_FEATURES = ("pageNavigation", "pageBreakMarkers")  # claimed only by a book with pages of a print edition
# What was checked, and by whom: the claim is the publisher's, the checks are the build's tests.
A11Y_SUMMARY = ("Text only, with a table of contents, headings in reading order{pages}. "
                "Conformance is declared by the publisher: the software that made this file (frus-publish "
                "{version}) is tested with EPUBCheck, with DAISY Ace (no critical, serious or moderate "
                "findings) and in the epub.js reading system; this file was not reviewed by a person.")


def write_epub(book: Book, target: Path, styles: Path, jobs: int | None = None, cache: Path | None = None,
               progress: Progress = QUIET, memory: dict | None = None) -> list[Diagnostic]:
    """Write the book as an EPUB 3 to target, in one pass with nothing to cache or keep; return its warnings (none)."""
    progress.stage("EPUB: writing")
    meta = book.meta
    ebook = epub.EpubBook()
    _metadata(ebook, book)
    css = epub.EpubItem(uid="css", file_name=f"styles/{STYLESHEET}", media_type="text/css",
                        content=(styles / STYLESHEET).read_bytes())
    ebook.add_item(css)
    lang = meta.language
    media = _media_names(book)
    spine = []

    def add(uid: str, name: str, title: str, body: list, properties=(), body_type: str = "") -> None:
        item = epub.EpubItem(uid=uid, file_name=name, media_type="application/xhtml+xml",
                             content=_document(title, lang, body, body_type))
        item.properties = list(properties)
        ebook.add_item(item)
        spine.append(item)

    chapters = chapter_documents(book)
    where = locations(chapters)
    lines = title_lines(meta)
    add("titlepage", "titlepage.xhtml", meta.title,
        [H.SECTION(H.CLASS(TITLE_PAGE), *[H.P(H.CLASS(k), v) for k, v in lines])], body_type="titlepage")
    add("edition", "edition.xhtml", "About this edition",
        [H.SECTION(H.CLASS(EDITION), *edition_notice(book, "epub"))], body_type="frontmatter")
    # The nav document is in the spine as the visible contents page.
    add("nav", "nav.xhtml", "Contents", _nav_body(book, where), properties=["nav"])
    for doc in chapters:
        for img in (i for el in doc.body for i in el.xpath("descendant-or-self::img[@src]")):
            img.set("src", media[unquote(img.get("src"))])  # safety.problems bound every src to a resource
        add(doc.name.removesuffix(".xhtml"), doc.name, doc.title, doc.body, body_type=doc.body_type)
    for src, resource in book.resources.items():
        ebook.add_item(epub.EpubItem(uid=f"img-{len(ebook.items)}", file_name=media[src],
                                     media_type=resource.media_type, content=resource.path.read_bytes()))
    ebook.add_item(epub.EpubItem(uid="ncx", file_name="toc.ncx", media_type="application/x-dtbncx+xml",
                                 content=_ncx(book, where)))
    ebook.spine = spine

    modified = dt.datetime.strptime(book.date, "%Y-%m-%dT%H:%M:%SZ") if book.date else dt.datetime.now()
    raw = io.BytesIO()
    # ebooklib compresses with no effort (level 0): the archive is compressed once, by _repack.
    writer = epub.EpubWriter(raw, ebook, {"mtime": modified, "epub2_guide": False, "raise_exceptions": True,
                                          "compresslevel": 0})
    writer.process()
    writer.write()
    with atomic_output(target) as tmp:
        _repack(raw.getvalue(), tmp, lang)
    return []


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
    if meta.rights:
        ebook.add_metadata("DC", "rights", meta.rights)
    ebook.add_metadata("DC", "source", meta.source_edition)
    if meta.year:
        # The date of publication is the print edition's; when this file was made is dcterms:modified.
        ebook.add_metadata("DC", "date", meta.year)
    if meta.description:
        ebook.add_metadata("DC", "description", meta.description)
    for keyword in meta.keywords:
        ebook.add_metadata("DC", "subject", keyword)
    if meta.series:
        series = meta.series + (f", {meta.subseries}" if meta.subseries else "")
        ebook.add_metadata(None, "meta", series, {"property": "belongs-to-collection", "id": "series"})
        ebook.add_metadata(None, "meta", "series", {"refines": "#series", "property": "collection-type"})
    if meta.edition:
        ebook.add_metadata(None, "meta", meta.edition, {"property": "schema:version"})
    paged = bool(book.page_breaks)
    if paged:
        ebook.add_metadata(None, "meta", meta.source_edition, {"property": "pageBreakSource"})
    a11y = [("schema:accessMode", "textual"), ("schema:accessModeSufficient", "textual")]
    a11y += [("schema:accessibilityFeature", f) for f in A11Y_FEATURES + (PAGE_FEATURES if paged else ())]
    pages = (", each document's notes after it, and the page numbers of the print edition as page-break markers "
             "and a page list") if paged else ", each document's notes after it"
    a11y += [("schema:accessibilityHazard", "none"),
             ("schema:accessibilitySummary", A11Y_SUMMARY.format(pages=pages, version=__version__)),
             ("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.2 Level AA")]
    if meta.publisher:
        a11y.append(("a11y:certifiedBy", meta.publisher))
    for prop, value in a11y:
        ebook.add_metadata(None, "meta", value, {"property": prop})


def _media_names(book: Book) -> dict[str, str]:
    """Name each image in the EPUB by its order: the names in the manuscript folder may be anything."""
    return {src: f"media/image-{i:03d}{SUFFIX[resource.media_type]}"
            for i, (src, resource) in enumerate(book.resources.items(), 1)}


def _nav_body(book: Book, where: dict[str, str]) -> list:
    """Return the navigation document: toc, page-list and landmarks."""
    def entries(points: tuple[NavPoint, ...] | list[NavPoint]):
        items = []
        for p in points:
            li = H.LI(H.A(p.title, href=f"{where[p.anchor]}#{p.anchor}"))
            if p.children:
                li.append(entries(p.children))
            items.append(li)
        return H.OL(*items)

    toc = H.NAV(H.H1("Contents"), entries(book.outline), id="toc", role="doc-toc")
    toc.set("epub-type", "toc")
    pages = H.NAV(H.H2("Pages of the print edition"),
                  H.OL(*[H.LI(H.A(pb.name, href=f"{where[pb.anchor]}#{pb.anchor}"))
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
    # A book with no page of a print edition has no page list: an empty one is no valid nav.
    return [toc, pages, landmarks] if book.page_breaks else [toc, landmarks]


def _ncx(book: Book, where: dict[str, str]) -> bytes:
    """Return the EPUB 2 NCX: navMap and pageList, play order by the book's reading order."""
    order = book.reading_order()
    wanted = {p.anchor for p in book.outline} | {c.anchor for p in book.outline for c in p.children}
    wanted |= {pb.anchor for pb in book.page_breaks}
    play = {a: n for n, a in enumerate(sorted(wanted, key=order.__getitem__), 1)}

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
            el(point, "content", src=f"{where[p.anchor]}#{p.anchor}")
            add_points(point, p.children)
    add_points(nav_map, book.outline)

    if not book.page_breaks:  # a pageList holds one pageTarget at least
        return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    page_list = el(root, "pageList")
    el(el(page_list, "navLabel"), "text").text = "Pages of the print edition"
    for pb in book.page_breaks:
        kind = {"arabic": "normal", "roman": "front"}.get(pb.kind, "special")
        target = el(page_list, "pageTarget", id=f"nav-{pb.anchor}", type=kind, playOrder=str(play[pb.anchor]))
        if kind != "special":
            # A printed number, as an integer apart from its label: iv is 4 (an unprinted one stays special).
            target.set("value", str(pb.number))
        el(el(target, "navLabel"), "text").text = pb.name
        el(target, "content", src=f"{where[pb.anchor]}#{pb.anchor}")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)




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


def _repack(data: bytes, target: Path, lang: str) -> None:
    """Rewrite the archive reproducibly: mimetype first and stored, fixed times, fixed order.

    The package document gets the book's language too (ebooklib writes none there), which accessibility
    checkers read as the language of the metadata.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(target, "w") as out:
        names = source.namelist()
        names.sort(key=lambda n: (n != "mimetype", n != "META-INF/container.xml", n))
        for name in names:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix: zipfile would write 0 when the build runs on Windows
            content = source.read(name)
            if name.endswith(".opf"):
                package = etree.fromstring(content)
                package.set(XML_LANG, lang)
                content = etree.tostring(package, xml_declaration=True, encoding="utf-8")
            out.writestr(info, content)
