"""The PDF writer: the book laid out in parts by WeasyPrint, in parallel where it can, then joined.

The prelims and each chapter are separate documents. Chapters open on a recto, so a part's page
sides never depend on the parts before it; what does (its folios, the original page it starts on)
is filled in after layout, so every part can be laid out at once. A laid-out part is kept in the
manuscript's cache: after an edit, only the parts whose text or position changed are redone.
Here: the schedule; typeset.py lays out, workers.py runs the processes, join.py joins, cache.py keeps.
"""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from lxml import etree

from ..book.errors import Diagnostic
from ..book.model import Book
from ..book.pages import roman
from ..system import interrupt
from ..system.fsutil import owned, sweep
from ..system.progress import QUIET, Progress
from .cache import PdfCache
from .html import chapter_html, page_css, prelims_html
from .join import join
from .laid import Laid
from .pieces import Chapters, Run
from .typeset import Typesetter
from .workers import Workers

# Bytes of a part's HTML per laid-out page, until the build's first parts tell better.
HTML_PER_PAGE = 2500


def write_pdf(book: Book, target: Path, styles: Path, jobs: int | None = None, cache: Path | None = None,
              progress: Progress = QUIET, memory: dict | None = None) -> list[Diagnostic]:
    """Lay the book out into target, in `jobs` processes, reusing `cache` where it can; return its warnings.

    memory: a dict a process that writes again and again (publish watch) keeps from one write to the next
    (_parts).
    """
    style = page_css(book)
    parts = _parts(book, memory)
    store = PdfCache.open(cache, styles, style, book)
    cores = jobs or os.cpu_count() or 1
    jobs = max(1, min(cores, len(parts)))
    progress.stage("PDF: laying out", _estimate(parts), "pages")
    with _scratch() as scratch, Workers(jobs if jobs > 1 else 0, styles, book.folder, style, scratch,
                                         lambda i: _name(book, i), store) as workers:
        scheduler = _Scheduler(book, parts, workers, store, progress)
        if len(parts) - len(scheduler.counted) > 1:
            # Parts no build has laid out yet will be: the workers start now, with the first of them (the longest:
            # a long chapter's layout is the build's critical path), while this process makes its own typesetter
            # and counts the prelims, rather than after.
            workers.spawn()
            scheduler.hand_out()
        setter = Typesetter(styles, book.folder, style, on_page=scheduler.show)
        scheduler.chapters = Chapters(setter, store, build=os.getpid() if cores > 1 else None,
                                      patience=workers.timeout)
        # The prelims' contents need the chapters' folios: they are laid out, with the folios filled in, once every
        # chapter is placed (scheduler.run), while the workers lay out or draw. Front matter is numbered on from the
        # prelims, so a book with any lays its prelims out once before, to count them (taken from the cache when
        # the last build counted them); without, the first chapter is page 1 wherever the prelims end, and the
        # chapters are placed as if the prelims took no page.
        front = any(p.front for p in parts)
        prelims_pages = _count_prelims(book, setter, store) if front else 0
        prelims = scheduler.run(setter, prelims_pages, functools.partial(
            _prelims, book, parts, setter, store, prelims_pages if front else None))
        workers.end()  # every part is drawn
        first_main = next((p.start for p in parts if not p.front), 0)
        if parts and not front:
            first_main = prelims.pages + prelims.pages % 2  # chapters open on a recto
        laid = [prelims] + [p.result for p in parts]
    progress.stage("PDF: joining the parts")
    interrupt.check()
    target.write_bytes(join(laid, book, first_main))
    store.prune()
    return scheduler.warnings


def _prelims(book: Book, parts: list[_Part], setter: Typesetter, store: PdfCache, counted: int | None) -> Laid:
    """Return the prelims laid out with the chapters' folios, or as a build laid them out; counted: their pages
    when counted before, which the folios must not change."""
    first_main = next((p.start for p in parts if not p.front), 0)
    folios = {book.chapters[p.index].anchor: _folio(p.start, first_main) for p in parts}
    html = prelims_html(book, folios)
    key = store.key(html, None, 1, True)
    prelims = store.part(key)
    if prelims is None:
        document = setter.layout(html)
        if counted is not None and len(document.pages) != counted:
            raise RuntimeError("the contents changed length once its page numbers were filled in")
        prelims = setter.draw(document, None, 1, True)
        store.keep(key, prelims)
    return prelims


def _count_prelims(book: Book, setter: Typesetter, store: PdfCache) -> int:
    """Return how many pages the prelims take, their contents without folios: laid out, or as a build counted them."""
    counting = prelims_html(book, {})
    pages = store.pages(counting, None)
    if pages is None:
        pages = len(setter.layout(counting).pages)
        store.counted(counting, None, pages)
    return pages


