"""Outputs are written beside their targets and moved into place only when all are complete."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from .errors import OutputError


@contextlib.contextmanager
def atomic_outputs(targets: list[Path]):
    """Yield one temporary path per target; on success they replace the targets, on any failure they go."""
    temps: list[Path] = []
    try:
        for target in targets:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
            except OSError as exc:
                raise OutputError(f"cannot write to {target.parent}: {exc.strerror}") from None
            os.close(fd)
            temps.append(Path(name))
        yield temps
        for tmp, target in zip(temps, targets):
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output(target: Path):
    """Yield a temporary path; on success it replaces target, on any failure it is removed."""
    with atomic_outputs([target]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_folder(target: Path):
    """Yield a temporary folder; on success it replaces target (and all it held), on any failure it is removed."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"cannot write to {target.parent}: {exc.strerror}") from None
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        old = tmp.with_suffix(".old")
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def inside(path: Path, roots: list[Path]) -> bool:
    """Tell whether a path, resolved, lies within one of the roots."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(root.resolve()) for root in roots)
