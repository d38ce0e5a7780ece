"""WeasyPrint's internals in one place: what the PDF writer reads of laid-out pages, and the patches it applies.

The other modules reach WeasyPrint's private API only through the names here. Importing this module
changes nothing in WeasyPrint; apply() installs every patch, each checked first against the WeasyPrint
it was written for (its exact version and a sha256 of the patched function's source).
tests/unit/test_weasyprint_patches.py lays out, for each layout patch, a tiny page that WeasyPrint gets
wrong without it: after an upgrade, a patch whose unpatched case passes is no longer needed.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import inspect
import linecache
import operator
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass

import weasyprint
from weasyprint import layout as _layout
from weasyprint import pdf as _pdf
from weasyprint.draw.color import get_color
from weasyprint.formatting_structure import boxes
from weasyprint.layout import background as _background
from weasyprint.layout import block as _block
from weasyprint.layout import float as _float
from weasyprint.layout import inline as _inline
from weasyprint.layout import page as _page
from weasyprint.layout import percent as _percent
from weasyprint.layout import table as _table
from weasyprint.layout.absolute import AbsolutePlaceholder
from weasyprint.layout.inline import iter_line_boxes
from weasyprint.pdf import fonts as _fonts
from weasyprint.pdf import stream as _stream
from weasyprint.pdf import tags as _tags
from weasyprint.text import line_break as _line_break
from weasyprint.text.line_break import line_size  # noqa: F401 (a line's width, for layout.py)

from ..book.errors import ToolError

# The WeasyPrint pinned in constraints.txt: every patch below was written for it and checked against it.
VERSION = "70.0"
PATCH_TESTS = "tests/unit/test_weasyprint_patches.py"
# The other modules also take from here the box classes (boxes) and the width of a line (line_size).


def page_box(page):
    """Return the laid-out box of a page of a rendered document."""
    return page._page_box


def footnote_areas(page) -> list:
    """Return the footnote areas of a page of a rendered document."""
    return [a for a in page_box(page).children if isinstance(a, boxes.FootnoteAreaBox)]


def unwrap(box):
    """Return the box an absolutely positioned box's placeholder stands for; any other box itself."""
    return box._box if isinstance(box, AbsolutePlaceholder) else box


def links(page) -> list:
    """Return a rendered page's links, each (kind, target, rectangle, box), which write_pdf annotates."""
    return page.links


def hit_rectangle(box) -> tuple[float, float, float, float]:
    """Return the rectangle a link annotation of a laid-out box covers, as WeasyPrint gathers it (untransformed)."""
    x, y, width, height = box.hit_area()
    return x, y, x + width, y + height


def tagged(stream) -> bool:
    """Tell whether a drawing stream tags what it draws (write_pdf's pdf_tags)."""
    return stream._tags is not None


@dataclass(frozen=True)
class Patch:
    """One WeasyPrint function that apply() replaces, and what it was checked against."""

    name: str
    issue: str  # upstream, or why there is none
    check: str  # the tests that show whether it is still needed
    owner: object  # the module or class that holds the function
    attribute: str
    sha256: str  # of inspect.getsource(function) in VERSION
    original: Callable
    statement: str = ""  # for a layout fix: the one statement of the function it replaces...
    replacement: str = ""  # ...by this one; else, the function is wrapped in a hook of tagging.py

    def rewritten(self) -> Callable:
        """Return the function with its statement replaced."""
        return _replace_statements(self.original, self.sha256, [(self.statement, self.replacement)])

    @property
    def where(self) -> str:
        return f"{self.original.__module__}.{self.original.__qualname__}"

    def problem(self, version: str) -> str | None:
        """Return why this patch cannot be applied to the WeasyPrint at hand, None if it can."""
        if version != VERSION:
            return f"WeasyPrint is {version}, not {VERSION}"
        found = _digest(_source(self.original, self.sha256)[0])
        if found != self.sha256:
            return f"the source of {self.where} is not the one it was written for (sha256 {found}, not {self.sha256})"
        return None


