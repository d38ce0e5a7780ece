"""A word hyphenated at a line end, as people's software takes it: copied, searched and extracted whole.

Chromium's viewer (pdfium), Poppler's pdftotext and pdf.js's find each join a word across a line end only
where the line ends in U+002D (print.css, hyphenate-character; docs/outputs.md, "Hyphenated words").
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
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


# Paragraphs of long words over several narrow pages: lines end hyphenated often, and pages end mid-paragraph.
_LONG = ("representatives correspondence extraordinarily unsatisfactory notwithstanding administration communicated "
         "recommendations concerning establishment commercial international Government considered disagreements "
         "negotiations proceedings particularly understanding well-known").split()
PAGES_TEXT = "\n\n".join(
    " ".join(" ".join(_LONG[(7 * p + 3 * s + j) % len(_LONG)] for j in range(9)).capitalize() + "."
             for s in range(14)) for p in range(4))


def _tokens(text: str) -> list[str]:
    """Return the words of a text, a hyphen within one not counted (an engine joins a line-end "well-")."""
    return [re.sub(r"[-\ufffe\u00ad]\s*", "", word) for word in re.findall(r"[A-Za-z]+(?:[-\ufffe\u00ad]\s*[A-Za-z]+)*", text)
            if word] if text else []


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    """Paragraphs of long words in a narrow measure that cross pages."""
    chapter = "# Chapter One\n\n## 1. Memorandum {#d1 page=5}\n\n" + PAGES_TEXT + "\n"
    folder = make_manuscript(tmp_path_factory.mktemp("pages") / "m", {"01.md": chapter},
                             extra="page_size: 2.6in 5in\nmargins: 0.4in 0.4in 0.4in 0.4in\n")
    return build(folder, tmp_path_factory.mktemp("pages-out"), ("pdf",)).outputs["pdf"]


def _assert_no_word_cut_by_a_page(texts: list[str], engine: str) -> None:
    """Assert that no page's text ends in a hyphenated word, and that the pages hold the paragraphs' words."""
    lines = [[line.strip() for line in text.splitlines() if line.strip()] for text in texts]
    ends = [(page[-1].split()[-1], following[0].split()[0]) for page, following in pairwise(lines)
            if page and following]
    assert len([end for end, _ in ends if not end.endswith(".")]) >= 4, f"{engine}: paragraphs cross pages: {ends}"
    cut = [(end, start) for end, start in ends if re.search(r"[-\u2010\ufffe\u00ad]$", end)
           and end[:-1] + "-" + re.sub("[^A-Za-z]", "", start) not in _LONG]
    assert cut == [], f"{engine}: words cut by a page"
    # Every word of the paragraphs, in order, none split: a page's text joined to the next reads the words.
    found, wanted = _tokens(" ".join(" ".join(page) for page in lines)), _tokens(PAGES_TEXT)
    assert any(found[i:i + len(wanted)] == wanted for i in range(len(found))), f"{engine}: {found}"


def test_no_page_ends_in_a_hyphenated_word_as_drawn(pages):
    # The glyphs on the page, the body's size only (not the furniture's); a line is the words level with each other.
    with pdfplumber.open(pages) as pdf:
        words = [page.extract_words(extra_attrs=["size"]) for page in pdf.pages]
    body = Counter(round(w["size"], 1) for page in words for w in page).most_common(1)[0][0]
    drawn = []
    for page in words:
        lines = {}
        for word in (w for w in page if round(w["size"], 1) == body):
            lines.setdefault(round(word["top"]), []).append(word)
        drawn.append("\n".join(" ".join(w["text"] for w in sorted(line, key=lambda w: w["x0"]))
                                for _, line in sorted(lines.items())))
    within = [line for text in drawn for line in text.splitlines()[:-1] if re.search(r"[a-z]-$", line)]
    assert len(within) >= 10, f"lines within a page end hyphenated: {within}"
    _assert_no_word_cut_by_a_page(drawn, "drawn")


def test_poppler_reads_no_word_cut_by_a_page(pages):
    text = subprocess.run(["pdftotext", str(pages), "-"], capture_output=True, text=True, check=True).stdout
    _assert_no_word_cut_by_a_page(text.split("\f"), "pdftotext")
    assert "well-known" in text  # a word hyphenated in the manuscript stays as it is


def test_chromium_reads_no_word_cut_by_a_page(pages):
    # pdfium's U+FFFE marks a line-end hyphen it joins (Chromium drops it), so it is kept here to be seen.
    texts = [page.get_textpage().get_text_range().replace("\u200b", "") for page in pypdfium2.PdfDocument(pages)]
    _assert_no_word_cut_by_a_page(texts, "pdfium")


def test_pdfjs_finds_every_word_over_pages(pages):
    # pdf.js's find reads a page at a time: a word cut by a page is not found. It joins a line-end "well-" to
    # "known" as it joins a hyphenated word, so the compound is found where it is not at a line end.
    require([("node", shutil.which("node")), ("tests/js/node_modules", (JS / "node_modules" / "pdfjs-dist").is_dir())])
    run = subprocess.run(["node", str(JS / "pdfjs_find.mjs"), str(pages), *_LONG], capture_output=True,
                         text=True, timeout=120, cwd=JS)
    assert run.returncode == 0, run.stderr
    found, wanted = json.loads(run.stdout), {word: PAGES_TEXT.count(word) for word in _LONG if "-" not in word}
    assert {word: found[word] for word in wanted if found[word] < wanted[word]} == {}, (found, wanted)
    assert found["well-known"] > 0
