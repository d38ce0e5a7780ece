"""The build cache: pandoc's HTML and laid-out PDF parts, by the hash of everything that decides them.

Each manuscript (by its id) has a folder of its own under ``<out>/.cache``, so building one book never
evicts another's work. An entry is trusted only when this tool, on this machine, wrote it: each is
signed with HMAC-SHA256 under a key kept outside the project and the cache (``key_path``), over its
name, its bytes and what describes it; an entry without a good signature is a miss. Callers still
check what an entry may hold (``Store.get``'s ``accept``, ``Store.read``'s ``parse``): a mistake is a
miss, never a traceback.
The cache's folders are the tool's own: no symbolic link from ``.cache`` down is followed, on read,
write or prune; one found where a folder belongs is removed (never its target) and a folder made.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Callable, TypeVar

from ..book.errors import Diagnostic

CACHE = ".cache"
# Where the signing key is, if not in the user's cache folder (tests set it to keep theirs apart).
KEY_ENV = "PUBLISH_CACHE_KEY"
KEY_BYTES = 32
# Opened without following a link, and without waiting on a FIFO put where a file or folder belongs.
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
T = TypeVar("T")


def folder(out: Path, book_id: str) -> Path:
    """Return the cache folder of one manuscript in an output folder."""
    return out / CACHE / book_id


def digest(*parts) -> str:
    """Return the hash that addresses an entry: of every value that decides it, in order."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def key_path() -> Path:
    """Return where the cache's signing key is kept: $PUBLISH_CACHE_KEY, else the user's cache folder."""
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "frus-publish" / "key"


def secret() -> bytes | None:
    """Return the cache's signing key, made on first use; None (nothing cached) if it cannot be had safely."""
    try:
        return _secret(str(key_path()))
    except RuntimeError:  # no home folder to keep it in
        return None


def key_warning() -> Diagnostic | None:
    """Return the warning that nothing will be cached, when the signing key cannot be had safely."""
    if secret() is not None:
        return None
    try:
        where = str(key_path())
    except RuntimeError:
        where, fix = KEY_ENV, f"set {KEY_ENV} to a file in a folder of yours"
    else:
        fix = f"delete it to have a new one made, or set {KEY_ENV} to a file in a folder of yours"
    return Diagnostic(where, 0, 0, "B002", (
        f"the cache's signing key cannot be read or made safely (a file of {KEY_BYTES} bytes that only you can read "
        f"is needed): nothing is cached, so every build starts cold; {fix}"), "warning")