def _replace_statements(original, sha256: str, edits: list[tuple[str, str]]) -> Callable:
    """Return original (its source's sha256 given) compiled again with each of its statements old (any spelling of
    it) replaced by new, for each (old, new) of edits; each old must be one statement of it.

    The code keeps the lines of WeasyPrint's file, so that a traceback shows the right lines of it.
    """
    lines, first = _source(original, sha256)
    # Parsed below as many empty lines as come before it in its file: its nodes have their lines there.
    tree = ast.parse("\n" * (first - 1) + textwrap.dedent("".join(lines)))
    for old, new in edits:
        wanted = ast.parse(old).body[0]
        dumped = ast.dump(wanted)  # the whole statement: not one that merely begins like it
        # Only a statement of its kind is dumped to compare: dumping them all was most of a process's start.
        found = [(body, i) for node in ast.walk(tree) for _, body in ast.iter_fields(node) if isinstance(body, list)
                 for i, statement in enumerate(body)
                 if type(statement) is type(wanted) and ast.dump(statement) == dumped]
        if len(found) != 1:
            raise ToolError(f"{original.__qualname__} holds {len(found)} statements `{old}`, not one")
        body, i = found[0]
        replacement = ast.parse(new).body
        for node in (n for statement in replacement for n in ast.walk(statement)):
            if "lineno" in node._attributes:
                node.lineno = node.end_lineno = body[i].lineno
                node.col_offset += body[i].col_offset
                node.end_col_offset += body[i].col_offset
        body[i:i + 1] = replacement
    module = inspect.getmodule(original)
    scope = {}
    exec(compile(tree, inspect.getsourcefile(original), "exec"), vars(module), scope)  # noqa: S102 (WeasyPrint's own code)
    function = scope[original.__name__]
    function.__qualname__ = original.__qualname__
    return function


@functools.cache
def _source(function, sha256: str) -> tuple[list[str], int]:
    """Return a function's source lines and its first line's number, the text of sha256 where they are that (read
    once: two patches rewrite one function)."""
    # inspect.getsourcelines finds where a function ends by tokenizing it, most of apply()'s time (some 30 ms of every
    # process's start). Where the function's last line holds an instruction, as each patched here does, its code's
    # last position says the same: the text up to there is taken if it is the one the patch was written for.
    code = inspect.unwrap(function).__code__
    lines = linecache.getlines(code.co_filename)[code.co_firstlineno - 1:_last_line(code)]
    if _digest(lines) == sha256:
        return lines, code.co_firstlineno
    return inspect.getsourcelines(function)


def _last_line(code) -> int:
    """Return the last line of a function's code, of the functions and comprehensions it holds too."""
    last = max((end for _, end, _, _ in code.co_positions() if end is not None), default=code.co_firstlineno)
    return max([last] + [_last_line(inner) for inner in code.co_consts if isinstance(inner, types.CodeType)])


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("".join(lines).encode()).hexdigest()


_LAYOUT_TEST = f"{PATCH_TESTS} (its strict xfail on unpatched WeasyPrint)"
_TAGGING_TEST = "tests/builds/test_accessible.py"
# 1. To make room for one more line where orphans forbid breaking before it, WeasyPrint 70 moves the
#    notes already set on the page to the next (Kozea/WeasyPrint#2437, its fix of #2432): those notes,
#    and all that the next calls bring, then stand a page after their calls. Without it, the line goes
#    to the next page, as without notes.
_LINEBOX = Patch(
    "keep placed notes on their call's page when orphans forbid a break",
    "Kozea/WeasyPrint#2437 (its fix of #2432)", _LAYOUT_TEST, _block, "_linebox_layout",
    "e07bbe000974787ee370be1f419a01a21b327a1a1e3025a65afd47589060883d", _block._linebox_layout,
    "report = not context.in_column and can_break_now and not could_break_before", "report = False")
# 2. It finds that a note overflows the foot when the note's bottom lies past the area's by a rounding
#    error (1e-13 px), and moves the note to the next page, even from an empty page.
_FOOT = Patch(
    "let a note end a rounding error past the foot",
    "not reported upstream yet (tests/unit/weasyprint/repro_footnote_rounding.html)", _LAYOUT_TEST,
    _layout.LayoutContext, "_update_footnote_area",
    "2e317e4b066fb80cb369a41cd6f054a127722f9961c18ef4d6e1eef93673c4c1", _layout.LayoutContext._update_footnote_area,
    "overflow = last_child_bottom > footnote_area_bottom", "overflow = last_child_bottom > footnote_area_bottom + 1e-6")
# 3. Furniture becomes artifacts, notes and page breaks named structure elements (tagging.py); WeasyPrint
#    looks both up at each call.
_MARKED = Patch(
    "draw page furniture as artifacts", "none: publish's own tagging (tagging.py)", _TAGGING_TEST,
    _stream.Stream, "marked",
    "3fa3acacbbf66422e7b0de4346b6eaf638657280a0f62c73172e3c445b888692", _stream.Stream.marked)
_TREE = Patch(
    "name notes and page breaks in the structure tree", "none: publish's own tagging (tagging.py)", _TAGGING_TEST,
    _tags, "_build_box_tree",
    "f716251a83e7096e9cae972b63e633aab21c664d200582166dd0d5096780f9c4", _tags._build_box_tree)
