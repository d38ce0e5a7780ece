"""The patches publish/pdf/weasy.py applies to WeasyPrint: each layout fix on a tiny page, and their guards.

Each layout test runs twice: patched, and on WeasyPrint's own function (a strict xfail). After an upgrade,
an unpatched case that passes (XPASS, reported as a failure) shows a patch WeasyPrint no longer needs.
The pages are the reproducers kept beside this file, ready to send upstream (tests/unit/weasyprint/).
"""
from __future__ import annotations

import dataclasses
import dis
import hashlib
import inspect
import linecache
import re
import subprocess
import sys
from pathlib import Path

import pytest
import weasyprint
from weasyprint import HTML

from publish.book.errors import ToolError
from publish.pdf import tagging, weasy

REPROS = Path(__file__).parent / "weasyprint"
ROOT = Path(__file__).parents[2]


def _patched(patch: weasy.Patch, patched: bool, monkeypatch) -> None:
    """Lay out with every patch applied, or with WeasyPrint's own function in place of this one."""
    if patched:
        weasy.apply(tagging.marked, tagging.build_box_tree)
    else:
        monkeypatch.setattr(patch.owner, patch.attribute, patch.original)


def _pages(name: str) -> list[tuple[list[str], list[str]]]:
    """Render a reproducer; return each page's texts in the body and in the footnote area."""
    pages = []
    for page in HTML(REPROS / name).render().pages:
        notes = [b for area in weasy.footnote_areas(page) for b in area.descendants()]
        text = [b for b in weasy.page_box(page).descendants() if b not in notes]
        pages.append(tuple([b.text.strip() for b in found if isinstance(b, weasy.boxes.TextBox) and b.text.strip()]
                           for found in (text, notes)))
    return pages


def _unpatched(reason: str):
    return pytest.param(False, id="unpatched", marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason))


@pytest.mark.parametrize("patched", [pytest.param(True, id="patched"),
                                     _unpatched("Kozea/WeasyPrint#2437 moves a placed note to the next page")])
def test_placed_note_stays_when_orphans_forbid_a_break(patched, monkeypatch):
    _patched(weasy.PATCHES[0], patched, monkeypatch)
    page1, page2 = _pages("repro_2437.html")
    # The block of "e" moves whole (orphans: 2); note 1 stays at the foot of its call's page.
    assert page1 == (["a", "1", "b", "c", "d"], ["1.", "x"])
    assert page2 == (["e", "f", "g", "h"], [])


@pytest.mark.parametrize("patched", [pytest.param(True, id="patched"),
                                     _unpatched("a rounding error moves a note that fills the foot")])
def test_note_filling_the_foot_stays_on_its_page(patched, monkeypatch):
    _patched(weasy.PATCHES[1], patched, monkeypatch)
    assert _pages("repro_footnote_rounding.html") == [(["a", "1"], ["1.", "b", "c"])]


def test_importing_patches_nothing():
    # A fresh process: the tests above have applied the patches in this one.
    script = ("import importlib, pkgutil, publish, publish.pdf.weasy as w\n"
              "for m in pkgutil.walk_packages(publish.__path__, 'publish.'): importlib.import_module(m.name)\n"
              "assert all(getattr(p.owner, p.attribute) is p.original for p in w.PATCHES)")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)


def test_apply_installs_every_patch_once():
    # Every patch declared is listed: one declared and not listed would be checked and applied by nothing.
    assert {v for v in vars(weasy).values() if isinstance(v, weasy.Patch)} == set(weasy.PATCHES)
    weasy.apply(tagging.marked, tagging.build_box_tree)
    installed = [getattr(p.owner, p.attribute) for p in weasy.PATCHES]
    assert all(f is not p.original for f, p in zip(installed, weasy.PATCHES))
    weasy.apply(tagging.marked, tagging.build_box_tree)
    assert [getattr(p.owner, p.attribute) for p in weasy.PATCHES] == installed


