"""A turned table floats as a printer sets it: the text after it fills the page before, and it stands on the next.

A table turned on a landscape page begins a page of its own (pdf/tables.py, print.css), which leaves the
page before it part empty. WeasyPrint has no page floats, so a part with turned tables is laid out, and
where the page before one is short, the blocks after the table that fit there whole are moved before
it in the HTML and the part is laid out once again (LaTeX's sidewaystable does the same). Only blocks
of the table's own text move: never across a heading, a page break of the original (its margin number
would stand before the table of an earlier page), a document's closing (its signature), another turned
table, or a table whose heading is turned with it. A note goes with the paragraph that calls it.

Moving text shifts every page after the table, so the page before the next turned table is known only
once laid out again: the chapter is laid out once more for each turned table that takes text, in the
order they stand, the tables before it decided for good: a chapter whose turned tables take text n times
is laid out n + 1 times, every other chapter once. The
blocks of the chapter whose pages a move changed (from the table to the next turned table), and a
turned table that may take text, are marked for pieces.py not to begin a piece there: a piece laid out
alone from there would decide otherwise.
"""
from __future__ import annotations

from lxml import html as lxml_html

from ..book.markup import BLOCK_CLASSES, BOUNDARY, FLOAT_AT, FLOATED, LANDSCAPE, NO_CUT, PAGEBREAK, TRAILS
from .layout import HEADINGS
from .weasy import boxes, page_box

# A document's closing blocks sign or end what stands before them, the table too: they stay after it.
CLOSING = {BLOCK_CLASSES["closer"], BLOCK_CLASSES["signed"], BLOCK_CLASSES["trailer"]}
# CSS px a page keeps free besides the blocks moved onto it: the margin above a block that opened a page.
SLACK = 8
# The page before a turned table is short when more than this share of its text block is empty: a page
# fuller than that is left as it is, and the chapter is not laid out again for a line or two.
SHORT = 0.2


def lay_out_floated(html: str, lay_out):
    """Lay out a part, the text after each turned table moved before it as far as fills the page before.

    lay_out lays out HTML and returns WeasyPrint's document. A part without a turned table is laid out
    once, as it comes; one with, once more for each turned table that takes text.
    """
    if LANDSCAPE not in html:
        return lay_out(html)
    root = lxml_html.document_fromstring(html)
    groups = _groups(root)
    if not any(trail for _, trail in groups):
        return lay_out(html)
    top = [el for el in _section(root) if isinstance(el.tag, str)]  # the chapter's blocks, in the manuscript's order
    decided: set[int] = set()
    document = lay_out(_serialize(root))
    while True:
        moves = _moves(document, decided)
        if not any(moves.values()):
            return document
        _move(root, groups, moves, top)
        document = lay_out(_serialize(root))


def _serialize(root) -> str:
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def _classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def _groups(root) -> list[tuple[list, list]]:
    """Return each turned table with what is turned with it, and the blocks after it that may move before
    it; mark them so for the layout (FLOATED, TRAILS: the table's number)."""
    found = []
    section = _section(root)
    for table in root.xpath(f"//body//table[contains(concat(' ', @class, ' '), ' {LANDSCAPE} ')]"
                            f"[not(ancestor::table)]"):
        group = [table]
        for before in table.itersiblings(preceding=True):
            if not isinstance(before.tag, str) or LANDSCAPE not in _classes(before):
                break
            group.insert(0, before)
        trail = []
        if not any(_stops(el) for el in group[:-1]):  # a heading turned with it: its text stays under it
            for after in table.itersiblings():
                if not isinstance(after.tag, str):
                    continue
                if _stops(after) or LANDSCAPE in _classes(after):
                    break
                trail.append(after)
        if trail:
            # Laid out from here, a piece of the chapter would have no page before the table to fill.
            _top(group[0], section).set(NO_CUT, "")
        number = str(len(found))
        for el in group:
            el.set(FLOATED, number)
        for index, el in enumerate(trail):
            el.set(TRAILS, f"{number} {index}")
        found.append((group, trail))
    return found


def _stops(el) -> bool:
    """Tell whether a block may not move before a turned table: a heading, an original page's start, a table
    turned itself, a document's closing."""
    if CLOSING & _classes(el):
        return True
    for inner in el.iter():
        if not isinstance(inner.tag, str):
            continue
        if inner.tag in HEADINGS or {PAGEBREAK, BOUNDARY} & _classes(inner):
            return True
        if inner is not el and inner.tag == "table" and LANDSCAPE in _classes(inner):
            return True
    return False


