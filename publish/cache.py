"""The build cache: pandoc's HTML and laid-out PDF parts, by the hash of everything that decides them.

Each manuscript (by its id) has a folder of its own under ``<out>/.cache``, so building one book never
evicts another's work. A cache may come from elsewhere (a shared folder, a repository), so nothing
read back is trusted: an entry whose bytes do not match the digest written beside it is a miss, and
callers re-check what an entry may hold (see ``Store.get``'s ``accept``).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from .errors import PublishError
from .fsutil import atomic_output

CACHE = ".cache"


def folder(out: Path, book_id: str) -> Path:
    """Return the cache folder of one manuscript in an output folder."""
    return out / CACHE / book_id


def digest(*parts) -> str:
    """Return the hash that addresses an entry: of every value that decides it, in order."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


class Store:
    """One kind of entry (``kind`` names its subfolder and file suffix) of one manuscript's cache.

    Entries are written only by ``put`` and kept by ``prune`` only if this build used them.
    A store without a folder caches nothing.
    """

    def __init__(self, root: Path | None, kind: str, suffix: str):
        self.folder = root / kind if root else None
        self.suffix = suffix
        self.used: set[str] = set()

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}{self.suffix}", self.folder / f"{key}.json"

    def get(self, key: str, accept: Callable[[bytes, dict], bool] = lambda data, info: True):
        """Return (bytes, info) kept under key, or None when absent, damaged or not accepted."""
        if self.folder is None:
            return None
        data_path, info_path = self._paths(key)
        try:
            data = data_path.read_bytes()
            info = json.loads(info_path.read_text(encoding="utf-8"))
            intact = isinstance(info, dict) and info.get("sha256") == hashlib.sha256(data).hexdigest()
        except (OSError, ValueError):
            return None
        if not intact or not accept(data, info):
            return None  # laid out again, and replaced by put
        self.used.add(key)
        return data, info

    def put(self, key: str, data: bytes, **info) -> None:
        """Keep an entry with what describes it; a cache that cannot be written is no error."""
        if self.folder is None:
            return
        data_path, info_path = self._paths(key)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_output(data_path) as tmp:
                tmp.write_bytes(data)
            with atomic_output(info_path) as tmp:
                info["sha256"] = hashlib.sha256(data).hexdigest()
                tmp.write_text(json.dumps(info), encoding="utf-8")
        except (OSError, PublishError):
            return
        self.used.add(key)

    def prune(self) -> None:
        """Forget this manuscript's entries that this build did not use, so its cache never outgrows it."""
        if self.folder is None or not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.stem not in self.used:
                path.unlink(missing_ok=True)
