"""The processes that lay parts of the PDF out in parallel, and the pipe protocol they speak.

Workers start from a fresh interpreter (spawn), never as a fork of the build: forking a process that
has run threads and C libraries (pandoc's threads, Pango, fontconfig) can leave a child holding a
lock no thread will release, or crash it. (forkserver would start them faster, but listens on a
Unix socket in $TMPDIR, which fails where that path is long.) A worker, which runs no thread, may
fork a copy of itself to draw half of a long chapter (system/fork.py).

The build never waits on a pipe, whatever the size of a message (a chapter's HTML one way, its
drawn pages the other): for each worker, a thread of the build reads all the worker sends as it
comes, and another writes the build's orders. A worker may wait for the build to read, which it
always does, and reads its next order once its answer is written. A worker that stops, or makes no
progress for PUBLISH_WORKER_TIMEOUT seconds, gives its parts back to the build, which lays them out
itself.
"""
from __future__ import annotations

import gc
import logging
import os
import queue
import signal
import tempfile
import threading
import time
import traceback
from pathlib import Path

from ..book.errors import PublishError, SettingsError, ToolError
from ..system.inbox import Inbox
from .cache import PdfCache
from .pieces import Chapters
from .typeset import Typesetter

# How often the build looks at its workers while it waits for them, in seconds.
POLL = 0.25
# Seconds a worker with work to do may go without a step of WeasyPrint's (a page laid out, a part
# drawn) or an answer before it is taken for stuck. Drawing a long chapter is one step of some seconds.
TIMEOUT = "PUBLISH_WORKER_TIMEOUT"
DEFAULT_TIMEOUT = 180.0
_END = object()  # tells a worker's writing thread that the build speaks to it no more


def timeout() -> float:
    """Return the seconds of no progress after which a worker is taken for stuck (PUBLISH_WORKER_TIMEOUT)."""
    text = os.environ.get(TIMEOUT, "").strip()
    try:
        seconds = float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise SettingsError(f"{TIMEOUT} must be a number of seconds above 0, not '{text}'")
    return seconds


class Worker:
    """A process laying out and drawing parts, with the build's two threads on its pipe; it may hold several parts."""

    def __init__(self, context, inbox: Inbox, styles: Path, folder: Path, style: str, scratch: Path,
                 cache: PdfCache):
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=_work, args=(theirs, styles, folder, style, scratch, cache),
                                       daemon=True)
        self.process.start()
        theirs.close()
        self.page = 0  # the page it is laying out now
        self.laying: int | None = None  # the part it is laying out
        self.parts: set[int] = set()  # the parts given to it and not yet drawn or dropped
        self.replies = 0  # answers owed
        self.stirred = time.monotonic()  # when it last took a step or answered
        self.stuck: float | None = None  # the seconds it went without progress, once stopped for it
        self.outbox: queue.SimpleQueue = queue.SimpleQueue()
        self.ended = False  # told its work is over
        self.threads = [threading.Thread(target=self._write, daemon=True),
                        threading.Thread(target=self._read, args=(inbox,), daemon=True)]
        for thread in self.threads:
            thread.start()

    def start(self, index: int, html: str, carried: str | None, notes: set[str]) -> None:
        self.laying, self.page = index, 0
        self.parts.add(index)
        self.ask(("layout", index, html, carried, notes))

    def draw(self, index: int, first_folio: int, lower_roman: bool) -> None:
        self.ask(("draw", index, first_folio, lower_roman))

    def skip(self, index: int) -> None:
        """Drop a part it holds laid out (the cache had it after all); no answer comes."""
        self.parts.discard(index)
        self.outbox.put(("skip", index))

    def ask(self, message) -> None:
        if not self.replies:
            self.stirred = time.monotonic()  # idle until now: its time runs from this order
        self.replies += 1
        self.outbox.put(message)

    def _write(self) -> None:
        """Send the build's orders in turn (in a thread: the build goes on while a long one is read)."""
        while (message := self.outbox.get()) is not _END:
            try:
                self.conn.send(message)
            except OSError:
                return  # it stopped: its reading thread tells the build

    def _read(self, inbox: Inbox) -> None:
        """Take in all it sends as it comes: its page count here, answers for the build, then None at its end."""
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                inbox.put((self, None))
                return
            self.stirred = time.monotonic()
            if message[0] == "page":
                self.page = message[1]
            elif message[0] != "step":
                inbox.put((self, message))

    def why(self) -> str:
        """Say why the process stopped, once it has."""
        self.process.join(timeout=5)
        code = self.process.exitcode
        if self.stuck:
            return f"made no progress for {self.stuck:g} s ({TIMEOUT}) and was stopped"
        return f"was killed by signal {-code}" if code and code < 0 else f"stopped (exit {code})"

    def end(self) -> None:
        """Tell the process its work is over: it ends on its own (close() waits for it)."""
        if not self.ended:
            self.ended = True
            self.outbox.put(None)

    def close(self, failed: bool) -> None:
        """Stop the process (at once if the build failed) and the threads on its pipe."""
        if not failed:
            self.end()
            self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()  # SIGTERM would wait for a stopped process to be continued
        self.process.join()
        self.outbox.put(_END)
        for thread in self.threads:
            thread.join()  # both end: the process's end of the pipe is closed
        self.conn.close()


