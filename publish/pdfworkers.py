"""The processes that lay parts of the PDF out in parallel, and the pipe protocol they speak.

Workers start from a fresh interpreter (spawn), never as a fork of the build: forking a process that
has run threads and C libraries (pandoc's threads, Pango, fontconfig) can leave a child holding a
lock no thread will release, or crash it. (forkserver would start them faster, but listens on a
Unix socket in $TMPDIR, which fails where that path is long.)
"""
from __future__ import annotations

import multiprocessing
import signal
import tempfile
import threading
import traceback
from multiprocessing.connection import wait
from pathlib import Path

from . import interrupt
from .errors import PublishError, ToolError
from .pieces import Chapters
from .typeset import Typesetter

# How often the parent looks at the workers' page counters while it waits for them, in seconds.
POLL = 0.25


class Worker:
    """A process laying out and drawing parts, talking over a pipe; it may hold several laid out."""

    def __init__(self, context, styles: Path, folder: Path, style: str, scratch: Path, name_of, cache):
        self.name_of = name_of  # part index -> how to name it in an error
        self.conn, theirs = context.Pipe()
        self.page = context.Value("i", 0, lock=False)  # the page it is laying out now
        self.process = context.Process(target=_work, args=(theirs, self.page, styles, folder, style, scratch, cache),
                                       daemon=True)
        self.process.start()
        theirs.close()
        self.laying: int | None = None  # the part it is laying out
        self.asked: int | None = None  # the part of its last order
        self.replies = 0  # answers owed

    def start(self, index: int, html: str, carried: str | None, notes: set[str]) -> None:
        self.laying = index
        self.ask(("layout", index, html, carried, notes))

    def ask(self, message) -> None:
        self.replies += 1
        self.asked = message[1]
        self.tell(message)

    def tell(self, message) -> None:
        try:
            self.conn.send(message)
        except OSError:
            raise self.died() from None

    def died(self) -> ToolError:
        """Return the error that says this worker stopped, and while doing what."""
        interrupt.check()  # a worker stopped by the same signal as the build
        self.process.join(timeout=5)
        code = self.process.exitcode
        how = f"was killed by signal {-code}" if code and code < 0 else f"stopped (exit {code})"
        return ToolError(f"the PDF worker process laying out {self.name_of(self.asked)} {how}; nothing was "
                         "written. Build again; if it recurs, please report it")


class Workers(list):
    """The worker processes of one build, started when asked to; all are stopped when it ends, at once if it failed."""

    def __init__(self, count: int, styles: Path, folder: Path, style: str, scratch: Path, name_of,
                 cache: tuple[Path | None, str]):
        super().__init__()
        self.count = count
        self.settings = (styles, folder, style, scratch, name_of, cache)

    def spawn(self) -> None:
        """Start the workers (none if the build has no more than one process)."""
        if self or not self.count:
            return
        context = multiprocessing.get_context("spawn")
        # A terminal's Ctrl-C reaches every process of the build: the parent alone answers it, and stops
        # the workers. An ignored signal stays ignored across exec, so the workers (and multiprocessing's
        # resource tracker) never see SIGINT, not even while they start up. Blocked meanwhile, a SIGINT
        # that comes is kept for the parent's own handler, not lost.
        main = threading.current_thread() is threading.main_thread()  # where signal handlers may be set
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            self.extend(Worker(context, *self.settings) for _ in range(self.count))
        finally:
            if main:
                signal.signal(signal.SIGINT, handler)
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def __enter__(self):
        return self

    def __exit__(self, kind, *exc):
        for worker in self:
            if kind is None:
                try:
                    worker.tell(None)
                except (OSError, ValueError):
                    pass  # the worker is gone already
                worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.terminate()
            worker.process.join()

    def idle(self) -> list[Worker]:
        """Return the workers laying nothing out (they may still have parts to draw)."""
        return [w for w in self if w.laying is None]

    def pages(self) -> int:
        """Return the pages laid out so far of the parts being laid out now."""
        return sum(w.page.value for w in self if w.laying is not None)

    def messages(self):
        """Yield (worker, message) for each answer that comes within POLL seconds (perhaps none)."""
        waiting = {w.conn: w for w in self if w.replies}
        for conn in wait(list(waiting), timeout=POLL):
            worker = waiting[conn]
            try:
                message = conn.recv()
            except (EOFError, OSError):
                raise worker.died() from None
            if message[0] == "error":
                raise message[2]
            if message[0] == "crash":
                raise ToolError(f"laying out {worker.name_of(message[1])} failed:\n{message[2]}")
            worker.replies -= 1
            yield worker, message


def _work(conn, page, styles: Path, folder: Path, style: str, scratch: Path, cache: tuple[Path | None, str]) -> None:
    """Serve one worker's pipe: lay parts out and report their length, draw them when told where they go."""
    # Temporary files (WeasyPrint's fonts) go where the parent removes them.
    tempfile.tempdir = str(scratch)
    index = None
    held = {}  # laid-out parts by index, until drawn or found in the cache
    try:
        chapters = Chapters(Typesetter(styles, folder, style, on_page=lambda n: setattr(page, "value", n)), *cache)
        while (message := conn.recv()) is not None:
            order, index = message[0], message[1]
            if order == "layout":
                page.value = 0
                held[index] = chapters.layout(*message[2:5])
                conn.send(("laid", index, held[index].pages))
            elif order == "draw":
                conn.send(("done", index, chapters.draw(held.pop(index), *message[2:])))
            else:
                del held[index]
    except EOFError:
        pass  # the build is over
    except PublishError as exc:
        conn.send(("error", index, exc))
    except Exception:
        conn.send(("crash", index, traceback.format_exc()))
