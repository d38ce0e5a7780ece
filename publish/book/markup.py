"""The HTML contract between the reader and the writers: every class, attribute, id and citation form they share.

The reader (markdown/, and the TEI import writing its Markdown) marks the book with these names; the
writers (pdf/, epub/) and their stylesheets (styles/print.css, epub.css) find it by them. Each is
declared here once. The stylesheets cannot import them: tests/unit/test_markup.py checks that every
class they select is one of these.
"""
from __future__ import annotations

import re

# ---- Original pages ----
PAGEBREAK = "pagebreak"  # class of the empty span where an original page begins
BOUNDARY = "pageboundary"  # class of a page without a label: it bounds page ranges, no more
PAGE_LABEL = "data-label"  # the break's attribute holding the page's label as printed
HEADING_PAGE = "data-page"  # a heading's attribute ({page=588}): the original page it begins
SOURCE_PATH = "data-path"  # the manuscript file a break was written in, until the reader records it
SOURCE_LINE = "data-srcline"  # the source line of a break or a heading, for the reader's messages
SOURCE_COLUMN = "data-srccol"  # the source column of a break
FACSIMILE = "data-facs"  # the break's attribute naming its page's scanned image, until the reader records it
FACSIMILE_LINK = "facsimile"  # class of the link from a page's number or marker to its scanned image
PAGE_NUMBER = "pn"  # class of the margin number the PDF puts in each break
AT_START = "at-start"  # class of a PDF break that opens its block: no rule marks it

# ---- Notes ----
NOTEREF = "noteref"  # class of a note reference, a link to its note's anchor
NOTE_MARK = "note-mark"  # class of the span opening a note's text with the mark the print edition gave it
NOTES = "footnotes"  # class of a section of notes: pandoc's after a document, the EPUB's after each document
PANDOC_NOTE_REF = "footnote-ref"  # class of pandoc's link to a note
PANDOC_NOTE_BACK = "footnote-back"  # class of pandoc's link from a note back to its reference
FOOTNOTE = "footnote"  # class of a note set inline in the PDF, which WeasyPrint floats to the page's foot
FOOTNOTE_CALL = "footnote-call"  # the pseudo-element of a PDF note's number in the text
FOOTNOTE_MARKER = "footnote-marker"  # the pseudo-element of a PDF note's number at the note
NOTE_NUMBER = "data-n"  # a PDF note's number as its call prints it: "1", "*"
NOTE_MARKER = "data-marker"  # a PDF note's number as the note opens with it: "1. ", "* "
PIECE = "piece"  # class of each piece of a PDF note too tall for one page's foot
CONTINUED = "continued"  # class of a piece after a note's first, and of a chapter's EPUB files after its first
RESUMED = "resumed"  # class of a piece that begins a page's foot: it says the note is continued
PIECE_OF = "data-of"  # a piece's attribute naming its note's anchor
PIECE_INDEX = "data-piece"  # a piece's attribute counting it within its note, from 0
NOTE_BLOCK = "fn-"  # a PDF note's blocks become spans classed fn-p, fn-table, ...: the prefix
NEW_PARAGRAPH = "fn-new"  # class of a piece that opens a paragraph of its note after the first
# A PDF note's block elements become spans (an HTML parser would close the paragraph around them).
NOTE_BLOCKS = {"p", "div", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "pre", "h1", "h2", "h3",
               "h4", "h5", "h6", "table", "thead", "tbody", "tr", "td", "th", "hr", "figure", "section"}

# ---- Chapters and documents ----
CHAPTER = "chapter"  # class of a chapter's section, and of the EPUB's files continuing it
FRONT = "front"  # class added to a front-matter chapter's section
DOCUMENT = "document"  # class of a numbered document's heading ("## 270. Editorial Note")
DOCUMENT_NUMBER = "data-number"  # a document heading's attribute holding its number
CHAPTER_PART = "chapter-part"  # class of a PDF part holding a chapter: names its pages
FRONT_PART = "front-part"  # class of a PDF part holding a front-matter chapter
RUNNING_HEAD = "data-head"  # a PDF part's attribute holding the verso's running head
RUNNING_TITLE = "data-title"  # a PDF chapter heading's attribute holding the recto's running head
WITH_NEXT = "with-next"  # class of a PDF block kept on the page of the block after it: a heading's head
CITATION = "citation"  # class of the line under a document's heading that cites it (book/citation.py)

# ---- Prelims ----
HALF_TITLE = "halftitle"  # class of the PDF's half-title page
TITLE_PAGE = "titlepage"  # class of the title page
EDITION = "edition"  # class of the page naming the print edition
CONTENTS = "contents"  # class of the PDF's table of contents
CONTENTS_FOLIO = "data-page"  # a PDF contents entry's attribute holding its chapter's folio
IMPRINT = "imprint"  # class of the edition page's line naming this edition; the TEI's docImprint
# The title page's lines in order, each a paragraph of this class; the half title has the first four.
TITLE_LINES = ("series", "subseries", "volume", "volume-title", "editors", "general-editor", "publisher",
               "place-year")
