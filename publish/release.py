"""A release: both formats under versioned names and their SHA256SUMS, replaced together in dist."""
from __future__ import annotations

import contextlib
import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .book.config import VERSION
from .book.errors import Diagnostic, SettingsError
from .book.model import Book
from .build import FORMATS, STYLES, load, source_epoch, write
from .system.fsutil import atomic_output

SUMS = "SHA256SUMS"


@dataclass
class Release:
    """What a release wrote."""

    edition: str
    book: Book
    outputs: dict[str, Path]
    sums: Path
    warnings: list[Diagnostic]


def release(folder: Path, dist: Path, edition: str | None = None, strict: bool = False,
            styles: Path = STYLES) -> Release:
    """Build both formats into dist as <id>-<edition>.<format> and list their SHA-256 sums."""
    book, warnings = load(folder, strict)
    if source_epoch(folder) is None:
        raise SettingsError("a release must not depend on when it is built: commit the manuscript to git "
                           "(its last commit dates the release) or set SOURCE_DATE_EPOCH")
    book.meta.edition = release_edition(book.meta.edition, tag_editions(folder), edition)
    names = {fmt: f"{book.meta.id}-{book.meta.edition}.{fmt}" for fmt in FORMATS}
    with contextlib.ExitStack() as stack:
        # Entered first, so replaced last: dist never lists sums of files not yet in place, and a
        # failure anywhere leaves the previous release untouched.
        sums = stack.enter_context(atomic_output(dist / SUMS))
        temps = {fmt: stack.enter_context(atomic_output(dist / name)) for fmt, name in names.items()}
        for fmt, tmp in temps.items():
            warnings += write(fmt, book, tmp, styles)
        digests = {names[fmt]: _sha256(tmp) for fmt, tmp in temps.items()}
        sums.write_text("".join(f"{digests[name]}  {name}\n" for name in sorted(digests)), encoding="utf-8")
    return Release(book.meta.edition, book, {fmt: dist / name for fmt, name in names.items()},
                   dist / SUMS, warnings)


def release_edition(declared: str, tagged: list[str], requested: str | None) -> str:
    """Return the one edition that --edition, the v<edition> tags at HEAD and book.yaml agree on."""
    given = [(f"--edition {requested}", requested)] if requested else []
    given += [(f"tag v{tag}", tag) for tag in tagged]
    given += [(f"book.yaml edition {declared}", declared)] if declared else []
    if not given:
        raise SettingsError("no edition to release: set 'edition' in book.yaml (e.g. edition: 1.0.0), tag "
                           "the commit v<edition>, or pass --edition")
    if len({v for _, v in given}) > 1:
        raise SettingsError("the editions disagree: " + ", ".join(name for name, _ in given) +
                           "; make them match (book.yaml's edition may be left empty)")
    edition = given[0][1]
    if not VERSION[0].fullmatch(edition):  # match with $ would let "1.0\n" through
        raise SettingsError(f"edition '{edition}' may hold only letters, digits, '.', '+', '_' and '-' "
                           "(it names the release files)")
    return edition


def tag_editions(folder: Path) -> list[str]:
    """Return the editions the v<edition> tags on the commit checked out at folder name."""
    try:
        listed = subprocess.run(["git", "tag", "--points-at", "HEAD", "--list", "v[0-9]*"], cwd=folder,
                                capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [tag[1:] for tag in listed.split()]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
