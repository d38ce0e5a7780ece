"""The original page-break model: markers as the Office of the Historian prints them, parsed once."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import Places
from .markup import page_id

# `[Page 588]`, `[Page XII]`, `[Page [I]]`, `[Page [Map 1]]`: exactly as history.state.gov prints them;
# `[Page []]` is a page the print edition gave no label at all.
LABEL = r"\[(?:[0-9A-Za-z]+(?: [0-9A-Za-z]+)*)?\]|[0-9]+|[IVXLCDMivxlcdm]+"
UNLABELLED = "[]"
# Brackets followed by "(" or "{" are a link's or a span's text, whatever they say: never a marker; but
# `[Page 588]{facs=0616}` is a marker naming its page's scanned image (check.py judges the value).
MARKER = re.compile(rf"\[Page (?P<label>{LABEL})\](?:\{{facs=(?P<facs>[^{{}}\n]*)\}}|(?![({{]))")
# A scanned image's name as a URL's path segment takes it, no more: nothing a URL or a path would read.
FACS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
FACS_SLOT = "{facs}"
# Things that look like a marker but are not one: another spelling of "Page", a stray space or
# letter in the number, a missing bracket. "[P]resident" and "[pm]" are not markers.
NEAR_MARKER = re.compile(r"\[\s*(?:page|pg|p)(?:\.\s*|\s+|(?=\d))\[?(?:\d|[IVXLCDM]+(?![a-z]))[^\]\n]{0,12}\]?"
                         r"|\[(?-i:Page)\b[^\]\n]{0,12}", re.IGNORECASE)
ROMAN = re.compile(r"^M{0,4}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")


@dataclass(frozen=True)
class PageBreak:
    """The point where an original printed page begins."""

    label: str  # as printed: "588", "XII", "[I]"
    path: str = ""  # the manuscript file it was written in
    line: int = 0
    column: int = 0
    facs: str = ""  # the name of the page's scanned image (the TEI's facs): "0616"

    def facsimile(self, template: str) -> str:
        """Return the web address of the page's scanned image by book.yaml's facsimile_url ('' if none)."""
        if not (template and self.facs and self.labelled and FACS.fullmatch(self.facs)):
            return ""
        return template.replace(FACS_SLOT, self.facs)

    @property
    def anchor(self) -> str:
        """The id shared by the PDF named destination and the EPUB marker."""
        return page_id(self.label)

    @property
    def name(self) -> str:
        """The page's name in the page list, the PDF's outline and the EPUB's marker: "4" for "[4]"."""
        # Without the editor's brackets, so that a reading system's "go to page 4" finds it (epub.js reads a number).
        return self.label[1:-1] if self.kind == "unnumbered" else self.label

    @property
    def labelled(self) -> bool:
        """False for a page with no printed label: a page boundary, but no page a reader can go to."""
        return self.label != UNLABELLED

    @property
    def kind(self) -> str:
        """'arabic', 'roman' or 'unnumbered': each sequence is checked in its own right."""
        if self.label.startswith("["):
            return "unnumbered"
        return "arabic" if self.label.isdigit() else "roman"

    @property
    def sequence(self) -> str:
        """'arabic' or 'roman': the run of page numbers the label belongs to, printed or not ([4] is arabic)."""
        return "arabic" if self.label.strip("[]").isdigit() else "roman"

    @property
    def number(self) -> int | None:
        """The label's numeric value, for order checks; None when it has none."""
        text = self.label.strip("[]")
        if text.isdigit():
            return int(text)
        return roman_value(text)


def roman(number: int) -> str:
    """Return a positive number in roman numerals."""
    out = []
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


def roman_value(text: str) -> int | None:
    """Return the value of a roman numeral, or None if it is not one."""
    upper = text.upper()
    if not upper or not ROMAN.match(upper):
        return None
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for here, after in zip(upper, upper[1:] + " "):
        value = values[here]
        total += -value if after != " " and values[after] > value else value
    return total


def is_label(text: str) -> bool:
    """Tell whether text is a page label as printed: arabic, a true roman numeral, or bracketed."""
    if not re.fullmatch(LABEL, text):
        return False
    return text.startswith("[") or text.isdigit() or roman_value(text) is not None


def find_markers(text: str, path: str = "") -> list[tuple[re.Match, PageBreak]]:
    """Return every page marker in a Markdown text, with its place."""
    places = Places(text)
    return [(match, PageBreak(match["label"], path, *places.at(match.start()), facs=match["facs"] or ""))
            for match in MARKER.finditer(text)]


def gaps(breaks) -> list[tuple[PageBreak, PageBreak]]:
    """Return each pair of pages of one run (arabic, roman) between which numbers are missing.

    A page with no label between them may stand for one missing number; a repeated label or one
    that is not a label is passed over (check.py reports it).
    """
    found, last, seen, unlabelled = [], {}, set(), 0
    for pb in breaks:
        if not pb.labelled:
            unlabelled += 1
            continue
        if pb.label in seen or not is_label(pb.label):
            continue
        seen.add(pb.label)
        before = last.get(pb.sequence)
        if before is not None and None not in (pb.number, before.number) \
                and pb.number - before.number - 1 > unlabelled:
            found.append((before, pb))
        last[pb.sequence] = pb
        unlabelled = 0
    return found


def gap_name(before: PageBreak, after: PageBreak) -> str:
    """Return how book.yaml's page_gaps names a gap: the pages on either side, '4–8'."""
    return f"{before.label}–{after.label}"
