"""``publish watch``: one warm process that builds the book again whenever the author saves a source.

Its sources are book.yaml, the Markdown files it lists, the images the book shows and the stylesheets
and fonts: they are looked at (os.stat) every POLL seconds, not followed with inotify and its kin,
which miss changes on network shares, container mounts and some editors' saves, and whose libraries
time their debounce by a clock the test suite sets ahead. Once they have been still for the debounce,
the book is read and both formats written, the PDF first, each whole (fsutil), by the same stages
as ``publish all``: the outputs are a clean build's, byte for byte. A save during a build stops it at
once (interrupt.cancel: it cleans up as Ctrl-C does) and the build begins again on the newer text.
The process keeps what a cold start pays for (Python, WeasyPrint, pandoc's HTML of every chunk, the
page model of the last good build); the PDF writer's laid-out parts come from the cache on disk.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
from pathlib import Path

from .book.config import BOOK_FILE, load_metadata
from .book.errors import ManuscriptError, PublishError
from .book.markup import BOUNDARY, NOTEREF, PAGEBREAK
from .book.model import Book
from .build import FORMATS, STYLES, WRITERS, load, write
from .system import cache, fsutil, interrupt
from .system.inbox import Inbox
from .system.progress import for_stream

# Seconds between looks at the sources: a few hundred stat calls a second at most, for a whole volume.
POLL = 0.2
# The blocks whose text a reader reads as a paragraph: inside them, markup is part of the text.
TEXT_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "dt", "dd", "pre", "caption", "figcaption"}


def watch(folder: Path, out: Path, debounce: float, strict: bool = False, jobs: int | None = None) -> int:
    """Build the manuscript in folder into out now and after every save, until interrupted (Ctrl-C).

    A build begins once the sources have stayed unchanged for debounce seconds (a save is often
    several writes).
    """
    meta, diags = load_metadata(folder)
    if meta is None and not folder.is_dir():
        raise ManuscriptError(diags)  # nothing to watch
    # Loaded before the first save, not on it: the PDF writer brings WeasyPrint (half a second).
    for module, _ in WRITERS.values():
        importlib.import_module(module, __package__)
    loop = _Loop(folder, out, strict, jobs)
    with interrupt.restartable(), _Sources(loop.sources()) as sources:
        _say(f"watching {folder}/ ({len(sources.paths)} files); Ctrl-C to stop")
        changed: set[Path] = set()
        while True:
            try:
                with interrupt.cancellable():
                    loop.build(changed)
            except interrupt.Restart:
                fsutil.remove_leftovers()
                _say("a source was saved during the build: building again")
            sources.follow(loop.sources())
            changed = sources.wait(debounce)


class _Loop:
    """What the process keeps from one build to the next."""

    def __init__(self, folder: Path, out: Path, strict: bool, jobs: int | None):
        self.folder, self.out, self.strict, self.jobs = folder, out, strict, jobs
        self.book: Book | None = None  # the last book read without errors
        self.pages: dict[str, str] | None = None  # the text of each original page in the last good outputs
        self.conversions: dict = {}  # the last good book's files cut in chunks, and pandoc's HTML of each
        self.written: dict = {}  # what each format's writer keeps of its last write (the PDF: each chapter's HTML)

    def sources(self) -> list[Path]:
        """Return the files the book is made from: book.yaml, its Markdown, its images, the styles."""
        meta, _ = load_metadata(self.folder)
        found = [self.folder / BOOK_FILE]
        found += [self.folder / name for name in meta.files] if meta else []
        found += [r.path for r in self.book.resources.values()] if self.book else []
        found += sorted(p for p in STYLES.rglob("*") if p.is_file())
        return list(dict.fromkeys(found))

    def build(self, changed: set[Path]) -> None:
        """Read the book and write both formats; on errors, show them and keep the last good outputs."""
        if changed:
            _say("saved: " + ", ".join(sorted(_shown(p, self.folder) for p in changed)))
        start = time.monotonic()
        try:
            with _progress() as progress:
                book, warnings = load(self.folder, self.strict, self.out, progress, memory=self.conversions)
        except ManuscriptError as exc:
            for diag in exc.diagnostics:
                print(diag, file=sys.stderr, flush=True)
            errors = sum(d.is_error for d in exc.diagnostics)
            print(f"publish: {errors} error(s), {len(exc.diagnostics) - errors} warning(s); the last good "
                  "outputs are kept", file=sys.stderr, flush=True)
            return
        except PublishError as exc:
            print(f"publish: error: {exc}; the last good outputs are kept", file=sys.stderr, flush=True)
            return
        self.book = book
        pages = page_texts(book)
        _say(changed_pages(self.pages, pages, book))
        for fmt in FORMATS:  # the PDF first: it is what the author looks at
            target = self.out / f"{book.meta.id}.{fmt}"
            try:
                with _progress() as progress, fsutil.atomic_output(target) as tmp:
                    folder = cache.folder(self.out, book.meta.id)
                    warnings += write(fmt, book, tmp, STYLES, jobs=self.jobs, cache=folder, progress=progress,
                                      memory=self.written.setdefault(fmt, {}))
            except PublishError as exc:
                print(f"publish: error: {exc}", file=sys.stderr, flush=True)
                return
            _say(f"wrote {target} ({time.monotonic() - start:.1f} s)")
        for diag in warnings:
            print(diag, file=sys.stderr, flush=True)
        self.pages = pages


@contextlib.contextmanager
def _progress():
    """Yield a progress display for one stage of a build, erased at its end (before anything is printed)."""
    progress = for_stream(sys.stderr)
    try:
        yield progress
    finally:
        progress.close()


class _Sources:
    """A thread looking at the sources every POLL seconds: it tells the loop of changes and stops a build under way."""

    def __init__(self, paths: list[Path]):
        self.paths = paths
        self.seen = {path: _stamp(path) for path in paths}
        self.lock = threading.Lock()
        self.changes = Inbox()  # the paths found changed
        self.stopping = Inbox()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.put(True)
        self.thread.join()
        self.changes.close()
        self.stopping.close()

    def follow(self, paths: list[Path]) -> None:
        """Look at these paths from now on (a chapter or image added to the book, or taken out)."""
        with self.lock:
            self.seen = {path: self.seen[path] if path in self.seen else _stamp(path) for path in paths}
            self.paths = paths

    def wait(self, debounce: float) -> set[Path]:
        """Return the paths changed, once something changed and then nothing for debounce seconds."""
        changed = set(self.changes.take(None))
        while more := self.changes.take(debounce):
            changed.update(more)
        return changed

    def _run(self) -> None:
        # Timed by select (Inbox.take), a length of time: never by a moment on a clock set ahead.
        while not self.stopping.take(POLL):
            changed = []
            with self.lock:
                for path in self.paths:
                    if (stamp := _stamp(path)) != self.seen[path]:
                        self.seen[path] = stamp
                        changed.append(path)
            for path in changed:
                self.changes.put(path)
            if changed:
                interrupt.cancel()


def _stamp(path: Path) -> tuple | None:
    """Return what changes when a file is written or replaced (None: there is none)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino


