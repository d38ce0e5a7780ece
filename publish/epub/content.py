"""The EPUB's content documents: chapters split at documents, each document's notes after it."""
from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass

from lxml import etree
from lxml.html import builder as H

from ..book.markup import (
    CHAPTER,
    CONTINUED,
    FACSIMILE_LINK,
    NOTEREF,
    NOTES,
    PAGE_LABEL,
    PAGEBREAK,
    TABLE_BOX,
    cite_pages,
    ref_id,
)
from ..book.model import Book, Chapter, Division, Note, Section, every_division
from ..book.pages import PageBreak

# Reading systems and e-book converters advise content documents of at most about 300 KB: larger ones
# are slow to open (a 700 KB chapter takes seconds in epub.js) or are split by the converter at
# arbitrary points. A part is measured as serialized XML, as it is written (less the namespace
# declarations, made once per file); the budget leaves room for the file's head.
MAX_DOCUMENT_BYTES = 300_000
HEAD_ROOM = 2_000
# Blocks that hold text: a note's back-link goes into the first of them, never into a table or list.
TEXT_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
# A phone's column (320 CSS px less the body's margins, at 16 px to the em), and about how wide a letter
# of the text face and a cell's padding are, in ems: what a table needs at least, words whole.
PHONE_COLUMN_EM = 18
LETTER_EM = 0.5
CELL_PADDING_EM = 0.8


@dataclass
class ContentDocument:
    """One XHTML file of the spine: its name, title, the body's elements and its epub:type."""

    name: str
    title: str
    body: list
    body_type: str


def chapter_file(index: int, part: int = 1) -> str:
    """Return the file name of a chapter's first content document, or of its part-th one."""
    return f"chapter-{index + 1:03d}.xhtml" if part == 1 else f"chapter-{index + 1:03d}-{part}.xhtml"


def chapter_documents(book: Book) -> list[ContentDocument]:
    """Return every chapter's content documents, in reading order, with links between them resolved."""
    facsimiles = book.facsimiles()
    docs = [doc for index, chapter in enumerate(book.chapters) for doc in _split(chapter, index, facsimiles)]
    for doc in docs:
        _wide_tables(doc.body)
    where = locations(docs)
    for doc in docs:
        for link in (a for el in doc.body for a in el.xpath(".//a[starts-with(@href, '#')]")):
            target = link.get("href")[1:]
            if where.get(target, doc.name) != doc.name:
                link.set("href", f"{where[target]}#{target}")
    return docs


def locations(docs: list[ContentDocument]) -> dict[str, str]:
    """Map every id in the documents to the name of the file holding it."""
    return {ident: doc.name for doc in docs for el in doc.body for ident in el.xpath("descendant-or-self::*/@id")}


def _split(chapter: Chapter, index: int, facsimiles: dict[str, str]) -> list[ContentDocument]:
    """Cut a chapter into documents (its `## ` sections), each a section closed by its notes, and pack them into
    files."""
    body = copy.deepcopy(chapter.body)
    _mark_breaks(body, facsimiles)
    # The chapter's opening blocks, then each document a section of its own (a lower heading's nested in it): a
    # division runs to the next heading of its level or higher, so every block after the first is in one.
    opening, documents = [], []
    divisions = chapter.divisions(body)
    titles = Counter(_title(d) for d in every_division(divisions))
    for item in divisions:
        if isinstance(item, Division):
            documents.append((item.content[0].get("id"), _section(item, titles)))
        else:
            opening.append(item)
    for el in list(body):
        body.remove(el)
    sections = {s.anchor: s for s in chapter.sections}
    notes = _notes(opening, chapter, None, facsimiles)
    if notes is not None:
        opening.append(notes)
    for anchor, section in documents:
        notes = _notes([section], chapter, sections.get(anchor), facsimiles)
        if notes is not None:
            section.append(notes)  # a document's notes close its section
    # The chapter's heading and opening text stay with its first document: no file holds a title alone.
    parts = [[section] for _, section in documents] or [[]]
    parts[0][:0] = opening
    files: list[list] = [[]]
    size = 0
    for part in parts:
        part_size = sum(len(etree.tostring(el, encoding="utf-8")) for el in part)
        if files[-1] and size + part_size > MAX_DOCUMENT_BYTES - HEAD_ROOM:
            files.append([])
            size = 0
        files[-1].extend(part)
        size += part_size
    body.set("epub-type", "frontmatter" if chapter.front else "chapter")
    body.set("role", "doc-preface" if chapter.front else "doc-chapter")
    body.set("aria-labelledby", chapter.anchor)
    body_type = "frontmatter" if chapter.front else "bodymatter"
    docs = []
    for number, elements in enumerate(files, 1):
        # The chapter's section opens in its first file; the others continue it.
        holder = body if number == 1 else H.DIV(H.CLASS(f"{CHAPTER} {CONTINUED}"))
        holder.extend(elements)
        docs.append(ContentDocument(chapter_file(index, number), chapter.title, [holder], body_type))
    return docs


def _section(division: Division, titles: Counter):
    """Return a division as a section of the content document, named by its heading where the heading has an id
    and its title is the chapter's only one so worded."""
    section = H.SECTION()
    heading = division.content[0]
    # A named section is a landmark, and a reading system's list of them needs each name once (axe's
    # landmark-unique): a second "Enclosure" or "Editorial Note" is a section still, with no name.
    if heading.get("id") and titles[_title(division)] == 1:
        section.set("aria-labelledby", heading.get("id"))
    for item in division.content:
        section.append(_section(item, titles) if isinstance(item, Division) else item)
    return section


