"""A document's citation: its original pages, read once from the page-break model, and the volume's data.

A document's first page is the original page its heading stands on: the page of the last break before
the heading's first word (in an earlier chapter, at the heading itself from its `page=` attribute, or
book.yaml's start_page, all of which the reader has made page breaks). Its last page is the page its
last text stands on: a break that falls between two documents, with no text of the first after it,
begins the next. Both writers print the same line (citation_line) and `publish cite` exports the same
data (csl_item), as the Office of the Historian's own citations have it (hsg-shell's CSL-JSON: type
chapter, collection-title the series, collection-number the subseries, container-title the volume
title, title "Document 75").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import builder as E

from .config import Metadata
from .markup import BOUNDARY, CITATION, NOTEREF, PAGE_LABEL, PAGEBREAK, cite_pages
from .model import Book, Chapter
from .pages import UNLABELLED

# The model's own headings: a chapter's and a document's, the edition's structure rather than a page's text.
OWN_HEADINGS = {"h1", "h2"}
# "Volume V", "Vol. XIX, Part 1": the number is what a style prints after its own "vol.".
VOLUME_WORD = re.compile(r"^vol(?:ume)?\.?\s+", re.IGNORECASE)
# A name's suffix after a comma: "William F. Sanford, Jr.".
SUFFIX = re.compile(r"^(?P<name>[^,]+),\s*(?P<suffix>.+)$")


@dataclass(frozen=True)
class Citation:
    """One document as a reader cites it."""

    anchor: str  # "d270": its id in both formats, and in its web address
    title: str  # its heading as printed: "270. Editorial Note"
    number: str  # "270"; empty for a document the print edition gave no number
    pages: tuple[str, ...]  # the labels of the original pages it spans, in order; those without a label left out
    url: str = ""

    @property
    def first(self) -> str:
        return self.pages[0] if self.pages else ""

    @property
    def last(self) -> str:
        return self.pages[-1] if self.pages else ""

    @property
    def page_range(self) -> str:
        """The pages as a range, "587–589", or one page, "587" ('' when no page is known)."""
        return "" if not self.pages else self.first if self.first == self.last else f"{self.first}–{self.last}"


def citations(book: Book) -> list[Citation]:
    """Return every document's citation, in reading order: each section of a chapter of the text that
    has text of its own (a heading that only opens the documents after it is cited through them)."""
    found: list[Citation] = []
    current: str | None = None  # the label of the original page the text is on
    for chapter in book.chapters:
        sections = {s.anchor: s for s in chapter.sections}
        open_: dict | None = None  # the document being read: its anchor and the pages seen so far
        for kind, value in _events(chapter):
            if kind == "page":
                current = value
                if open_ is not None and open_["started"]:
                    open_["seen"].append(value)
            elif kind == "section":
                _close(open_, found, book.meta, chapter)
                open_ = {"section": sections[value], "started": False, "seen": [], "upto": 0}
            elif open_ is not None:
                if not open_["started"]:  # the heading's first word: the page it stands on
                    open_["started"], open_["seen"] = True, [current]
                if kind == "text":
                    open_["upto"] = len(open_["seen"])
        _close(open_, found, book.meta, chapter)
    return found


def _close(open_: dict | None, found: list[Citation], meta: Metadata, chapter: Chapter) -> None:
    """Add the document read, up to the page of its last text, if it has text of its own."""
    if open_ is None or not open_["upto"] or chapter.front:
        return
    section = open_["section"]
    # Text before any page marker is on a page no one knows: a range from the first marker would mislead.
    known = open_["seen"][0] is not None
    pages = [p for p in open_["seen"][:open_["upto"]] if known and p != UNLABELLED]
    url = meta.document_url.replace("{id}", section.anchor) if meta.document_url else ""
    found.append(Citation(section.anchor, section.title, section.number, tuple(dict.fromkeys(pages)), url))


def _events(chapter: Chapter):
    """Yield, in reading order, ("section", anchor) where a document's heading begins, ("page", label) at
    each page break, ("heading", None) at the words of a heading and ("text", None) at any other words."""
    anchors = {s.anchor for s in chapter.sections}

    def walk(el, heading: bool):
        classes = (el.get("class") or "").split() if isinstance(el.tag, str) else []
        if not isinstance(el.tag, str) or CITATION in classes:
            return  # a comment; or the citation line, which is the edition's, not an original page's
        if el.tag == "h2" and el.get("id") in anchors:
            yield "section", el.get("id")
        if PAGEBREAK in classes:
            yield "page", el.get(PAGE_LABEL)
        elif BOUNDARY in classes:
            yield "page", UNLABELLED
        heading = heading or el.tag in OWN_HEADINGS
        words = "heading" if heading else "text"
        if (el.text or "").strip():
            yield words, None
        if el.tag == "a" and NOTEREF in classes:
            # A note is read where it is referenced, as the PDF sets it at the foot of that page.
            note = chapter.notes.get((el.get("href") or "#")[1:])
            for block in note.blocks if note else []:
                yield from walk(block, heading)
                if (block.tail or "").strip():
                    yield words, None
            return
        for child in el:
            yield from walk(child, heading)
            if (child.tail or "").strip():
                yield words, None

    yield from walk(chapter.body, False)


def csl_item(meta: Metadata, citation: Citation) -> dict:
    """Return a document's citation as CSL-JSON, the Office of the Historian's model with the print pages."""
    item = {"id": citation.anchor, "type": "chapter",
            "title": f"Document {citation.number}" if citation.number else citation.title,
            "collection-title": meta.series, "collection-number": meta.subseries,
            "container-title": meta.volume_title, "volume": VOLUME_WORD.sub("", meta.volume),
            "page": citation.page_range.replace("–", "-"),
            "editor": [_name(n) for n in meta.editors], "publisher": meta.publisher,
            "publisher-place": meta.place, "URL": citation.url}
    if meta.year:
        item["issued"] = {"date-parts": [[int(meta.year)]]} if meta.year.isdigit() else {"literal": meta.year}
    return {key: value for key, value in item.items() if value}


def _name(name: str) -> dict:
    """Return a person's name as CSL names it: family and given, and a suffix after a comma."""
    m = SUFFIX.match(name)
    whole, suffix = (m["name"].strip(), m["suffix"].strip()) if m else (name.strip(), "")
    given, _, family = whole.rpartition(" ")
    if not given:
        return {"literal": name}
    return {"family": family, "given": given, **({"suffix": suffix} if suffix else {})}


