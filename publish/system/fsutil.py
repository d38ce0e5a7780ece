"""Outputs are written beside their targets and moved into place only when all are complete."""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
import tempfile
from pathlib import Path

from ..book.errors import OutputError
from . import interrupt

# Why a write fails when the output folder, not the input, is at fault.
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}
# A temporary file or folder is named after the host and the process that made it (see owned()): what a
# killed build left is then known from what a build still running, here or on a host sharing the folder, has.
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
# Output folders already rid of what killed builds left, by this process: once is enough (the cache
# writes thousands of entries, each through atomic_output).
_swept: set[Path] = set()
# The temporary files this process made and has neither moved into place nor removed. Each is recorded
# before it exists: an interrupt can come between any two steps (a signal's handler runs in the main
# thread whichever thread took the signal, so no signal mask keeps it out), and remove_leftovers() then
# finds what the interrupted step made.
_made: set[Path] = set()


@contextlib.contextmanager
def atomic_outputs(targets: list[Path]):
    """Yield one temporary path per target; on success they replace the targets, on any failure they go.

    Nothing is replaced after an interrupt, even one that code inside swallowed; a write that fails
    for want of room or rights is an OutputError naming the folder.
    """
    temps: list[Path] = []
    for folder in {target.parent for target in targets} - _swept:
        sweep(folder, r"\..+\.", ".part")
        _swept.add(folder)
    try:
        for target in targets:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                temps.append(_temporary(target))
            except OSError as exc:
                raise _cannot_write(target, exc) from None
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
            _made.discard(tmp)


def _temporary(target: Path) -> Path:
    """Make an empty file beside target, under an owned() name, recorded in _made before it exists."""
    while True:
        tmp = target.with_name(f"{owned(f'.{target.name}.')}{secrets.token_hex(4)}.part")
        _made.add(tmp)
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return tmp
        except FileExistsError:
            _made.discard(tmp)  # another's: this name is not ours to remove


def remove_leftovers() -> None:
    """Remove the temporary files this process made and neither moved into place nor removed (an interrupt's)."""
    for tmp in list(_made):
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        _made.discard(tmp)


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
        sweep(target.parent, r"\..+\.", ".part")
        tmp = Path(tempfile.mkdtemp(prefix=owned(f".{target.name}."), suffix=".part", dir=target.parent))
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


def owned(prefix: str) -> str:
    """Return the prefix of a temporary name that says who makes it: prefix, this host, this process."""
    return f"{prefix}{_HOST}-{os.getpid()}-"


def sweep(folder: Path, prefix: str, suffix: str = "") -> None:
    """Remove what processes of this user on this host, no longer running, left in folder under owned() names.

    prefix is a regular expression for what came before owned()'s part; suffix, the name's end.
    """
    made = re.compile(rf"{prefix}{_HOST}-(\d+)-[a-z0-9_]{{8}}{re.escape(suffix)}")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return  # no folder yet, or none to read: nothing left there
    for entry in entries:
        found = made.fullmatch(entry.name)
        try:
            if not found or entry.stat(follow_symlinks=False).st_uid != os.getuid() or _running(int(found[1])):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            pass  # gone meanwhile (another build swept it), or not ours to remove after all


def _running(pid: int) -> bool:
    """Tell whether a process of that id runs (perhaps another user's, or another since the id was reused)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def inside(path: Path, roots: list[Path]) -> bool:
    """Tell whether a path, resolved, lies within one of the roots."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(root.resolve()) for root in roots)