@contextlib.contextmanager
def _scratch():
    """Yield a folder for the build's temporary files (WeasyPrint's fonts), removed whatever happens.

    What a killed build left in $TMPDIR goes first: its folder's name says whose it was.
    """
    sweep(Path(tempfile.gettempdir()), "publish-")
    folder = Path(tempfile.mkdtemp(prefix=owned("publish-")))
    before, tempfile.tempdir = tempfile.tempdir, str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = before
        shutil.rmtree(folder, ignore_errors=True)


def _name(book: Book, index: int | None) -> str:
    """Name a part in a message: its chapter's title and file."""
    if index is None:
        return "the book"
    chapter = book.chapters[index]
    return f"'{chapter.title}' ({chapter.path.name})"


def _estimate(parts) -> int:
    """Return the likely number of pages: those counted, and the rest by the length of their HTML."""
    known = [p for p in parts if p.pages is not None]
    counted = sum(len(p.html) for p in known)
    # A title page or a short preface says little of the pages to come: learn from forty pages or so.
    rate = sum(p.pages for p in known) / counted if counted > 40 * HTML_PER_PAGE else 1 / HTML_PER_PAGE
    return round(sum(p.pages if p.pages is not None else max(1, len(p.html) * rate) for p in parts))


@dataclass
class _Part:
    """A chapter to lay out, and what its position in the book decides."""

    index: int
    html: str
    notes: set[str]  # its footnotes' anchors
    carried: str | None  # the original page the text is on where the chapter begins
    front: bool
    start: int | None = None  # its first page in the book, once the parts before it are counted
    pages: int | None = None
    result: Laid | None = None


def _folio(index: int, first_main: int) -> str:
    """Return the folio printed on the page at index: roman before the first chapter, then arabic."""
    return str(index - first_main + 1) if index >= first_main else roman(index + 1).lower()


def _parts(book: Book, memory: dict | None = None) -> list[_Part]:
    # With memory, each chapter's HTML is kept by what it is made of (_made_of): an unchanged chapter is not
    # copied, marked and written again. What this write did not use is forgotten.
    parts, current, used = [], None, {}
    common = (repr(book.meta), tuple(book.facsimiles().items())) if memory is not None else ()
    for index, chapter in enumerate(book.chapters):
        if memory is None:
            html = chapter_html(book, index)
        else:
            key = (*common, *_made_of(chapter))
            html = used[key] = memory[key] if key in memory else chapter_html(book, index)
        parts.append(_Part(index, html, set(chapter.notes), current, chapter.front))
        if chapter.page_breaks:
            last = chapter.page_breaks[-1]
            current = last.label if last.labelled else ""
    if memory is not None:
        memory.clear()
        memory.update(used)
    return parts


def _made_of(chapter) -> tuple:
    """Return what chapter_html makes a chapter's HTML of, besides the book's metadata and facsimiles."""
    notes = tuple((a, n.anchor, n.number, *(etree.tostring(b, encoding="unicode") for b in n.blocks))
                  for a, n in chapter.notes.items())
    return chapter.title, chapter.front, etree.tostring(chapter.body, encoding="unicode"), notes


