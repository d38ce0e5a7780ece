"""A parallel build always ends: no message size stalls it, a worker lost is replaced by the build itself,
and what a killed build left behind goes with the next build, nothing else."""
from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys

import pytest

from publish import cli
from publish.book.errors import EXIT_SETTINGS
from publish.build import build
from publish.pdf.html import chapter_html
from publish.pdf.workers import TIMEOUT
from publish.system import cache
from publish.system.fsutil import owned

from conftest import ROOT, make_manuscript
from test_faults import book, start, workers_of  # noqa: F401 - book is a fixture

BUILD_TIMEOUT = 300  # seconds: a build that takes longer hangs


def pipe_capacity() -> int:
    """Return the most bytes a worker's pipe (a socket pair) holds unread: more, and its writer waits."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        return ours.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) + theirs.getsockopt(socket.SOL_SOCKET,
                                                                                     socket.SO_RCVBUF)


def test_messages_larger_than_a_pipe_both_ways_at_once_do_not_stall_the_build(tmp_path):
    # Each chapter links to a long URL of random letters: its HTML, sent to a worker, and its drawn pages,
    # sent back (the link's target is in them, and does not compress), each outgrow a pipe. A worker asked
    # to lay out a chapter while it sends the last one back used to wait for the build, which waited for it.
    rng = random.Random(28)
    chapters = {}
    for n in range(1, 7):
        url = "https://history.state.gov/" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=600_000))
        chapters[f"{n}.md"] = f"# Chapter {n}\n\n[Page {n}] The [record]({url}) of the talks.\n"
    folder = make_manuscript(tmp_path / "m", chapters)
    process = start(["pdf", folder, "--out", tmp_path / "two", "--jobs", "2"], tmp_path)
    _, stderr = process.communicate(timeout=BUILD_TIMEOUT)
    assert process.returncode == 0, stderr
    one = build(folder, tmp_path / "one", ("pdf",), jobs=1)
    parallel = (tmp_path / "two" / "test.pdf").read_bytes()
    assert parallel == one.outputs["pdf"].read_bytes()
    capacity = pipe_capacity()
    assert all(len(chapter_html(one.book, i)) > capacity for i in range(len(chapters)))
    # What each worker sent back is kept in the cache: every chapter's drawn pages (whole, or in pieces).
    drawn = cache.folder(tmp_path / "two", "test").rglob("*.pdf")
    assert sum(path.stat().st_size > capacity for path in drawn) == len(chapters)


def test_repeated_parallel_builds_all_end_as_the_one_process_build(tmp_path):
    from synthetic import generate
    folder = generate(tmp_path / "m", 40, chapter_pages=8)
    one = build(folder, tmp_path / "one", ("pdf",), jobs=1).outputs["pdf"].read_bytes()
    for run in range(3):
        process = start(["pdf", folder, "--out", tmp_path / f"run{run}", "--jobs", "2"], tmp_path)
        _, stderr = process.communicate(timeout=BUILD_TIMEOUT)
        assert process.returncode == 0, stderr
        assert next((tmp_path / f"run{run}").glob("*.pdf")).read_bytes() == one, f"run {run}"


def _lost_worker(book, tmp_path, how) -> str:
    """Build with two chapters to lay out and do `how` to a worker mid-way; check that the PDF is the
    one-process build's and that one line names the chapter lost; return what it says befell the worker."""
    folder, out, _ = book
    for name in ("01-chapter.md", "02-chapter.md"):
        (folder / name).write_text((folder / name).read_text() + "\nOne more line.\n")
    process = start(["pdf", folder, "--out", out], tmp_path)
    how(workers_of(process)[0])
    stdout, stderr = process.communicate(timeout=BUILD_TIMEOUT)
    assert process.returncode == 0, stderr
    assert "1 warning(s)" in stdout
    clean = build(folder, tmp_path / "clean", ("pdf",), jobs=1).outputs["pdf"]
    assert next(out.glob("*.pdf")).read_bytes() == clean.read_bytes()
    [line] = stderr.splitlines()
    found = re.fullmatch(r"(?:.*/)?(0[12]-chapter\.md): B001 the PDF worker process laying out '(.+)' (.+); "
                         r"the chapter was laid out again in the build's own process, and the book is the same", line)
    assert found, line
    assert (folder / found[1]).read_text().startswith(f"# {found[2]}\n")
    return found[3]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV], ids=lambda sig: sig.name)
def test_a_worker_that_dies_is_named_and_its_chapter_laid_out_here(book, tmp_path, sig):
    assert _lost_worker(book, tmp_path, lambda worker: worker.send_signal(sig)) == f"was killed by signal {sig.value}"


def test_a_worker_that_hangs_is_stopped_after_the_timeout_and_its_chapter_laid_out_here(book, tmp_path, monkeypatch):
    # A stopped process makes no progress, as one stuck in a loop or a lock does. (The other worker draws
    # its chapter of 15 pages well within the time.)
    monkeypatch.setenv(TIMEOUT, "10")
    befell = _lost_worker(book, tmp_path, lambda worker: worker.send_signal(signal.SIGSTOP))
    assert befell == f"made no progress for 10 s ({TIMEOUT}) and was stopped"


