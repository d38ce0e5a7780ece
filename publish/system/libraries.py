"""The C libraries WeasyPrint loads, found by the dynamic loader without running a program for each name tried."""
from __future__ import annotations

import contextlib
import ctypes.util
import sys


@contextlib.contextmanager
def loaded_by_name():
    """Within, on Linux, let cffi load a C library only by the file name its caller gives, as the loader finds it.

    WeasyPrint tries each library under its Windows and macOS names first (libpango-1.0-0, pango-1.0-0,
    pango-1.0), then the Linux one (libpango-1.0.so.0). For each name it does not load at once, cffi asks
    ctypes.util.find_library, which on Linux runs ldconfig, then the C compiler, then the linker: some 50
    programs, a fifth of a second, in every process that imports WeasyPrint (the build and each worker).
    What find_library answers there is a soname, which the loader then opens by that name: the one
    WeasyPrint also gives, so the same library is loaded. Elsewhere (macOS, Windows) nothing changes.
    """
    if not sys.platform.startswith("linux"):
        yield
        return
    before, ctypes.util.find_library = ctypes.util.find_library, _not_searched
    try:
        yield
    finally:
        ctypes.util.find_library = before


def _not_searched(name: str) -> None:
    """Find no library by a bare name (ctypes.util.find_library): the caller's next name is the file's."""