# 4. A word hyphenated on a page's last line is cut by the page (pdftotext, pdf.js and pdfium read page by
#    page, so it copies and searches as two words); a printer never hyphenates a page's last word. WeasyPrint
#    70 has no hyphenate-limit-last (CSS Text 4) and breaks a paragraph into lines before it knows where the
#    page ends: once it has, the page's last line is set again from where it began, with no word hyphenated
#    (_last_line_whole). It wraps the rewritten function of patch 1.
_LAST_LINE = Patch(
    "set a page's last line with no word hyphenated", "none: WeasyPrint 70 has no hyphenate-limit-last",
    _LAYOUT_TEST, _block, "_linebox_layout",
    "e07bbe000974787ee370be1f419a01a21b327a1a1e3025a65afd47589060883d", _block._linebox_layout)
# 5. The same where a break that must be avoided below the paragraph moves the page's end up into its lines.
_EARLIER = Patch(
    "set a page's last line with no word hyphenated, where the page ends earlier",
    "none: WeasyPrint 70 has no hyphenate-limit-last", _LAYOUT_TEST, _block, "find_earlier_page_break",
    "c2bbdcdfdf408cbc3071fe769f11118e4913e887315f231287845b63a6ea72f1", _block.find_earlier_page_break)
# 6. A word may be broken anywhere (overflow-wrap: break-word) only where it begins its line, but WeasyPrint
#    70 takes the first text of any inline element as a line's start when nothing of the line is placed
#    at its top level: in a note (its text inside the note's spans) or a link, a word in italics that does
#    not fit at the line's end is broken between two letters, "See ibid" / "., pp. 1" (Kozea/WeasyPrint#1614,
#    #2102), instead of going to the next line. Each line now knows where its content begins (_LineStart),
#    and text begins the line only there.
_LINE_START = Patch(
    "know where a line's content begins", "Kozea/WeasyPrint#1614, #2102", _LAYOUT_TEST, _inline,
    "get_next_linebox", "67af458c2545e74f0803072103c6c5d392d5e353dfdaa4f5bac5a96e20ed024d",
    _inline.get_next_linebox, "line_children = []", "line_children = publish_line_start(position_x)")
_WORD_AT_START = Patch(
    "break a word anywhere only at the start of its line", "Kozea/WeasyPrint#1614, #2102", _LAYOUT_TEST, _inline,
    "split_inline_level", "d98c008c8fc005828a5b04864ed3638ab9bb241f27245050e244869c90c490a3",
    _inline.split_inline_level, "is_line_start = len(line_children) == 0",
    "is_line_start = len(line_children) == 0 and position_x <= getattr(line_children, 'start', position_x) + 1e-6")
# 7. Tagging a part reads pydyf's page_references, a tuple of every page's reference made anew at each call,
#    once per structure element: a part's pages are all added before it is tagged, so they are read once.
_PAGES_ONCE = Patch(
    "read a part's page references once while tagging it", "none: a saving, the tags the same",
    _TAGGING_TEST, _pdf, "add_tags",
    "f0e74575b0bafaf36458eaac27874e3b80457fba3694058153da514a68933f22", _tags.add_tags)
# 8. WeasyPrint works out a box's used margins, paddings, borders and sizes from its style and its containing
#    block's size again for each piece of the box it lays out (an inline element on each of its lines), and for
#    each page's margin boxes: they are worked out once for each style and size (a sixth of laying out a FRUS
#    chapter).
_USED_INLINE, _USED_BLOCK, _USED_TABLE, _USED_PAGE = (Patch(
    "work out the used sizes a style gives once for each size of containing block", "none: a saving, the sizes the "
    "same", _LAYOUT_TEST, owner, "resolve_percentages",
    "71673078096fcf8764e6412933288cc79ba956eae0d939deda27beaeac45acad", _percent.resolve_percentages)
    for owner in (_inline, _block, _table, _page))
# 9. WeasyPrint styles each page and its margin boxes afresh, each page being of a type of its own (its number),
#    and looks for the margin boxes' styles through those of every page before it (quadratic): a page matching
#    the same page rules as one styled before takes that page's styles, whose values are then worked out once,
#    not for each page (a twentieth of laying out FRUS 1901 China, and most of styling its margin boxes).
_PAGE_STYLES = Patch(
    "style a page and its margin boxes as a page of the same rules was", "none: a saving, the styles the same",
    _LAYOUT_TEST, _page, "set_page_type_computed_styles",
    "4e68b396b35c4a0640453f413be69acdc81a82b37e0f806fd00999c937a126bb", _page.set_page_type_computed_styles)
# 10. For each page, WeasyPrint looks through every other page of the document for boxes fixed to each page:
#     where none has any, it need not (a fiftieth of laying out FRUS 1901 China's 632 pages).
_FIXED = Patch(
    "look for boxes fixed to each page only where a page has any", "none: a saving, the pages the same",
    _LAYOUT_TEST, _layout, "layout_fixed_boxes",
    "5c62b9c0838af971067953b7c6b2d32c1556d2f020f57ff867738064534d7b33", _layout.layout_fixed_boxes)
