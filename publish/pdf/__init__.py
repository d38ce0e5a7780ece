"""The PDF writer: the book laid out by WeasyPrint in parts, with original page numbers in the margin, then joined."""
from ..system.libraries import loaded_by_name

with loaded_by_name():  # WeasyPrint's libraries, loaded as it imports
    from .writer import write_pdf

__all__ = ["write_pdf"]
