"""Ctrl-C and SIGTERM always win: the build stops at once, and no output is replaced after them.

A signal is remembered as well as raised, because code the build calls may swallow the exception
(WeasyPrint's SVG drawing catches BaseException); outputs are moved into place only after
``check()``. Child processes the build runs (pandoc) are stopped with it.
"""
from __future__ import annotations

import contextlib
import signal
import subprocess
import threading

_state = {"signalled": False}
_children: set[subprocess.Popen] = set()
_lock = threading.Lock()


def _handler(signum, frame):
    _state["signalled"] = True
    stop_children()
    raise KeyboardInterrupt


@contextlib.contextmanager
def handled():
    """Turn SIGINT and SIGTERM into KeyboardInterrupt for the duration, remembering that they came."""
    _state["signalled"] = False
    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _state["signalled"] = False  # answered: later work in this process is not interrupted by it


def check() -> None:
    """Raise KeyboardInterrupt if a signal came, even if something caught the first one."""
    if _state["signalled"]:
        raise KeyboardInterrupt


def run(command: list[str], data: bytes, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run a command on data like subprocess.run, stopping it at once if the build is interrupted."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with _lock:
        _children.add(process)
    try:
        out, err = process.communicate(data, timeout=timeout)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    finally:
        with _lock:
            _children.discard(process)
    check()
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def stop_children() -> None:
    """Kill the child processes still running."""
    with _lock:
        running = list(_children)
    for process in running:
        with contextlib.suppress(OSError):
            process.kill()
