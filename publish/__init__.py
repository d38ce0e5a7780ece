"""Typeset FRUS manuscripts as a PDF with original page numbers in the margin and a matching EPUB."""

__version__ = "0.2.0"
