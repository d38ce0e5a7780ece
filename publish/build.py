"""The whole build as one function of stages: load, check, convert, then write each format."""
from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .book.citation import add_lines
from .book.config import Metadata, load_metadata
from .book.errors import Diagnostic, ManuscriptError, SettingsError
from .book.model import Book
from .book.numbers import whole
from .markdown.check import check_book, check_sources, clean
from .markdown.convert import PandocCache, convert, read_sources
from .markdown.safety import before_pandoc
from .system import cache
from .system.fsutil import atomic_outputs
from .system.progress import QUIET, Progress

# The stylesheets and fonts are package data: an installed wheel carries them (styles/ links here).
STYLES = Path(__file__).resolve().parent / "styles"
# Each format's writer, as module and function: imported only when wanted (WeasyPrint alone takes half a
# second to load). Each is called as write() calls it.
WRITERS = {"pdf": (".pdf.writer", "write_pdf"), "epub": (".epub.writer", "write_epub")}
FORMATS = tuple(WRITERS)
# The last second a date can hold (9999-12-31T23:59:59Z): a later SOURCE_DATE_EPOCH is no date.
LAST_EPOCH = 253_402_300_799


@dataclass
class Result:
    """What a build or check produced."""

    warnings: list[Diagnostic] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)
    book: Book | None = None


def load(folder: Path, strict: bool = False, out: Path | None = None, progress: Progress = QUIET,
         memory: dict | None = None) -> tuple[Book, list[Diagnostic]]:
    """Read, check and convert a manuscript; raise ManuscriptError listing every problem found.

    With an output folder, pandoc's work is taken from the manuscript's cache there and, once the
    manuscript has passed, kept there; with memory, also in that dict, for the next load in this process
    (PandocCache).
    """
    meta, diags = load_metadata(folder)
    if meta is None:
        raise _failure(diags)
    try:
        sources = read_sources(meta, folder)
    except ManuscriptError as exc:
        raise _failure(diags + exc.diagnostics) from None
    conversions = PandocCache(cache.folder(out, meta.id) if out and meta.id else None, memory)
    if limits := before_pandoc(sources, conversions.remember):
        raise _failure(diags + limits)
    progress.stage("Reading and checking", len(sources), "files")
    # The sources are checked while pandoc converts them: this thread mostly waits for pandoc.
    with ThreadPoolExecutor(max_workers=1) as side:
        checking = side.submit(check_sources, meta, folder, sources, conversions.remember)
        try:
            book = convert(meta, folder, {path: clean(text) for path, text in sources.items()}, conversions,
                           progress)
        except ManuscriptError as exc:
            raise _failure(diags + checking.result() + exc.diagnostics) from None
        diags += checking.result()
    book.date = build_date(folder)
    diags += check_book(book, sources, conversions.remember)
    if any(d.is_error or strict for d in diags):
        raise _failure(diags)
    conversions.save()
    add_lines(book)  # each document's citation, under its heading in both formats
    return book, diags


def build(folder: Path, out: Path, formats=FORMATS, strict: bool = False, styles: Path = STYLES,
          jobs: int | None = None, progress: Progress = QUIET) -> Result:
    """Build the requested formats of the manuscript in folder into out, caching work in out/.cache."""
    _import_writers(formats)
    book, warnings = load(folder, strict, out, progress)
    result = Result(warnings, {}, book)
    if unkeyed := cache.key_warning():
        result.warnings.append(unkeyed)
    targets = [out / f"{book.meta.id}.{fmt}" for fmt in formats]
    # All formats or none: a failure in the second leaves the first's previous output too.
    with atomic_outputs(targets) as temps:
        for fmt, tmp in zip(formats, temps):
            result.warnings += write(fmt, book, tmp, styles, jobs=jobs, cache=cache.folder(out, book.meta.id),
                                     progress=progress)
    result.outputs = dict(zip(formats, targets))
    return result


def write(fmt: str, book: Book, target: Path, styles: Path, jobs: int | None = None, cache: Path | None = None,
          progress: Progress = QUIET, memory: dict | None = None) -> list[Diagnostic]:
    """Write the book in one format into target, reusing a cache folder where the writer can; return its warnings.

    memory: a dict the writer keeps from one write to the next, for a process that writes again and again.
    """
    module, name = WRITERS[fmt]
    writer = getattr(importlib.import_module(module, __package__), name)
    return writer(book, target, styles, jobs=jobs, cache=cache, progress=progress, memory=memory)


def _import_writers(formats) -> None:
    """Import the writers of formats in a thread, while the manuscript is read (this process mostly waits for pandoc).

    A writer that fails to import here is imported again by write(), which reports the failure.
    """
    def imported():
        for fmt in formats:
            with contextlib.suppress(Exception):
                importlib.import_module(WRITERS[fmt][0], __package__)
    # Not a daemon: a manuscript refused at once (a file not UTF-8) ends the process while WeasyPrint's C
    # libraries are still being loaded here, and a daemon thread left loading them as Python finalizes can
    # crash it (a fresh-clone CI run ended with SIGSEGV after the error was printed). Python waits for it.
    threading.Thread(target=imported, name="import writers").start()


def check(folder: Path, strict: bool = False, progress: Progress = QUIET) -> Result:
    """Check a manuscript without writing anything."""
    book, warnings = load(folder, strict, progress=progress)
    return Result(warnings, {}, book)


def _failure(diags: list[Diagnostic]) -> ManuscriptError:
    """Return the error listing every problem, in file and line order."""
    return ManuscriptError(sorted(diags, key=lambda d: (d.path, d.line, d.column)))


def build_date(folder: Path) -> str:
    """Return the build date: SOURCE_DATE_EPOCH, else the last commit's time, else now (UTC, ISO 8601)."""
    epoch = source_epoch(folder)
    moment = (dt.datetime.fromtimestamp(epoch, dt.timezone.utc) if epoch is not None
              else dt.datetime.now(dt.timezone.utc))
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def environment_epoch() -> int | None:
    """Return SOURCE_DATE_EPOCH, if set; refuse one that is not whole seconds from 1970 to the end of 9999."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    if (seconds := whole(epoch, LAST_EPOCH)) is None:
        raise SettingsError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970 UTC, up to {LAST_EPOCH} (the "
                            f"end of 9999), not '{epoch[:40]}'")
    return seconds


def source_epoch(folder: Path) -> int | None:
    """Return SOURCE_DATE_EPOCH, else the time of the last commit holding folder, else None."""
    if (epoch := environment_epoch()) is not None:
        return epoch
    try:
        # --no-show-signature: a log.showSignature setting would print the signature before the time.
        epoch = subprocess.run(["git", "log", "-1", "--no-show-signature", "--format=%ct"], cwd=folder,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return whole(epoch, LAST_EPOCH)


__all__ = ["build", "check", "load", "Metadata", "Result"]
