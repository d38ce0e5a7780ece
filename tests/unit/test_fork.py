"""Jobs shared with a forked copy of the process come back in order, the child's failures redone here."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def run(body: str) -> str:
    """Run body in a fresh interpreter (one thread, as a PDF worker is); return what it prints."""
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
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_later_half_of_the_work_is_done_by_a_child_and_comes_back_in_order():
    out = run("""
        jobs = [lambda n=n: f"{n} {os.getpid()}".encode() for n in range(6)]
        got = [r.decode().split() for r in fork.shared(jobs, [10, 10, 10, 10, 10, 10], progress, parent, 60)]
        print([int(n) for n, _ in got] == list(range(6)))
        print(["here" if int(pid) == parent else "child" for _, pid in got])
        """)
    assert out.splitlines() == ["True", str(["here"] * 3 + ["child"] * 3)]


def test_the_split_follows_the_weights():
    out = run("""
        jobs = [lambda: str(os.getpid()).encode() for _ in range(4)]
        drawn = fork.shared(jobs, [30, 1, 2, 30], progress, parent, 60)
        print(["here" if int(r) == parent else "child" for r in drawn])
        """)
    assert out.strip() == str(["here", "here", "here", "child"])


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
        jobs = [lambda: b"a", lambda: b"b", fails]
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
        def slow():
            for step in range(8):
                progress.info(f"step {step} in {os.getpid()}")
                time.sleep(0.4)
            return b"slow"
        print(fork.shared([lambda: b"quick", slow], [30, 30], progress, parent, 60))
        print(len(heard) >= 2, all("in " + str(parent) not in h for h in heard))
        """)
    assert out.splitlines() == [str([b"quick", b"slow"]), "True True"]


def test_a_child_killed_midway_leaves_its_share_to_the_parent():
    out = run("""
        import signal
        def dies():
            if os.getpid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)
            return b"done here"
        print(fork.shared([lambda: b"a", lambda: b"b", dies], [20, 20, 20], progress, parent, 60))
        """)
    assert out.strip() == str([b"a", b"b", b"done here"])


def test_a_child_dies_with_its_parent():
    # A worker the build kills (pdf/workers.py) leaves no copy of itself drawing on.
    out = run("""
        import signal, sys
        child = os.fork()
        if child == 0:  # the worker: its child prints its pid, then waits for ever in its job
            def waits():
                print(os.getpid(), flush=True)
                time.sleep(600)
                return b""
            fork.shared([lambda: time.sleep(600) or b"", waits], [30, 30], progress, parent, 60)
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
        jobs = [lambda: str(os.getpid()).encode() for _ in range(4)]
        print({int(r) == parent for r in fork.shared(jobs, [20] * 4, progress, parent, 60)})
        fork.BUDGET = 1_000_000  # this interpreter alone takes more than a megabyte
        print({int(r) == parent for r in fork.shared(jobs, [20] * 4, progress, parent, 60)})
        """)
    assert out.splitlines() == ["{False, True}", "{True}"]


def test_no_copy_is_made_where_every_core_is_busy_with_the_build():
    # A copy drawing beside another worker laying out its chapter would only add its cost.
    out = run("""
        import subprocess, sys
        jobs = [lambda: str(os.getpid()).encode() for _ in range(4)]
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(len(os.sched_getaffinity(0)) - 1)]
        time.sleep(0.5)
        try:
            print({int(r) == parent for r in fork.shared(jobs, [20] * 4, progress, parent, 60)})
        finally:
            for process in busy:
                process.kill()
                process.wait()
        print({int(r) == parent for r in fork.shared(jobs, [20] * 4, progress, parent, 60)})
        """)
    assert out.splitlines() == ["{True}", "{False, True}"]


def test_a_child_silent_past_its_patience_is_stopped_and_its_share_done_here():
    # The build's own process has no watchdog over it: a copy that stops answering must not hold it for ever.
    out = run("""
        def stalls():
            if os.getpid() != parent:
                time.sleep(600)
            return b"done here"
        start = time.monotonic()
        print(fork.shared([lambda: b"a", stalls], [30, 30], progress, parent, 2))
        print(time.monotonic() - start < 30)
        """)
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
