"""The title page and the page naming the print edition, for both formats."""
from __future__ import annotations

from lxml.html import builder as E

from .config import Metadata
from .markup import IMPRINT, TITLE_LINES

HOW_SHOWN = {
    "pdf": ("The numbers in the outer margin are the page numbers of that edition. Each stands level "
            "with the line in which the printed page began, and a thin vertical rule in the line marks "
            "the exact point. The foot of every page names the original pages its text covers, so "
            "that any page of this edition can be cited by the pages of the print edition. To go to "
            "an original page, open “Original pages” among the viewer's bookmarks, or open this file "
            "at #page- and the number (#page-150); a viewer's page box goes to this edition's pages."),
    "epub": ("The page numbers of that edition are marked in the text where each printed page began, "
             "and this book's page list is that pagination: a reading system's “go to page” takes you "
             "to the original page, and the pages it shows are the ones to cite."),
}


def title_lines(meta: Metadata) -> list[tuple[str, str]]:
    """Return the title page as (role, text) lines, in order."""
    label = "Editors" if len(meta.editors) > 1 else "Editor"
    texts = (meta.series, meta.subseries, meta.volume, meta.volume_title,
             f"{label}: " + ", ".join(meta.editors) if meta.editors else "",
             f"General Editor: {meta.general_editor}" if meta.general_editor else "",
             meta.publisher, ", ".join(p for p in (meta.place, meta.year) if p))
    return [(role, text) for role, text in zip(TITLE_LINES, texts, strict=True) if text]


def edition_notice(book, fmt: str) -> list:
    """Return the paragraphs of the page naming the print edition, as HTML elements."""
    meta = book.meta
    paragraphs = [E.H1("About this edition")]
    if book.page_breaks or meta.print_edition:  # a book of its own has no print edition to speak of
        paragraphs += [E.P(f"This edition reproduces the text of {meta.source_edition}."), E.P(HOW_SHOWN[fmt])]
    # Only what book.yaml says: no rights or identifier is assumed for a book that gives none.
    if meta.rights:
        paragraphs.append(E.P(meta.rights))
    # "Edition 1.2.0, built 2024-05-01.", or what of it is known: never an edition with no name.
    imprint = ", ".join(p for p in (f"Edition {meta.edition}" if meta.edition else "",
                                    f"built {book.date[:10]}" if book.date else "") if p)
    sentences = [imprint[:1].upper() + imprint[1:] + "." if imprint else "",
                 f"Identifier: {meta.identifier}" if meta.identifier else ""]
    if any(sentences):
        paragraphs.append(E.P(E.CLASS(IMPRINT), " ".join(s for s in sentences if s)))
    return paragraphs
