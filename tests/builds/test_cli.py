"""The command line as a user meets it: help, outputs, clear errors and exit codes."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import SAMPLE, make_manuscript


def publish(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "publish", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.mark.parametrize("command", [[], ["pdf"], ["epub"], ["all"], ["check"], ["import-tei"], ["series"], ["cite"]])
def test_help(command):
    run = publish(*command, "--help")
    assert run.returncode == 0 and "usage: publish" in run.stdout


def test_check_the_sample():
    run = publish("check", SAMPLE, "--strict")
    assert run.returncode == 0, run.stderr
    assert "ok: 1 chapter(s), 1 document(s), 3 original page(s)" in run.stdout


def test_epub_writes_only_the_epub(tmp_path):
    run = publish("epub", SAMPLE, "--out", tmp_path)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["frus1961-63v05-d270.epub"]


def test_epub_and_check_never_load_weasyprint(tmp_path):
    # Loading WeasyPrint takes about half a second, a tenth of a 1,000-page EPUB build.
    script = ("import sys; from publish.cli import main; code = main(['epub', sys.argv[1], '--out', sys.argv[2]]);"
              "code = code or main(['check', sys.argv[1]]); print(code, 'weasyprint' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", script, str(SAMPLE), str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    assert run.stdout.split()[-2:] == ["0", "False"], run.stderr
    assert (tmp_path / "frus1961-63v05-d270.epub").is_file()


def test_manuscript_errors_are_listed_with_file_and_line_and_no_traceback(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": """
        # One

        ## 1. First {page=5}

        Text [Page 7] and [page 8] and [Page 6].
    """})
    run = publish("pdf", folder, "--out", tmp_path / "out")
    assert run.returncode == 3
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert any(line.startswith(f"{folder / '01.md'}:5:") and "P001" in line for line in lines)
    assert any(line.startswith(f"{folder / '01.md'}:5:") and "P003" in line for line in lines)
    assert lines[-1].startswith("publish: 2 error(s)")
    assert not (tmp_path / "out").exists()


def test_missing_manuscript_folder(tmp_path):
    run = publish("pdf", tmp_path / "nowhere")
    assert run.returncode == 3 and "Traceback" not in run.stderr
    assert f"M015 the manuscript folder '{tmp_path / 'nowhere'}' does not exist" in run.stderr


def test_progress_shows_on_a_terminal_fitted_to_its_width_and_is_erased(tmp_path):
    import io
    import re

    from publish.build import build
    from publish.system.progress import QUIET, for_stream

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    assert for_stream(io.StringIO()) is QUIET
    screen = Terminal()
    progress = for_stream(screen)
    build(SAMPLE, tmp_path, ("pdf", "epub"), progress=progress)
    progress.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    shown = [line for line in text.replace("\r", "\n").split("\n") if line.strip()]
    stages = {line.split(" ━")[0].split(" ╺")[0].strip() for line in shown}
    assert {"Reading and checking", "PDF: laying out", "EPUB: writing"} <= stages, shown
    laying = [line for line in shown if line.startswith("PDF: laying out")]
    assert any(re.search(r"\d+/\d+ pages\s+\d+%\s+0:00:\d\d", line) for line in laying), laying
    assert all(len(line) <= 80 for line in shown)  # rich's width for a terminal it cannot measure
    assert screen.getvalue().endswith("\x1b[2K")  # the line is erased at the end


def test_not_on_a_terminal_only_the_final_lines_are_printed(tmp_path):
    run = publish("all", SAMPLE, "--out", tmp_path)
    assert run.returncode == 0
    assert run.stderr == "" and "\r" not in run.stdout and "\x1b" not in run.stdout
    assert run.stdout.splitlines()[-1].startswith("1 chapter(s)")


@pytest.mark.parametrize("jobs", ["0", "-1", "two", "+3", "٣", "1_0", "99999"])
def test_jobs_must_be_a_positive_number(jobs, tmp_path):
    run = publish("pdf", SAMPLE, "--out", tmp_path, "--jobs", jobs)
    assert run.returncode == 2 and "--jobs: must be a whole number from 1 to 1024" in run.stderr
    assert not any(tmp_path.iterdir())


def test_help_lists_every_exit_code():
    from publish.book.errors import EXIT_CODES
    run = publish("--help")
    listed = dict(re.findall(r"^\s+(\d+)  (.+)$", run.stdout.split("exit codes:")[1], re.M))
    assert {int(code) for code in listed} == set(EXIT_CODES) and len(EXIT_CODES) >= 10


def test_pandoc_failing_is_a_tool_error_not_a_manuscript_error(tmp_path, monkeypatch, capsys):
    import publish.markdown.convert
    from publish.book.errors import EXIT_TOOL
    from publish.cli import main
    monkeypatch.setattr(publish.markdown.convert, "PANDOC", "/bin/false")
    assert main(["epub", str(SAMPLE), "--out", str(tmp_path)]) == EXIT_TOOL
    assert capsys.readouterr().err == "publish: error: pandoc failed (exit 1): \n"
    assert not any(tmp_path.glob("*.epub"))


def test_an_unreadable_tei_file_has_its_own_exit_code(tmp_path):
    from publish.book.errors import EXIT_SOURCE
    (tmp_path / "vol.xml").write_text("<TEI><text>", encoding="utf-8")
    for volume in ("vol.xml", "missing.xml"):
        run = publish("import-tei", tmp_path / volume, tmp_path / "ms")
        assert run.returncode == EXIT_SOURCE and "Traceback" not in run.stderr, run.stderr