def test_the_build_waits_for_its_workers_a_length_of_time_not_until_a_moment_on_the_clock():
    # A lock's timed wait sleeps until a moment on the clock: under a clock set ahead (faketime, as CI runs
    # this suite) that moment is weeks away, and a build waiting on a stuck worker would never look again.
    code = ("import time; from publish.system.inbox import Inbox; inbox = Inbox(); start = time.monotonic(); "
            "assert inbox.take(0.2) == []; inbox.put(1); assert inbox.take(30) == [1]; "
            "print(round(time.monotonic() - start, 1))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert 0.2 <= float(run.stdout) < 5


def test_a_bad_timeout_is_a_settings_error(tmp_path, monkeypatch, capsys):
    folder = make_manuscript(tmp_path / "m", {"1.md": "# One\n\n[Page 1] Text.\n"})
    monkeypatch.setenv(TIMEOUT, "soon")
    assert cli.main(["pdf", str(folder), "--out", str(tmp_path / "out")]) == EXIT_SETTINGS
    assert capsys.readouterr().err == f"publish: error: {TIMEOUT} must be a number of seconds above 0, not 'soon'\n"


def test_the_next_build_removes_what_a_killed_build_left_and_nothing_else(book, tmp_path):
    folder, out, outputs = book
    tmpdir = tmp_path / "tmpdir"
    for name in ("01-chapter.md", "02-chapter.md"):
        (folder / name).write_text((folder / name).read_text() + "\nOne more line.\n")
    process = start(["all", folder, "--out", out], tmp_path)
    workers_of(process)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    left = [*out.glob(".*.part"), *tmpdir.glob("publish-*")]
    assert {p.parent for p in left} == {out, tmpdir}, left
    # Named alike but not the killed build's: no owner in the name; a process still running (this one);
    # another user's (made by a process that is gone too).
    pdf = next(name for name in outputs if name.endswith(".pdf"))
    alike = [out / f".{pdf}.abcdefgh.part", out / f"{owned(f'.{pdf}.')}abcdefgh.part",
             tmpdir / "publish-notes", tmpdir / f"{owned('publish-')}abcdefgh"]
    for path in alike:
        path.mkdir() if path.parent == tmpdir else path.write_text("keep")
    others = []
    if os.geteuid() == 0:
        for path in left:
            other = path.with_name(path.name[:-len("abcdefgh.part")] + "zzzzzzzz.part") if path.parent == out \
                else path.with_name(path.name[:-len("abcdefgh")] + "zzzzzzzz")
            other.mkdir() if path.is_dir() else other.write_text("keep")
            os.chown(other, 65534, 65534)
            others.append(other)
    again = start(["all", folder, "--out", out], tmp_path)
    _, stderr = again.communicate(timeout=BUILD_TIMEOUT)
    assert again.returncode == 0, stderr
    assert not any(p.exists() for p in left)
    assert all(p.exists() for p in alike + others)
    assert sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(".")) == sorted(outputs)


def test_a_long_chapter_is_drawn_by_its_worker_and_a_copy_of_it_and_is_the_one_process_book(tmp_path):
    # Each worker process logs the forks it makes (Python's audit event), through a sitecustomize that
    # every process of the build imports at its start.
    from synthetic import generate
    # One long chapter and a short one: the short one's worker is idle by the time the long one is drawn
    # (a worker forks only where a core is free).
    folder = generate(tmp_path / "m", 70, chapter_pages=70)
    (folder / "99-afterword.md").write_text("# Afterword\n\nA few words after the record.\n", encoding="utf-8")
    with (folder / "book.yaml").open("a", encoding="utf-8") as listing:
        listing.write("  - 99-afterword.md\n")
    hooks, log = tmp_path / "hooks", tmp_path / "forks.log"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        "import os, sys\n"
        "def _hook(event, args):\n"
        "    if event == 'os.fork':\n"
        f"        with open({str(log)!r}, 'a') as f:\n"
        "            f.write(f'{os.getpid()}\\n')\n"
        "sys.addaudithook(_hook)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(hooks)])}
    process = subprocess.Popen([sys.executable, "-m", "publish", "pdf", str(folder), "--out", str(tmp_path / "two"),
                                "--jobs", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, stderr = process.communicate(timeout=BUILD_TIMEOUT)
    assert process.returncode == 0, stderr
    forks = log.read_text().split()
    # By the long chapter's worker, never by the build itself.
    assert len(forks) == 1 and process.pid not in map(int, forks)
    one = build(folder, tmp_path / "one", ("pdf",), jobs=1)
    assert len(one.book.chapters[0].page_breaks) > 60
    assert next((tmp_path / "two").glob("*.pdf")).read_bytes() == one.outputs["pdf"].read_bytes()
