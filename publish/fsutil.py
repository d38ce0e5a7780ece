"""Outputs are written beside their target and moved into place only when complete."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import OutputError


@contextlib.contextmanager
def atomic_output(target: Path):
    """Yield a temporary path; on success it replaces target, on any failure it is removed."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write to {target.parent}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