@functools.lru_cache(maxsize=None)
def _secret(path: str) -> bytes | None:
    """Return the key at path, made there (0600) if there is none; None if it cannot be read or made."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.{secrets.token_hex(8)}.part"
        try:
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "wb") as out:
                out.write(secrets.token_bytes(KEY_BYTES))
            # Linked into place whole: a build started at the same moment reads this key or its own, never half.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return _read_key(path)
    except OSError:
        return None


def _read_key(path: str) -> bytes | None:
    """Return the key at path if it is a file of its own size that only this user owns and can read."""
    with open(os.open(path, _FILE), "rb") as key:
        info = os.fstat(key.fileno())
        if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077
                or info.st_size != KEY_BYTES):
            return None
        data = key.read(KEY_BYTES + 1)
    return data if len(data) == KEY_BYTES else None


class Store:
    """One kind of entry (``kind`` names its subfolder and file suffix) of one manuscript's cache.

    Entries are written only by ``put`` and kept by ``prune`` only if this build used them.
    A store without a folder, or without the signing key, caches nothing.
    """

    def __init__(self, root: Path | None, kind: str, suffix: str):
        self.key = secret() if root else None
        self.folder = root / kind if root and self.key else None
        self.kind, self.suffix = kind, suffix
        self.used: set[str] = set()
        if self.folder:
            # Followed down to the output folder (the user's to choose); from `.cache` on, nothing is.
            parts = self.folder.parts
            below = max((i for i, name in enumerate(parts) if name == CACHE), default=len(parts) - 2)
            self.above, self.names = Path(*parts[:below]), parts[below:]

    def get(self, key: str, accept: Callable[[bytes, dict], bool] = lambda data, info: True):
        """Return (bytes, info) kept under key, or None when absent, not signed by this tool or not accepted."""
        return self.read(key, lambda data, info: (data, info) if accept(data, info) else None)

    def read(self, key: str, parse: Callable[[bytes, dict], T | None]) -> T | None:
        """Return what parse makes of the entry under key; None when absent, not signed by this tool or unfit (None)."""
        data = info = None
        with self._opened(make=False) as folder:
            if folder is not None:
                data = _read(folder, f"{key}{self.suffix}")
                info = json.loads(_read(folder, f"{key}.json"))
        try:
            mac = str(info.pop("mac", "")) if isinstance(info, dict) else ""
            signed = bool(mac) and hmac.compare_digest(mac, self._mac(key, data, info))
        except (TypeError, ValueError):
            signed = False
        value = parse(data, info) if signed else None
        if value is None:
            return None  # laid out again, and replaced by put
        self.used.add(key)
        return value

    def put(self, key: str, data: bytes, **info) -> None:
        """Keep an entry with what describes it, signed; a cache that cannot be written is no error."""
        if self.folder is None:
            return
        info = json.loads(json.dumps(info))  # as get will read it back
        info["mac"] = self._mac(key, data, info)
        with self._opened(make=True) as folder:
            if folder is not None:
                _write(folder, f"{key}{self.suffix}", data)
                _write(folder, f"{key}.json", json.dumps(info).encode())
                self.used.add(key)

    def prune(self) -> None:
        """Forget this manuscript's entries that this build did not use, so its cache never outgrows it."""
        with self._opened(make=False) as folder:
            if folder is not None:
                for name in os.listdir(folder):
                    if Path(name).stem not in self.used:
                        with contextlib.suppress(OSError):
                            os.unlink(name, dir_fd=folder)  # a link goes, never what it points to

    def _mac(self, key: str, data: bytes, info: dict) -> str:
        signed = json.dumps([self.kind, key, hashlib.sha256(data).hexdigest(), info], sort_keys=True)
        return hmac.new(self.key, signed.encode(), hashlib.sha256).hexdigest()

    @contextlib.contextmanager
    def _opened(self, make: bool):
        """Yield a descriptor of this store's folder (None where there is none to use); what fails inside is no error.

        A cache that cannot be read is empty; one that cannot be written (read-only, full) is not written.
        """
        try:
            fd = self._open(make)
        except OSError:
            fd = None
        try:
            yield fd
        except (OSError, ValueError, RecursionError):
            pass
        finally:
            if fd is not None:
                os.close(fd)

    def _open(self, make: bool) -> int | None:
        """Return a descriptor of this store's folder, reached without following a link below the output folder."""
        if self.folder is None:
            return None
        if make:
            self.above.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.above, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name in self.names:
                inner = _descend(fd, name, make)
                os.close(fd)
                fd = inner
                if fd is None:
                    return None
        except BaseException:
            if fd is not None:
                os.close(fd)
            raise
        return fd


def _descend(parent: int, name: str, make: bool) -> int | None:
    """Return a descriptor of the folder name in parent, made if asked; a link or file there is replaced."""
    try:
        return os.open(name, _FOLDER, dir_fd=parent)
    except FileNotFoundError:
        if not make:
            return None
    except OSError as exc:
        if not make or exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        os.unlink(name, dir_fd=parent)  # the link itself, not what it points to
    with contextlib.suppress(OSError):
        os.mkdir(name, 0o755, dir_fd=parent)
    return os.open(name, _FOLDER, dir_fd=parent)


def _read(folder: int, name: str) -> bytes:
    """Return the bytes of a regular file in folder, not following a link."""
    with open(os.open(name, _FILE, dir_fd=folder), "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a file", name)
        return file.read()


def _write(folder: int, name: str, data: bytes) -> None:
    """Write a file in folder whole, beside it first, then in place (replacing a link, never following it)."""
    tmp = f".{name}.{secrets.token_hex(8)}.part"
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with open(os.open(tmp, flags, 0o644, dir_fd=folder), "wb") as out:
            out.write(data)
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
