"""One process's share of the PDF: lay a part out with WeasyPrint, then draw it once its place is known."""
from __future__ import annotations

import contextlib
import functools
import gc
import logging
import re
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from ..book.markup import FOOTNOTE, PIECE_INDEX, PIECE_OF
from ..book.pages import roman
from .fetch import MANUSCRIPT_URL, RefusedURL, SafeFetcher, refused
from .floats import lay_out_floated
from .html import cut_notes, mark_resumed, turn_heads
from .laid import Laid
from .layout import arrange_pages
from .tables import fit_tables
from .tagging import build_box_tree, mark_furniture, marked, settle
from .weasy import apply, boxes, footnote_areas, page_box

STYLESHEET = "print.css"
# Layouts of a part with notes cut into pieces, to mark each piece that begins a page's foot as continued:
# the mark lengthens that foot by a word, which seldom moves a piece again.
MARKINGS = 3
# Where a part's trials (Typesetter.layout) keep which of its tables were too wide as they come.
_KNOWN = object()
# Gap between the text block and a margin number, in CSS px (WeasyPrint's unit: 1/96 in).
MARGIN_GAP = 9
# WeasyPrint logs each page it lays out: the progress display follows a long chapter page by page.
_PAGE_LOGGED = re.compile(r"Creating layout - Page (\d+)")
PROGRESS = logging.getLogger("weasyprint.progress")
PROGRESS.setLevel(logging.INFO)
PROGRESS.propagate = False  # its messages are for the display, never for the console
# Each part is tagged, with an sRGB output intent and printable links; the joined book is declared
# PDF/A-2u and PDF/UA-1 (join.py).
PDF_VARIANT = "pdf/a-2a"
# Objects made before the collector looks for cycles among the youngest, while WeasyPrint lays out and a part
# is drawn (Python's 700 by default): each tenth of its looks at the older makes a full pass over every object
# the process holds, the part's pages among them, which was a tenth of a cold build's CPU. It frees the cycles
# a part leaves (WeasyPrint's styles) less often: some 25 MB more at the peak of one process laying out
# FRUS 1894. The whole of a drawing counts, its margin numbers placed too: the first full pass after a long
# chapter's layout came there, before its pieces were drawn (0.7 s of FRUS 1894's 8 s of drawing).
YOUNG_OBJECTS = 10_000


