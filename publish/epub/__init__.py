"""The EPUB writer: the book as EPUB 3 with the same contents, original-page list and anchors as the PDF."""
from .writer import write_epub

__all__ = ["write_epub"]
