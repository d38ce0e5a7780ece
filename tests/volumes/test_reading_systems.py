"""The EPUB in real reading systems: epub.js in headless Chromium, DAISY Ace and Calibre.

The engines are installed by tests/js/setup.sh. Without them these tests skip, saying why, except on
CI (CI=true), where a missing engine is a failure.
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from test_epub import ROMAN_PRELIMS

from publish.build import build
from publish.tei.importer import import_tei

from conftest import ROOT, TEI_DATA, make_manuscript, require
from readers import NS, Ebook

pytestmark = pytest.mark.slow
JS = Path(__file__).resolve().parent.parent / "js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VOLUMES = ["sample", "example", "imported"]


def engines(*commands: str) -> None:
    """Fail (on CI) or skip (elsewhere) unless the commands are there; none given: node, Chromium and tests/js."""
    wanted = [(name, shutil.which(name)) for name in commands] or [
        ("node", shutil.which("node")), ("Chromium", Path(CHROMIUM).exists()),
        ("tests/js/node_modules", (JS / "node_modules" / "epubjs").is_dir())]
    require(wanted)


@pytest.fixture(scope="module")
def epubs(sample_build, edge_build, tmp_path_factory) -> dict[str, Path]:
    """The sample, the edge cases, the 1894 example and a volume imported from the TEI in tests/data, as EPUBs."""
    out = tmp_path_factory.mktemp("readers")
    imported = out / "imported"
    import_tei(TEI_DATA / "frus1872p2v5.xml", imported)
    return {"sample": sample_build.outputs["epub"], "edge": edge_build.outputs["epub"],
            "example": build(ROOT / "examples" / "frus1894Nicaragua", out / "example", ("epub",)).outputs["epub"],
            "imported": build(imported, out / "imported-out", ("epub",)).outputs["epub"]}


@pytest.fixture(scope="module")
def in_epubjs(epubs):
    """What epub.js shows of each volume: its navigation, and a page (by default the middle one of its page list)."""
    engines()
    seen = {}

    def read(volume: str, page: str = ""):
        if (volume, page) not in seen:
            epub = Ebook(epubs[volume])
            pages = epub.page_list()
            middle = next(p for p in pages if p[0] == page) if page else pages[len(pages) // 2]
            run = subprocess.run(["node", str(JS / "epubjs.mjs"), str(epubs[volume]), middle[1].split("#")[1],
                                  _noteref(epub, middle[1])], capture_output=True, text=True, timeout=300,
                                 env={**os.environ, "CHROMIUM": CHROMIUM})
            assert run.returncode == 0, run.stderr
            seen[volume, page] = epub, middle, json.loads(run.stdout)
        return seen[volume, page]
    return read


def _noteref(epub: Ebook, after: str) -> str:
    """Return the href of the first note reference in or after the document of a page, else ''."""
    docs = epub.content_documents()
    start = docs.index(after.split("#")[0])
    for href in docs[start:] + docs[:start]:
        ids = epub.xhtml(href).xpath("//x:a[@role='doc-noteref']/@id", namespaces=NS)
        if ids:
            return f"{href}#{ids[0]}"
    return ""


def contrast(color: str, opacity: float, ground: str) -> float:
    """Return the WCAG contrast ratio of a CSS rgb() colour, at an opacity, on a ground."""
    def rgb(css: str) -> list[float]:
        return [float(v) for v in re.findall(r"[\d.]+", css)][:3]

    def luminance(c: list[float]) -> float:
        lin = [(v / 255) / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    back = rgb(ground)
    fore = [opacity * f + (1 - opacity) * b for f, b in zip(rgb(color), back)]
    light, dark = sorted((luminance(fore), luminance(back)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def ink(png: str) -> int:
    """Return how many pixels of a screenshot (a base64 PNG) are darker than mid-grey: text drawn on a light page."""
    return sum(1 for level in Image.open(io.BytesIO(base64.b64decode(png))).convert("L").tobytes() if level < 128)


def inside(box: dict, area: dict) -> bool:
    """Tell whether a box lies within an area, vertically by its middle (a line's leading may be cut)."""
    middle = box["y"] + box["height"] / 2
    return (area["x"] <= box["x"] and box["x"] + box["width"] <= area["x"] + area["width"]
            and area["y"] <= middle <= area["y"] + area["height"])


@pytest.mark.parametrize("volume", VOLUMES)
def test_epubjs_reads_the_toc_and_the_page_list(in_epubjs, volume):
    epub, _, seen = in_epubjs(volume)
    assert [(t["label"], t["href"]) for t in seen["toc"]] == [(" ".join(title.split()), href)
                                                             for _, title, href in epub.toc()]
    assert [p["href"] for p in seen["pageList"]] == [href for _, href in epub.page_list()]
    # epub.js goes to a page by the number it reads from the label: a roman or unnumbered page has
    # none, so "go to page 1" can only ever find the printed page 1.
    assert [p["page"] for p in seen["pageList"]] == [int(label) if label.isdigit() else None
                                                    for label, _ in epub.page_list()]


def test_epubjs_goes_to_an_unnumbered_page_by_its_number_and_shows_it_bracketed_once(tmp_path):
    engines()
    folder = make_manuscript(tmp_path / "m", {"01.md": """\
        # Chapter

        [Page [I]] Front. [Page [1]] The unnumbered first page. [Page 2] The second.
        """})
    seen = _epubjs(build(folder, tmp_path / "out", ("epub",)).outputs["epub"], "page-unnumbered-1")
    # "[1]" was read as no page (NaN); a roman page still has no number for epub.js.
    assert [(p["page"], p["href"].split("#")[1]) for p in seen["pageList"]] == [
        (None, "page-unnumbered-I"), (1, "page-unnumbered-1"), (2, "page-2")]
    assert {name: view["number"]["content"] for name, view in seen["views"].items()} == dict.fromkeys(seen["views"],
                                                                                                     '"[1]"')


def test_epubjs_goes_to_a_roman_page_by_its_label_and_shows_it(tmp_path):
    engines()
    seen = _epubjs(build(make_manuscript(tmp_path / "m", ROMAN_PRELIMS), tmp_path / "out", ("epub",)).outputs["epub"],
                   "page-iv")
    # epub.js keeps of each page its link and a number read from the label: none from "iv" or "Map 1".
    # Its link names the page still, so a reader's "go to page iv" finds page iv and no other.
    assert [(p["page"], p["href"].split("#")[1]) for p in seen["pageList"]] == [
        (None, "page-iii"), (None, "page-iv"), (None, "page-XII"), (1, "page-1"), (None, "page-unnumbered-Map-1"),
        (2, "page-2")]
    assert [p["href"] for p in seen["pageList"] if p["href"].endswith("#page-iv")] == ["chapter-001.xhtml#page-iv"]
    for view in seen["views"].values():
        assert view["shown"] == "chapter-001.xhtml" and view["number"]["content"] == '"[iv]"'
        assert inside(view["number"]["box"], view["viewer"]), view


def _epubjs(epub: Path, anchor: str) -> dict:
    """Return what epub.js shows of a book, having gone to the page whose marker has the id anchor."""
    run = subprocess.run(["node", str(JS / "epubjs.mjs"), str(epub), anchor, ""], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "CHROMIUM": CHROMIUM})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("view", ["paginated", "scrolled", "narrow", "night"])
