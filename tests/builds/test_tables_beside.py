"""A part's tables tried in a forked copy beside its layout give the book the same pages as tried before it.

Laid out in a fresh interpreter (one thread, as a PDF worker is, which alone may fork), once trying the
tables first and once beside in a copy; each layout drawn, the two PDFs compared byte for byte.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import make_manuscript

ROOT = Path(__file__).resolve().parents[2]
FITS = "| Name | Place |\n|---|---|\n" + "".join(f"| Person {i} | City {i} |\n" for i in range(40))


def table(columns: int) -> str:
    """Return a table of long words in `columns` columns: five are set smaller, twelve turned."""
    rows = [[f"Heading{j}word" for j in range(columns)], ["---"] * columns,
            *([f"Cell{i}{j}longword" for j in range(columns)] for i in range(12))]
    return "".join("| " + " | ".join(row) + " |\n" for row in rows)


def lay_out_both(folder: Path, fails_in_copy: bool = False) -> list[str]:
    """Lay the manuscript's first chapter out unforked, then forked; print whether the PDFs are the same and
    where the forked run's tables were tried, and whether one was set smaller or turned."""
    code = textwrap.dedent("""
        import os, re, sys
        from pathlib import Path
        from publish.build import STYLES, load
        from publish.book.markup import LANDSCAPE, PROBE, WIDE
        from publish.pdf import tables
        from publish.pdf.html import chapter_html, page_css
        from publish.pdf.typeset import Typesetter, write
        tables.TRIED_BESIDE = tables.LONG_PART = 0  # the small tables of a short part tried beside too
        book, _ = load(Path(sys.argv[1]))
        html, parent, fails_in_copy = chapter_html(book, 0), os.getpid(), sys.argv[2] == "True"
        tried_here, settings = [], []
        lay_out = Typesetter._lay_out
        def watched(self, html, *args, **kwargs):
            if PROBE in html:
                if os.getpid() != parent and fails_in_copy:
                    raise RuntimeError("the copy fails")
                if os.getpid() == parent:
                    tried_here.append(html)
            else:
                settings.extend(re.findall(rf'<table[^>]* class="([^"]*\\b{WIDE}\\b[^"]*)"', html))
            return lay_out(self, html, *args, **kwargs)
        Typesetter._lay_out = watched
        pdfs = []
        for build in (None, parent):
            setter = Typesetter(STYLES, book.folder, page_css(book), build=build, patience=60)
            tried_here.clear()
            pdfs.append(write(setter.layout(html, {})))
        print(pdfs[0] == pdfs[1])
        print("tried here" if tried_here else "tried in the copy")
        print("a table turned" if any(LANDSCAPE in s for s in settings) else "a table set smaller" if settings
              else "every table as it comes")
        """)
    done = subprocess.run([sys.executable, "-c", code, str(folder), str(fails_in_copy)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("tables, setting", [
    (FITS, "every table as it comes"), (f"{FITS}\nBetween.\n\n{table(5)}", "a table set smaller"),
    (f"{FITS}\nBetween.\n\n{table(12)}\nMore text after the turned table.\n", "a table turned")])
def test_tables_tried_beside_the_layout_give_the_same_pages(tmp_path, tables, setting):
    text = "".join(f"Paragraph {i} of the text, most of the chapter. " * 8 + "\n\n" for i in range(30))
    folder = make_manuscript(tmp_path / "m", {"01.md": f"# Chapter\n\n{text}{tables}\nAfter.\n"})
    assert lay_out_both(folder) == ["True", "tried in the copy", setting]


def test_a_copy_that_fails_leaves_the_trials_to_the_process_and_the_pages_the_same(tmp_path):
    text = "".join(f"Paragraph {i} of the text. " * 8 + "\n\n" for i in range(30))
    folder = make_manuscript(tmp_path / "m", {"01.md": f"# Chapter\n\n{text}{FITS}\nAfter.\n"})
    assert lay_out_both(folder, fails_in_copy=True) == ["True", "tried here", "every table as it comes"]
