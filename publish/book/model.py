"""The book as both writers read it: chapters, documents, notes, page breaks and the outline."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .config import Metadata
from .markup import NOTEREF
from .pages import PageBreak


@dataclass
class Note:
    """A footnote, with the mark the manuscript gives it or else numbered per document."""

    anchor: str  # "d270-fn1"
    number: str  # its mark as printed: "1", "*", "a"
    blocks: list[etree._Element]  # the note's paragraphs, as HTML elements
    page: str = ""  # the label of the original page its reference stands on


@dataclass(frozen=True)
class NavPoint:
    """One entry of the outline: the PDF bookmarks and the EPUB toc and NCX are all written from it."""

    title: str
    anchor: str
    children: tuple[NavPoint, ...] = ()


@dataclass
class Section:
    """A document (``## 270. Editorial Note``) or other second-level section of a chapter."""

    title: str  # the heading as printed, "270. Editorial Note"
    anchor: str  # "d270"
    number: str = ""  # "270"; empty for an unnumbered section


@dataclass
class Division:
    """A heading and what it heads: a document (``## 270. Editorial Note``), or a part of one under a lower heading."""

    level: int  # the heading's: 2 for a document's
    content: list  # the heading, then the blocks and the lower headings' divisions after it, in order


def divide(blocks: Iterable, level: Callable[[object], int | None], within: int = 1) -> list:
    """Return blocks with each heading deeper than `within` made a Division of what it heads, as HTML sections nest.

    A heading's division runs to the next heading of its level or higher; a lower one's nests in it (pandoc's
    --section-divs). level(block) is a block's heading level, None for a block that is no heading; a heading
    of level `within` or higher (a chapter's title: its chapter is its division) opens none.
    """
    out: list = []
    open_: list[Division] = []
    for block in blocks:
        n = level(block)
        while n is not None and open_ and open_[-1].level >= n:
            open_.pop()
        item = Division(n, [block]) if n is not None and n > within else block
        (open_[-1].content if open_ else out).append(item)
        if item is not block:
            open_.append(item)
    return out


def every_division(items: list):
    """Yield each Division among items (as divide returns them), each before those it holds."""
    for item in items:
        if isinstance(item, Division):
            yield item
            yield from every_division(item.content)


def heading_level(element) -> int | None:
    """Return an HTML element's heading level (2 for an h2), None if it is no heading."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return int(tag[1]) if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456" else None


@dataclass
class Chapter:
    """A first-level division: its content as one HTML ``section`` element."""

    title: str
    anchor: str
    path: Path
    body: etree._Element
    front: bool = False
    sections: list[Section] = field(default_factory=list)
    notes: dict[str, Note] = field(default_factory=dict)
    page_breaks: list[PageBreak] = field(default_factory=list)

    def walk(self):
        """Yield the chapter's elements in reading order, each note's blocks where it is referenced."""
        def walk(el):
            for child in el:
                yield child
                if child.tag == "a" and child.get("class") == NOTEREF:
                    note = self.notes.get(child.get("href")[1:])
                    for block in note.blocks if note else []:
                        yield block
                        yield from walk(block)
                else:
                    yield from walk(child)
        yield from walk(self.body)

    def divisions(self, body: etree._Element | None = None) -> list:
        """Return the blocks of the chapter's section (or of a copy of it), each heading below the title made a
        Division of what it heads: its documents, and their parts under lower headings."""
        return divide(self.body if body is None else body, heading_level)


@dataclass(frozen=True)
class Resource:
    """A file the book shows (an image), resolved once to its real path inside the manuscript folder."""

    path: Path
    media_type: str


@dataclass
class Book:
    """The whole volume."""

    meta: Metadata
    folder: Path
    chapters: list[Chapter]
    # The volume's build date (ISO 8601), from SOURCE_DATE_EPOCH or the last commit.
    date: str = ""
    # Every image, by the src its elements carry (its path inside the folder); set by safety.problems.
    resources: dict[str, Resource] = field(default_factory=dict)

    @property
    def page_breaks(self) -> list[PageBreak]:
        """Every original page a reader can go to (it has a label), in reading order."""
        return [pb for pb in self.boundaries if pb.labelled]

    @property
    def boundaries(self) -> list[PageBreak]:
        """Every original page break, labelled or not, in reading order."""
        return [pb for ch in self.chapters for pb in ch.page_breaks]

    def facsimiles(self) -> dict[str, str]:
        """Map each original page's anchor to the web address of its scanned image, where the book gives one."""
        return {pb.anchor: url for pb in self.page_breaks if (url := pb.facsimile(self.meta.facsimile_url))}

    @property
    def outline(self) -> list[NavPoint]:
        """Chapters, then their documents, in order."""
        return [NavPoint(ch.title, ch.anchor, tuple(NavPoint(s.title, s.anchor) for s in ch.sections))
                for ch in self.chapters]

    def reading_order(self) -> dict[str, int]:
        """Rank every id in the book by its place in reading order (a note where it is referenced)."""
        order: dict[str, int] = {}
        for chapter in self.chapters:
            for el in chapter.walk():
                ident = el.get("id") if isinstance(el.tag, str) else None
                if ident and ident not in order:
                    order[ident] = len(order)
        return order

    def anchors(self) -> dict[str, int]:
        """Map every id in the book to the index of the chapter holding it."""
        found = {}
        for i, ch in enumerate(self.chapters):
            for el in ch.body.iter():
                if el.get("id"):
                    found[el.get("id")] = i
            for note in ch.notes.values():
                found[note.anchor] = i
                for block in note.blocks:
                    for el in block.iter():
                        if el.get("id"):
                            found[el.get("id")] = i
        return found
