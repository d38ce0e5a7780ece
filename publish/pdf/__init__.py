"""The PDF writer: the book laid out by WeasyPrint in parts, with original page numbers in the margin, then joined."""
from .writer import write_pdf

__all__ = ["write_pdf"]
