"""Share a list of jobs with a forked copy of this process, so a second core draws half of a long chapter.

A process may fork safely only while no other thread runs in it: a thread the child lacks could hold
a lock of a C library (Pango, fontconfig) that nobody would release. So this forks only then, on
Linux. A PDF worker (pdf/workers.py, spawned) runs no thread of its own, and it holds a chapter laid
out that only a copy of itself can draw: WeasyPrint's pages cannot be sent to another process. The build
forks when it lays a chapter out itself with no thread running (`--jobs 1` never does). Each process
draws the next piece not yet taken, so both end together; the bytes are the same either way, since each
job draws its own pages from the same laid-out state.

A copy also tries a part's tables alone (pdf/tables.py) while its parent lays the part out on the bet that
they all fit (beside): only the verdict, which way to set each table, comes back.
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
from typing import Callable, NoReturn, TypeVar

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
T = TypeVar("T")
U = TypeVar("U")


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

    def theirs(send):
        while (index := _take(taking)) is not None:
            send(index, jobs[index]())

    copy = _Copy.fork(theirs, progress)
    if copy is None:
        os.close(taking)
        return [job() for job in jobs]
    results: dict[int, bytes] = {}
    with copy:
        try:
            while (index := _take(taking)) is not None:
                results[index] = jobs[index]()
                copy.hear(None)
            while copy.alive and len(results) + len(copy.results) < len(jobs):
                copy.hear(patience)
        finally:
            os.close(taking)
    results.update(copy.results)
    # A child that failed (a job raised, or it was killed) leaves what it took to this process, which
    # meets the same error, if any, where it is reported as usual.
    return [results[index] if index in results else job() for index, job in enumerate(jobs)]


def beside(job: Callable[[], T], own: Callable[[], U], lost: Callable[[T], bool], progress: logging.Logger,
           build: int, patience: float) -> tuple[T, U | None]:
    """Return job's result, and own's where it was done beside job (else None: the caller does it, if it must).

    Where this process may fork, a copy does job while this one does own, on the bet that job's result will
    not make own vain (lost): once it comes saying so (heard at each record logged on progress, which own
    makes as it goes), own is abandoned. Else job is done here, and own is not. A copy that fails, is killed
    or says nothing for patience seconds leaves job to this process, which meets its error, if any, here;
    own failing leaves it undone, its error met when the caller does it again, after job's as in turn.
    progress and build: as for shared.
    """
    if not may_fork(build) or (copy := _Copy.fork(lambda send: send(0, job()), progress)) is None:
        return job(), None
    done = None
    with copy:
        watch = _Watch(copy, lost)
        progress.addHandler(watch)
        try:
            done = own()
        except Exception:  # (_Lost among them) the caller redoes it, if it must, and meets its error then
            pass
        finally:
            progress.removeHandler(watch)
        while copy.alive and not copy.results:
            copy.hear(patience)
    result = copy.results[0] if copy.results else job()
    return result, None if lost(result) else done


class _Copy:
    """A forked copy of this process at some work, its results and progress records heard here."""

    @classmethod
    def fork(cls, work: Callable[[Callable[[int, object], None]], None], progress: logging.Logger) -> _Copy | None:
        """Start a copy doing work, which hands each result to the function it is given; None if none can be made."""
        import multiprocessing  # here, as psutil in may_fork: most work is done without a copy

        ours, theirs = multiprocessing.Pipe(duplex=False)
        parent = os.getpid()
        # A bare fork: multiprocessing lets no daemon process (a worker) start one.
        try:
            child = os.fork()
        except OSError:  # no memory or process left for a copy: this process does it all, as it would alone
            for end in (ours, theirs):
                end.close()
            return None
        if child == 0:
            ours.close()
            _child(work, theirs, progress, parent)
        theirs.close()
        return cls(child, ours, progress)

    def __init__(self, child: int, conn, progress: logging.Logger):
        self.child, self.conn, self.progress = child, conn, progress
        self.results: dict[int, object] = {}
        self.alive = True  # until the child is gone, or silent past the patience it was given
        # A thread takes in all the child sends as it comes, so the child never waits for this process to be
        # between two jobs to hand over a result; what it sent is dealt with here, in this thread.
        # Waited on for a length of time: never by a lock's timeout, which a clock set ahead stretches.
        self.inbox = Inbox()
        self.reader = threading.Thread(target=_read, args=(conn, self.inbox), daemon=True)
        self.reader.start()

    def hear(self, wait: float | None, forward: bool = True) -> None:
        """Take what the child sent (results, progress records passed on unless not forward), waiting up to
        `wait` seconds for a first message if given; it is no longer alive once gone, or silent that long."""
        messages = self.inbox.take(wait or 0)
        if not messages and wait is not None:
            self.alive = False
        for message in messages:
            if message is None:
                self.alive = False
            elif message[0] == "done":
                self.results[message[1]] = message[2]
            elif forward:
                self.progress.log(message[1], message[2])

    def __enter__(self) -> _Copy:
        return self

    def __exit__(self, *exc) -> None:
        # Its work is done, or left to this process: a child still at it has nothing more to give.
        os.kill(self.child, signal.SIGKILL)
        os.waitpid(self.child, 0)
        self.reader.join()  # it ends with the child's end of the pipe
        self.conn.close()
        self.inbox.close()


class _Lost(Exception):
    """Abandons the work a copy's result made vain."""


class _Watch(logging.Handler):
    """Abandon this process's work (raise _Lost in it) as soon as the copy's result says it is vain."""

    def __init__(self, copy: _Copy, lost: Callable[[object], bool]):
        super().__init__()
        self.copy, self.lost = copy, lost

    def emit(self, record):
        # The child's progress records are not passed on: this process makes progress of its own.
        self.copy.hear(None, forward=False)
        if self.copy.results and self.lost(self.copy.results[0]):
            raise _Lost


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


def _child(work, conn, progress: logging.Logger, parent: int) -> NoReturn:
    """Do the work in a forked copy, sending each result as it is made; die with the parent."""
    try:
        # Frozen, what the parent holds (a laid-out chapter) is never walked by the child's garbage collector,
        # which would copy every page of memory it reads; the child frees nothing of it anyway. Frozen here, not
        # in the parent before the fork: there, thawing it after would thaw too what the parent froze for itself
        # (a worker its modules, pdf/workers.py), for its own collector to walk again.
        gc.freeze()
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)  # the parent died before the line above
        # The parent's handlers would speak on its own pipes; the child's records go to the parent instead.
        progress.handlers[:] = [_Forward(conn)]
        work(lambda index, result: conn.send(("done", index, result)))
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