HALF_TITLE_LINES = TITLE_LINES[:4]

# ---- Tables ----
WIDE = "wide"  # class of a PDF table too wide for the text block: set in smaller type
LANDSCAPE = "landscape"  # class of a PDF table too wide even so: turned on a page of its own
CROWDED = "crowded"  # class of a PDF table too wide turned: its words broken anywhere
PROBE = "data-probe"  # the attribute telling each trial copy of a PDF table apart
# A turned PDF table floats: the text after it fills the page before (publish/pdf/floats.py).
FLOATED = "data-floated"  # a turned table's attribute, and its caption's: the table's number in its part
TRAILS = "data-trails"  # a block after a turned table that may move before it: "table block", numbers
FLOAT_AT = "data-float-at"  # a top-level block that moved, or that text moved before: its place in the chapter
NO_CUT = "data-no-cut"  # a top-level block whose page a moved text shifted: no piece of the chapter begins there
TABLE_BOX = "table"  # class of the EPUB's box that scrolls a table too wide for a phone
# A cell's role as the TEI gives it, as a class: figures right-aligned, a brace as tall as its rows.
CELL_CLASSES = {"num": "num", "brace": "brace"}
# Table spans as HTML caps them; WeasyPrint does not, and lays out every spanned column.
MAX_SPAN = 1000

# ---- What the TEI import writes ----
GAP = "gap"  # class of the empty span where the TEI marks text left out
# The TEI's blocks written as fenced divs, each of a class (TEI element -> class).
BLOCK_CLASSES = {"dateline": "dateline", "opener": "opener", "closer": "closer", "postscript": "postscript",
                 "salute": "salute", "attachment": "attachment", "docImprint": IMPRINT, "byline": "byline",
                 "signed": "signature", "epigraph": "epigraph", "argument": "argument", "trailer": "trailer",
                 "ab": "ab", "docAuthor": "byline", "listBibl": "bibliography", "bibl": "bibl"}
ALIGNMENTS = {"center", "right", "flushleft", "left", "flushright", "indent"}  # the TEI's rend, as a class

# ---- What a manuscript may not set ----
# The classes and data- attributes the build gives its own markup (page breaks and their numbers,
# notes and their pieces, chapters, tables it sets smaller or turns) and pandoc gives its notes: the
# manuscript may not set them, in raw HTML or in pandoc's {.class key=value}, or it could pass for a
# page break or a note the build never made. {key=value} is data-key in HTML.
RESERVED_CLASSES = "|".join((PAGEBREAK, BOUNDARY, NOTEREF, FOOTNOTE, NOTES, PANDOC_NOTE_REF, PANDOC_NOTE_BACK,
                             PAGE_NUMBER, AT_START, PIECE, CONTINUED, RESUMED, NOTE_BLOCK + r"[\w-]+", CHAPTER,
                             FRONT, WIDE, LANDSCAPE, CROWDED, WITH_NEXT, CITATION, FACSIMILE_LINK))
RESERVED_CLASS = re.compile(RESERVED_CLASSES, re.I)


def pandoc_key(attribute: str) -> str:
    """Return a data- attribute as pandoc's {key=value} spells it: label for data-label."""
    return attribute.removeprefix("data-")


RESERVED_DATA = "|".join(pandoc_key(a) for a in (PAGE_LABEL, SOURCE_LINE, SOURCE_COLUMN, SOURCE_PATH, FACSIMILE,
                                                 NOTE_NUMBER, NOTE_MARKER, PIECE_OF, PIECE_INDEX, PROBE,
                                                 DOCUMENT_NUMBER, RUNNING_HEAD, FLOATED, TRAILS, FLOAT_AT, NO_CUT))

# ---- Ids ----
# The ids the build gives page breaks (page-588, page-unnumbered-I) and notes (d270-fn1, d270-fn1ref):
# a manuscript may not set them, and a heading's slug never is one.
GENERATED_ID = re.compile(r"page-(?:unnumbered-(?:[0-9A-Za-z]+(?:-[0-9A-Za-z]+)*)?|[0-9A-Za-z]+)|.+-fn\d+(?:ref)?")


def page_id(label: str) -> str:
    """Return the id of an original page's break, shared by the PDF's destination and the EPUB's marker."""
    if label.startswith("["):
        return f"page-unnumbered-{label.strip('[]').replace(' ', '-')}"
    return f"page-{label}"


def note_id(document: str, number: int) -> str:
    """Return the id of a document's number-th note: d270-fn1."""
    return f"{document}-fn{number}"


def ref_id(note: str) -> str:
    """Return the id of a note's reference, where a reader goes back to from the note: d270-fn1ref."""
    return f"{note}ref"


# ---- Citations ----
def cite_pages(first: str, last: str | None = None) -> str:
    """Return how a reader cites an original page or a run of them: "p. 4", "pp. 4–5"."""
    return f"p. {first}" if last is None or last == first else f"pp. {first}–{last}"