def test_a_patched_function_keeps_the_lines_of_its_file():
    # A traceback through a patched function shows WeasyPrint's own file at the line that runs.
    original = weasy.PATCHES[0].original
    patched = weasy.PATCHES[0].rewritten()
    assert patched.__code__.co_filename == original.__code__.co_filename
    assert patched.__code__.co_firstlineno == original.__code__.co_firstlineno
    stores = {i.positions.lineno for i in dis.get_instructions(patched) if i.opname == "STORE_FAST" and i.argval == "report"}
    assert [linecache.getline(original.__code__.co_filename, n).split()[:2] for n in stores] == [["report", "="]]
    assert {i.positions.lineno for i in dis.get_instructions(patched) if i.argval == "remove_placeholders"} \
        == {i.positions.lineno for i in dis.get_instructions(original) if i.argval == "remove_placeholders"}


def test_only_a_whole_statement_is_replaced():
    # The beginning of the statement is not the statement (the old guard matched it as a substring).
    patch = weasy.PATCHES[0]
    with pytest.raises(ToolError, match="0 statements"):
        dataclasses.replace(patch, statement=patch.statement.removesuffix(" and not could_break_before")).rewritten()


def test_another_weasyprint_is_refused_before_anything_is_patched(monkeypatch):
    monkeypatch.setattr(weasy, "_applied", False)
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    for patch in weasy.PATCHES:
        monkeypatch.setattr(patch.owner, patch.attribute, patch.original)
    with pytest.raises(ToolError) as raised:
        weasy.apply(tagging.marked, tagging.build_box_tree)
    message = str(raised.value)
    assert "WeasyPrint is 71.0, not 70.0" in message
    assert all(patch.name in message for patch in weasy.PATCHES)
    assert "Kozea/WeasyPrint#2437" in message and weasy.PATCH_TESTS in message
    assert all(getattr(p.owner, p.attribute) is p.original for p in weasy.PATCHES)


def test_a_changed_function_is_named(monkeypatch):
    changed = dataclasses.replace(weasy.PATCHES[1], sha256="0" * 64)
    monkeypatch.setattr(weasy, "_applied", False)
    monkeypatch.setattr(weasy, "PATCHES", (weasy.PATCHES[0], changed, *weasy.PATCHES[2:]))
    with pytest.raises(ToolError) as raised:
        weasy.apply(tagging.marked, tagging.build_box_tree)
    lines = str(raised.value).splitlines()
    problems = [line for line in lines if line.startswith("- patch")]
    assert len(problems) == 1
    assert changed.name in problems[0] and "LayoutContext._update_footnote_area" in problems[0]
    assert "is not the one it was written for" in problems[0] and weasy.PATCH_TESTS in problems[0]


def test_the_patched_weasyprint_is_the_pinned_one():
    pin = re.search(r"^weasyprint==(\S+)$", (ROOT / "constraints.txt").read_text(), re.MULTILINE)
    assert pin[1] == weasy.VERSION == weasyprint.__version__


def _lines(name: str) -> list[list[str]]:
    """Render a reproducer; return each page's lines of text."""
    return [[" ".join(t.text for t in line.descendants() if isinstance(t, weasy.boxes.TextBox))
             for line in weasy.page_box(page).descendants() if isinstance(line, weasy.boxes.LineBox)]
            for page in HTML(REPROS / name).render().pages]


def _assert_pages_end_in_whole_words(pages: list[list[str]], text: str) -> None:
    """Assert that no page's last line ends in a hyphenated word, and that the lines hold the text."""
    assert [page[-1] for page in pages if page[-1].endswith("-")] == []
    joined = re.sub(r"-\n", "", "\n".join(line for page in pages for line in page))
    assert joined.split() == text.split()


_WORDS = ("The representatives communicated their recommendations concerning establishment of international "
          "commercial relations immediately afterwards, notwithstanding disagreements.")


@pytest.mark.parametrize("patched", [pytest.param(True, id="patched"),
                                     _unpatched("WeasyPrint 70 hyphenates a page's last line")])
def test_a_page_never_ends_in_a_hyphenated_word(patched, monkeypatch):
    _patched(weasy.PATCHES[4], patched, monkeypatch)
    pages = _lines("repro_last_line_hyphen.html")
    assert len(pages) == 3 and all(len(page) == 3 for page in pages[:-1])  # set again, not a line short
    assert any(line.endswith("-") for page in pages for line in page), "lines within a page are hyphenated"
    _assert_pages_end_in_whole_words(pages, _WORDS)


