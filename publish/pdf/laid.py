"""What a process hands back for a part: its drawn pages, for the join (join.py) and the cache (writer.py)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Laid:
    """One part, laid out and drawn."""

    pdfs: tuple[bytes, ...]  # its pages: one PDF, or one per piece of a chapter (pieces.py), joined with the book
    pages: int
    kept: tuple[str, ...] = ()  # the cache entries ("kind/key") it was made from, kept while it is
