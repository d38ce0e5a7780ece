"""The command line as a user meets it: help, outputs, clear errors and exit codes."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import SAMPLE, make_manuscript


def publish(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "publish", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.mark.parametrize("command", [[], ["pdf"], ["epub"], ["all"], ["check"], ["import-tei"]])
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
    assert "book.yaml" in run.stderr


def test_progress_shows_on_a_terminal_and_stays_quiet_otherwise(tmp_path):
    import io

    from publish.build import build
    from publish.cli import _progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    assert _progress(io.StringIO()) is None
    screen = Terminal()
    build(SAMPLE, tmp_path, ("pdf",), progress=_progress(screen))
    shown = screen.getvalue()
    assert "PDF: 1/1 chapters drawn" in shown and "PDF: joining the parts" in shown
    assert shown.endswith("\r")  # the line is cleared at the end