@pytest.mark.parametrize("volume", VOLUMES)
def test_going_to_a_page_shows_its_number_on_screen(in_epubjs, volume, view):
    _, (label, href), seen = in_epubjs(volume)
    shown = seen["views"][view]
    assert shown["shown"] == href.split("#")[0]
    number = shown["number"]
    assert number["content"] == f'"[{label}]"'
    assert number["display"] != "none" and number["visibility"] == "visible" and float(number["opacity"]) >= 0.6
    assert float(number["fontSize"].removesuffix("px")) >= 10
    assert number["box"]["width"] > 0 and inside(number["box"], shown["viewer"]), (number, shown["viewer"])
    # Readable on the reader's ground, day or night: WCAG AA contrast for small text.
    assert contrast(number["color"], float(number["opacity"]), number["ground"]) >= 4.5, number


@pytest.mark.parametrize("view", ["paginated", "scrolled", "narrow"])
def test_a_page_that_begins_mid_word_leaves_the_word_whole(in_epubjs, view):
    _, (label, _), seen = in_epubjs("edge", "8")  # "imple[Page 8]mentation"
    number = seen["views"][view]["number"]
    assert number["content"] == f'"[{label}]"' and inside(number["box"], seen["views"][view]["viewer"])
    word = number["word"]
    assert word["before"]["top"] == word["after"]["top"]
    assert 0 <= word["after"]["left"] - word["before"]["right"] < 0.5, word