# 11. It measures the height of a line of a style's text (its strut) again for each line and each piece of
#     text, by a key made anew of a dozen of the style's properties, and makes the style's font description
#     again for each piece of text it sets: each is made once for each style.
_STRUT = Patch(
    "measure a style's line height once", "none: a saving, the lines the same", _LAYOUT_TEST, _inline, "strut",
    "b57885b70dd08efe92f72a746709e08c576f47b90edb36f02925fefa15bb761a", _inline.strut)
_FONT = Patch(
    "describe a style's font once", "none: a saving, the text the same", _LAYOUT_TEST, _line_break,
    "get_font_description", "85734b8947b9bf64ef27ff11d8f5355db76a2ae8efc9a6fed925dc9e2a1056ce",
    _line_break.get_font_description)
# 12. To subset a font, WeasyPrint makes two arrays of glyph ids, each of a C type named with its length
#     ("hb_codepoint_t[137]"), which cffi parses anew (pycparser: some 2.4 ms) for each length it has not met in
#     the process: half of subsetting a chapter's fonts piece by piece. An array of open length holds the same ids
#     (the same subset, byte for byte), its type parsed once.
_GLYPH_IDS = Patch(
    "make the array of a subset's glyph ids without parsing a C type for its length",
    "none: a saving, the subsets the same", f"{PATCH_TESTS} (the subsets compared)", _fonts.Font, "_harfbuzz_subset",
    "f80805663ede8080a3e1ffff831e20c74bd25fa3b8e4410334ba807158dc685f", _fonts.Font._harfbuzz_subset,
    "gid_array = ffi.new(f'hb_codepoint_t[{len(to_unicode)}]', sorted(to_unicode))",
    "gid_array = ffi.new('hb_codepoint_t[]', sorted(to_unicode))")
_GLYPHS_KEPT = dataclasses.replace(
    _GLYPH_IDS, name="make the array of the glyph ids a subset keeps without parsing a C type for its length",
    statement="gid_array = ffi.new(f'hb_codepoint_t[{len(keep)}]', keep)",
    replacement="gid_array = ffi.new('hb_codepoint_t[]', keep)")
# 13. Once a document's pages are made, WeasyPrint lays out the backgrounds of every box on them: for each box it
#     works out the corners' radii and reads a dozen values of its style, to find no background, border image,
#     mask or shadow, as nearly every box of a book has (a fortieth of laying out FRUS 1901 China). Whether a
#     style has any is worked out once for it; a box of a style that has none is given what WeasyPrint gives it.
_BACKGROUNDS = Patch(
    "lay out at once the backgrounds of a box whose style has none", "none: a saving, the backgrounds the same",
    _LAYOUT_TEST, _background, "layout_box_backgrounds",
    "617a870678c82755762bbf53eecd2a871214b00246b2abf8f3a9a1524695f68a", _background.layout_box_backgrounds)
# 14. For each page it makes, WeasyPrint gathers the anchors and counter look-ups of every page before it, a loop over
#     all of them (quadratic: a fortieth of laying out FRUS 1901 China's 632 pages): they are gathered on from those
#     of the page before, wherever the earlier pages still hold what they held.
_GATHERED = Patch(
    "gather the earlier pages' anchors on from the last page's", "none: a saving, the pages the same", _LAYOUT_TEST,
    _page, "make_page", "656f183328e8b1b56311a342621442056c067422958dcaf6730acdfb6c7b8971", _page.make_page,
    "for (_, _, _, _, x_remake_state) in page_maker[:page_number - 1]:\n"
    "    cached_anchors.extend(x_remake_state.get('anchors', []))\n"
    "    cached_lookups.extend(x_remake_state.get('content_lookups', []))",
    "publish_gathered(context, page_number, cached_anchors, cached_lookups)")
# 15. It sizes the three margin boxes of each side of each page from their content's widths, set by Pango, though
#     the boxes of one set of page rules hold the same running head and folio placeholder on page after page (half
#     of making a page's margin boxes): the same boxes of the same styles and text are sized once.
_MARGIN_SIZES = Patch(
    "size the same margin boxes of a side once", "none: a saving, the sizes the same", _LAYOUT_TEST, _page,
    "compute_variable_dimension", "94eaf626c7cc932cde00cd47d7dfc27aaf0a241c5b7f55713c1e4273e4ce1eb1",
    _page.compute_variable_dimension)
