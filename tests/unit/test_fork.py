"""Jobs shared with a forked copy of the process come back in order, the child's failures redone here.

Each process takes the next job not yet taken, so which does what depends on time: a job that must fall
to the child is put after jobs that keep the parent busy (they sleep in the parent only).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

from conftest import require

ROOT = Path(__file__).resolve().parents[2]


def run(body: str, clock: list[str] = ()) -> str:
    """Run body in a fresh interpreter (one thread, as a PDF worker is), under clock (a command) if given;
    return what it prints."""
    code = textwrap.dedent("""
        import logging, os, time
        from publish.system import fork
        progress = logging.getLogger("test.progress")
        progress.setLevel(logging.INFO)
        heard = []
        class Heard(logging.Handler):
            def emit(self, record):
                heard.append(record.getMessage())
        progress.addHandler(Heard())
        parent = os.getpid()
        """) + textwrap.dedent(body)
    done = subprocess.run([*clock, sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_work_is_shared_with_a_child_and_comes_back_in_order():
    out = run("""
        def job(n):
            time.sleep(0.2)
            return f"{n} {os.getpid()}".encode()
        jobs = [lambda n=n: job(n) for n in range(6)]
        got = [r.decode().split() for r in fork.shared(jobs, [10] * 6, progress, parent, 60)]
        print([int(n) for n, _ in got] == list(range(6)))
        print(sorted({"here" if int(pid) == parent else "child" for _, pid in got}))
        """)
    assert out.splitlines() == ["True", str(["child", "here"])]


def test_the_faster_process_takes_more_of_the_work_and_neither_waits_on_the_other():
    # A copy draws slower than its parent (each page of memory it touches is copied), or faster: each takes
    # the next job when it is free. And it hands a result over at once, not when the parent is between jobs.
    out = run("""
        def job():  # a result larger than a pipe holds, as a drawn piece is
            time.sleep(3 if os.getpid() == parent else 0.05)
            return str(os.getpid()).encode().ljust(1_000_000)
        start = time.monotonic()
        drawn = fork.shared([job] * 12, [10] * 12, progress, parent, 60)
        print(sum(int(r) == parent for r in drawn) <= 2, time.monotonic() - start < 6.5)
        """)
    assert out.strip() == "True True"


def test_little_work_or_one_job_is_done_here():
    out = run("""
        jobs = [lambda: str(os.getpid()).encode() for _ in range(3)]
        print({int(r) == parent for r in fork.shared(jobs, [5, 5, 5], progress, parent, 60)})
        print({int(r) == parent for r in fork.shared(jobs[:1], [100], progress, parent, 60)})
        """)
    assert out.splitlines() == ["{True}", "{True}"]


def test_a_process_running_a_second_thread_never_forks():
    out = run("""
        import threading
        stop = threading.Event()
        threading.Thread(target=stop.wait).start()
        jobs = [lambda: str(os.getpid()).encode() for _ in range(4)]
        print({int(r) == parent for r in fork.shared(jobs, [20] * 4, progress, parent, 60)})
        stop.set()
        """)
    assert out.strip() == "{True}"


def test_a_job_that_fails_in_the_child_is_done_again_here_and_its_error_raised_here():
    out = run("""
        def fails():
            if os.getpid() != parent:
                raise RuntimeError("in the child")
            return b"redone here"
        def raises():
            raise ValueError("the same error")
        def busy(result):
            time.sleep(1 if os.getpid() == parent else 0)
            return result
        jobs = [lambda: busy(b"a"), lambda: busy(b"b"), fails]
        print(fork.shared(jobs, [20, 20, 20], progress, parent, 60))
        try:
            fork.shared([lambda: b"a", raises], [30, 30], progress, parent, 60)
        except ValueError as exc:
            print("raised here:", exc)
        """)
    assert out.splitlines() == [str([b"a", b"b", b"redone here"]), "raised here: the same error"]


def test_the_childs_progress_reaches_the_parent_while_it_waits():
    # A worker waiting for its child must still be seen making progress by the build (pdf/workers.py).
    out = run("""
        def job(result):
            if os.getpid() == parent:
                time.sleep(0.3)  # quietly
            else:
                for step in range(8):
                    progress.info(f"step {step} in {os.getpid()}")
                    time.sleep(0.4)
            return result
        jobs = [lambda: job(b"a"), lambda: job(b"b"), lambda: job(b"c")]
        print(fork.shared(jobs, [30] * 3, progress, parent, 60))
        print(len(heard) >= 2, all("in " + str(parent) not in h for h in heard))
        """)
    assert out.splitlines() == [str([b"a", b"b", b"c"]), "True True"]


def test_a_child_killed_midway_leaves_its_share_to_the_parent():
    out = run("""
        import signal
        def busy(result):
            time.sleep(1 if os.getpid() == parent else 0)
            return result
        def dies():
            if os.getpid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)
            return b"done here"
        print(fork.shared([lambda: busy(b"a"), lambda: busy(b"b"), dies], [20, 20, 20], progress, parent, 60))
        """)
    assert out.strip() == str([b"a", b"b", b"done here"])


def test_a_child_dies_with_its_parent():
    # A worker the build kills (pdf/workers.py) leaves no copy of itself drawing on.
    out = run("""
        import signal, sys
        child = os.fork()
        if child == 0:  # the worker: its child prints its pid, then waits for ever in its job
            worker = os.getpid()
            def waits():
                if os.getpid() != worker:
                    print(os.getpid(), flush=True)
                time.sleep(600)
                return b""
            fork.shared([waits, waits], [30, 30], progress, worker, 60)
            os._exit(0)
        time.sleep(3)
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        """)
    grandchild = int(out.split()[0])
    for _ in range(50):
        try:
            if psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE:
                return  # dead, and not yet reaped by whoever adopted it
        except psutil.NoSuchProcess:
            return
        time.sleep(0.1)
    raise AssertionError("the worker's child outlived it")


def test_no_copy_is_made_where_it_would_take_the_build_past_its_memory():
    out = run("""
        jobs = [lambda: time.sleep(0.2) or str(os.getpid()).encode() for _ in range(4)]
        print({int(r) == parent for r in fork.shared(jobs, [20] * 4, progress, parent, 60)})
        fork.BUDGET = 1_000_000  # this interpreter alone takes more than a megabyte
        print({int(r) == parent for r in fork.shared(jobs, [20] * 4, progress, parent, 60)})
        """)
    assert out.splitlines() == ["{False, True}", "{True}"]


def test_a_child_silent_past_its_patience_is_stopped_and_its_share_done_here():
    # The build's own process has no watchdog over it: a copy that stops answering must not hold it for ever,
    # nor under a clock set ahead, which stretches a lock's timed wait to weeks (CI runs the suite so).
    require([("faketime", shutil.which("faketime"))])
    out = run("""
        def stalls():
            if os.getpid() != parent:
                time.sleep(600)
            return b"done here"
        start = time.monotonic()
        print(fork.shared([lambda: time.sleep(1 if os.getpid() == parent else 0) or b"a", stalls], [30, 30],
                          progress, parent, 2))
        print(time.monotonic() - start < 30)
        """, ["faketime", "-f", "+45d"])
    assert out.splitlines() == [str([b"a", b"done here"]), "True"]


def test_a_fork_the_system_refuses_leaves_all_the_work_here():
    out = run("""
        def refused():
            raise OSError(12, "Cannot allocate memory")
        os.fork = refused
        jobs = [lambda: str(os.getpid()).encode() for _ in range(4)]
        print({int(r) == parent for r in fork.shared(jobs, [20] * 4, progress, parent, 60)})
        """)
    assert out.strip() == "{True}"
