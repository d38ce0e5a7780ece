"""Bad input never hurts: nothing fetched, nothing read outside, nothing lost, no traceback for a user error."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pdfplumber
import pytest

import publish.epub.writer
import publish.pdf.typeset
import publish.pdf.writer
from publish import cli
from publish.book.errors import EXIT_INTERRUPTED, EXIT_MANUSCRIPT, EXIT_OUTPUT, EXIT_REFUSED, RefusedError
from publish.build import STYLES, build, load
from publish.pdf.fetch import RefusedURL, SafeFetcher
from publish.system import fsutil

from conftest import ROOT, SAMPLE, make_manuscript

SAMPLE_ID = "frus1961-63v05-d270"


# ---- the fetcher: only files inside the manuscript and styles folders ----

@pytest.mark.parametrize("url", ["http://example.org/a.css", "https://example.org/a.png", "ftp://example.org/a",
                                 "file:///etc/passwd", "file://otherhost/m/a.png", "file:///{m}/../../etc/passwd",
                                 "file:///{m}/link.png"])
def test_fetcher_refuses(tmp_path, url):
    folder = tmp_path / "m"
    folder.mkdir()
    os.symlink("/etc/passwd", folder / "link.png")
    with pytest.raises(RefusedURL):
        SafeFetcher([folder]).fetch(url.format(m=str(folder).lstrip("/")))


def test_fetcher_serves_files_inside(tmp_path):
    (tmp_path / "map.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    response = SafeFetcher([tmp_path]).fetch((tmp_path / "map.png").as_uri())
    assert response.read() == b"\x89PNG\r\n\x1a\n"
    response.close()


@pytest.mark.parametrize("css", ["@import url(http://127.0.0.1:9/a.css);",
                                 "body { background: url(file:///etc/passwd); }",
                                 "body { background: url(../../../../../../etc/passwd); }"])
def test_pdf_renderer_refuses_stylesheet_reaching_out(tmp_path, css):
    """The same rule holds while WeasyPrint lays the book out, through its URL fetcher hook."""
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    sheet = styles / publish.pdf.typeset.STYLESHEET
    sheet.write_text(css + "\n" + sheet.read_text(encoding="utf-8"), encoding="utf-8")
    book, _ = load(SAMPLE)
    with pytest.raises(RefusedError, match="refused") as caught:
        publish.pdf.writer.write_pdf(book, tmp_path / "out.pdf", styles)
    assert caught.value.exit_code == EXIT_REFUSED
    assert not (tmp_path / "out.pdf").exists()


def test_refused_input_exits_4_without_traceback(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": "# Ch\n\n![secret](../../../etc/passwd)\n"})
    run = run_cli("pdf", str(folder), "--out", str(tmp_path / "out"))
    assert run.returncode == EXIT_REFUSED
    assert f"{folder}/01.md:3:" in run.stderr and "R003 refused '../../../etc/passwd'" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()


# ---- nothing lost: the previous outputs stay as they were ----

@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A build of the sample: its folder and the bytes of its outputs."""
    out = tmp_path_factory.mktemp("previous")
    build(SAMPLE, out)
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}


@pytest.fixture
def built(tmp_path, previous):
    """A copy of the sample and an output folder holding its previous outputs."""
    folder = tmp_path / "manuscript"
    shutil.copytree(SAMPLE, folder)
    out = tmp_path / "build"
    out.mkdir()
    for name, data in previous.items():
        (out / name).write_bytes(data)
    return folder, out


def assert_untouched(out: Path, previous: dict) -> None:
    """The outputs are byte-identical and no temporary file is left."""
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(previous) == [f"{SAMPLE_ID}.epub", f"{SAMPLE_ID}.pdf"]
    for name, data in previous.items():
        assert (out / name).read_bytes() == data, name


def test_broken_manuscript_leaves_previous_outputs(built, previous, capsys):
    folder, out = built
    text = folder / "01-mikoyan.md"
    text.write_text(text.read_text(encoding="utf-8").replace("[Page 589]", "[Page 58 9]"), encoding="utf-8")
    assert cli.main(["all", str(folder), "--out", str(out)]) == EXIT_MANUSCRIPT
    assert "P001 malformed page marker '[Page 58 9]'" in capsys.readouterr().err
    assert_untouched(out, previous)


def test_failing_writer_leaves_both_previous_outputs(built, previous, monkeypatch):
    """The PDF is written, then the EPUB writer fails: neither output is replaced."""
    folder, out = built

    def broken(book, target, styles, **options):
        target.write_bytes(b"half an EPUB")
        raise RuntimeError("writer bug")
    monkeypatch.setattr(publish.epub.writer, "write_epub", broken)
    with pytest.raises(RuntimeError, match="writer bug"):
        build(folder, out)
    assert_untouched(out, previous)


def test_interrupted_build_leaves_previous_outputs(built, previous, monkeypatch, capsys):
    folder, out = built

    def interrupted(book, target, styles, **options):
        target.write_bytes(b"%PDF-1.7 half a PDF")
        raise KeyboardInterrupt
    monkeypatch.setattr(publish.pdf.writer, "write_pdf", interrupted)
    assert cli.main(["all", str(folder), "--out", str(out)]) == EXIT_INTERRUPTED
    assert "interrupted; earlier outputs are untouched" in capsys.readouterr().err
    assert_untouched(out, previous)