# 16. For each line, three times, WeasyPrint works out where the line may stand beside the floats on its page, reading
#     the line's and its block's edges and building lists of the shapes in the way, where a book has no float at all
#     (a thirtieth of laying out FRUS 1901 China): with none, a line of left-to-right text is placed at once.
_NO_FLOATS = Patch(
    "place a line at once where no float is in its way", "none: a saving, the lines the same", _LAYOUT_TEST, _inline,
    "avoid_collisions", "5fc7793c573af328ffa88757d08f1641b19832805a1e48aa8b8204530c477e5d", _float.avoid_collisions)
PATCHES = (_LINEBOX, _FOOT, _MARKED, _TREE, _LAST_LINE, _EARLIER, _LINE_START, _WORD_AT_START, _PAGES_ONCE,
           _USED_INLINE, _USED_BLOCK, _USED_TABLE, _USED_PAGE, _PAGE_STYLES, _FIXED, _STRUT, _FONT, _GLYPH_IDS,
           _GLYPHS_KEPT, _BACKGROUNDS, _GATHERED, _MARGIN_SIZES, _NO_FLOATS)
_applied = False


def _hook(hook: Callable, original: Callable, owner: object) -> Callable:
    """Return a function that calls hook with WeasyPrint's original first, then its own arguments."""
    if not isinstance(owner, type):
        # A module's function: called with no frame of the call's own (some are called for each line).
        return functools.partial(hook, original)

    def hooked(*args, **kwargs):
        return hook(original, *args, **kwargs)
    return hooked


def apply(marked: Callable, build_box_tree: Callable) -> None:
    """Install every patch, after checking each against this WeasyPrint; once per process, idempotent.

    marked and build_box_tree (tagging.py) take WeasyPrint's Stream.marked and tags._build_box_tree
    first, then those functions' own arguments.
    """
    global _applied
    if _applied:
        return
    problems = [(patch, problem) for patch in PATCHES if (problem := patch.problem(weasyprint.__version__))]
    if problems:
        raise ToolError("WeasyPrint is not the one publish/pdf/weasy.py patches:\n" + "\n".join(
            f"- patch {patch.name!r} of {patch.where} (upstream: {patch.issue}): {problem}; "
            f"run {patch.check} to see whether it is still needed" for patch, problem in problems)
            + f"\nA patch whose unpatched case now passes can go; one still needed takes the new VERSION, "
              f"statement and sha256 in publish/pdf/weasy.py (or pin WeasyPrint {VERSION} again).")
    _inline.publish_line_start = _LineStart  # the name patch 6 calls, in the module it runs in
    _page.publish_gathered = _gathered  # the name patch 14 calls
    hooks = {_MARKED: marked, _TREE: build_box_tree, _LAST_LINE: _last_line_whole, _EARLIER: _earlier_line_whole,
             _PAGES_ONCE: _tag_pages_read_once, _USED_INLINE: _used_once, _USED_BLOCK: _used_once,
             _USED_TABLE: _used_once, _USED_PAGE: _used_once, _PAGE_STYLES: _page_type_styled, _FIXED: _fixed_where_any,
             _STRUT: _kept_on_style("publish_strut"), _FONT: _kept_on_style("publish_font"),
             _BACKGROUNDS: _no_background, _MARGIN_SIZES: _sized_once, _NO_FLOATS: _beside_no_floats}
    edits = {}  # the statements replaced in each function: one function may take several
    for patch in PATCHES:
        if patch not in hooks:
            edits.setdefault((patch.owner, patch.attribute), []).append(patch)
    rewritten = {where: _replace_statements(patches[0].original, patches[0].sha256,
                                            [(p.statement, p.replacement) for p in patches])
                 for where, patches in edits.items()}
    # A hook wraps the function a statement's patch rewrote, if any: both fixes apply.
    replacements = [(p, _hook(hooks[p], rewritten.get((p.owner, p.attribute), p.original), p.owner) if p in hooks
                     else rewritten[(p.owner, p.attribute)]) for p in PATCHES]
    for patch, function in replacements:
        setattr(patch.owner, patch.attribute, function)
    _applied = True


def _tag_pages_read_once(add_tags, pdf, document, pdf_version, page_streams):
    """Tag a part's pages (pdf.add_tags), its pages' references read once."""
    return add_tags(_PagesRead(pdf), document, pdf_version, page_streams)