@pytest.mark.parametrize("patched", [pytest.param(True, id="patched"),
                                     _unpatched("WeasyPrint 70 hyphenates a page's last line")])
def test_a_page_ended_earlier_never_ends_in_a_hyphenated_word(patched, monkeypatch):
    _patched(weasy.PATCHES[5], patched, monkeypatch)
    pages = _lines("repro_last_line_hyphen_earlier.html")
    assert pages[-1][-1] == "Head" and len(pages[0]) == 3  # widows: two lines go with the heading
    _assert_pages_end_in_whole_words(pages, "The representatives communicated their recommendations concerning "
                                            "establishment of international trade. Head")


def _paragraphs(name: str) -> list[tuple[float, list[str], float]]:
    """Render a reproducer; return each paragraph's width, its lines of text and its widest line's width."""
    found = []
    for page in HTML(REPROS / name).render().pages:
        for block in weasy.page_box(page).descendants():
            if isinstance(block, weasy.boxes.BlockBox) and block.element_tag == "p":
                lines = [line for line in block.children if isinstance(line, weasy.boxes.LineBox)]
                found.append((block.width, ["".join(t.text for t in line.descendants()
                                                    if isinstance(t, weasy.boxes.TextBox)).strip() for line in lines],
                              max(line.width for line in lines)))
    return found


@pytest.mark.parametrize("patched", [pytest.param(True, id="patched"),
                                     _unpatched("Kozea/WeasyPrint#1614: a word in an inline element is broken "
                                                "anywhere at a line's end")])
def test_a_word_in_an_inline_element_goes_whole_to_the_next_line(patched, monkeypatch):
    _patched(weasy.PATCHES[7], patched, monkeypatch)
    *paragraphs, (width, url, widest) = _paragraphs("repro_break_word_inline.html")
    assert len(paragraphs) == 50
    for _, lines, _ in paragraphs:
        assert " ".join(lines).split() == "Reported by the minister. See ibid., pp. 1 ff.; the idem., note.".split()
    # ...and where a word begins its line and is longer than it, it is still broken anywhere.
    assert len(url) > 2 and widest <= width + 0.01


# What the savings (patches 8 and after) must leave as WeasyPrint's own functions lay it out: sizes in percent of
# boxes of one style on containing blocks of several widths (a paragraph split across a right and a narrower left
# page), box-sizing, borders collapsed and separate, a first line set larger (a copy of its paragraph's style), margin
# boxes on left and right pages, a box fixed to every page, lines beside a float and lines of right-to-left text.
_SENTENCE = "the minister reported <em>at length</em> on the <b>conference</b>, its delegates and the treaty's articles. "
_SAVINGS_PAGE = """<style>
@page { size: 300px 260px; margin: 30px 20% 30px 10%; @top-center { content: "Head " counter(page) } }
@page :left { margin-right: 30%; @bottom-left { content: counter(page); font-size: 9px } }
body { font: 11px/1.3 serif } p { margin: 2% 5%; padding: 1% 3% } p::first-line { font-size: 14px }
.half { width: 60%; box-sizing: border-box; padding: 0 10%; border: 2px solid } .half p { font-style: italic }
table { width: 90%; border: 3px solid } td { border: 1px solid; padding: 2% } .c { border-collapse: collapse }
.fixed { position: fixed; top: 0; left: 0; width: 20%; font-size: 6px }
.float { float: left; width: 25%; height: 30px; margin: 2px } [dir=rtl] { text-align: start }
</style><div class="fixed">Fixed</div>""" + "".join(
    f"<p>{'<span class=float>Float</span>' if n % 4 == 1 else ''}Paragraph {n}: {_SENTENCE * 3}</p>"
    f"<p dir='{'rtl' if n % 4 == 2 else 'ltr'}'>Line {n}: {_SENTENCE}</p>"
    f"<div class='half'><p>Inset {n} with a note of the same style.</p></div>"
    f"<table class='{'c' if n % 2 else ''}'><tr><td>Cell {n}</td><td style='width: 30%'>Other</td></tr></table>"
    for n in range(12))


