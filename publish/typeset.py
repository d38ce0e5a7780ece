"""One process's share of the PDF: lay a part out with WeasyPrint, then draw it once its place is known."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.formatting_structure.boxes import FootnoteAreaBox
from weasyprint.text.fonts import FontConfiguration

from .fetch import MANUSCRIPT_URL, RefusedURL, SafeFetcher, refused
from .layout import arrange_pages
from .pages import roman

STYLESHEET = "print.css"
# Gap between the text block and a margin number, in CSS px (WeasyPrint's unit: 1/96 in).
MARGIN_GAP = 9
# WeasyPrint logs each page it lays out: the progress display follows a long chapter page by page.
_PAGE_LOGGED = re.compile(r"Creating layout - Page (\d+)")
_PROGRESS = logging.getLogger("weasyprint.progress")
_PROGRESS.setLevel(logging.INFO)
_PROGRESS.propagate = False  # its messages are for the display, never for the console


@dataclass
class Laid:
    """One part, laid out and drawn."""

    pdf: bytes
    pages: int
    kept: tuple[str, ...] = ()  # the cache entries ("kind/key") it was made from, kept while it is


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
        self.fonts = FontConfiguration()
        self.fetcher = SafeFetcher([folder, styles], manuscript=folder)
        self.counter = _PageCounter(on_page)
        try:
            self.sheets = [CSS(filename=str(styles / STYLESHEET), font_config=self.fonts, url_fetcher=self.fetcher),
                           CSS(string=page_style, font_config=self.fonts)]
        except RefusedURL as exc:
            raise refused(exc) from None

    def layout(self, html: str):
        _PROGRESS.addHandler(self.counter)
        try:
            return HTML(string=html, base_url=MANUSCRIPT_URL, url_fetcher=self.fetcher).render(
                stylesheets=self.sheets, font_config=self.fonts)
        except RefusedURL as exc:
            raise refused(exc) from None
        finally:
            _PROGRESS.removeHandler(self.counter)

    def draw(self, document, carried: str | None, first_folio: int, lower_roman: bool) -> Laid:
        arrange_pages(document, MARGIN_GAP, carried,
                      lambda i: roman(first_folio + i).lower() if lower_roman else str(first_folio + i))
        return Laid(document.write_pdf(), len(document.pages))


def lost_notes(document, anchors: set[str]) -> set[str]:
    """Return the footnotes that are on no page, or run past the foot of theirs."""
    # WeasyPrint cannot split a footnote across pages and silently drops one taller than a page.
    placed = set()
    for page in document.pages:
        box = page._page_box
        bottom = box.content_box_y() + box.height
        for area in box.children:
            if isinstance(area, FootnoteAreaBox):
                fits = area.position_y + area.margin_height() <= bottom + 1
                placed |= {c.element.get("id") for c in area.children if fits and c.element is not None}
    return anchors - placed
