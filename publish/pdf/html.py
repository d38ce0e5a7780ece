"""The book as HTML for print: one document per part (the prelims, then each chapter)."""
from __future__ import annotations

import copy
import functools
import itertools
import re
from pathlib import Path

from fontTools.ttLib import TTFont
from lxml import html as lxml_html
from lxml.html import builder as E

from ..book.frontmatter import edition_notice, title_lines
from ..book.geometry import measure, measure_ems, turned
from ..book.markup import (
    AT_START,
    BOUNDARY,
    CHAPTER,
    CHAPTER_PART,
    CITATION,
    CONTENTS,
    CONTENTS_FOLIO,
    CONTINUED,
    EDITION,
    FACSIMILE_LINK,
    FOOTNOTE,
    FRONT,
    FRONT_PART,
    HALF_TITLE,
    HALF_TITLE_LINES,
    LANDSCAPE,
    NEW_PARAGRAPH,
    NOTE_BLOCK,
    NOTE_BLOCKS,
    NOTE_MARKER,
    NOTE_NUMBER,
    NOTEREF,
    PAGE_LABEL,
    PAGE_NUMBER,
    PAGEBREAK,
    PIECE,
    PIECE_INDEX,
    PIECE_OF,
    RESUMED,
    RUNNING_HEAD,
    RUNNING_TITLE,
    TITLE_PAGE,
    WITH_NEXT,
)
from ..book.model import Book
from .layout import HEADINGS

# A link to an anchor in another part: the PDF writer turns it into a link to a named destination
# once the parts are joined.
OTHER_PART = "x-dest:"
FONTS = Path(__file__).parent.parent / "styles" / "fonts"
# The running heads: their type size, the verso's letter spacing (in ems), and the width of each folio's
# margin box, which holds the folio and keeps at least an em between it and the head.
HEAD_SIZE = 8.5
VERSO_SPACING = 0.04
FOLIO_EMS = 3.0
# What a head's measured width leaves for what the measure does not know (kerning, glyph substitutions).
HEAD_SLACK = 1.05
# A heading's head: the blocks the import sets between a heading and its text (file number, dateline,
# salutation, "[Translation]"), at most this many, each of at most this many characters; a longer
# block is the text.
HEAD_BLOCKS = 4
HEAD_CHARS = 300
# A text's first paragraph up to this many measures long, in the roman (its small capitals, italics and
# kerning aside), may take one line: it is kept with the next block.
ONE_LINE = 1.1


def _document(book: Book, *sections, part: str = "") -> str:
    # The document's metadata is written once the parts are joined (pdf._finish): a part's HTML holds
    # only what decides its pages, so that the cache can tell when a part needs laying out again.
    root = E.HTML(E.HEAD(E.META(charset="utf-8"), E.TITLE(book.meta.title)), E.BODY(*sections),
                  lang=book.meta.language)
    if part:
        root.set("class", part)  # names the pages print.css gives a chapter's heads
    root.set(RUNNING_HEAD, running_head(book.meta.verso_head, _head_room(book), verso=True))
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def prelims_html(book: Book, folios: dict[str, str]) -> str:
    """Return half title, title page, edition notice and contents; folios maps chapter anchors to folios."""
    lines = title_lines(book.meta)
    items = []
    for point in book.outline:
        link = E.A(point.title, href=OTHER_PART + point.anchor)
        link.set(CONTENTS_FOLIO, folios.get(point.anchor, ""))
        items.append(E.LI(link))
    return _document(
        book,
        E.SECTION(E.CLASS(HALF_TITLE), *[E.P(E.CLASS(k), v) for k, v in lines if k in HALF_TITLE_LINES]),
        E.SECTION(E.CLASS(TITLE_PAGE), *[E.P(E.CLASS(k), v) for k, v in lines]),
        E.SECTION(E.CLASS(EDITION), *edition_notice(book, "pdf")),
        E.NAV(E.CLASS(CONTENTS), E.H1("Contents", id="contents"), E.OL(*items)))


def chapter_html(book: Book, index: int) -> str:
    """Return one chapter as a document."""
    chapter = book.chapters[index]
    meta = book.meta
    section = _print_chapter(chapter, _head_room(book), measure_ems(meta.page_size, meta.margins, meta.font_size))
    _link_numbers(section, book.facsimiles())
    here = {el.get("id") for el in section.iter() if isinstance(el.tag, str) and el.get("id")}
    for link in section.xpath(".//a[starts-with(@href, '#')]"):
        if link.get("href")[1:] not in here:
            link.set("href", OTHER_PART + link.get("href")[1:])
    return _document(book, section, part=FRONT_PART if chapter.front else CHAPTER_PART)


