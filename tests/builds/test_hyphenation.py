"""A word hyphenated at a line end, as people's software takes it: copied, searched and extracted whole.

Chromium's viewer (pdfium), Poppler's pdftotext and pdf.js's find each join a word across a line end only
where the line ends in U+002D (print.css, hyphenate-character; docs/outputs.md, "Hyphenated words").
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

import pdfplumber
import pypdfium2
import pytest

from publish.build import build

from conftest import make_manuscript, require
from readers import assert_accessible_and_archival

JS = Path(__file__).resolve().parent.parent / "js"
TEXT = """\
The Government of Finland considered the representatives of the international correspondence
extraordinarily unsatisfactory. Notwithstanding the well-known disagreements, the administration
communicated its recommendations concerning the establishment of commercial relations immediately.
"""
WORD = r"[A-Za-z]+(?:-[A-Za-z]+)*"
WORDS = set(re.findall(WORD, TEXT))
# What Chromium leaves out of pdfium's text when it copies or finds (pdf/pdfium/pdfium_range.h,
# IsIgnorableCharacter): a zero-width space, and the mark pdfium puts where it joined a hyphenated word.
CHROMIUM_IGNORES = dict.fromkeys(map(ord, "\u200b\ufffe"))


@pytest.fixture(scope="module")
def narrow(tmp_path_factory) -> Path:
    """A paragraph of long words set in a narrow measure, so that many of them are hyphenated (on one page, under
    its heading and citation line)."""
    chapter = "# Chapter One\n\n## 1. Memorandum {#d1 page=5}\n\n" + TEXT
    folder = make_manuscript(tmp_path_factory.mktemp("hyphens") / "m", {"01.md": chapter},
                             extra="page_size: 2.6in 6in\nmargins: 0.4in 0.4in 0.4in 0.4in\n")
    return build(folder, tmp_path_factory.mktemp("hyphens-out"), ("pdf",)).outputs["pdf"]


@pytest.fixture(scope="module")
def hyphenated(narrow) -> set[str]:
    """Return the words printed with a hyphen at a line end, as the glyphs drawn on the page show them."""
    with pdfplumber.open(narrow) as pdf:
        lines = "\n".join(page.extract_text() or "" for page in pdf.pages).splitlines()
    words = {first.split()[-1][:-1] + re.match("[A-Za-z]*", second.split()[0])[0] for first, second in pairwise(lines)
             if re.search(r"[a-z][-\u2010\u00ad]$", first) and second.strip()}
    assert len(words) >= 4, f"the narrow measure hyphenates words: {lines}"
    assert words <= WORDS, f"each rejoined is a word of the text: {words - WORDS}"
    return words


def test_chromium_copies_and_finds_hyphenated_words_whole(narrow, hyphenated):
    pdf = pypdfium2.PdfDocument(narrow)
    pages = [page.get_textpage().get_text_range().translate(CHROMIUM_IGNORES) for page in pdf]
    text = next(text for text in pages if "Memorandum" in text)
    assert WORDS <= set(re.findall(WORD, text)), text
    assert not re.search(r"[-\u2010]\s", text), f"a word is copied with its line-end hyphen: {text}"


def test_poppler_extracts_hyphenated_words_whole(narrow, hyphenated):
    text = subprocess.run(["pdftotext", str(narrow), "-"], capture_output=True, text=True, check=True).stdout
    assert WORDS <= set(re.findall(WORD, text)), text


def test_pdfjs_finds_hyphenated_words(narrow, hyphenated):
    require([("node", shutil.which("node")), ("tests/js/node_modules", (JS / "node_modules" / "pdfjs-dist").is_dir())])
    run = subprocess.run(["node", str(JS / "pdfjs_find.mjs"), str(narrow), *sorted(WORDS)], capture_output=True,
                         text=True, timeout=120, cwd=JS)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert {word for word, count in found.items() if not count} == set(), found


def test_hyphenated_book_is_accessible_and_archival(narrow, hyphenated):
    assert_accessible_and_archival(narrow)
