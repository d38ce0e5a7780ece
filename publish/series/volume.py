"""One volume of the series: imported if TEI, built in both formats, validated, and recorded in DIR/<id>/.

The record (record.json) says what a reader of the index needs and nothing that changes from run to
run: the same inputs give the same record, byte for byte, on any machine. How long the work took is
kept apart, in timings.json, which no index or checksum reads.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import resource
import shutil
import time
from pathlib import Path

import pikepdf

from .. import __version__
from ..book.errors import EXIT_INTERNAL, Diagnostic, ManuscriptError, PublishError
from ..build import FORMATS, STYLES, build_date, load, source_epoch, write
from ..system import cache
from ..system.fsutil import atomic_output, atomic_outputs
from ..tei.importer import import_tei
from .catalogue import Volume
from .validate import FAIL, installed, validate

RECORD = "record.json"
TIMINGS = "timings.json"
# Where a TEI volume is imported to, in its folder: the work area, made anew for each build.
WORK = "manuscript"
PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def tool() -> str:
    """Return what identifies this tool's code: its version and a hash of every file of the package."""
    sha = hashlib.sha256(__version__.encode())
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        sha.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return f"{__version__}+{sha.hexdigest()[:16]}"


def input_key(volume: Volume, strict: bool, skip: tuple[str, ...] = ()) -> str:
    """Return the hash of all that decides a volume's outputs: its source files, the settings and the tool."""
    sha = hashlib.sha256()
    for path in volume.files():
        content = hashlib.sha256(path.read_bytes()).hexdigest()
        sha.update(f"{path.relative_to(volume.source) if path != volume.source else ''}\0{content}\n".encode())
    # The date the outputs carry, from SOURCE_DATE_EPOCH or the source's last commit (build.build_date).
    folder = volume.source if volume.source.is_dir() else volume.source.parent
    epoch = source_epoch(folder) if folder.is_dir() else None
    return cache.digest(tool(), volume.id, FORMATS, strict, epoch, installed(skip), sha.hexdigest())


def finished(volume: Volume, out: Path, key: str) -> dict | None:
    """Return the volume's record if it was built from these very inputs and its files are as recorded."""
    try:
        record = json.loads((out / volume.id / RECORD).read_text(encoding="utf-8"))
        if record.get("input") != key or record.get("status") != "ok":
            return None
        for entry in record["files"].values():
            if sha256(out / volume.id / entry["name"]) != entry["sha256"]:
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return record


def build_volume(volume: Volume, out: Path, key: str, strict: bool = False, skip: tuple[str, ...] = (),
                 catalogue: Path | None = None) -> dict:
    """Build, validate and record one volume; a failure is recorded, not raised (an interrupt is raised)."""
    folder = out / volume.id
    record = {"id": volume.id, "source": volume.given, "input": key}
    timings: dict[str, float] = {}
    clock = _Clock()
    try:
        record |= _build(volume, folder, strict, skip, timings, clock)
    except PublishError as exc:
        diags = exc.diagnostics if isinstance(exc, ManuscriptError) else [str(exc)]
        record |= {"status": "failed", "error": {"exit_code": exc.exit_code,
                                                "diagnostics": [_relative(d, out, catalogue) for d in diags]}}
    except Exception as exc:  # noqa: BLE001 - a bug met in one volume of hundreds must not stop the others
        record |= {"status": "failed", "error": {"exit_code": EXIT_INTERNAL, "diagnostics": [
            f"internal error (a bug: please report it): {type(exc).__name__}: {_relative(exc, out, catalogue)}"]}}
    timings["total"], timings["cpu"] = clock.total(), clock.cpu()
    record["warnings"] = [_relative(w, out, catalogue) for w in record.get("warnings", [])]
    # Timings first: a record in place means the volume is done, all of it.
    _write_json(folder / TIMINGS, timings)
    _write_json(folder / RECORD, record)
    return record


def _build(volume: Volume, folder: Path, strict: bool, skip: tuple[str, ...], timings: dict, clock: _Clock) -> dict:
    if not volume.source.exists():
        raise ManuscriptError([Diagnostic(volume.given, 0, 0, "C005", "the source does not exist: give a TEI file "
                                          "or a manuscript folder, relative to the catalogue")])
    warnings: list[Diagnostic] = []
    manuscript = volume.source
    if volume.tei:
        manuscript = folder / WORK
        shutil.rmtree(manuscript, ignore_errors=True)  # the work area is the series' own
        warnings += import_tei(volume.source, manuscript).warnings
        timings["import"] = clock.lap()
    book, found = load(manuscript, strict, folder)
    warnings += found
    timings["load"] = clock.lap()
    if volume.tei:
        # Dated by the TEI file's commit, not by the work area's folder (build.build_date).
        book.date = build_date(volume.source.parent)
    names = {fmt: f"{volume.id}.{fmt}" for fmt in FORMATS}
    with atomic_outputs([folder / name for name in names.values()]) as temps:
        for fmt, tmp in zip(FORMATS, temps):
            warnings += write(fmt, book, tmp, STYLES, cache=cache.folder(folder, book.meta.id))
            timings[fmt] = clock.lap()
    pdf, epub = (folder / names[fmt] for fmt in ("pdf", "epub"))
    verdicts = validate(pdf, epub, book, skip)
    timings["validate"] = clock.lap()
    failed = [name for name, v in verdicts.items() if v["verdict"] == FAIL]
    with pikepdf.open(pdf) as doc:
        pdf_pages = len(doc.pages)
    meta = book.meta
    record = {
        "status": "failed" if failed else "ok",
        "title": meta.title, "volume_title": meta.volume_title, "subseries": meta.subseries, "volume": meta.volume,
        "year": meta.year, "date": book.date, "language": meta.language, "identifier": meta.urn,
        "editors": list(meta.editors), "pdf_pages": pdf_pages, "original_pages": len(book.page_breaks),
        "files": {fmt: {"name": name, "bytes": (folder / name).stat().st_size, "sha256": sha256(folder / name)}
                  for fmt, name in names.items()},
        "validators": verdicts, "warnings": warnings,
    }
    if failed:
        record["error"] = {"exit_code": None, "diagnostics": [
            str(Diagnostic(f"{volume.id}/{names['epub' if name == 'epubcheck' else 'pdf']}", 0, 0, "C006",
                           f"{name} rejects it: {verdicts[name]['problems'][0]}"))
            for name in failed]}
    return record


def sha256(path: Path) -> str:
    """Return a file's SHA-256, read in pieces (a volume's PDF is tens of megabytes)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _relative(item, out: Path, catalogue: Path | None) -> str:
    """Return a diagnostic as text, its paths relative to the output or catalogue folder: the same anywhere."""
    text = str(item)
    for folder in (out, catalogue):
        if folder is not None:
            text = text.replace(f"{folder.resolve()}{os.sep}", "").replace(f"{folder}{os.sep}", "")
    return text


def _write_json(path: Path, data: dict) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


class _Clock:
    """Wall-clock laps of a volume's stages, and the CPU seconds of this process and its children (PDF workers)."""

    def __init__(self):
        self.start = self.last = time.perf_counter()
        self.cpu0 = self._cpu()

    def lap(self) -> float:
        """Return the seconds since the last lap."""
        now = time.perf_counter()
        spent, self.last = now - self.last, now
        return round(spent, 3)

    def total(self) -> float:
        return round(time.perf_counter() - self.start, 3)

    def cpu(self) -> float:
        return round(self._cpu() - self.cpu0, 3)

    @staticmethod
    def _cpu() -> float:
        return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                       resource.getrusage(resource.RUSAGE_CHILDREN)))