class _PagesRead:
    """WeasyPrint's PDF (pydyf's), its pages' references read once: no page is added while it is tagged."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.page_references = pdf.page_references

    def __getattr__(self, name):
        return getattr(self.pdf, name)


# What resolve_percentages sets on a box (percent.py).
_BORDERS = ("border_top_width", "border_right_width", "border_bottom_width", "border_left_width")
_USED = ("margin_left", "margin_right", "margin_top", "margin_bottom", "padding_left", "padding_right", "padding_top",
         "padding_bottom", "width", "min_width", "max_width", "height", "min_height", "max_height", *_BORDERS)
_NO_BORDER = object()  # a box not given a border yet


def _used_once(resolve_percentages, box, containing_block):
    """Set a box's used sizes (percent.resolve_percentages), worked out once for its style and containing block's size."""
    style = box.style
    known = getattr(style, "__dict__", None)  # None: a plain dict, not a style of WeasyPrint's own
    if known is None:
        return resolve_percentages(box, containing_block)
    size = ((containing_block.width, containing_block.height) if isinstance(containing_block, boxes.Box)
            else tuple(containing_block))
    key = (*size, isinstance(box, boxes.PageBox))
    if style["border_collapse"] == "collapse":
        # In a table of collapsed borders, the borders a box was given already (its table's) are kept.
        key += tuple(box.__dict__.get(name, _NO_BORDER) for name in _BORDERS)
    # The style's own record: a style WeasyPrint copies to change it (a first line's) starts with none.
    used = known.setdefault("publish_used", {}).get(key)
    if used is None:
        resolve_percentages(box, containing_block)
        known["publish_used"][key] = {name: getattr(box, name) for name in _USED}
    else:
        box.__dict__.update(used)


def _kept_on_style(name: str) -> Callable:
    """Return a hook that keeps on a style, under name, what WeasyPrint's function of the style returns, made once."""
    # Where WeasyPrint changes a style (a first line's), it changes a copy, which keeps nothing of this.
    def once(function, style):
        known = getattr(style, "__dict__", None)  # None: a plain dict, not a style of WeasyPrint's own
        if known is None:
            return function(style)
        if name not in known:
            known[name] = function(style)
        return known[name]
    return once


def _page_type_styled(set_page_type_computed_styles, page_type, html, style_for):
    """Style a page and its margin boxes (page.set_page_type_computed_styles) as a page of the same rules was."""
    # What WeasyPrint reads of a page type: which page rules it matches (its side, blankness, name, number and
    # groups, for :first and :nth()). Each value of a style is worked out when first read, a viewport unit's from
    # the first page's size, which that page sets once its style is made: the size is in the key.
    rules = tuple(style_for._page_type_match(selector, page_type) for sheet, _, _ in style_for._sheets
                  for _, selectors, _ in sheet.page_rules for _, _, selector in selectors)
    key = (rules, *style_for.initial_page_sizes.values())
    # Kept on the document's styles: another document (a table's trial) has its own.
    styled = vars(style_for).setdefault("publish_page_types", {})
    computed = style_for.get_computed_styles()
    if key not in styled:
        set_page_type_computed_styles(page_type, html, style_for)
        # Only the first page of each set of rules is given declarations: they are few to look through.
        pseudos = [pseudo for element, pseudo in style_for.get_cascaded_styles() if pseudo and element == page_type]
        styled[key] = [(pseudo, computed[page_type, pseudo]) for pseudo in (None, *pseudos)]
    computed.update(((page_type, pseudo), style) for pseudo, style in styled[key])


# A box's corner radii (percent.resolve_radii_percentages), each (0, 0) where either of its radii is 0px.
_RADII = tuple(f"border_{corner}_radius" for corner in ("top_left", "top_right", "bottom_right", "bottom_left"))


def _no_background(layout_box_backgrounds, page, box, get_image_from_uri, layout_children=True, style=None):
    """Lay out a box's backgrounds (background.layout_box_backgrounds), at once where its style has none."""
    if style is not None or box is page or not _bare_style(box.style):
        return layout_box_backgrounds(page, box, get_image_from_uri, layout_children, style)
    for name in _RADII:
        setattr(box, name, (0, 0))
    if layout_children:
        for child in box.all_children():
            _background.layout_box_backgrounds(page, child, get_image_from_uri)  # through this hook again
    box.background = None


def _bare_style(style) -> bool:
    """Say whether a style gives a box square corners and no background, border image, mask or shadow."""
    known = getattr(style, "__dict__", None)  # None: a plain dict, not a style of WeasyPrint's own
    if known is None:
        return False
    if "publish_bare" not in known:
        known["publish_bare"] = (
            all((0, "px") in style[name] for name in _RADII) and style["border_image_source"][0] == "none"
            and style["mask_border_source"][0] == "none"
            and not any(kind == "url" or value for kind, value in style["background_image"])
            and get_color(style, "background_color").alpha == 0 and not style["box_shadow"])
    return known["publish_bare"]


class _Gathered:
    """What make_page gathered last: each earlier page's anchors and look-ups, their lengths, all of them in order."""

    def __init__(self):
        self.lists: tuple[list, list] = ([], [])
        self.lengths: tuple[list, list] = ([], [])
        self.whole: tuple[list, list] = ([], [])
        self.ends: tuple[list, list] = ([0], [0])