def page_css(book: Book) -> str:
    """Page geometry and language from book.yaml (everything else is in styles/print.css)."""
    meta = book.meta
    return (f"@page {{ size: {meta.page_size}; margin: {meta.margins}; }}\n"
            f"@page landscape {{ size: {turned(meta.page_size, meta.font_size)}; }}\n"
            f"@page :left {{ margin-left: {_outer(meta.margins)}; margin-right: {_inner(meta.margins)}; }}\n"
            f"@page :right {{ margin-left: {_inner(meta.margins)}; margin-right: {_outer(meta.margins)}; }}\n"
            f"@page {{ font-size: {HEAD_SIZE}pt; @top-left {{ width: {FOLIO_EMS}em; }} "
            f"@top-right {{ width: {FOLIO_EMS}em; }} }}\n"
            f"@page :left {{ @top-center {{ letter-spacing: {VERSO_SPACING}em; }} }}\n"
            f"html {{ font-size: {meta.font_size}; }}\n")


def _outer(margins: str) -> str:
    parts = margins.split()
    return parts[1] if len(parts) > 1 else parts[0]


def _inner(margins: str) -> str:
    parts = margins.split()
    return parts[3] if len(parts) > 3 else _outer(margins)


def running_head(title: str, room: float, verso: bool = False) -> str:
    """Shorten a head at a word to what fits room ems of the head's line (small capitals on the verso)."""
    if _head_width(title, verso) <= room:
        return title
    words = title.split(" ")
    for end in range(len(words) - 1, 0, -1):
        short = " ".join(words[:end]).rstrip(",;:–—- ") + "…"
        if _head_width(short, verso) <= room:
            return short
    return "…"


def _head_room(book: Book) -> float:
    """Return the ems of the running head's type between the two folio boxes."""
    meta = book.meta
    return measure(meta.page_size, meta.margins, meta.font_size) / HEAD_SIZE - 2 * FOLIO_EMS


def _head_width(text: str, verso: bool) -> float:
    """Return text's width in ems set as a running head, measured wide rather than narrow."""
    advance = _advances("LinLibertine_R.otf" if verso else "LinLibertine_RI.otf")
    if verso:  # small capitals: no wider than the capitals, or than the letter itself
        width = sum(max(advance(c), advance(c.upper())) for c in text) + VERSO_SPACING * len(text)
    else:
        width = sum(advance(c) for c in text)
    return width * HEAD_SLACK


@functools.cache
def _advances(face: str):
    """Return the advance width of characters in ems in one of the book's faces (an em for one it lacks)."""
    font = TTFont(FONTS / face)
    cmap, metrics, em = font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm
    return lambda text: sum(metrics[cmap[ord(c)]][0] / em if ord(c) in cmap else 1.0 for c in text)


def _print_chapter(chapter, head_room: float, measure_ems: float):
    """Copy a chapter's body with notes inline (as WeasyPrint footnotes) and page-number boxes."""
    body = copy.deepcopy(chapter.body)
    _keep_headings(body, measure_ems)
    body.set("class", f"{CHAPTER} {FRONT}" if chapter.front else CHAPTER)
    body[0].set(RUNNING_TITLE, running_head(chapter.title, head_room))
    for ref in body.xpath(f".//a[@class='{NOTEREF}']"):
        # The reference keeps its id where the call stands: a destination on the page it is printed on.
        call = E.SPAN(id=ref.get("id"))
        ref.getparent().replace(ref, call)
        call.addnext(_footnote(chapter.notes[ref.get("href")[1:]], ref.tail))
    # A page without a label gets an empty number: it bounds the page ranges in the foot.
    for span in body.xpath(f".//span[@class='{PAGEBREAK}' or @class='{BOUNDARY}']"):
        if _at_start(span):
            span.set("class", span.get("class") + f" {AT_START}")
        else:
            _hold_to_word(span)
        span.append(E.SPAN(E.CLASS(PAGE_NUMBER), span.get(PAGE_LABEL, "")))
    return body


