"""`publish watch`: each save rebuilds both formats as a clean build would, errors keep the last good outputs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from publish import cli
from publish.book.errors import EXIT_INTERRUPTED, EXIT_MANUSCRIPT, ManuscriptError
from publish.build import STYLES, build, load, write
from publish.system import cache, interrupt
from publish.system.inbox import Inbox
from publish.system.progress import Progress
from publish.watch import changed_pages, page_texts

from conftest import ROOT, make_manuscript

# Seconds to wait for a line: a build of a tiny book takes a few, on a machine shared with other tests many more.
PATIENCE = 240

ONE = """\
# One

[Page 1] Opening words of the first chapter.[^a]

[Page 2] The middle of the chapter, with its own words.

[Page 3] The end of the chapter.

[^a]: A note on the first page.
"""
TWO = """\
# Two

[Page 4] The second chapter begins.

[Page 5] And ends.
"""


@pytest.fixture
def manuscript(tmp_path) -> Path:
    return make_manuscript(tmp_path / "m", {"one.md": ONE, "two.md": TWO})


class Watching:
    """`publish watch` running in a session of its own, its lines read as they come."""

    def __init__(self, folder: Path, out: Path, tmp_path: Path, *options: str):
        self.out, self.tmpdir = out, tmp_path / "tmpdir"
        self.tmpdir.mkdir()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "publish", "watch", str(folder), "--out", str(out), *options],
            cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(self.tmpdir)})
        self.inbox = Inbox()  # waited on for a length of time, not until a moment on the clock
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                        for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr))]
        for reader in self.readers:
            reader.start()

    def _read(self, stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))
            self.inbox.put(True)
        self.inbox.put(True)

    def until(self, lines: list[str], start: str, count: int = 1) -> list[str]:
        """Wait until count lines beginning so have come; return every line that has."""
        for _ in range(PATIENCE):
            found = [line for line in lines if line.startswith(start)]
            if len(found) >= count:
                return found
            assert self.process.poll() is None, "\n".join(self.stdout + self.stderr)
            self.inbox.take(1)
        raise AssertionError(f"no line '{start}' in time:\n" + "\n".join(self.stdout + self.stderr))

    def after(self, first: str, then: str) -> None:
        """Wait until a line beginning with then has come after one beginning with first."""
        for _ in range(PATIENCE):
            starts = [line.split(" ")[0] for line in self.stdout]
            if first in starts and then in starts[starts.index(first):]:
                return
            assert self.process.poll() is None, "\n".join(self.stdout + self.stderr)
            self.inbox.take(1)
        raise AssertionError(f"no line '{then}' after '{first}' in time:\n" + "\n".join(self.stdout + self.stderr))

    def built(self, count: int = 1) -> None:
        """Wait for the count-th build to have written both formats."""
        self.until(self.stdout, f"wrote {self.out / 'test.epub'} ", count)

    def stop(self) -> int:
        """Press Ctrl-C (the whole group gets it, as from a terminal); return the exit code."""
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout=PATIENCE)
        for reader in self.readers:
            reader.join()
        self.inbox.close()
        return code


def outputs(out: Path) -> dict[str, bytes]:
    """Return every file in the output folder (not the cache), by name, with its bytes."""
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}


def clean(folder: Path, out: Path) -> dict[str, bytes]:
    """Return the outputs of a clean build of the manuscript as it is now, with no cache."""
    build(folder, out)
    return outputs(out)


def test_a_save_rebuilds_both_formats_as_a_clean_build_and_says_which_pages_changed(manuscript, tmp_path):
    out = tmp_path / "out"
    watching = Watching(manuscript, out, tmp_path)
    try:
        watching.built()
        first = outputs(out)
        one = manuscript / "one.md"
        one.write_text(one.read_text().replace("its own words", "its own remarks"))
        watching.built(2)
        assert watching.until(watching.stdout, "original pages changed") == ["original pages changed: one.md 2"]
        assert watching.until(watching.stdout, "saved") == ["saved: one.md"]
    finally:
        assert watching.stop() == EXIT_INTERRUPTED
    rebuilt = outputs(out)
    assert rebuilt != first
    assert rebuilt == clean(manuscript, tmp_path / "clean")


def test_a_save_with_an_error_keeps_the_last_good_outputs_and_shows_the_error_with_its_line(manuscript, tmp_path):
    out = tmp_path / "out"
    watching = Watching(manuscript, out, tmp_path)
    try:
        watching.built()
        good = outputs(out)
        two = manuscript / "two.md"
        two.write_text(TWO.replace("And ends.", "And ends.[^missing]"))
        assert watching.until(watching.stderr, "publish: 1 error(s)") == [
            "publish: 1 error(s), 0 warning(s); the last good outputs are kept"]
        assert next(line for line in watching.stderr if " N001 " in line).startswith(f"{two}:5:")
        assert outputs(out) == good
        # It goes on watching: the mended text is built, and its pages compared with the last good build's.
        two.write_text(TWO.replace("And ends.", "And so it ends."))
        watching.built(2)
        assert watching.until(watching.stdout, "original pages changed") == ["original pages changed: two.md 5"]
    finally:
        assert watching.stop() == EXIT_INTERRUPTED
    assert outputs(out) == clean(manuscript, tmp_path / "clean")


def test_two_saves_in_quick_succession_give_one_build_of_the_last_text(manuscript, tmp_path):
    out = tmp_path / "out"
    # A debounce far longer than the gap between two writes, however loaded the machine.
    watching = Watching(manuscript, out, tmp_path, "--debounce", "3")
    one, two = manuscript / "one.md", manuscript / "two.md"
    try:
        watching.built()
        one.write_text(ONE.replace("Opening words", "First words"))
        two.write_text(TWO.replace("begins", "opens"))
        watching.built(2)
    finally:
        assert watching.stop() == EXIT_INTERRUPTED
    assert [line for line in watching.stdout if line.startswith("saved")] == ["saved: one.md, two.md"]
    assert [line for line in watching.stdout if line.startswith("original pages")] == [
        "original pages changed: one.md 1; two.md 4"]
    assert outputs(out) == clean(manuscript, tmp_path / "clean")


def test_a_save_during_the_first_build_gives_the_outputs_of_the_saved_text(manuscript, tmp_path):
    out = tmp_path / "out"
    watching = Watching(manuscript, out, tmp_path)
    try:
        watching.until(watching.stdout, "watching")  # the first build begins
        (manuscript / "one.md").write_text(ONE.replace("Opening words", "First words"))
        # Seen during the first build, the save stops it and it begins again; after it, a second build follows.
        watching.after("saved:", "wrote")
        watching.built(2 if not any("building again" in line for line in watching.stdout) else 1)
    finally:
        assert watching.stop() == EXIT_INTERRUPTED
    assert outputs(out) == clean(manuscript, tmp_path / "clean")


def test_ctrl_c_during_a_build_stops_it_with_no_traceback_and_no_temporary_file(manuscript, tmp_path):
    out = tmp_path / "out"
    watching = Watching(manuscript, out, tmp_path)
    watching.built()
    before = outputs(out)
    one = manuscript / "one.md"
    one.write_text(ONE.replace("Opening words", "First words"))
    watching.until(watching.stdout, "saved")
    assert watching.stop() == EXIT_INTERRUPTED
    assert watching.stderr[-1] == "publish: interrupted; earlier outputs are untouched"
    assert not any("Traceback" in line for line in watching.stderr), watching.stderr
    # Each output is the last build's or the new one's, whole; nothing half-written is left anywhere.
    after = outputs(out)
    assert set(after) == set(before) == {"test.pdf", "test.epub"}
    assert after in (before, clean(manuscript, tmp_path / "clean"))
    assert [p.name for p in out.rglob("*.part")] == []
    assert list(watching.tmpdir.iterdir()) == []


class CancelOn(Progress):
    """A progress display that cancels the build (as a save would) when the stage named begins."""

    def __init__(self, name: str):
        self.name = name

    def stage(self, name: str, total=None, unit: str = "") -> None:
        if name == self.name:
            interrupt.cancel()


@pytest.mark.parametrize("stage", ["Reading and checking", "PDF: laying out", "EPUB: writing"])
def test_a_cancelled_build_raises_restart_and_leaves_the_old_outputs_whole(manuscript, tmp_path, stage):
    out = tmp_path / "out"
    build(manuscript, out)
    before = outputs(out)
    (manuscript / "one.md").write_text(ONE.replace("Opening words", "First words"))
    with interrupt.restartable(), pytest.raises(interrupt.Restart), interrupt.cancellable():
        build(manuscript, out, progress=CancelOn(stage))
    assert outputs(out) == before
    assert [p.name for p in out.rglob("*.part")] == []
    # The restart is answered: the next build is not stopped by it.
    with interrupt.restartable(), interrupt.cancellable():
        build(manuscript, out)
    assert outputs(out) == clean(manuscript, tmp_path / "clean")


def test_a_page_is_changed_by_its_own_text_notes_and_markup_not_by_its_neighbours(manuscript):
    def changed(text: str) -> str:
        (manuscript / "one.md").write_text(text)
        book, _ = load(manuscript)
        return changed_pages(before, page_texts(book), book)

    before = page_texts(load(manuscript)[0])
    # The note stands at the end of the file, under page 3, but is read on page 1 where it is referenced.
    assert changed(ONE.replace("A note on", "A note about").replace("The end of", "The *end* of")) == \
        "original pages changed: one.md 1, 3"
    assert changed(ONE.replace("own words.", "own words.\n\nAnother paragraph.")) == "original pages changed: one.md 2"
    # The next chapter's heading comes before its first page's marker: it was on page 3, now on page 2.
    assert changed(ONE.replace("[Page 3] The end of the chapter.\n\n", "")) == \
        "original pages changed: one.md 2; gone: 3"
    assert changed(ONE) == "no original page's text changed"


def test_the_memory_holds_the_last_good_books_chunks_only(manuscript, tmp_path):
    memory: dict = {}
    load(manuscript, out=tmp_path / "out", memory=memory)
    first = dict(memory)
    one = manuscript / "one.md"
    one.write_text(ONE.replace("Opening words", "First words[^missing]"))
    with pytest.raises(ManuscriptError):
        load(manuscript, out=tmp_path / "out", memory=memory)
    one.write_text(ONE.replace("Opening words", "First words"))
    book, _ = load(manuscript, out=tmp_path / "out", memory=memory)
    # two.md's chunks and their HTML are kept; one.md's old ones and those of the text with errors are gone:
    # the memory holds only what one build of the text as it is now leaves there.
    fresh: dict = {}
    load(manuscript, out=tmp_path / "fresh", memory=fresh)
    assert memory.keys() <= fresh.keys()
    assert first.keys() & memory.keys() and first.keys() - memory.keys()
    assert page_texts(book) == page_texts(load(manuscript)[0])


@pytest.mark.parametrize("edits", [
    [("one.md", "its own words", "its own remarks")],
    # A heading whose id the next file's chapter had; then that chapter's heading is given one of its own.
    [("one.md", "[Page 3]", "# Two\n\n[Page 3]"), ("two.md", "# Two", "# Two {#second}")],
    # A page break taken from a file's end and put back: the next file's first page is another.
    [("one.md", "[Page 3] The end of the chapter.\n", "The end of the chapter.\n"),
     ("one.md", "The end of the chapter.\n", "[Page 3] The end of the chapter.\n")],
    [("two.md", "And ends.", "And ends.[^b]\n\n[^b]: A note added.")],
])
def test_a_pdf_written_again_from_what_the_last_write_kept_is_a_clean_builds(manuscript, tmp_path, edits):
    out, memory, written = tmp_path / "out", {}, {}

    def rewrite() -> bytes:
        book, _ = load(manuscript, out=out, memory=memory)
        write("pdf", book, out / "test.pdf", STYLES, cache=cache.folder(out, book.meta.id), memory=written)
        return (out / "test.pdf").read_bytes()

    rewrite()
    for n, (name, old, new) in enumerate(edits):
        path = manuscript / name
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))
        assert rewrite() == clean(manuscript, tmp_path / f"clean{n}")["test.pdf"]


def test_a_folder_that_does_not_exist_is_an_error_not_a_watch(tmp_path, capsys):
    assert cli.main(["watch", str(tmp_path / "nowhere")]) == EXIT_MANUSCRIPT
    assert " M015 " in capsys.readouterr().err
