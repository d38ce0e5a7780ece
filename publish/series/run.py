"""The series run: each volume of this machine's share built or skipped, in turn, then the index."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..system.progress import QUIET, Progress
from .catalogue import Catalogue, read_catalogue
from .index import cause, gather, write_index
from .plan import divide, matrix
from .volume import build_volume, finished, input_key


@dataclass
class Outcome:
    """What a run did: volumes built, skipped as unchanged, failed (by id, with the first cause); files written."""

    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)


def run_series(path: Path, out: Path, share: tuple[int, int] | None = None, strict: bool = False,
               skip: tuple[str, ...] = (), progress: Progress = QUIET,
               tell: Callable[[str], None] = lambda line: None) -> Outcome:
    """Build this run's share of the catalogue's volumes into out (all of them, then the index, unsharded)."""
    catalogue = read_catalogue(path)
    volumes = divide(catalogue.volumes, share[1])[share[0] - 1] if share else catalogue.volumes
    outcome = Outcome()
    for done, volume in enumerate(volumes):
        progress.stage(f"Volume {volume.id}", len(volumes), "volumes")
        progress.update(done)
        key = input_key(volume, strict, skip)
        if finished(volume, out, key):
            outcome.skipped.append(volume.id)
            tell(f"{volume.id}: unchanged since its last build")
            continue
        record = build_volume(volume, out, key, strict, skip, catalogue.folder)
        if record["status"] == "ok":
            outcome.built.append(volume.id)
            ran = ", ".join(name for name, v in record["validators"].items() if v["verdict"] == "pass")
            tell(f"{volume.id}: built, {record['pdf_pages']} PDF pages; passed {ran}")
        else:
            outcome.failed[volume.id] = record["error"]["diagnostics"][0]
            tell(f"{volume.id}: FAILED: {outcome.failed[volume.id]}")
    progress.update(len(volumes))
    if share is None:
        outcome.written = index(catalogue, out).written
    return outcome


def index(catalogue: Catalogue | Path, out: Path) -> Outcome:
    """Gather the records in out into the series index; return the files written and the volumes failed or missing."""
    catalogue = catalogue if isinstance(catalogue, Catalogue) else read_catalogue(catalogue)
    records = gather(catalogue, out)
    failed = {vid: cause(record) for vid, record in records.items() if not record or record.get("status") != "ok"}
    return Outcome(failed=failed, written=write_index(catalogue, out, records))


def plan(path: Path, n: int, strict: bool = False, skip: tuple[str, ...] = ()) -> dict:
    """Return the matrix of n shares for GitHub Actions."""
    catalogue = read_catalogue(path)
    return matrix(catalogue.volumes, n, {v.id: input_key(v, strict, skip) for v in catalogue.volumes})
