"""Whole numbers read from input: ASCII digits only, parsed once, within bounds."""
from __future__ import annotations

import re

# No printed volume has a page numbered a million: a page number beyond is a slip or an attack.
MAX_PAGE = 999_999


def whole(text: str | None, maximum: int) -> int | None:
    """Return text as a whole number from 0 to maximum, written in ASCII digits; else None.

    Spaces and tabs around the digits are allowed; a sign, a decimal point, superscript or other
    Unicode digits (which str.isdigit() accepts and int() reads or refuses) are not. The digits are
    counted before they are converted, so no input costs more than the bound's length.
    """
    if text is None:
        return None
    digits = text.strip(" \t\r\n")
    if not re.fullmatch(r"[0-9]+", digits) or len(digits.lstrip("0")) > len(str(maximum)):
        return None
    number = int(digits.lstrip("0") or "0")
    return number if number <= maximum else None
