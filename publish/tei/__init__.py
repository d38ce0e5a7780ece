"""The importer: a FRUS volume in TEI XML made into a manuscript folder."""
from .importer import import_tei

__all__ = ["import_tei"]