def _link_numbers(body, facsimiles: dict[str, str]) -> None:
    """Make each margin number whose page has a scanned image a link to it (tagging.py tags the link)."""
    for number in body.xpath(f".//span[@class='{PAGE_NUMBER}'][not(ancestor::a)]"):
        url = facsimiles.get(number.getparent().get("id"))
        if url:
            link = E.A(E.CLASS(FACSIMILE_LINK), number.text, href=url)
            number.text = None
            number.append(link)


def _keep_headings(body, measure_ems: float) -> None:
    """Mark each heading's head, and its text's first paragraph when one line holds it, as kept with the next block.

    Headings are kept with the next block by print.css, the text's first two lines together by its
    orphans: so a heading never ends a page, but stands with its head and two lines of its text. A head
    may also lead its heading, alone before it in an enclosure ("[Inclosure in No. 2.]").
    """
    for heading in body.iter(*HEADINGS):
        lead = list(heading.itersiblings(preceding=True))
        if len(lead) <= HEAD_BLOCKS and all(_is_head(block) for block in lead):
            for block in lead:
                _add_class(block, WITH_NEXT)
        block = heading.getnext()
        if block is not None and CITATION in (block.get("class") or "").split():
            # The line citing a document, however long its volume's title makes it, is not one of its head's blocks.
            _add_class(block, WITH_NEXT)
            block = block.getnext()
        for _ in range(HEAD_BLOCKS):
            if not _is_head(block):
                break
            _add_class(block, WITH_NEXT)
            block = block.getnext()
        if block is not None and block.tag == "p" and _fits(block.text_content(), ONE_LINE * measure_ems):
            _add_class(block, WITH_NEXT)


def turn_heads(html: str) -> str:
    """Set a turned table's caption (its number, title and date, short blocks of their own before it) and a
    heading whose text it begins, with what is kept with it, on the table's page."""
    if LANDSCAPE not in html:
        return html
    root = lxml_html.document_fromstring(html)
    for table in root.xpath(f"//table[contains(concat(' ', @class, ' '), ' {LANDSCAPE} ')]"):
        kept, block = [], table.getprevious()
        # A chapter's title stays on the chapter's first page.
        while block is not None and (block.tag in HEADINGS - {"h1"} or WITH_NEXT in (block.get("class") or "").split()
                                     or (_is_head(block) and sum(map(_is_head, kept)) < HEAD_BLOCKS)):
            kept.append(block)
            block = block.getprevious()
        if not any(el.tag in HEADINGS for el in kept):
            # Only a caption goes: what a heading keeps with it (its head, a first line) stays with the heading.
            kept = list(itertools.takewhile(_is_caption, kept))
        for el in kept:
            _add_class(el, LANDSCAPE)
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def _is_caption(block) -> bool:
    """Tell whether a block before a table can be its caption: a head block no heading keeps with it."""
    return _is_head(block) and WITH_NEXT not in (block.get("class") or "").split()


def _is_head(block) -> bool:
    """Tell whether a block can be part of a heading's head: a short block of its own, holding no heading."""
    return (block is not None and block.tag == "div" and len(block.text_content()) <= HEAD_CHARS
            and not any(el.tag in HEADINGS for el in block.iter()))


def _fits(text: str, ems: float) -> bool:
    """Tell whether text set in the body's roman is no wider than ems."""
    text, advance = " ".join(text.split()), _advances("LinLibertine_R.otf")
    # Most first paragraphs run to many lines: measured a few words at a time, they are found too wide early.
    # (The widths are not negative; the margin covers the rounding of sums taken in another order.)
    wide = 0.0
    for start in range(0, len(text), 64):
        wide += advance(text[start:start + 64])
        if wide > ems * (1 + 1e-9):
            return False
    return advance(text) <= ems


def _add_class(el, name: str) -> None:
    el.set("class", f"{el.get('class') or ''} {name}".strip())


def _at_start(span) -> bool:
    """Tell whether a break stands before anything its block prints: first in it, or after other breaks only.

    A rule there would stand alone before a chapter's title or a paragraph's first word, which print never had.
    """
    if (span.getparent().text or "").strip():
        return False
    return all({PAGEBREAK, BOUNDARY} & set((before.get("class") or "").split()) and not (before.tail or "").strip()
               for before in span.itersiblings(preceding=True))


