"""The book as HTML for print: one document per part (the prelims, then each chapter)."""
from __future__ import annotations

import copy

from lxml import html as lxml_html
from lxml.html import builder as E

from .frontmatter import edition_notice, title_lines
from .geometry import turned
from .model import NOTEREF, PAGE_LABEL, PAGEBREAK, Book
from .pages import BOUNDARY

# A link to an anchor in another part: the PDF writer turns it into a link to a named destination
# once the parts are joined.
OTHER_PART = "x-dest:"


def _document(book: Book, *sections, part: str = "") -> str:
    # The document's metadata is written once the parts are joined (pdf._finish): a part's HTML holds
    # only what decides its pages, so that the cache can tell when a part needs laying out again.
    root = E.HTML(E.HEAD(E.META(charset="utf-8"), E.TITLE(book.meta.title)), E.BODY(*sections),
                  lang=book.meta.language)
    if part:
        root.set("class", f"{part}-part")  # names the pages print.css gives a chapter's heads
    root.set("data-head", book.meta.verso_head)
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def prelims_html(book: Book, folios: dict[str, str]) -> str:
    """Return half title, title page, edition notice and contents; folios maps chapter anchors to folios."""
    lines = title_lines(book.meta)
    items = []
    for point in book.outline:
        link = E.A(point.title, href=OTHER_PART + point.anchor)
        link.set("data-page", folios.get(point.anchor, ""))
        items.append(E.LI(link))
    return _document(
        book,
        E.SECTION(E.CLASS("halftitle"), *[E.P(E.CLASS(k), v) for k, v in lines
                                          if k in ("series", "subseries", "volume", "volume-title")]),
        E.SECTION(E.CLASS("titlepage"), *[E.P(E.CLASS(k), v) for k, v in lines]),
        E.SECTION(E.CLASS("edition"), *edition_notice(book, "pdf")),
        E.NAV(E.CLASS("contents"), E.H1("Contents", id="contents"), E.OL(*items)))


def chapter_html(book: Book, index: int, long_notes=frozenset()) -> str:
    """Return one chapter as a document; long_notes are set as blocks after their paragraph, not footnotes."""
    chapter = book.chapters[index]
    section = _print_chapter(chapter, long_notes)
    here = {el.get("id") for el in section.iter() if isinstance(el.tag, str) and el.get("id")}
    for link in section.xpath(".//a[starts-with(@href, '#')]"):
        if link.get("href")[1:] not in here:
            link.set("href", OTHER_PART + link.get("href")[1:])
    return _document(book, section, part="front" if chapter.front else "chapter")


def page_css(book: Book) -> str:
    """Page geometry and language from book.yaml (everything else is in styles/print.css)."""
    meta = book.meta
    return (f"@page {{ size: {meta.page_size}; margin: {meta.margins}; }}\n"
            f"@page landscape {{ size: {turned(meta.page_size, meta.font_size)}; }}\n"
            f"@page :left {{ margin-left: {_outer(meta.margins)}; margin-right: {_inner(meta.margins)}; }}\n"
            f"@page :right {{ margin-left: {_inner(meta.margins)}; margin-right: {_outer(meta.margins)}; }}\n"
            f"html {{ font-size: {meta.font_size}; }}\n")


def _outer(margins: str) -> str:
    parts = margins.split()
    return parts[1] if len(parts) > 1 else parts[0]


def _inner(margins: str) -> str:
    parts = margins.split()
    return parts[3] if len(parts) > 3 else _outer(margins)


def running_head(title: str, limit: int = 56) -> str:
    """Shorten a chapter title to what fits one line of a running head, at a word."""
    if len(title) <= limit:
        return title
    return title[:limit].rsplit(" ", 1)[0].rstrip(",;:–—- ") + "…"


def _print_chapter(chapter, long_notes=frozenset()):
    """Copy a chapter's body with notes inline (as WeasyPrint footnotes) and page-number boxes."""
    body = copy.deepcopy(chapter.body)
    body.set("class", "chapter front" if chapter.front else "chapter")
    body[0].set("data-title", running_head(chapter.title))
    for ref in body.xpath(f".//a[@class='{NOTEREF}']"):
        note = chapter.notes[ref.get("href")[1:]]
        if note.anchor in long_notes:
            _long_note(body, ref, note)
        else:
            ref.getparent().replace(ref, _footnote(note, ref.tail))
    # A page without a label gets an empty number: it bounds the page ranges in the foot.
    for span in body.xpath(f".//span[@class='{PAGEBREAK}' or @class='{BOUNDARY}']"):
        if span.getprevious() is None and not (span.getparent().text or "").strip():
            span.set("class", span.get("class") + " at-start")
        else:
            _hold_to_word(span)
        span.append(E.SPAN(E.CLASS("pn"), span.get(PAGE_LABEL, "")))
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
