"""Share a list of jobs with a forked copy of this process, so a second core draws half of a long chapter.

A process may fork safely only while no other thread runs in it: a thread the child lacks could hold
a lock of a C library (Pango, fontconfig) that nobody would release. So this forks only then, on
Linux. A PDF worker (pdf/workers.py, spawned) runs no thread of its own, and it holds a chapter laid
out that only a copy of itself can draw: WeasyPrint's pages cannot be sent to another process. The build
forks when it lays a chapter out itself with no thread running (`--jobs 1` never does). Each process
draws the next piece not yet taken, so both end together; the bytes are the same either way, since each
job draws its own pages from the same laid-out state.
"""
from __future__ import annotations

import ctypes
import gc
import logging
import os
import signal
import struct
import sys
import threading
import time
from typing import Callable, NoReturn

from .inbox import Inbox

# The memory the whole build may take (its processes' PSS), the target for a volume of 1,000 pages.
BUDGET = 1_000_000_000
# What a forked copy takes of its own, as a share of its parent's private memory: every page of memory
# either process touches while drawing is copied (Python writes a reference count wherever it reads),
# so about the laid-out half each draws and what both read. Measured: 0.53 (FRUS 1894's long chapter).
COPIED = 0.6
# Weight (pages) below which a second process costs more than it saves: the fork, and the pages the
# child copies as it touches them.
LEAST = 24
# A child forwards at most one progress record in this many seconds: enough for the build's watchdog
# (pdf/workers.py, whose patience is minutes), too few ever to fill the pipe while its parent is busy.
_FORWARD_EVERY = 1.0
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process receives when its parent dies
_TOKEN = struct.Struct("=I")  # a job's number in the pipe the two processes take them from
_PIPE_HOLDS = 65536  # bytes a pipe holds before a write waits (Linux's default, pipe(7)): all numbers go in at once


def may_fork(build: int) -> bool:
    """Say whether this process may fork a copy of itself to share work: on Linux, no thread but this one,
    and room for the copy in the build's memory (the process `build` and all under it)."""
    # Whether another process of the build keeps a core busy is not asked: each process takes the next
    # job when it is free, so a copy that gets less of a core only takes fewer of them.
    if sys.platform != "linux" or threading.active_count() != 1:
        return False
    import psutil  # here: a build that never forks (a short chapter, the extract of one document) need not load it

    try:
        top = psutil.Process(build)
        taken = sum(p.memory_full_info().pss for p in [top, *top.children(recursive=True)])
        own = psutil.Process().memory_full_info().uss
    except psutil.Error:
        return False  # a process of the build came or went while it was counted: share nothing this time
    return taken + COPIED * own <= BUDGET