def _hold_to_word(span) -> None:
    """Move the space before a break to after it.

    WeasyPrint breaks lines early when an inline element follows a space (Kozea/WeasyPrint#1614), so
    the break holds on to the word before it; a break left at the end of a line is moved to the next
    line after layout (layout.py).
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
    span = E.SPAN(E.CLASS(FOOTNOTE), id=note.anchor)
    span.set(NOTE_NUMBER, note.number)
    # "1. ", "a. ", but "* " and "† ": a sign stands alone, as printed.
    span.set(NOTE_MARKER, f"{note.number}. " if note.number[-1:].isalnum() else f"{note.number} ")
    for block in note.blocks:
        block = copy.deepcopy(block)
        for el in block.iter():
            if isinstance(el.tag, str) and el.tag in NOTE_BLOCKS:
                el.set("class", f"{NOTE_BLOCK}{el.tag} " + (el.get("class") or ""))
                el.tag = "span"
        span.append(block)
    span.tail = tail
    return span


def cut_notes(html: str, anchors: set[str]) -> str:
    """Cut each of these notes, too tall for the foot of one page, into pieces that run on from page to page.

    WeasyPrint cannot break a footnote across pages. Each piece is a footnote of its own, set inline,
    so that the pieces a page holds read as one note; the first keeps the call and the note's place,
    the others follow it as far as the page allows and the rest begin the next pages' feet.
    """
    root = lxml_html.document_fromstring(html)
    for anchor in sorted(anchors):
        note = root.get_element_by_id(anchor)
        pieces = []
        for index, block in enumerate(note):
            for k, piece in enumerate(_cut(block)):
                if index and not k:  # a paragraph after the first opens a line
                    piece.set("class", ((piece.get("class") or "") + f" {NEW_PARAGRAPH}").strip())
                pieces.append(piece)
        if not pieces:
            continue
        spans = [E.SPAN(piece, {"class": f"{FOOTNOTE} {PIECE}" if i == 0 else f"{FOOTNOTE} {PIECE} {CONTINUED}",
                                NOTE_NUMBER: note.get(NOTE_NUMBER), NOTE_MARKER: note.get(NOTE_MARKER),
                                PIECE_OF: anchor, PIECE_INDEX: str(i)})
                 for i, piece in enumerate(pieces)]
        spans[0].set("id", anchor)
        spans[-1].tail = note.tail
        note.getparent().replace(note, spans[0])
        for before, span in zip(spans, spans[1:]):
            before.addnext(span)
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def mark_resumed(html: str, resumed: set[tuple[str, str]]) -> str:
    """Mark as continued the pieces of notes that begin a page's foot, (note anchor, piece) pairs; unmark others."""
    root = lxml_html.document_fromstring(html)
    for span in root.xpath(f"//span[@{PIECE_INDEX}]"):
        classes = [c for c in span.get("class").split() if c != RESUMED]
        if (span.get(PIECE_OF), span.get(PIECE_INDEX)) in resumed:
            classes.append(RESUMED)
        span.set("class", " ".join(classes))
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def _cut(block) -> list:
    """Cut a block of a note at spaces into copies holding about PIECE_CHARS characters each."""
    pieces = [_shell(block)]
    size = 0

    def add_text(text: str) -> None:
        nonlocal size
        start = 0
        for space in _SPACES.finditer(text):
            if size + space.start() - start >= PIECE_CHARS:
                _append_text(pieces[-1], text[start:space.end()])  # the space parts it from the next
                pieces.append(_shell(block))
                start, size = space.end(), 0
        _append_text(pieces[-1], text[start:])
        size += len(text) - start

    add_text(block.text or "")
    for child in block:
        kept = copy.deepcopy(child)
        kept.tail = None
        pieces[-1].append(kept)
        size += len(kept.text_content()) if isinstance(kept.tag, str) else 0
        add_text(child.tail or "")
    return pieces


def _shell(block):
    """Return an empty copy of a block: its tag and attributes."""
    return lxml_html.Element(block.tag, dict(block.attrib))


def _append_text(el, text: str) -> None:
    if len(el):
        el[-1].tail = (el[-1].tail or "") + text
    else:
        el.text = (el.text or "") + text


# A long note is cut into pieces of about this many characters: a line or two of a note, so that the
# page that calls it is filled, and the next page's foot takes the rest.
PIECE_CHARS = 120
_SPACES = re.compile(r"[ \t\r\n]+")  # where a piece may end: not at a no-break space
