"""Page furniture out of a paragraph's text, as people's software extracts, copies and searches it.

The margin numbers, running heads, folios and page ranges are artifacts whose text carries an /ActualText
that Poppler and pdfium skip (publish/pdf/tagging.py, _artifact); pdf.js reads a page's text in the order
it is drawn, the page's body before its furniture (docs/outputs.md, "Page furniture").
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pypdfium2
import pytest

from publish.build import build

from conftest import make_manuscript, require
from readers import PrintedBook

JS = Path(__file__).resolve().parent.parent / "js"
# Words no hyphenation cuts (they hold no letters but one): what stands between two is furniture or nothing.
# Of lengths in no period, as words are: Poppler takes words in columns for a column of the text.
WORDS = [f"x{i:0{width}d}" for i, width in enumerate(random.Random(26).choices(range(1, 7), k=260))]
BREAK = 110  # the original page 6 begins before this word
# What Chromium leaves out of pdfium's text when it copies or finds (test_hyphenation.py).
CHROMIUM_IGNORES = dict.fromkeys(map(ord, "\u200b\ufffe"))


@pytest.fixture(scope="module")
def crossing(tmp_path_factory):
    """A paragraph that crosses an original-page break and more than one PDF page, on a small page."""
    text = " ".join(WORDS[:BREAK] + ["[Page 6]"] + WORDS[BREAK:])
    chapter = f"# Chapter One\n\n## 1. Memorandum {{#d1 page=5}}\n\n{text}\n\nA second paragraph ends it.\n"
    tmp = tmp_path_factory.mktemp("furniture")
    folder = make_manuscript(tmp / "m", {"01.md": chapter},
                             extra="page_size: 3in 5in\nmargins: 0.5in 0.5in 0.5in 0.5in\n")
    result = build(folder, tmp / "out", ("pdf",))
    pdf = PrintedBook(result.outputs["pdf"], result.book)
    pages = {w.page for w in pdf.in_zone("body") if w.text in WORDS}
    numbers = [w for w in pdf.in_zone("margin") if w.text == "6"]
    assert len(pages) >= 3 and len(numbers) == 1, "the paragraph runs over pages, its page break numbered"
    assert numbers[0].page in pages - {min(pages), max(pages)}, "the number stands mid-paragraph"
    heads = [w.text for page in pages for w in pdf.in_zone("head", page) + pdf.in_zone("foot", page)]
    assert {"Chapter", "pp.", "5–6"} <= set(heads), "the paragraph's pages have heads, folios and page ranges"
    return result.outputs["pdf"]


def paragraph(text: str) -> list[str]:
    """Return the words of text from the paragraph's first to its last, whatever they are."""
    words = text.split()
    return words[words.index(WORDS[0]):words.index(WORDS[-1]) + 1]


def test_chromium_copies_the_paragraph_without_furniture(crossing):
    pdf = pypdfium2.PdfDocument(crossing)
    text = "\n".join(page.get_textpage().get_text_range().translate(CHROMIUM_IGNORES) for page in pdf)
    assert paragraph(text) == WORDS


def test_poppler_extracts_the_paragraph_without_furniture(crossing):
    text = subprocess.run(["pdftotext", str(crossing), "-"], capture_output=True, text=True, check=True).stdout
    assert paragraph(text) == WORDS


def test_pdfjs_reads_each_page_of_the_paragraph_without_furniture(crossing):
    require([("node", shutil.which("node")), ("tests/js/node_modules", (JS / "node_modules" / "pdfjs-dist").is_dir())])
    run = subprocess.run(["node", str(JS / "pdfjs_text.mjs"), str(crossing)], capture_output=True, text=True,
                         check=False, timeout=120, cwd=JS)
    assert run.returncode == 0, run.stderr
    found = []
    for page in json.loads(run.stdout):
        words = page.split()
        ours = [i for i, word in enumerate(words) if word in WORDS]
        if ours:
            # On a page, the paragraph's words come one after another: its furniture follows them.
            found += words[ours[0]:ours[-1] + 1]
    assert found == WORDS


def test_pdfjs_gives_each_page_furniture_inside_the_paragraph_across_pages(crossing):
    # What docs/outputs.md says pdf.js does: it reads neither /ActualText nor artifacts, so where the paragraph
    # crosses a page, that page's furniture (drawn after its body) stands between the paragraph's parts.
    require([("node", shutil.which("node")), ("tests/js/node_modules", (JS / "node_modules" / "pdfjs-dist").is_dir())])
    run = subprocess.run(["node", str(JS / "pdfjs_text.mjs"), str(crossing)], capture_output=True, text=True,
                         check=False, timeout=120, cwd=JS)
    assert run.returncode == 0, run.stderr
    pages = [page.split() for page in json.loads(run.stdout) if set(page.split()) & set(WORDS)]
    between = [w for w in paragraph(" ".join(" ".join(page) for page in pages)) if w not in WORDS]
    feet = [w for w in between if w in ("p.", "pp.")]
    assert len(pages) >= 3 and len(feet) == len(pages) - 1, between  # each crossed page's "p. 5" foot
    assert {"5", "6", "Volume"} <= set(between), between  # margin numbers, a running head