def _geometry(html: str) -> list[tuple]:
    """Lay html out; return every box of every page: its kind, place, sizes, edges, text and colour."""
    edges = ("margin", "padding", "border")
    return [(type(box).__name__, box.position_x, box.position_y, box.width, box.height, getattr(box, "text", None),
             box.style["color"],
             *(getattr(box, f"{edge}_{side}{'_width' if edge == 'border' else ''}")
               for edge in edges for side in ("top", "right", "bottom", "left")))
            for page in HTML(string=html).render().pages for box in weasy.page_box(page).descendants()]


@pytest.mark.parametrize("fixed", [True, False], ids=["fixed box", "no fixed box"])
def test_the_savings_lay_out_every_box_as_weasyprint_does(fixed, monkeypatch):
    html = _SAVINGS_PAGE if fixed else _SAVINGS_PAGE.replace('<div class="fixed">Fixed</div>', "")
    weasy.apply(tagging.marked, tagging.build_box_tree)
    patched = _geometry(html)
    for patch in weasy.PATCHES[weasy.PATCHES.index(weasy._USED_INLINE):]:
        monkeypatch.setattr(patch.owner, patch.attribute, patch.original)
    assert len(patched) > 500 and patched == _geometry(html)


# Pages of every type a book has, each styled by the page rules it matches: running heads of named strings and
# folios on left and right pages, a chapter's first page (:nth(1 of chapter)) and the document's (:first), blank
# pages before a chapter opening on a recto, one page picked by its number (:nth(4)); and a margin given in
# viewport units, which the first page's style reads before the first page's size is known.
_PAGE_TYPES = """<style>
@page { size: 320px 240px; margin: 40px 30px; @top-center { content: string(title) }
        @bottom-center { content: counter(page) } }
@page :first { margin-top: 60px; @top-center { content: none } }
@page :left { margin-left: 50px; @top-center { content: string(title, last); font-variant: small-caps }
              @bottom-left { content: "p. " counter(page); font-size: 8px; color: #555 } }
@page :right { @top-right { content: string(section) " " counter(page); font-style: italic; width: 30% } }
@page :blank { @top-center { content: none } @bottom-center { content: "blank"; color: #999 } }
@page chapter { margin-bottom: 10vh; @bottom-right { content: "ch. " string(title) } }
@page :nth(1 of chapter) { @top-center { content: none } @top-right { content: none }
                           @bottom-center { content: "opens " counter(page) } }
@page :nth(4) { @top-left { content: "fourth"; color: red } }
body { font: 11px/1.3 serif } h1 { string-set: title content(); page: chapter; break-before: right }
h2 { string-set: section content() }
</style>""" + "".join(
    f"<h1>Chapter {c}</h1>" + "".join(f"<h2>Section {c}.{s}</h2><p>{_SENTENCE * (1 + c)}</p>" for s in range(3))
    for c in range(4))


@pytest.mark.parametrize("first", [True, False], ids=["a first page's rules", "no first page's rules"])
def test_the_savings_style_every_page_as_weasyprint_does(first, monkeypatch):
    # Without :first and :nth(), the first page matches the rules of later pages: only its size tells them apart.
    html = _PAGE_TYPES if first else re.sub(r"@page :(first|nth)[^{]*\{[^@}]*(@[^}]*\}\s*)*\}", "", _PAGE_TYPES)
    weasy.apply(tagging.marked, tagging.build_box_tree)
    patched = _geometry(html)
    for patch in weasy.PATCHES[weasy.PATCHES.index(weasy._USED_INLINE):]:
        monkeypatch.setattr(patch.owner, patch.attribute, patch.original)
    pages = HTML(string=html).render().pages
    sides = [(weasy.page_box(p).page_type.side, weasy.page_box(p).page_type.blank) for p in pages]
    assert ("left", True) in sides and len(pages) > 8
    assert sum(box[0] == "MarginBox" for box in patched) > 2 * len(pages)
    assert patched == _geometry(html)