_STATE = operator.itemgetter(-1)
_LISTS = (operator.itemgetter("anchors"), operator.itemgetter("content_lookups"))


def _gathered(context, page_number, anchors, lookups):
    """Extend anchors and lookups with those of every page before page_number, as make_page's loop does."""
    states = list(map(_STATE, context.page_maker[:page_number - 1]))
    try:
        lists = tuple(list(map(field, states)) for field in _LISTS)
    except KeyError:  # a page without its lists, which make_page's loop allows: gathered as it gathers
        for state in states:
            anchors.extend(state.get("anchors", ()))
            lookups.extend(state.get("content_lookups", ()))
        return
    # Only a page's own make_page appends to its lists, and a page made again is given new ones: a page whose lists
    # are those gathered last (the same objects, or equal ones), of the same lengths, brings what it brought then.
    # Compared whole in C first; page by page only where a page was made again.
    lengths = tuple(list(map(len, found)) for found in lists)
    kept = vars(context).setdefault("publish_gathered", _Gathered())
    same = min(len(kept.lengths[0]), len(states))
    if any(now[:same] != before[:same] for now, before in zip(lists + lengths, kept.lists + kept.lengths)):
        same = next(i for i in range(same) if any(now[i] != before[i] for now, before in
                                                  zip(lists + lengths, kept.lists + kept.lengths)))
    for whole, ends, found in zip(kept.whole, kept.ends, lists):
        del ends[same + 1:]
        del whole[ends[-1]:]
        for page in found[same:]:
            whole.extend(page)
            ends.append(len(whole))
    kept.lists, kept.lengths = lists, lengths
    anchors.extend(kept.whole[0])
    lookups.extend(kept.whole[1])


def _sized_once(compute_variable_dimension, context, side_boxes, vertical, available_size):
    """Size a side's three margin boxes (page.compute_variable_dimension), once for the same boxes and space."""
    names = ("height", "margin_top", "margin_bottom") if vertical else ("width", "margin_left", "margin_right")
    shapes = [_margin_box_shape(box) for box in side_boxes]
    if None in shapes:
        return compute_variable_dimension(context, side_boxes, vertical, available_size)
    key = (vertical, available_size, *(shape for shape, _ in shapes))
    sized = vars(context).setdefault("publish_margin_sizes", {})
    if key not in sized:
        compute_variable_dimension(context, side_boxes, vertical, available_size)
        # The styles are kept with the sizes: the key's ids then name no other style while it stands.
        sized[key] = ([[getattr(box, name) for name in names] for box in side_boxes], [s for _, s in shapes])
    for box, values in zip(side_boxes, sized[key][0]):
        box.__dict__.update(zip(names, values))


def _margin_box_shape(box) -> tuple[tuple, list] | None:
    """Return what a margin box's sizes are worked out from, and the styles it names by id; None for an image."""
    # The box's used sizes, and its content: the kind, style and text of each box in it. The styles of a page's
    # margin boxes are those of the first page of its rules (patch 9), their anonymous boxes' made once from them.
    shape, styles = [box.is_generated, *(box.__dict__.get(name) for name in _USED)], []
    for inner in (box, *box.descendants()):
        if isinstance(inner, boxes.ReplacedBox):
            return None
        shape += (type(inner), id(inner.style), getattr(inner, "text", None))
        styles.append(inner.style)
    return tuple(shape), styles


def _beside_no_floats(avoid_collisions, context, box, containing_block, outer=True):
    """Place a box beside the floats (float.avoid_collisions), at once for a line of left-to-right text and no float."""
    if (context.excluded_shapes or outer or not isinstance(box, boxes.LineBox)
            or containing_block.style["direction"] != "ltr"):
        return avoid_collisions(context, box, containing_block, outer)
    # WeasyPrint's bounds with no shape in the way, worked out by the same sums in the same order.
    left = containing_block.content_box_x()
    right = left + containing_block.width
    left += box.margin_left
    right -= box.margin_right
    return left - box.margin_left, box.border_box_y() - box.margin_top, right - left


_FIXED_BOXES = operator.attrgetter("fixed_boxes")


def _fixed_where_any(layout_fixed_boxes, context, pages, containing_page):
    """Lay out the boxes of pages fixed to a page (layout.layout_fixed_boxes), where any page has some."""
    if not any(map(_FIXED_BOXES, pages)):
        return ()
    return layout_fixed_boxes(context, pages, containing_page)


class _LineStart(list):
    """The children a line has placed so far (WeasyPrint's line_children), and where its content begins."""

    __slots__ = ("start",)

    def __init__(self, start: float):
        super().__init__()
        self.start = start