@pytest.mark.parametrize("later", [0, 0.03, 0.1])
def test_terminated_build_leaves_no_temporary_file(built, previous, later):
    """SIGTERM in the middle of a real build, at one moment or another of its writing: the build ends at
    once with exit 130, the old outputs stay, no part file remains."""
    folder, out = built
    process = subprocess.Popen([sys.executable, "-m", "publish", "all", str(folder), "--out", str(out)],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not list(out.glob(".*.part")) and process.poll() is None:
        time.sleep(0.01)  # the build has begun writing its outputs
    time.sleep(later)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert_untouched(out, previous)


def test_temporary_files_an_interrupt_strands_are_removed_as_the_command_ends(built, previous, monkeypatch):
    """An interrupt that comes between two steps of a context that makes temporary files can leave the
    context unfinished (its clean-up never run): the command still ends without a part file left."""
    folder, out = built
    stranded = []

    def interrupted(book, target, styles, **options):
        context = fsutil.atomic_outputs([target.with_name("more.pdf")])
        stranded.append(context)  # kept, as an object the collector has not freed would be
        context.__enter__()
        raise KeyboardInterrupt
    monkeypatch.setattr(publish.pdf.writer, "write_pdf", interrupted)
    assert cli.main(["all", str(folder), "--out", str(out)]) == EXIT_INTERRUPTED
    assert_untouched(out, previous)


def test_unwritable_output_is_one_clear_error(tmp_path, capsys):
    blocker = tmp_path / "build"
    blocker.write_text("a file where the output folder should be")
    assert cli.main(["pdf", str(SAMPLE), "--out", str(blocker)]) == EXIT_OUTPUT
    assert capsys.readouterr().err.startswith(f"publish: error: cannot write to {blocker}")


# ---- a user error is one message; a bug keeps its traceback ----

def run_cli(*args: str, code: str = "") -> subprocess.CompletedProcess:
    command = ["-c", code] if code else ["-m", "publish", *args]
    return subprocess.run([sys.executable, *command], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)


def test_internal_bug_shows_its_traceback():
    run = run_cli(code="import sys, publish.build as b\n"
                       "b.check_sources = lambda *a: 1 / 0\n"
                       "from publish.cli import main\n"
                       "sys.exit(main(['check', 'manuscript']))\n")
    assert run.returncode == 1
    assert "Traceback (most recent call last)" in run.stderr and "ZeroDivisionError" in run.stderr


@pytest.mark.parametrize("args", [["check", "no-such-folder"], ["pdf", "README.md"]])
def test_missing_manuscript_is_one_message(args):
    run = run_cli(*args)
    assert run.returncode == EXIT_MANUSCRIPT and "Traceback" not in run.stderr
    assert f"{args[1]}: M015 the manuscript folder '{args[1]}' " in run.stderr


# ---- bad text still builds: control characters are reported and left out ----

def test_control_characters_are_left_out_of_both_formats(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": "# Ch\n\n## 1. D {#d1 page=1}\n\nA\x01b\x0bc\x7fd.\n"})
    result = build(folder, tmp_path / "out")
    assert [(d.code, d.line, d.column) for d in result.warnings] == [("T002", 5, 2), ("T002", 5, 4), ("T002", 5, 6)]
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        assert "<p>Abcd.</p>" in epub.read("EPUB/chapter-001.xhtml").decode()


# ---- very large inputs build, whole ----

WORDS = "the president said that mikoyan would be seeing attorney general kennedy at supper".split()


def prose(count: int) -> str:
    rng = random.Random(count)
    return " ".join(rng.choice(WORDS) for _ in range(count))


def pdf_text(path: Path, pages=slice(None)) -> str:
    """Return the text of some pages of a PDF, words rejoined where a line was hyphenated."""
    with pdfplumber.open(path) as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages[pages])
    return " ".join(text.replace("-\n", "").split())


def test_paragraph_of_50000_words_builds(tmp_path):
    text = prose(50_000)
    folder = make_manuscript(tmp_path / "m", {"01.md": f"# Ch\n\n## 1. D {{#d1 page=1}}\n\n{text}\n"})
    result = build(folder, tmp_path / "out")
    assert text[-60:] in pdf_text(result.outputs["pdf"], slice(-2, None))
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        assert text in epub.read("EPUB/chapter-001.xhtml").decode()


def test_footnote_of_5000_words_builds_whole(tmp_path):
    """WeasyPrint cannot split a footnote over pages; the note is set after its paragraph, not lost."""
    note = prose(5000)
    source = f"# Ch\n\n## 1. D {{#d1 page=1}}\n\nShort text.[^1] After.[^2]\n\n[^1]: {note}\n\n[^2]: Short.\n"
    result = build(make_manuscript(tmp_path / "m", {"01.md": source}), tmp_path / "out")
    text = pdf_text(result.outputs["pdf"])
    assert f"1. {note[:40]}" in text and note[-40:] in text
    assert "After.2" in text and "2. Short." in text  # the short note stays a footnote