class _Scheduler:
    """Count, place, draw: each part is drawn once the parts before it are counted."""

    def __init__(self, book, parts, workers, store, progress):
        self.book, self.parts, self.workers = book, parts, workers
        self.store, self.progress = store, progress
        self.order = _longest_first(parts, max(1, workers.count))
        self.counted = {p.index for p in parts if store.pages(p.html, p.carried) is not None}
        self.setter, self.first_start = None, None
        self.chapters: Chapters | None = None
        self.here: dict[int, Run] = {}  # parts laid out in this process, until they are drawn
        self.orphans: list[int] = []  # parts of workers that stopped, to lay out in this process
        self.warnings: list[Diagnostic] = []
        self.keys: dict[tuple, str] = {}  # each part's key in the cache, by its index and first folio

    def run(self, setter: Typesetter, prelims_pages: int, prelims: Callable[[], Laid]) -> Laid:
        """Lay out and draw every part, in the workers or, without them, here; return the prelims, which prelims()
        lays out once every part is placed (their contents hold the chapters' folios)."""
        self.setter = setter
        laid_prelims = None
        self.first_start = prelims_pages + prelims_pages % 2  # chapters open on a recto
        held = {}  # part index -> the worker holding it laid out, waiting to learn where it goes
        while True:
            self._place()
            for index, worker in list(held.items()):
                part = self.parts[index]
                if part.result is not None:  # placed at last, it was in the cache after all
                    worker.skip(index)
                    del held[index]
                elif part.start is not None:
                    worker.draw(index, *self._first_folio(part))
                    del held[index]
            for index, run in list(self.here.items()):
                part = self.parts[index]
                if part.result is None and part.start is not None:
                    part.result = self.chapters.draw(run, *self._first_folio(part))
                    self._keep(part)
                    self.show()
                if part.result is not None:
                    del self.here[index]
            if laid_prelims is None and all(p.start is not None for p in self.parts):
                # Here while the workers lay out or draw (the last chapter is placed once those before it are
                # counted), not after them: off the build's critical path.
                laid_prelims = prelims()
            if all(p.result is not None for p in self.parts):
                for part in self.parts:
                    if part.index not in self.counted:
                        self.store.counted(part.html, part.carried, part.pages)
                return laid_prelims
            self.hand_out()
            if self.orphans:
                part = self.parts[self.orphans.pop(0)]
                if part.result is None:
                    self._lay_out_here(part)
                continue
            if not self.workers:
                self._lay_out_here(next(p for p in self.parts if p.result is None))
                continue
            for worker, message in self.workers.messages():
                if message is None:
                    self._lost(worker, held)
                    continue
                part = self.parts[message[1]]
                if message[0] == "laid":
                    part.pages = message[2]
                    held[part.index] = worker
                else:
                    part.result = message[2]
                    self._keep(part)
            self.show(self.workers.pages())

    def hand_out(self) -> None:
        """Give each idle worker the next part waiting to be laid out, starting the workers if there is work to share."""
        laying = {w.laying for w in self.workers}
        # A part counted by an earlier build waits for its place, where it is likely in the cache: after
        # an edit in one chapter, only that one is laid out, not the unchanged ones after it.
        waiting = [p for p in self.order if p.result is None and p.pages is None and p.index not in laying
                   and p.index not in self.orphans and (p.start is not None or p.index not in self.counted)]
        if not self.workers and len(waiting) > 1:
            self.workers.spawn()  # only when there is work to share: they take a second to start
        for worker, part in zip(self.workers.idle(), waiting):
            worker.start(part.index, part.html, part.carried, part.notes)

    def _lay_out_here(self, part: _Part) -> None:
        """Lay a part out in this process; it is drawn here once its place is known."""
        self.here[part.index] = self.chapters.layout(part.html, part.carried, part.notes)
        part.pages = self.here[part.index].pages
        self.show()

    def _lost(self, worker, held: dict) -> None:
        """Take back the parts of a worker that stopped: each is laid out again here, and said so."""
        interrupt.check()  # a worker stopped by the same signal as the build
        why = worker.why()
        for index in sorted(worker.parts):
            held.pop(index, None)
            self.orphans.append(index)
            chapter = self.book.chapters[index]
            self.warnings.append(Diagnostic(str(chapter.path), 0, 0, "B001", (
                f"the PDF worker process laying out '{chapter.title}' {why}; the chapter was laid out "
                "again in the build's own process, and the book is the same"), "warning"))

    def _place(self) -> None:
        """Give each part whose predecessors are counted its first page; take it from the cache if there."""
        start = self.first_start
        for part in self.parts:
            part.start = start
            if start is not None and part.result is None:
                part.result = self.store.part(self._key(part))
                if part.result is not None:
                    part.pages = part.result.pages
            if start is not None and part.pages is not None:
                start += part.pages + part.pages % 2
            else:
                start = None

    def _first_folio(self, part: _Part) -> tuple[int, bool]:
        """Return the folio of the part's first page, and whether folios there are roman."""
        if part.front:
            return part.start + 1, True
        return part.start - next(p.start for p in self.parts if not p.front) + 1, False

    def _key(self, part: _Part) -> str:
        # Hashed once per place: _place asks again on every message until a long chapter is drawn, and a
        # chapter's HTML is megabytes to encode and hash.
        where = (part.index, *self._first_folio(part))
        if where not in self.keys:
            self.keys[where] = self.store.key(part.html, part.carried, *where[1:])
        return self.keys[where]

    def _keep(self, part: _Part) -> None:
        self.store.keep(self._key(part), part.result)

    def show(self, laying: int = 0) -> None:
        """Show the pages laid out: the parts counted, and `laying` pages of those being laid out."""
        self.progress.update(sum(p.pages or 0 for p in self.parts) + laying, _estimate(self.parts))


def _longest_first(parts: list[_Part], jobs: int) -> list[_Part]:
    """Return the order to lay parts out in: any part long enough to decide the build's length first."""
    # A part with more than a quarter of one worker's share, started late, would finish long after
    # the rest (a real volume can hold half its pages in one chapter). The others go in book order,
    # so few laid-out parts wait in memory for the ones before them to be counted.
    share = sum(len(p.html) for p in parts) / jobs
    long = sorted((p for p in parts if len(p.html) > share / 4), key=lambda p: -len(p.html))
    return long + [p for p in parts if all(p.index != q.index for q in long)]


