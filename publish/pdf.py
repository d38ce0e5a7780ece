"""The PDF writer: the book model laid out by WeasyPrint, original page numbers in the outer margin."""
from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from lxml import html as lxml_html
from lxml.html import builder as E
from weasyprint import CSS, HTML
from weasyprint.formatting_structure.boxes import FootnoteAreaBox
from weasyprint.text.fonts import FontConfiguration

from . import __version__
from .fetch import MANUSCRIPT_URL, RefusedURL, SafeFetcher, refused
from .frontmatter import edition_notice, title_lines
from .fsutil import atomic_output
from .layout import arrange_pages
from .model import Book

STYLESHEET = "print.css"
# Gap between the text block and a margin number, in CSS px (WeasyPrint's unit: 1/96 in).
MARGIN_GAP = 9
RANGE_PLACEHOLDER = "pp."  # replaced, page by page, by the original pages the page covers


@dataclass
class Layout:
    """What the laid-out PDF shows, read from WeasyPrint's boxes: for tests and the build report."""

    pages: int = 0
    first_main_page: int = 0  # index of the page on which the first chapter opens
    # label -> (page index, side) for each margin number
    margin_numbers: dict[str, tuple[int, str]] = field(default_factory=dict)
    ranges: list[str] = field(default_factory=list)  # the running foot of each page


def write_pdf(book: Book, target: Path, styles: Path) -> Layout:
    """Lay the book out and write it to target."""
    fonts = FontConfiguration()
    fetcher = SafeFetcher([book.folder, styles], manuscript=book.folder)
    document = _render(book, styles, fonts, fetcher)
    # WeasyPrint cannot split a footnote across pages and silently drops one taller than a page:
    # such notes are set again, in full, after the paragraph that calls them.
    lost = _lost_notes(document, book)
    if lost:
        document = _render(book, styles, fonts, fetcher, lost)
    layout = Layout(pages=len(document.pages), first_main_page=_first_main_page(document, book))
    arrange_pages(document, MARGIN_GAP, RANGE_PLACEHOLDER, layout)
    pdf_bytes = document.write_pdf()
    with atomic_output(target) as tmp:
        _finish(pdf_bytes, book, layout, tmp)
    return layout


def _render(book: Book, styles: Path, fonts, fetcher, long_notes=frozenset()):
    """Lay the book out with WeasyPrint, reading only what the fetcher allows."""
    try:
        stylesheets = [CSS(filename=str(styles / STYLESHEET), font_config=fonts, url_fetcher=fetcher),
                       CSS(string=_page_css(book), font_config=fonts)]
        return HTML(string=print_html(book, long_notes), base_url=MANUSCRIPT_URL,
                    url_fetcher=fetcher).render(stylesheets=stylesheets, font_config=fonts)
    except RefusedURL as exc:
        raise refused(exc) from None


def _lost_notes(document, book: Book) -> set[str]:
    """Return the anchors of the footnotes that are on no page, or run past the foot of theirs."""
    placed = set()
    for page in document.pages:
        box = page._page_box
        bottom = box.content_box_y() + box.height
        for area in box.children:
            if isinstance(area, FootnoteAreaBox):
                fits = area.position_y + area.margin_height() <= bottom + 1
                placed |= {c.element.get("id") for c in area.children if fits and c.element is not None}
    return {anchor for chapter in book.chapters for anchor in chapter.notes} - placed


def _page_css(book: Book) -> str:
    """Page geometry and language from book.yaml (everything else is in styles/print.css)."""
    meta = book.meta
    return (f"@page {{ size: {meta.page_size}; margin: {meta.margins}; }}\n"
            f"@page :left {{ margin-left: {_outer(meta.margins)}; margin-right: {_inner(meta.margins)}; }}\n"
            f"@page :right {{ margin-left: {_inner(meta.margins)}; margin-right: {_outer(meta.margins)}; }}\n"
            f"html {{ font-size: {meta.font_size}; }}\n")


def _outer(margins: str) -> str:
    parts = margins.split()
    return parts[1] if len(parts) > 1 else parts[0]


def _inner(margins: str) -> str:
    parts = margins.split()
    return parts[3] if len(parts) > 3 else _outer(margins)


def print_html(book: Book, long_notes=frozenset()) -> str:
    """Return the whole book as one HTML document for print; long_notes are set as blocks, not footnotes."""
    meta = book.meta
    head = E.HEAD(E.META(charset="utf-8"), E.TITLE(meta.title))
    for editor in meta.editors:
        head.append(E.META(name="author", content=editor))
    head.append(E.META(name="description", content=meta.description or meta.title))
    if meta.keywords:
        head.append(E.META(name="keywords", content=", ".join(meta.keywords)))
    head.append(E.META(name="generator", content=f"publish {__version__}"))
    if book.date:
        head.append(E.META(name="dcterms.created", content=book.date))
        head.append(E.META(name="dcterms.modified", content=book.date))
    body = E.BODY()
    lines = title_lines(meta)
    body.append(E.SECTION(E.CLASS("halftitle"), *[E.P(E.CLASS(k), v) for k, v in lines if k in
                                                   ("series", "subseries", "volume", "volume-title")]))
    body.append(E.SECTION(E.CLASS("titlepage"), *[E.P(E.CLASS(k), v) for k, v in lines]))
    body.append(E.SECTION(E.CLASS("edition"), *edition_notice(book, "pdf")))
    body.append(_contents(book))
    first_main = True
    for chapter in book.chapters:
        section = _print_chapter(chapter, long_notes)
        if not chapter.front and first_main:
            section.set("class", section.get("class") + " first")
            first_main = False
        body.append(section)
    root = E.HTML(head, body, lang=meta.language)
    root.set("data-head", meta.verso_head)
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def _contents(book: Book):
    items = []
    for point in book.outline:
        chapter = book.chapters[point.chapter]
        items.append(E.LI(E.CLASS("front" if chapter.front else "main"),
                          E.A(point.title, href=f"#{point.anchor}")))
    return E.NAV(E.CLASS("contents"), E.H1("Contents", id="contents"), E.OL(*items))