def _hyphenated(line) -> bool:
    """Tell whether a laid-out line ends in a word it hyphenated (or at a hyphen: the same to set again)."""
    last = next((b for b in reversed(list(line.descendants())) if isinstance(b, boxes.TextBox) and b.text), None)
    return (line.resume_at is not None and last is not None
            and last.text.endswith(last.style["hyphenate_character"]))


def _last_line_whole(linebox_layout, context, box, index, child, new_children, page_is_empty, absolute_boxes,
                     fixed_boxes, adjoining_margins, bottom_space, position_y, skip_stack, first_letter_style,
                     first_line_style, draw_bottom_decoration, max_lines):
    """Lay out a block's lines (block._linebox_layout); where the page ends in them, end it with a whole word."""
    result = linebox_layout(context, box, index, child, new_children, page_is_empty, absolute_boxes, fixed_boxes,
                            adjoining_margins, bottom_space, position_y, skip_stack, first_letter_style,
                            first_line_style, draw_bottom_decoration, max_lines)
    abort, stop, _, position_y, new_footnotes, max_lines = result
    if abort or not new_children:
        return result
    # Each hyphenated line keeps where it began, to be set again if the page ends after it: here, or once a
    # break below is to be avoided (find_earlier_page_break).
    starts = [skip_stack] + [line.resume_at for line in new_children[:-1]]
    for i, (line, start) in enumerate(zip(new_children, starts)):
        if _hyphenated(line):
            line.publish_begun = _Begun(box, child, start, bottom_space,
                                        *((first_letter_style, first_line_style) if i == 0 else (None, None)))
    whole = stop and _whole(context, new_children[-1], absolute_boxes, fixed_boxes)
    if not whole:
        return result
    new_children[-1] = whole
    return abort, stop, {index: whole.resume_at}, position_y, new_footnotes, max_lines


def _earlier_line_whole(find_earlier_page_break, context, children, absolute_boxes, fixed_boxes):
    """Find an earlier page break (block.find_earlier_page_break); in a block's lines, end it with a whole word."""
    found = find_earlier_page_break(context, children, absolute_boxes, fixed_boxes)
    if found is None or not isinstance(children[0], boxes.LineBox):
        return found
    new_children, _ = found
    whole = _whole(context, new_children[-1], absolute_boxes, fixed_boxes)
    if whole is None:
        return found
    new_children[-1] = whole
    return new_children, {0: whole.resume_at}


@dataclass(frozen=True)
class _Begun:
    """Where a laid-out line began: what iter_line_boxes needs to set it again."""

    box: object  # the block container, the lines' containing block
    child: object  # its line box before layout
    start: object  # the skip stack the line began at
    bottom_space: float
    first_letter_style: object
    first_line_style: object


def _whole(context, line, absolute_boxes, fixed_boxes):
    """Return a page's last line set again with no word hyphenated; None to keep it as it is.

    It is kept where it has no other word to end on, holds a float or a running element, or where the line
    set again is of another height (the page's boxes below are placed) or calls other notes (those of the
    page are laid out).
    """
    begun = getattr(line, "publish_begun", None)
    if begun is None:
        return None
    inside = list(line.descendants())
    if (" " not in "".join(b.text for b in inside if isinstance(b, boxes.TextBox)).strip()
            or any(b.is_floated() or b.note for b in inside)):
        return None
    styles = {id(b.style): b.style for b in begun.child.descendants() if isinstance(b, boxes.TextBox)}.values()
    saved = [(style, style["hyphens"]) for style in styles]
    try:
        for style, _ in saved:
            style["hyphens"] = "none"
        whole, resume_at = next(iter_line_boxes(
            context, begun.child, line.position_y, begun.bottom_space, begun.start, begun.box, absolute_boxes,
            fixed_boxes, begun.first_letter_style, begun.first_line_style), (None, None))
    finally:
        for style, hyphens in saved:
            style["hyphens"] = hyphens
    if whole is None:
        return None
    kept = whole if (resume_at is not None and resume_at != line.resume_at and abs(whole.height - line.height) < 1e-6
                     and _calls(whole) == _calls(line)) else line
    # Of the two lines, the placeholders of absolutely placed boxes (margin numbers) of the one dropped go.
    dropped = {id(b) for b in (line if kept is whole else whole).descendants()}
    absolute_boxes[:] = [b for b in absolute_boxes if id(b) not in dropped]
    fixed_boxes[:] = [b for b in fixed_boxes if id(b) not in dropped]
    if kept is line:
        return None
    whole.resume_at = resume_at
    return whole


def _calls(line) -> list:
    """Return the notes a line calls."""
    return [b.footnote for b in line.descendants() if b.footnote is not None]