# Boxes with each thing a background lays out (patch 13), beside boxes of the same text with none: a colour, an
# image (a gradient), corners rounded in px and in percent or on two corners only, a shadow, a border image, a
# hidden box, and the page's own background.
_BACKGROUNDS_PAGE = """<style>
@page { size: 300px 220px; margin: 20px; background: #fdfdf0; @top-center { content: "Head" } }
body { font: 11px/1.3 serif } .shade { background: #eee } .grad { background-image: linear-gradient(red, blue) }
.round { border-radius: 4px 10% 0 2px; border: 1px solid } .corners { border-radius: 0 6px; border: 1px solid }
.shadow { box-shadow: 2px 2px 3px #888 } .frame { border: 4px solid; border-image: linear-gradient(green, red) 4 }
.hidden { visibility: hidden } em { background: #ffd }
</style>""" + "".join(f"<p class='{kind}'>{kind.title()} {n}: {_SENTENCE}</p><p>Plain {n}: {_SENTENCE}</p>"
                      for n in range(2) for kind in ("shade", "grad", "round", "corners", "shadow", "frame", "hidden"))


def test_the_backgrounds_are_those_weasyprint_lays_out(monkeypatch):
    weasy.apply(tagging.marked, tagging.build_box_tree)
    document = HTML(string=_BACKGROUNDS_PAGE).render()
    found = [(box.background is None, box.border_top_right_radius) for page in document.pages
             for box in weasy.page_box(page).descendants()]
    patched = document.write_pdf()
    monkeypatch.setattr(weasy._BACKGROUNDS.owner, weasy._BACKGROUNDS.attribute, weasy._BACKGROUNDS.original)
    unpatched = HTML(string=_BACKGROUNDS_PAGE).render()
    assert found == [(box.background is None, box.border_top_right_radius) for page in unpatched.pages
                     for box in weasy.page_box(page).descendants()]
    assert sum(bare for bare, _ in found) > 100 and sum(not bare for bare, _ in found) > 20
    assert patched == unpatched.write_pdf()


def test_the_font_subsets_are_those_weasyprint_makes(monkeypatch):
    # Three texts of different glyphs: arrays of ids of three lengths, in fonts of two faces.
    html = "".join(f"<p>{text}</p><p><em>{text[::-1]}</em></p>" for text in
                   ("Treaty", "The minister's despatch of 4 May 1894", "Bluefields, Nicaragua: ½ § — “quoted”"))
    weasy.apply(tagging.marked, tagging.build_box_tree)
    assert weasy._fonts.Font._harfbuzz_subset is not weasy._GLYPH_IDS.original
    patched = HTML(string=html).write_pdf()
    monkeypatch.setattr(weasy._fonts.Font, "_harfbuzz_subset", weasy._GLYPH_IDS.original)
    assert patched == HTML(string=html).write_pdf()


# Anchors on every page, one of them on a block that runs over three pages, and references to it before and after
# it by its page (target-counter), which WeasyPrint fills in by laying pages out again: a page's number is that of
# the anchor's first page, the one make_page gathers first (patch 14); and the pages' count in each folio.
_ANCHORS_PAGE = """<style>
@page { size: 300px 200px; margin: 20px; @bottom-center { content: counter(page) " of " counter(pages) } }
body { font: 11px/1.3 serif } a::after { content: " (p. " target-counter(attr(href), page) ")" }
</style><p><a href="#far">The long despatch</a></p>""" + "".join(
    f"<p id='p{n}'>Paragraph {n}: {_SENTENCE}</p>" for n in range(12)) + (
    f"<div id='far'>{_SENTENCE * 14}</div><p><a href='#far'>The same despatch</a>, <a href='#p3'>a paragraph</a></p>")