def _title(division: Division) -> str:
    """Return a division's heading as read aloud."""
    return " ".join(division.content[0].text_content().split())


def _wide_tables(body) -> None:
    """Put each table too wide for a phone in a box that scrolls sideways: no table widens the page.

    Any other table stays in the flow: a box that scrolls cannot break across pages or columns, so in a
    paginated reading system the rows beyond its first page could never be reached.
    """
    named = set()
    tables = [t for el in body for t in el.xpath("descendant-or-self::table[not(ancestor::table)]")]
    for number, table in enumerate(tables, 1):
        if _narrowest(table) <= PHONE_COLUMN_EM:
            continue
        caption = table.find("caption")
        box = H.DIV(H.CLASS(TABLE_BOX), tabindex="0", role="region")  # the keyboard scrolls what it can focus
        # Each region is a landmark: landmarks of one page need names of their own (WCAG, axe's landmark-unique).
        name = " ".join(caption.text_content().split()) if caption is not None else ""
        name = name if name and name not in named else f"Table {number}" + (f": {name}" if name else "")
        named.add(name)
        box.set("aria-label", name)
        box.tail, table.tail = table.tail, None
        table.addprevious(box)
        box.append(table)


def _narrowest(table) -> float:
    """Return about how narrow a table can be set, in ems: its widest row of cells each as wide as its longest word."""
    def cell(td) -> float:
        return max((len(word) for word in td.text_content().split()), default=0) * LETTER_EM + CELL_PADDING_EM
    return max((sum(cell(td) for td in tr.xpath("td|th")) for tr in table.iter("tr")), default=0)


def _mark_breaks(body, facsimiles: dict[str, str]) -> None:
    """Turn the model's page-break spans into EPUB page-break markers, each linked to its page's scan if it has one."""
    for span in body.xpath(f".//span[@class='{PAGEBREAK}']"):
        span.set("epub-type", "pagebreak")
        span.set("role", "doc-pagebreak")
        # Named as in the page list; the stylesheet shows the name in brackets, as pages are cited. The
        # title is where EPUB 3.0 put a page break's number, and where reading systems of its time look.
        name = PageBreak(span.attrib.pop(PAGE_LABEL)).name
        span.set("aria-label", name)
        span.set("title", name)
        if facsimiles.get(span.get("id")) and not span.xpath("ancestor::a"):
            _link_break(span, facsimiles[span.get("id")])


def _link_break(span, url: str) -> None:
    """Make a page-break marker the content of a link to its page's scanned image.

    The marker keeps its id, type and role, so the page list and a reading system's "go to page" still find
    it; the link is named for assistive technology, whose own name for the marker stays the page's.
    """
    link = H.A(H.CLASS(FACSIMILE_LINK), href=url)
    link.set("aria-label", f"Scanned image of page {span.get('aria-label')}")
    span.addprevious(link)
    link.tail, span.tail = span.tail, None
    link.append(span)


def _notes(part: list, chapter: Chapter, section: Section | None, facsimiles: dict[str, str]):
    """Turn the part's note references into EPUB noterefs; return its notes as a section, or None."""
    asides, said = [], Counter()
    for ref in (r for el in part for r in el.xpath(f"descendant-or-self::a[@class='{NOTEREF}']")):
        ref.set("epub-type", "noteref")
        ref.set("role", "doc-noteref")
        sup = H.SUP()
        ref.getparent().replace(ref, sup)
        sup.tail, ref.tail = ref.tail, None
        sup.append(ref)
        note = chapter.notes[ref.get("href")[1:]]
        back = _back(note, section)
        said[back] += 1
        # A mark the document repeats on one page (or where pages are unknown) is told apart by its count.
        aside = _aside(note, back if said[back] == 1 else f"{back} ({said[back]})")
        _mark_breaks(aside, facsimiles)
        asides.append(aside)
    if not asides:
        return None
    notes = H.SECTION(H.CLASS(NOTES), *asides)
    notes.set("epub-type", "footnotes")
    title = section.title if section else chapter.title
    notes.set("aria-label", f"Notes to {title}")  # each a landmark of its own, named apart
    return notes


def _back(note: Note, section: Section | None) -> str:
    """Say where a note's reference stands, as a reader cites it: "p. 312, note 1"."""
    if note.page:
        return f"{cite_pages(note.page)}, note {note.number}"
    if section and section.number:
        return f"document {section.number}, note {note.number}"
    return f"note {note.number}"


def _aside(note: Note, back_to: str):
    """Return a note as an EPUB footnote, opening with a link back to its reference that says where that is."""
    aside = H.ASIDE(id=note.anchor)
    aside.set("epub-type", "footnote")
    aside.set("role", "doc-footnote")
    blocks = [copy.deepcopy(b) for b in note.blocks]
    if not blocks or blocks[0].tag not in TEXT_BLOCKS:
        blocks.insert(0, H.P())  # a note opening with a table or list: its number goes on a line of its own
    back = H.A(f"\u21a9\ufe0e {back_to}", href=f"#{ref_id(note.anchor)}")
    back.set("role", "doc-backlink")
    back.tail = " " + (blocks[0].text or "")
    blocks[0].text = None
    blocks[0].insert(0, back)
    aside.extend(blocks)
    return aside
