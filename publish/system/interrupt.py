"""Ctrl-C and SIGTERM always win: the build stops at once, and no output is replaced after them.

A signal is remembered as well as raised, because code the build calls may swallow the exception
(WeasyPrint's SVG drawing catches BaseException); outputs are moved into place only after
``check()``. Child processes the build runs (pandoc) are stopped with it. ``publish watch`` stops a
build the same way when a source is saved while it runs (``cancel()``), raising ``Restart`` instead.
"""
from __future__ import annotations

import contextlib
import signal
import subprocess
import threading

# "signalled": the exception a signal raised (KeyboardInterrupt, or Restart), else None;
# "cancellable": whether the main thread is in a build that cancel() may stop.
_state: dict = {"signalled": None, "cancellable": False}
_children: set[subprocess.Popen] = set()
_lock = threading.RLock()  # taken by the signal handler too, which may run while the main thread holds it
# What cancel() sends the main thread: only there can a signal's handler raise in the build.
RESTART = signal.SIGUSR1


class Restart(KeyboardInterrupt):
    """A build stopped to begin again on newer sources; cleans up as an interrupt does."""


# How soon to look again whether an interrupt put off inside Python's import machinery may be raised.
_AGAIN = 0.01


def _handler(signum, frame):
    with _lock:
        _state["signalled"] = KeyboardInterrupt  # Ctrl-C wins over a restart under way
    stop_children()
    _raise(KeyboardInterrupt, frame)


def _restart(signum, frame):
    # Sent by cancel(); by the time it is handled the build may be over, and nothing is raised.
    if _state["cancellable"] and _state["signalled"] is Restart:
        _raise(Restart, frame)


def _again(signum, frame):
    if _state["signalled"] is KeyboardInterrupt or (_state["cancellable"] and _state["signalled"] is Restart):
        _raise(_state["signalled"], frame)


def _raise(exception: type[KeyboardInterrupt], frame) -> None:
    """Raise exception where the main thread stands, unless that is inside Python's import machinery: then soon after.

    importlib takes and gives back its locks in Python code that an exception can cut in two, leaving a lock
    taken for good; a thread importing beside the main one (build._import_writers) then waits on it forever,
    and the process never ends. Raised in the module being imported, the exception leaves importlib's locks right.
    """
    if frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        signal.setitimer(signal.ITIMER_REAL, _AGAIN)
        return
    raise exception


@contextlib.contextmanager
def _put_off():
    """Let an interrupt that came inside Python's import machinery be raised once out of it, for the duration."""
    previous = signal.signal(signal.SIGALRM, _again)
    try:
        yield
    finally:
        if previous is not _again:  # the outermost: an interrupt still put off is answered by the caller's end
            signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def handled():
    """Turn SIGINT and SIGTERM into KeyboardInterrupt for the duration, remembering that they came."""
    _state["signalled"] = None
    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _put_off():
            yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _state["signalled"] = None  # answered: later work in this process is not interrupted by it


@contextlib.contextmanager
def restartable():
    """Let cancel() stop builds run in the main thread inside cancellable(), for the duration."""
    previous = signal.signal(RESTART, _restart)
    try:
        with _put_off():
            yield
    finally:
        signal.signal(RESTART, previous)


@contextlib.contextmanager
def cancellable():
    """Run a build that cancel() may stop with Restart; a cancel that comes too late to stop it is forgotten."""
    with _lock:
        # One left by a Restart raised as the last build ended, before it was forgotten: none stops this one.
        if _state["signalled"] is Restart:
            _state["signalled"] = None
        _state["cancellable"] = True
    try:
        yield
    finally:
        with _lock:
            _state["cancellable"] = False
            if _state["signalled"] is Restart:
                _state["signalled"] = None


def cancel() -> None:
    """Stop the build under way in the main thread (if one is) as an interrupt would, with Restart."""
    with _lock:
        if not _state["cancellable"] or _state["signalled"]:
            return
        _state["signalled"] = Restart
        # Sent under the lock: the build cannot end, and its handler be put back, in between.
        signal.pthread_kill(threading.main_thread().ident, RESTART)
    stop_children()


def check() -> None:
    """Raise KeyboardInterrupt (or Restart) if a signal came, even if something caught the first one."""
    if _state["signalled"]:
        raise _state["signalled"]


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