def short_form(meta: Metadata, citation: Citation) -> list:
    """Return the citation as the book prints it, as text and italic elements: the volume's title, then the
    document's number where it has one, then its pages, as FRUS's readers cite it.

    Foreign Relations of the United States, 1961–1963, vol. V, Soviet Union, doc. 270, pp. 587–589.
    """
    # A title some volumes' TEI gives twice (1861: the subseries is the volume's title) is printed once.
    def same(a: str, b: str) -> bool:
        return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    titles: list[str] = []
    for text in (meta.series, meta.subseries):
        if text and not any(same(text, t) for t in titles):
            titles.append(text)
    title = meta.volume_title if not any(same(meta.volume_title, t) for t in titles) else ""
    series = ", ".join(titles)
    volume = f"vol. {VOLUME_WORD.sub('', meta.volume)}" if meta.volume else ""
    parts: list = []
    for piece in (E.I(series) if series else None, volume, E.I(title) if title else None,
                  f"doc. {citation.number}" if citation.number else "",
                  cite_pages(citation.first, citation.last) if citation.pages else ""):
        if piece is None or piece == "":
            continue
        if parts:
            parts.append(", ")
        parts.append(piece)
    parts.append(".")
    return parts


def citation_line(meta: Metadata, citation: Citation):
    """Return the line that stands under a document's heading in both formats: its citation."""
    text = E.P(*short_form(meta, citation))
    return E.DIV(E.CLASS(CITATION), text)


def add_lines(book: Book) -> None:
    """Put each document's citation line under its heading."""
    by_anchor = {c.anchor: c for c in citations(book)}
    for chapter in book.chapters:
        for heading in chapter.body.iter("h2"):
            citation = by_anchor.get(heading.get("id"))
            if citation is not None:
                line = citation_line(book.meta, citation)
                line.tail, heading.tail = heading.tail, None
                heading.addnext(line)