@pytest.mark.parametrize("view", ["paginated", "scrolled"])
@pytest.mark.parametrize("volume", ["example", "imported"])
def test_a_note_reference_opens_its_note_in_the_same_document(in_epubjs, volume, view):
    _, _, seen = in_epubjs(volume)
    note = seen["views"][view]["note"]
    assert note is not None, "no note reference in the book"
    assert note["href"].startswith("#") and note["from"] == note["to"]
    assert note["role"] == "doc-footnote"
    assert inside(note["box"], seen["views"][view]["viewer"]), note


@pytest.mark.parametrize("volume", VOLUMES)
def test_ace_finds_nothing_critical_serious_or_moderate(epubs, volume, tmp_path):
    engines()
    run = subprocess.run([str(JS / "node_modules" / ".bin" / "ace-puppeteer"), "--force", "--silent",
                          "--outdir", str(tmp_path), str(epubs[volume])], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "PUPPETEER_EXECUTABLE_PATH": CHROMIUM})
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    found = [(a["earl:testSubject"]["url"], t["earl:test"]["earl:impact"], t["earl:test"]["dct:title"])
             for a in report["assertions"] for t in a["assertions"]]
    assert [f for f in found if f[1] in ("critical", "serious", "moderate")] == []
    assert {"schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
            "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:conformsTo",
            "a11y:certifiedBy"} <= set(report["a11y-metadata"]["present"])


