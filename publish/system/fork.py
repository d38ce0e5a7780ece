"""Share a list of jobs with a forked copy of this process, so a second core draws half of a long chapter.

A process may fork safely only while no other thread runs in it: a thread the child lacks could hold
a lock of a C library (Pango, fontconfig) that nobody would release. So this forks only then, on
Linux. A PDF worker (pdf/workers.py, spawned) runs no thread of its own, and it holds a chapter laid
out that only a copy of itself can draw: WeasyPrint's pages cannot be sent to another process. The build
forks when it lays a chapter out itself with no thread running (`--jobs 1` never does). The child
draws the later half of the jobs while this process draws the first; the bytes are the same either way,
since each job draws its own pages from the same laid-out state.
"""
from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import Callable, NoReturn

import psutil

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
# Seconds over which the build's processes are watched for one keeping a core busy, and how many looks.
_LOOK = 0.1
_LOOKS = 5
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process receives when its parent dies


def may_fork(build: int) -> bool:
    """Say whether this process may fork a copy of itself to share work: on Linux, no thread but this one, a
    core that no process of the build (the process `build` and all under it) keeps busy, and room for the
    copy in the build's memory."""
    if sys.platform != "linux" or threading.active_count() != 1:
        return False
    try:
        top = psutil.Process(build)
        tree = [top, *top.children(recursive=True)]
        taken = sum(p.memory_full_info().pss for p in tree)
        own = psutil.Process().memory_full_info().uss
        # Runnable (state R) most of the time looked: busy, whatever share of a core the machine gives it.
        others = [p for p in tree if p.pid != os.getpid()]
        running = [0] * len(others)
        for _ in range(_LOOKS):
            time.sleep(_LOOK / _LOOKS)
            running = [n + (p.status() == psutil.STATUS_RUNNING) for n, p in zip(running, others)]
        busy = sum(n * 2 > _LOOKS for n in running)
    except psutil.Error:
        return False  # a process of the build came or went while it was counted: share nothing this time
    # Where every core is busy (another worker laying out its chapter), a copy only adds its cost.
    return busy + 2 <= len(os.sched_getaffinity(0)) and taken + COPIED * own <= BUDGET


def shared(jobs: list[Callable[[], bytes]], weights: list[int], progress: logging.Logger, build: int,
           patience: float) -> list[bytes]:
    """Return each job's result, the later half of the work done by a forked child where this process may fork.

    progress: the logger whose records tell the build this process is making progress; the child's are
    passed on to it here, so a worker waiting for its child is not taken for stuck. build: the build's
    own process, whose memory and that of all its processes is kept within BUDGET. patience: the seconds
    the child may go without a word (a result, its progress) before it is taken for stuck.
    """
    total = sum(weights)
    if len(jobs) < 2 or total < LEAST or not may_fork(build):
        return [job() for job in jobs]
    cut, running = len(jobs) - 1, 0
    for index, weight in enumerate(weights):
        running += weight
        if running * 2 >= total:
            cut = max(1, min(index + 1, len(jobs) - 1))
            break
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
        ours.close()
        theirs.close()
        return [job() for job in jobs]
    if child == 0:
        ours.close()
        _child(jobs[cut:], theirs, progress, parent)
    gc.unfreeze()
    theirs.close()
    results: dict[int, bytes] = {}
    try:
        mine = []
        for job in jobs[:cut]:
            mine.append(job())
            _drain(ours, results, progress, wait=False)
        while len(results) < len(jobs) - cut and ours.poll(patience) and _drain(ours, results, progress, wait=True):
            pass
    finally:
        ours.close()
        if len(results) < len(jobs) - cut:
            os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    # A child that failed (a job raised, or it was killed) leaves its share to this process, which
    # meets the same error, if any, where it is reported as usual.
    return mine + [results[i] if i in results else job() for i, job in enumerate(jobs[cut:])]


def _drain(conn, results: dict[int, bytes], progress: logging.Logger, wait: bool) -> bool:
    """Take in what the child sent (results, progress records); say whether it may send more."""
    while wait or conn.poll():
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return False
        if message[0] == "done":
            results[message[1]] = message[2]
        else:
            progress.log(message[1], message[2])
        wait = False
    return True


def _child(jobs, conn, progress: logging.Logger, parent: int) -> NoReturn:
    """Do the jobs in a forked copy, sending each result as it is made; die with the parent."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)  # the parent died before the line above
        # The parent's handlers would speak on its own pipes; the child's records go to the parent instead.
        progress.handlers[:] = [_Forward(conn)]
        for index, job in enumerate(jobs):
            conn.send(("done", index, job()))
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