def _print_chapter(chapter, long_notes=frozenset()):
    """Copy a chapter's body with notes inline (as WeasyPrint footnotes) and page-number boxes."""
    body = copy.deepcopy(chapter.body)
    body.set("class", "chapter front" if chapter.front else "chapter")
    body[0].set("data-title", chapter.title)
    for ref in body.xpath(".//a[@class='noteref']"):
        note = chapter.notes[ref.get("href")[1:]]
        if note.anchor in long_notes:
            _long_note(body, ref, note)
        else:
            ref.getparent().replace(ref, _footnote(note, ref.tail))
    for span in body.xpath(".//span[@class='pagebreak']"):
        if span.getprevious() is None and not (span.getparent().text or "").strip():
            span.set("class", "pagebreak at-start")
        else:
            _hold_to_word(span)
        span.append(E.SPAN(E.CLASS("pn"), span.get("data-label")))
    return body


def _hold_to_word(span) -> None:
    """Move the space before a break to after it.

    WeasyPrint breaks lines early when an inline element follows a space (Kozea/WeasyPrint#1614), so
    the break holds on to the word before it; a break left at the end of a line is moved to the next
    line after layout (publish/layout.py).
    """
    before = span.getprevious()
    text = before.tail if before is not None else span.getparent().text
    if text and text[-1].isspace():
        stripped = text.rstrip()
        if before is not None:
            before.tail = stripped
        else:
            span.getparent().text = stripped
        span.tail = " " + (span.tail or "").lstrip()


def _footnote(note, tail):
    """Make a note an inline element WeasyPrint floats to the foot of the page."""
    span = E.SPAN(E.CLASS("footnote"), id=note.anchor)
    span.set("data-n", note.number)
    for block in note.blocks:
        block = copy.deepcopy(block)
        for el in block.iter():
            if isinstance(el.tag, str) and el.tag in _NOTE_BLOCKS:
                el.set("class", f"fn-{el.tag} " + (el.get("class") or ""))
                el.tag = "span"
        span.append(block)
    span.tail = tail
    return span


def _long_note(body, ref, note) -> None:
    """Set a note too long for the foot of a page as a block after the block that calls it."""
    call = E.SUP(E.CLASS("longnote-call"), note.number)
    call.tail = ref.tail
    ref.getparent().replace(ref, call)
    block = call
    while block.getparent() is not body:
        block = block.getparent()
    blocks = [copy.deepcopy(b) for b in note.blocks] or [E.P()]
    number = E.SPAN(E.CLASS("longnote-number"), f"{note.number}. ")
    number.tail, blocks[0].text = blocks[0].text, None
    blocks[0].insert(0, number)
    block.addnext(E.DIV(E.CLASS("longnote"), *blocks, id=note.anchor))


# Block elements inside a note become spans (an HTML parser would close the paragraph around them).
_NOTE_BLOCKS = {"p", "div", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "pre", "h1", "h2", "h3",
                "h4", "h5", "h6", "table", "thead", "tbody", "tr", "td", "th", "hr", "figure", "section"}


def _first_main_page(document, book: Book) -> int:
    first = next((ch.anchor for ch in book.chapters if not ch.front), None)
    for index, page in enumerate(document.pages):
        if first in page.anchors:
            return index
    return 0


def _finish(pdf_bytes: bytes, book: Book, layout: Layout, target: Path) -> None:
    """Add the outline, page labels and metadata WeasyPrint does not write, then save."""
    import io
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        with pdf.open_outline() as outline:
            outline.root.clear()
            for point in book.outline:
                item = pikepdf.OutlineItem(point.title, point.anchor)
                item.children.extend(pikepdf.OutlineItem(c.title, c.anchor) for c in point.children)
                outline.root.append(item)
        nums = [0, pikepdf.Dictionary(S=pikepdf.Name.r)]
        if layout.first_main_page:
            nums += [layout.first_main_page, pikepdf.Dictionary(S=pikepdf.Name.D)]
        pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(nums))
        pdf.Root.PageMode = pikepdf.Name.UseOutlines
        meta = book.meta
        with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp["dc:title"] = meta.title
            xmp["dc:creator"] = list(meta.editors)
            xmp["dc:description"] = meta.description or meta.title
            xmp["dc:subject"] = list(meta.keywords)
            xmp["dc:language"] = [meta.language]
            xmp["dc:rights"] = meta.rights
            xmp["dc:identifier"] = meta.urn
            xmp["dc:source"] = meta.source_edition
            xmp["pdf:Keywords"] = ", ".join(meta.keywords)
            xmp["pdf:Producer"] = f"publish {__version__} (WeasyPrint, pikepdf)"
            if book.date:
                # pikepdf rebuilds /CreationDate and /ModDate from these, and drops them without.
                for key in ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"):
                    xmp[key] = book.date
            # Derived, not random: the same sources give the same IDs on every build.
            xmp["xmpMM:DocumentID"] = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, meta.urn)}"
            instance = f"{meta.urn}#{meta.version}@{book.date}"
            xmp["xmpMM:InstanceID"] = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, instance)}"
        pdf.save(target, deterministic_id=True)