@contextlib.contextmanager
def collected_seldom():
    """Let the garbage collector look for cycles less often for a while (YOUNG_OBJECTS)."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], YOUNG_OBJECTS), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


class _PageCounter(logging.Handler):
    """Pass the number of each page WeasyPrint lays out to a callback."""

    def __init__(self, callback):
        super().__init__(logging.INFO)
        self.callback = callback

    def emit(self, record):
        found = _PAGE_LOGGED.search(record.getMessage())
        if found:
            self.callback(int(found[1]))


class Typesetter:
    """Lay out and draw parts; one per process."""

    def __init__(self, styles: Path, folder: Path, page_style: str, on_page=lambda number: None):
        apply(marked, build_box_tree)  # in this process: WeasyPrint's layout fixes, and tagging learns furniture
        self.fonts = FontConfiguration()
        self.fetcher = SafeFetcher([folder, styles], manuscript=folder)
        self.counter = _PageCounter(on_page)
        try:
            self.sheets = [CSS(filename=str(styles / STYLESHEET), font_config=self.fonts, url_fetcher=self.fetcher),
                           CSS(string=page_style, font_config=self.fonts)]
        except RefusedURL as exc:
            raise refused(exc) from None

    def layout(self, html: str, trials: dict | None = None):
        """Lay out a part, its tables fitted to the text block, the text after a turned one filling the page before.

        trials keeps the trial layouts of tables by their HTML, and which tables were too wide as they come:
        the same part laid out again with its notes cut or marked has the same tables, which need not be laid
        out again.
        """
        render = self._lay_out if trials is None else functools.partial(self._trial, trials)
        known = None if trials is None else trials.setdefault(_KNOWN, {})
        return fit_tables(html, render, self._lay_out_part, known)

    def _lay_out_part(self, html: str):
        """Lay out a part whose tables are fitted, the text after a turned one filling the page before."""
        return lay_out_floated(turn_heads(html), functools.partial(self._lay_out, counted=True))

    def _trial(self, trials: dict, html: str):
        if html not in trials:
            trials[html] = self._lay_out(html)
        return trials[html]

    def _lay_out(self, html: str, counted: bool = False):
        """Lay out a document; counted: report its pages (a trial of tables is not the part's)."""
        if counted:
            PROGRESS.addHandler(self.counter)
        try:
            with collected_seldom():
                return HTML(string=html, base_url=MANUSCRIPT_URL, url_fetcher=self.fetcher).render(
                    stylesheets=self.sheets, font_config=self.fonts)
        except RefusedURL as exc:
            raise refused(exc) from None
        finally:
            PROGRESS.removeHandler(self.counter)

    def draw(self, document, carried: str | None, first_folio: int, lower_roman: bool) -> Laid:
        with collected_seldom():
            arrange_pages(document, MARGIN_GAP, carried,
                          lambda i: roman(first_folio + i).lower() if lower_roman else str(first_folio + i))
            try:
                return Laid((write(document),), len(document.pages))
            except RefusedURL as exc:  # what WeasyPrint fetches only as it writes (an attachment)
                raise refused(exc) from None


def write(document) -> bytes:
    """Return laid-out pages, their furniture marked as such, as a tagged PDF/A part."""
    mark_furniture(document)
    # No file identifier: pydyf makes one by compressing every stream a second time, for an MD5 the
    # join never keeps (the book's own is made when it is saved, join.py). A sixth of drawing a part.
    with collected_seldom():
        return settle(document.write_pdf(pdf_variant=PDF_VARIANT, pdf_identifier=False))


def lay_out(setter: Typesetter, html: str, notes: set[str], document=None, trials: dict | None = None):
    """Lay a part out, each note at the foot of its call's page, those too tall for one page run on.

    document: the part laid out already as it comes (setter.layout(html, trials)), so it is not laid out
    twice; trials: the trial layouts of its tables made then (Typesetter.layout).
    """
    trials = {} if trials is None else trials
    if document is None:
        document = setter.layout(html, trials)
    lost = lost_notes(document, notes)
    if not lost:
        return document
    html = cut_notes(html, lost)
    document, marked = setter.layout(html, trials), set()
    for _ in range(MARKINGS):
        resumed = _resumed(document)
        if resumed == marked:
            break
        marked = resumed
        document = setter.layout(mark_resumed(html, marked), trials)
    return document


def _resumed(document) -> set[tuple[str, str]]:
    """Return the pieces of notes that begin a page's foot, as (note anchor, piece) pairs."""
    found = set()
    for page in document.pages:
        for area in footnote_areas(page):
            first = next((b.element for b in area.descendants() if b.element is not None
                          and FOOTNOTE in (b.element.get("class") or "").split()), None)
            if first is not None and first.get(PIECE_INDEX) not in (None, "0"):
                found.add((first.get(PIECE_OF), first.get(PIECE_INDEX)))
    return found


def lost_notes(document, anchors: set[str]) -> set[str]:
    """Return the footnotes that are on no page, or run past the foot of theirs."""
    # WeasyPrint cannot split a footnote across pages and silently drops one taller than a page.
    placed = set()
    for page in document.pages:
        box = page_box(page)
        bottom = box.content_box_y() + box.height
        for area in box.children:
            if isinstance(area, boxes.FootnoteAreaBox):
                # The area's height is bounded (print.css): a note taller than it runs out of it.
                placed |= {c.element.get("id") for c in area.children if c.element is not None
                           and c.position_y + c.margin_height() <= bottom + 1}
    return anchors - placed