def page_texts(book: Book) -> dict[str, str]:
    """Return the text of each labelled original page, in reading order: a note's on the page of its reference.

    Markup inside a block counts (a word set in italic changes its page); a block's end counts on the
    page it ends on, and where it begins does not: a page is changed by its own text, not by its
    neighbours'. Runs of white space count as one space.
    """
    labels = {pb.anchor: pb.label for pb in book.page_breaks}
    texts: dict[str, list[str]] = {}
    here: list[str] = []  # the page being read (before the first break, or unlabelled: no page to name)

    def read(el, chapter, inline: bool) -> None:
        nonlocal here
        kind = el.get("class")
        if kind in (PAGEBREAK, BOUNDARY):
            here = texts.setdefault(labels[el.get("id")], []) if el.get("id") in labels else []
            return
        here.append(f"<{el.tag}>{el.text or ''}" if inline else el.text or "")
        for child in el:
            if isinstance(child.tag, str):
                read(child, chapter, inline or el.tag in TEXT_BLOCKS)
            here.append(child.tail or "")
        here.append(f"</{el.tag}>" if inline else " ¶ " if el.tag in TEXT_BLOCKS else " ")
        if kind == NOTEREF and (note := chapter.notes.get(el.get("href", "")[1:])):
            for block in note.blocks:
                read(block, chapter, False)

    for chapter in book.chapters:
        read(chapter.body, chapter, False)
    return {label: " ".join("".join(parts).split()) for label, parts in texts.items()}


def changed_pages(before: dict[str, str] | None, after: dict[str, str], book: Book) -> str:
    """Say which original pages' text differs between two builds' page texts, in runs, with their files."""
    if before is None:
        return f"{len(after)} original page(s)"
    runs: list[list[str]] = []  # [first label, last label, file], in reading order
    previous, seen = None, set()
    for pb in book.page_breaks:
        if pb.label in seen:
            continue  # a label marked twice (an error, P002): its text is counted as one page's
        seen.add(pb.label)
        if before.get(pb.label) != after.get(pb.label):
            if runs and runs[-1][1] == previous and runs[-1][2] == pb.path:
                runs[-1][1] = pb.label
            else:
                runs.append([pb.label, pb.label, pb.path])
        previous = pb.label
    gone = [label for label in before if label not in after]
    if not runs and not gone:
        return "no original page's text changed"
    files: dict[str, list[str]] = {}
    for first, last, path in runs:
        files.setdefault(Path(path).name, []).append(f"{first}–{last}" if first != last else first)
    said = ["changed: " + "; ".join(f"{name} {', '.join(pages)}" for name, pages in files.items())] if runs else []
    said += [f"gone: {', '.join(gone)}"] if gone else []
    return "original pages " + "; ".join(said)


def _shown(path: Path, folder: Path) -> str:
    """Name a source as the author knows it: inside the manuscript folder, else by its path."""
    return str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)


def _say(text: str) -> None:
    print(text, flush=True)  # at once, even into a pipe: the author (or an editor's panel) reads as it comes