def test_calibre_shows_no_hidden_navigation_as_text(epubs, tmp_path):
    engines("ebook-convert")
    text = tmp_path / "book.txt"
    run = subprocess.run(["ebook-convert", str(epubs["sample"]), str(text)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    words = text.read_text(encoding="utf-8")
    assert "Mikoyan in Washington" in words and "Contents" in words
    assert "Pages of the print edition" not in words and "Landmarks" not in words


@pytest.fixture(scope="module")
def tables_in_epubjs(tmp_path_factory):
    """What epub.js shows of a book with a 150-row table, tables wider than a phone (one of 3 rows, one of 80) and
    long paragraphs."""
    engines()
    tmp = tmp_path_factory.mktemp("tables")
    rows = "".join(f"| {n} | Paper number {n} of the list |\n" for n in range(1, 151))

    def wide(name: str, count: int) -> str:
        return "| " + " | ".join(f"Head{c}" for c in range(1, 11)) + " |\n" + "|---" * 10 + "|\n" + "".join(
            "| " + " | ".join(f"{name}{r}x{c}" for c in range(1, 11)) + " |\n" for r in range(1, count + 1))
    prose = " ".join(["The minister called at the Department and spoke at length of the treaty."] * 12)
    folder = make_manuscript(tmp / "m", {"01.md": f"# Chapter\n\n[Page 1] {prose}\n\n{prose}\n\n"
                                                  f"| No. | Paper |\n|---|---|\n{rows}\n{wide('cell', 3)}\n"
                                                  f"{prose}\n\n{wide('long', 80)}\n[Page 2] End.\n"})
    epub = build(folder, tmp / "out", ("epub",)).outputs["epub"]
    find = [["chapter-001.xhtml", text] for text in ("Paper number 150 of the list", "cell3x10", "long80x1",
                                                     "long80x10")]
    run = subprocess.run(["node", str(JS / "epubjs.mjs"), str(epub), "page-1", ""], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "CHROMIUM": CHROMIUM, "FIND": json.dumps(find),
                                           "MEASURE": "1"})
    assert run.returncode == 0, run.stderr
    return epub, json.loads(run.stdout)


@pytest.mark.parametrize("view", ["paginated", "scrolled", "desktop", "narrow", "phoneScrolled"])
def test_every_row_of_a_long_table_can_be_reached(tables_in_epubjs, view):
    _, seen = tables_in_epubjs
    found = seen["views"][view]["found"]["Paper number 150 of the list"]
    # A table too long for a page runs on to the next; nothing of it is sideways.
    assert found["page"] is not None and not found["sideways"], found
    assert ink(found["drawn"]) > 0


@pytest.mark.parametrize("view", ["paginated", "scrolled", "desktop", "narrow", "phoneScrolled"])
def test_a_table_wider_than_a_phone_scrolls_sideways_in_its_box_with_a_visible_scrollbar(tables_in_epubjs, view):
    _, seen = tables_in_epubjs
    found = seen["views"][view]["found"]["cell3x10"]
    assert found["page"] is not None and ink(found["drawn"]) > 0, repr(found)
    # Wider than a phone, the table scrolls sideways in its box (not the page), and the box's scrollbar shows.
    assert found["sideways"] or view not in ("narrow", "phoneScrolled"), found
    assert not found["sideways"] or view not in ("desktop", "scrolled"), found  # a desktop shows it whole
    assert not found["sideways"] or found["scrollbar"] > 0, found


def test_a_desktop_line_is_at_most_90_characters(tables_in_epubjs):
    _, seen = tables_in_epubjs
    longest = {view: seen["views"][view]["longestLine"] for view in ("paginated", "scrolled", "desktop", "narrow")}
    assert all(40 <= longest[view] <= 90 for view in ("paginated", "scrolled", "desktop")), longest
    assert longest["narrow"] >= 25, longest  # the measure leaves a phone's narrow column alone


@pytest.mark.parametrize("view", ["paginated", "scrolled", "desktop", "narrow", "phoneScrolled"])
def test_the_text_is_justified_where_the_reading_system_hyphenates(tables_in_epubjs, view):
    _, seen = tables_in_epubjs
    setting = seen["views"][view]["setting"]
    # Chromium knows `hyphens: auto`: the text is justified there, hyphenated in the document's language.
    assert setting == {"hyphenates": True, "align": "justify", "hyphens": "auto", "lang": "en"}, setting


@pytest.mark.parametrize("view", ["paginated", "scrolled", "desktop", "narrow", "phoneScrolled"])
def test_every_row_of_a_table_both_wide_and_long_can_be_reached(tables_in_epubjs, view):
    _, seen = tables_in_epubjs
    found = seen["views"][view]["found"]
    # The last row's first and last cells.
    start, end = found["long80x1"], found["long80x10"]
    assert start["page"] is not None and end["page"] is not None, found
    assert ink(start["drawn"]) > 0 and ink(end["drawn"]) > 0  # painted, not just laid out there
    # Its box cannot break across pages: paginated, it is a page high and scrolls down, its upright
    # scrollbar showing; scrolled (epub.js's viewport is the document), it holds the whole table.
    paginated = view in ("paginated", "desktop", "narrow")
    assert start["down"] == paginated and (not paginated or start["vscrollbar"] > 0), start
    # It takes the text's whole width, not the measure's: on a desktop screen (a spread of two 600-px pages,
    # or a 1000-px scrolled page) its ten columns are seen whole, drawn; narrower, its box scrolls sideways.
    wide = view in ("desktop", "scrolled")
    assert end["sideways"] != wide and (wide or end["scrollbar"] > 0), end