class Workers(list):
    """The worker processes of one build still at work, started when asked to; all are stopped when it ends."""

    def __init__(self, count: int, styles: Path, folder: Path, style: str, scratch: Path, name_of,
                 cache: PdfCache):
        super().__init__()
        self.count = count
        self.name_of = name_of  # part index -> how to name it in an error
        self.settings = (styles, folder, style, scratch, cache)
        self.timeout = timeout()
        self.inbox = Inbox()  # (worker, message) from every worker's reading thread
        self.started = False
        self.gone: list[Worker] = []

    def spawn(self) -> None:
        """Start the workers (none if the build has no more than one process, and never twice)."""
        if self.started or not self.count:
            return
        self.started = True
        import multiprocessing  # here: a build of one part (one process) never starts a worker

        context = multiprocessing.get_context("spawn")
        # A terminal's Ctrl-C reaches every process of the build: the parent alone answers it, and stops
        # the workers. An ignored signal stays ignored across exec, so the workers (and multiprocessing's
        # resource tracker) never see SIGINT, not even while they start up. Blocked meanwhile, a SIGINT
        # that comes is kept for the parent's own handler, not lost.
        main = threading.current_thread() is threading.main_thread()  # where signal handlers may be set
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            self.extend(Worker(context, self.inbox, *self.settings) for _ in range(self.count))
        finally:
            if main:
                signal.signal(signal.SIGINT, handler)
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def __enter__(self):
        return self

    def end(self) -> None:
        """Tell every worker its work is over, all at once: they end side by side, while the build goes on."""
        for worker in self:
            worker.end()

    def __exit__(self, kind, *exc):
        if kind is None:
            self.end()
        for worker in self + self.gone:
            worker.close(failed=kind is not None)
        self.inbox.close()

    def idle(self) -> list[Worker]:
        """Return the workers laying nothing out (they may still have parts to draw)."""
        return [w for w in self if w.laying is None]

    def pages(self) -> int:
        """Return the pages laid out so far of the parts being laid out now."""
        return sum(w.page for w in self if w.laying is not None)

    def messages(self):
        """Yield (worker, answer) for each answer that comes within POLL seconds (perhaps none).

        A worker that stopped, or was stopped for making no progress, yields None once, after all it
        sent, and is no longer one of the workers.
        """
        now = time.monotonic()
        for worker in self:
            if worker.replies and not worker.stuck and now - worker.stirred > self.timeout:
                worker.stuck = self.timeout
                worker.process.kill()  # even a stopped process: its reading thread then sees the pipe close
        for worker, message in self.inbox.take(POLL):
            if message is None:
                self.remove(worker)
                self.gone.append(worker)
                yield worker, None
                continue
            if message[0] == "error":
                raise message[2]
            if message[0] == "crash":
                raise ToolError(f"laying out {self.name_of(message[1])} failed:\n{message[2]}")
            worker.replies -= 1
            if message[0] == "laid":
                worker.laying = None
            else:
                worker.parts.discard(message[1])
            yield worker, message


def _work(conn, styles: Path, folder: Path, style: str, scratch: Path, cache: PdfCache) -> None:
    """Serve one worker's pipe: lay parts out and report their length, draw them when told where they go."""
    # Temporary files (WeasyPrint's fonts) go where the parent removes them.
    tempfile.tempdir = str(scratch)
    # Each step WeasyPrint takes, in a table's trial layout too, tells the build the worker is not stuck.
    logging.getLogger("weasyprint.progress").addHandler(_Steps(conn))
    index = None
    held = {}  # laid-out parts by index, until drawn or found in the cache
    gc.freeze()  # the modules loaded, which stay to the end: out of the collector's full passes
    try:
        # The page count comes by the pipe, not in shared memory, for which multiprocessing would make a
        # temporary folder of its own, left in $TMPDIR by a killed build.
        chapters = Chapters(Typesetter(styles, folder, style, on_page=lambda n: conn.send(("page", n))), cache,
                            build=os.getppid(), patience=timeout())
        while (message := conn.recv()) is not None:
            order, index = message[0], message[1]
            if order == "layout":
                held[index] = chapters.layout(*message[2:5])
                conn.send(("laid", index, held[index].pages))
            elif order == "draw":
                conn.send(("done", index, chapters.draw(held.pop(index), *message[2:])))
            else:
                del held[index]
        # The process ends here: Python would first look through all it made for cycles to collect (a
        # tenth of a second or more, which the build waits for), which an ending process need not free.
        gc.freeze()
    except EOFError:
        pass  # the build is over
    except PublishError as exc:
        conn.send(("error", index, exc))
    except Exception:
        conn.send(("crash", index, traceback.format_exc()))


class _Steps(logging.Handler):
    """Tell the build of each step WeasyPrint takes."""

    def __init__(self, conn):
        super().__init__(logging.INFO)
        self.conn = conn

    def emit(self, record):
        self.conn.send(("step",))
