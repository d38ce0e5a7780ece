"""The PDF writer's share of a manuscript's cache: laid-out parts, chapters' pieces and plans, page counts.

One object opens every store the PDF writer uses, computes once the hash of what shapes a part's pages
(every key begins with it), checks each entry as it is read back, records what a build used and, at
the end, prunes the rest. A part drawn from pieces (pieces.py) names the entries it was made of in its
own description, so that they are kept while it is, whichever process drew it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import weasyprint

from .. import __version__
from ..book.model import Book
from ..system.cache import Store, digest
from .join import part_problem
from .laid import Laid

# The code that turns a part's HTML into its pages: its hash is in every laid-out part's key.
_SHAPING = sorted((*Path(__file__).parent.glob("*.py"), *(Path(__file__).parent.parent / "book").glob("*.py")))
# More pages than any part holds: a count read from the cache beyond it is no count.
MAX_PAGES = 1_000_000


class PdfCache:
    """The PDF writer's entries in one manuscript's cache (none without a folder), each checked as it is read."""

    def __init__(self, root: Path | None, base: str):
        self.root, self.base = root, base
        self.parts = Store(root, "pdf", ".pdf")
        # The pieces of long chapters and their plans (pieces.py): kept while a part made from them is.
        self.pieces = Store(root, "piece", ".pdf")
        self.plans = Store(root, "plan", ".plan")
        # How many pages each part lays out to, wherever it stands: the prelims' before their folios are known,
        # and a chapter's, unchanged since the last build, before the chapters before it are counted.
        self.counts = Store(root, "count", ".txt")

    @classmethod
    def open(cls, root: Path | None, styles: Path, style: str, book: Book) -> PdfCache:
        """Return the cache of a book laid out with these styles and page style."""
        base = hashlib.sha256(f"{__version__} {weasyprint.__version__}\n{style}".encode())
        # How a part is laid out and drawn is the PDF writer's code and the markup it reads (book/): changed,
        # it lays parts out again; the reader, the importer and the command line do not shape a part's pages.
        for path in _SHAPING:
            base.update(path.name.encode() + path.read_bytes())
        for path in sorted(p for p in styles.rglob("*") if p.is_file()):
            base.update(path.name.encode() + path.read_bytes())
        # An image replaced under the same name changes the pages that show it.
        for src, resource in sorted(book.resources.items()):
            base.update(src.encode() + hashlib.sha256(resource.path.read_bytes()).digest())
        return cls(root, base.hexdigest())

    def __reduce__(self):
        # A worker process opens the same stores, reading the signing key itself, with the hash made here.
        return PdfCache, (self.root, self.base)

    def key(self, *values) -> str:
        """Return the key of an entry decided by values, under what shapes every part's pages."""
        return digest(self.base, *values)

    def part(self, key: str) -> Laid | None:
        """Return the laid-out part kept under key, with every piece it was made of, if all are sound."""
        kept = self.parts.get(key, lambda data, info: _count(info.get("pages")) is not None
                              and isinstance(info.get("kept"), list) and all(isinstance(k, str) for k in info["kept"]))
        if not kept:
            return None
        data, info = kept
        # A chapter in pieces is kept as the list of its pieces, each checked as it is read.
        pieces = self._pieces(info["kept"])
        pdfs = [self.piece(k) for k in pieces] if pieces else [None if part_problem(data) else data]
        if None in pdfs:
            return None
        laid = Laid(tuple(pdfs), info["pages"], tuple(info["kept"]))
        self._use(laid)
        return laid

    def keep(self, key: str, laid: Laid) -> None:
        """Keep a laid-out part under key (a chapter in pieces as the list of its pieces)."""
        self.parts.put(key, b"" if self._pieces(laid.kept) else laid.pdfs[0], pages=laid.pages, kept=list(laid.kept))
        self._use(laid)

    def piece(self, key: str) -> bytes | None:
        """Return the drawn piece of a chapter kept under key, if it is one the join can take."""
        return self.pieces.read(key, lambda pdf, info: None if part_problem(pdf) else pdf)

    def made_of(self, pieces: list[str], plan: str) -> tuple[str, ...]:
        """Return the entries ("kind/key") a part drawn from these pieces by this plan was made of."""
        return tuple(f"{self.pieces.kind}/{key}" for key in pieces) + (f"{self.plans.kind}/{plan}",)

    def pages(self, html: str, carried: str | None) -> int | None:
        """Return how many pages a part lays out to, if a build has counted them (wherever the part stood)."""
        return self.counts.read(self.key("count", html, carried),
                                lambda data, info: _count(int(data)) if data.isdigit() and len(data) < 10 else None)

    def counted(self, html: str, carried: str | None, pages: int) -> None:
        self.counts.put(self.key("count", html, carried), str(pages).encode())

    def _pieces(self, kept) -> list[str]:
        """Return the keys of the pieces a part was made of, in order (none for a part laid out whole)."""
        return [key for kind, _, key in (entry.partition("/") for entry in kept) if kind == self.pieces.kind]

    def _use(self, laid: Laid) -> None:
        """Keep the pieces and plan a part was made of: it may have been drawn in another process, or last build."""
        stores = {store.kind: store for store in (self.pieces, self.plans)}
        for entry in laid.kept:
            kind, _, key = entry.partition("/")
            if kind in stores:
                stores[kind].used.add(key)

    def prune(self) -> None:
        """Forget every entry this build did not use."""
        for store in (self.parts, self.pieces, self.plans, self.counts):
            store.prune()


def _count(value) -> int | None:
    """Return a count of pages read from the cache, if it is one: a whole number from 1 to MAX_PAGES."""
    return value if type(value) is int and 0 < value <= MAX_PAGES else None

