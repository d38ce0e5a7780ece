"""Outputs are written beside their targets and moved into place only when all are complete."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import tempfile
from pathlib import Path

from . import interrupt
from .errors import OutputError

# Why a write fails when the output folder, not the input, is at fault.
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


@contextlib.contextmanager
def atomic_outputs(targets: list[Path]):
    """Yield one temporary path per target; on success they replace the targets, on any failure they go.

    Nothing is replaced after an interrupt, even one that code inside swallowed; a write that fails
    for want of room or rights is an OutputError naming the folder.
    """
    temps: list[Path] = []
    try:
        for target in targets:
            # No signal between making a temporary file and recording it: a file made but not
            # recorded would be left behind.
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
                temps.append(Path(name))
                os.close(fd)
            except OSError as exc:
                raise _cannot_write(target, exc) from None
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        try:
            yield temps
            interrupt.check()
            for tmp, target in zip(temps, targets):
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
        except OSError as exc:
            if exc.errno not in WRITE_ERRORS and exc.filename not in map(str, temps + targets):
                raise
            raise _cannot_write(targets[0], exc) from None
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


def _cannot_write(target: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write to {target.parent}: {exc.strerror or exc}; earlier outputs are untouched")


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