def _moves(document, decided: set[int]) -> dict[int, int]:
    """Decide the turned tables not yet decided, up to the first that takes text: return by table how many of
    the blocks after it move before it (the pages after one that takes text change)."""
    first_page: dict[int, int] = {}
    trails: dict[int, dict[int, list]] = {}  # table -> block -> [its height on its pages, the notes it calls]
    note_heights = {}  # each note's height at the foot of its page
    area_room = 0.0  # what a page's notes take besides the notes: the area's margin and rule
    for number, page in enumerate(document.pages):
        box = page_box(page)
        for area in box.children:
            if isinstance(area, boxes.FootnoteAreaBox) and area.children:
                area_room = max(area_room, area.margin_height() - sum(c.margin_height() for c in area.children))
                note_heights.update((c.element, c.margin_height()) for c in area.children)
        _survey(box, number, first_page, trails)
    moves = {}
    for table in sorted(set(first_page) - decided, key=first_page.get):
        decided.add(table)
        moves[table] = _taken(document, first_page[table], trails.get(table), note_heights, area_room)
        if moves[table]:
            break
    return moves


def _taken(document, number: int, trail: dict | None, note_heights: dict, area_room: float) -> int:
    """Return how many of the blocks after a turned table beginning page `number` fit whole on the page before
    it, if that page is short (none if it is not, or is another turned table's)."""
    if number == 0 or not trail:
        return 0
    before = document.pages[number - 1]
    if before.width > before.height:  # another turned table's page
        return 0
    free, has_notes = _room(page_box(before))
    if free <= SHORT * page_box(before).height:
        return 0
    used, taken = 0.0, 0
    for index in range(max(trail) + 1):
        height, notes = trail.get(index, (0.0, []))
        notes_height = sum(note_heights.get(note, 0.0) for note in notes)
        cost = height + notes_height + (area_room if notes and not has_notes else 0)
        if used + cost > free - SLACK:
            break
        used += cost
        has_notes = has_notes or bool(notes)
        taken += 1
    return taken


def _survey(box, number: int, first_page: dict, trails: dict, holder=None) -> None:
    """Note on which page each turned table begins, and the height of each block after it and the notes it calls."""
    for child in getattr(box, "children", ()):
        if isinstance(child, (boxes.MarginBox, boxes.FootnoteAreaBox)):
            continue
        element = getattr(child, "element", None)
        if element is not None and element is not holder:
            table = element.get(FLOATED)
            if table is not None:
                first_page.setdefault(int(table), number)
            trail = element.get(TRAILS)
            if trail is not None:
                table, index = map(int, trail.split())
                height, notes = trails.setdefault(table, {}).get(index, (0.0, []))
                notes = notes + [b.footnote.element for b in _descendants(child) if getattr(b, "footnote", None)]
                trails[table][index] = (height + child.margin_height(), notes)
                continue
        _survey(child, number, first_page, trails, element)


def _descendants(box):
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _descendants(child)


def _room(box) -> tuple[float, bool]:
    """Return the height left on a page under its last line, above its notes, and whether it has notes."""
    limit, has_notes = box.content_box_y() + box.height, False
    bottom = box.content_box_y()
    for child in box.children:
        if isinstance(child, boxes.FootnoteAreaBox):
            if child.children:
                limit, has_notes = min(limit, child.position_y), True
        elif not isinstance(child, boxes.MarginBox):
            for inner in _descendants(child):
                if isinstance(inner, (boxes.LineBox, boxes.ReplacedBox)):
                    bottom = max(bottom, inner.position_y + inner.margin_height())
    return limit - bottom, has_notes


def _move(root, groups: list[tuple[list, list]], moves: dict[int, int], top: list) -> None:
    """Move the blocks before their tables; mark the chapter's blocks whose pages it changed, and where each
    top-level block stood (pieces.py counts blocks in the manuscript's order, top)."""
    section = _section(root)
    place = {el: i for i, el in enumerate(top)}
    for number, (group, trail) in enumerate(groups):
        moved = trail[:moves.get(number, 0)]
        if not moved:
            continue
        for el in [*group, *moved]:
            if el in place:
                el.set(FLOAT_AT, str(place[el]))
        for el in moved:
            group[0].addprevious(el)
        later = next((g for g, _ in groups[number + 1:]), None)
        begin = place[_top(group[0], section)]
        end = place[_top(later[0], section)] if later else len(top) - 1
        for el in top[begin:end + 1]:
            el.set(NO_CUT, "")


def _section(root):
    """Return the chapter's section of a part."""
    return next(el for el in root.find("body") if isinstance(el.tag, str))


def _top(el, section):
    """Return the chapter's top-level block holding el."""
    while el.getparent() is not section:
        el = el.getparent()
    return el