def test_a_reference_gives_its_anchors_first_page_as_weasyprint_does(monkeypatch):
    weasy.apply(tagging.marked, tagging.build_box_tree)
    document = HTML(string=_ANCHORS_PAGE).render()
    far = [n for n, page in enumerate(document.pages, 1) if any(
        box.element is not None and box.element.get("id") == "far" for box in weasy.page_box(page).descendants())]
    texts = ["".join(box.text for box in weasy.page_box(page).descendants() if isinstance(box, weasy.boxes.TextBox))
             for page in document.pages]
    assert len(far) >= 3 and all(f"(p. {far[0]})" in text for text in (texts[0], texts[-1]))
    patched = _geometry(_ANCHORS_PAGE)
    monkeypatch.setattr(weasy._GATHERED.owner, weasy._GATHERED.attribute, weasy._GATHERED.original)
    assert patched == _geometry(_ANCHORS_PAGE)


# Margin boxes of the same text on every page, set larger on left pages, beside a box whose content is an image:
# each side's boxes share the space by the widths of their content (patch 15), which the style sets as much as the text.
_IMAGE = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='40' height='8'/%3E"
_MARGIN_PAGE = """<style>
@page { size: 300px 200px; margin: 30px; @top-left { content: string(title) } @top-right { content: "Despatches" }
        @bottom-left { content: url("IMAGE") } @bottom-right { content: string(title) } }
@page :left { @top-left { font-size: 15px; font-style: italic } }
body { font: 11px/1.3 serif } h1 { string-set: title content(); font-size: 12px }
</style>""".replace("IMAGE", _IMAGE) + "".join(f"<h1>Chapter {c}</h1><p>{_SENTENCE * 9}</p>" for c in range(2))


def test_margin_boxes_of_the_same_text_are_sized_by_their_style(monkeypatch):
    weasy.apply(tagging.marked, tagging.build_box_tree)
    patched = _geometry(_MARGIN_PAGE)
    monkeypatch.setattr(weasy._MARGIN_SIZES.owner, weasy._MARGIN_SIZES.attribute, weasy._MARGIN_SIZES.original)
    unpatched = _geometry(_MARGIN_PAGE)
    widths = {box[3] for box in unpatched if box[0] == "MarginBox"}
    assert len(unpatched) > 100 and len(widths) > 3 and patched == unpatched


def test_each_patched_function_is_read_to_its_last_instruction_as_inspect_reads_it():
    # apply() reads a function up to its code's last position rather than tokenizing it (inspect.getsourcelines).
    for patch in weasy.PATCHES:
        code = inspect.unwrap(patch.original).__code__
        lines = linecache.getlines(code.co_filename)[code.co_firstlineno - 1:weasy._last_line(code)]
        assert (lines, code.co_firstlineno) == inspect.getsourcelines(patch.original) == weasy._source(
            patch.original, patch.sha256)


def _ends_in_a_comment(value):
    value += 1
    # which is part of its text, though no instruction stands on it


def test_a_function_whose_last_line_holds_no_instruction_is_read_by_tokenizing_it():
    lines, first = inspect.getsourcelines(_ends_in_a_comment)
    assert weasy._last_line(_ends_in_a_comment.__code__) < first + len(lines) - 1
    digest = hashlib.sha256("".join(lines).encode()).hexdigest()
    assert weasy._source(_ends_in_a_comment, digest) == (lines, first)


def test_the_anchors_gathered_for_each_page_are_those_weasyprints_loop_gathers(monkeypatch):
    # Every call of a real layout, the repagination that makes pages again included, checked against the loop the
    # patch replaces, over the same pages' lists.
    weasy.apply(tagging.marked, tagging.build_box_tree)
    calls = []

    def checked(context, page_number, anchors, lookups):
        weasy._gathered(context, page_number, anchors, lookups)
        looped = ([], [])
        for *_, state in context.page_maker[:page_number - 1]:
            looped[0].extend(state.get("anchors", []))
            looped[1].extend(state.get("content_lookups", []))
        calls.append((page_number, (anchors, lookups) == looped, len(anchors)))
    monkeypatch.setattr(weasy._page, "publish_gathered", checked)
    HTML(string=_ANCHORS_PAGE).render()
    numbers = [number for number, _, _ in calls]
    assert all(same for _, same, _ in calls) and max(found for _, _, found in calls) > 10
    assert any(later < earlier for earlier, later in zip(numbers, numbers[1:]))  # pages made again
