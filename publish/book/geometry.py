"""Page geometry from book.yaml, measured: a page must hold lines of text, in a type size that can be read."""
from __future__ import annotations

import re

# CSS units in points; em and rem are the body type size.
UNITS = {"in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "q": 72 / 101.6, "pt": 1.0, "pc": 12.0, "px": 0.75}
# CSS Paged Media's page sizes (width, height in points) that WeasyPrint knows.
SIZES = {"a5": (419.53, 595.28), "a4": (595.28, 841.89), "a3": (841.89, 1190.55), "b5": (498.9, 708.66),
         "b4": (708.66, 1000.63), "jis-b5": (515.91, 728.5), "jis-b4": (728.5, 1031.81),
         "letter": (612.0, 792.0), "legal": (612.0, 1008.0), "ledger": (792.0, 1224.0)}
FONT_KEYWORDS = {"xx-small": 7.0, "x-small": 7.5, "small": 10.0, "medium": 12.0, "large": 13.5, "x-large": 18.0,
                 "xx-large": 24.0}
LENGTH = re.compile(r"([0-9]*\.?[0-9]+)([a-z]*)", re.I)
# What a page must hold: a line of about two dozen characters, three lines of text, readable type.
MIN_MEASURE_EMS = 12
MIN_LINES = 3
LINE_HEIGHT = 1.4
FONT_RANGE = (4.0, 72.0)
MAX_SIDE = 100 * 72.0  # a 100-inch page: more is no book, and WeasyPrint would draw it all


def geometry_problem(page_size: str, margins: str, font_size: str) -> str:
    """Return why the page cannot hold text ('' when it can): margins wider than the page, unreadable type."""
    font = _font(font_size)
    if font is None or not FONT_RANGE[0] <= font <= FONT_RANGE[1]:
        return f"font_size '{font_size}' must be between {FONT_RANGE[0]:g}pt and {FONT_RANGE[1]:g}pt"
    size = _size(page_size, font)
    if size is None:
        return f"page_size '{page_size}' is not a page size (two lengths such as '6in 9in', or A4, letter …)"
    width, height = size
    if max(width, height) > MAX_SIDE:
        return f"page_size '{page_size}' is larger than {MAX_SIDE / 72:g} inches"
    sides = [_length(v, font) for v in margins.split()]
    if not 1 <= len(sides) <= 4 or any(s is None for s in sides):
        return f"margins '{margins}' must be one to four lengths such as '0.75in'"
    # As CSS reads one to four values: a missing bottom is the top, a missing inner the outer.
    top = sides[0]
    outer = sides[1] if len(sides) > 1 else top
    bottom = sides[2] if len(sides) > 2 else top
    inner = sides[3] if len(sides) > 3 else outer
    measure, depth = width - outer - inner, height - top - bottom
    if measure < MIN_MEASURE_EMS * font or depth < MIN_LINES * LINE_HEIGHT * font:
        return (f"margins '{margins}' leave {max(measure, 0) / 72:.2f} × {max(depth, 0) / 72:.2f} in of a "
                f"{width / 72:.2f} × {height / 72:.2f} in page for text: too little for {MIN_LINES} lines of "
                f"{MIN_MEASURE_EMS} ems")
    return ""


def _length(value: str, font: float) -> float | None:
    """Return a CSS length in points, or None; 'auto' and 0 are no margin."""
    if value.lower() == "auto":
        return 0.0
    m = LENGTH.fullmatch(value)
    if not m:
        return None
    number, unit = float(m[1]), m[2].lower()
    if unit in ("em", "rem"):
        return number * font
    if not unit:
        return 0.0 if number == 0 else None
    return number * UNITS[unit] if unit in UNITS else None


def _font(value: str) -> float | None:
    if value.lower() in FONT_KEYWORDS:
        return FONT_KEYWORDS[value.lower()]
    return _length(value, 12.0)


def _size(value: str, font: float) -> tuple[float, float] | None:
    words = value.lower().split()
    landscape = "landscape" in words
    words = [w for w in words if w not in ("landscape", "portrait")]
    if len(words) == 1 and words[0] in SIZES:
        width, height = SIZES[words[0]]
    elif 1 <= len(words) <= 2 and all((lengths := [_length(w, font) for w in words])):
        width, height = lengths[0], lengths[-1]
    else:
        return None
    return (height, width) if landscape else (width, height)


def measure(page_size: str, margins: str, font_size: str) -> float:
    """Return the width of the text block in points, of a page geometry_problem accepts."""
    font = _font(font_size) or 12.0
    sides = [_length(v, font) or 0.0 for v in margins.split()]
    outer = sides[1] if len(sides) > 1 else sides[0]
    inner = sides[3] if len(sides) > 3 else outer
    return _size(page_size, font)[0] - outer - inner


def measure_ems(page_size: str, margins: str, font_size: str) -> float:
    """Return the width of the text block in ems of the body type."""
    return measure(page_size, margins, font_size) / (_font(font_size) or 12.0)


def turned(page_size: str, font_size: str) -> str:
    """Return the page size turned a quarter, as CSS: a landscape page for a table too wide for the text block."""
    width, height = _size(page_size, _font(font_size) or 12.0)
    return f"{height:g}pt {width:g}pt"