def shared(jobs: list[Callable[[], bytes]], weights: list[int], progress: logging.Logger, build: int,
           patience: float) -> list[bytes]:
    """Return each job's result, the work shared with a forked child where this process may fork.

    Each process takes the next job not yet taken when it is free, so neither waits while the other has
    work left, however their speeds differ. weights: each job's size, to tell whether sharing is worth a
    copy (LEAST). progress: the logger whose records tell the build this process is making progress; the
    child's are passed on to it here, so a worker waiting for its child is not taken for stuck. build: the
    build's own process, whose memory and that of all its processes is kept within BUDGET. patience: the
    seconds the child may go without a word (a result, its progress) before it is taken for stuck.
    """
    if len(jobs) < 2 or sum(weights) < LEAST or len(jobs) * _TOKEN.size > _PIPE_HOLDS or not may_fork(build):
        return [job() for job in jobs]
    # The jobs' numbers, in a pipe both processes read: a read of one number is atomic, so each job is
    # taken by one process only, and the pipe reads as ended once all are taken (its writing end closed).
    taking, giving = os.pipe()
    os.write(giving, b"".join(_TOKEN.pack(index) for index in range(len(jobs))))
    os.close(giving)
    import multiprocessing  # here, as psutil in may_fork: most chapters are drawn without a copy

    ours, theirs = multiprocessing.Pipe(duplex=False)
    # Frozen, the laid-out pages are never walked by the child's garbage collector, which would copy
    # every page of memory it reads; the child frees nothing of them anyway.
    gc.freeze()
    parent = os.getpid()
    # A bare fork: multiprocessing lets no daemon process (a worker) start one.
    try:
        child = os.fork()
    except OSError:  # no memory or process left for a copy: this process does it all, as it would alone
        gc.unfreeze()
        for end in (ours, theirs):
            end.close()
        os.close(taking)
        return [job() for job in jobs]
    if child == 0:
        ours.close()
        _child(jobs, taking, theirs, progress, parent)
    gc.unfreeze()
    theirs.close()
    # A thread takes in all the child sends as it comes, so the child never waits for this process to be
    # between two jobs to hand over a result; what it sent is dealt with here, in this thread.
    inbox = Inbox()  # waited on for a length of time: never by a lock's timeout, which a clock set ahead stretches
    reader = threading.Thread(target=_read, args=(ours, inbox), daemon=True)
    reader.start()
    results: dict[int, bytes] = {}
    try:
        alive = True
        while (index := _take(taking)) is not None:
            results[index] = jobs[index]()
            alive = _heard(inbox, results, progress, None) and alive
        while alive and len(results) < len(jobs):
            alive = _heard(inbox, results, progress, patience)
    finally:
        os.close(taking)
        if len(results) < len(jobs):
            os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        reader.join()  # it ends with the child's end of the pipe
        ours.close()
        inbox.close()
    # A child that failed (a job raised, or it was killed) leaves what it took to this process, which
    # meets the same error, if any, where it is reported as usual.
    return [results[index] if index in results else job() for index, job in enumerate(jobs)]


def _take(taking: int) -> int | None:
    """Return the number of the next job not yet taken (None once all are)."""
    token = os.read(taking, _TOKEN.size)
    return _TOKEN.unpack(token)[0] if token else None


def _read(conn, inbox: Inbox) -> None:
    """Put each message the child sends in the inbox, then None once it sends no more."""
    while True:
        try:
            inbox.put(conn.recv())
        except (EOFError, OSError):
            inbox.put(None)
            return


def _heard(inbox: Inbox, results: dict[int, bytes], progress: logging.Logger, wait: float | None) -> bool:
    """Deal with what the child sent (results, progress records), waiting up to `wait` seconds for a first
    message if given; say whether it may send more (not once it is gone, or silent for `wait` seconds)."""
    messages = inbox.take(wait or 0)
    if not messages:
        return wait is None
    for message in messages:
        if message is None:
            return False
        if message[0] == "done":
            results[message[1]] = message[2]
        else:
            progress.log(message[1], message[2])
    return True


def _child(jobs, taking: int, conn, progress: logging.Logger, parent: int) -> NoReturn:
    """Do the jobs not yet taken in a forked copy, sending each result as it is made; die with the parent."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)  # the parent died before the line above
        # The parent's handlers would speak on its own pipes; the child's records go to the parent instead.
        progress.handlers[:] = [_Forward(conn)]
        while (index := _take(taking)) is not None:
            conn.send(("done", index, jobs[index]()))
    except BaseException:
        os._exit(1)  # quietly: the parent does what is left and reports any error itself
    os._exit(0)  # never the parent's exit handlers, which would remove its temporary files


class _Forward(logging.Handler):
    """Send the parent a progress record, at most one each _FORWARD_EVERY seconds."""

    def __init__(self, conn):
        super().__init__()
        self.conn, self.last = conn, float("-inf")

    def emit(self, record):
        now = time.monotonic()
        if now - self.last >= _FORWARD_EVERY:
            self.last = now
            self.conn.send(("log", record.levelno, record.getMessage()))
