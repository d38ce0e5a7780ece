"""Wide tables in print, set as a typesetter sets them: in smaller type, else on a landscape page.

Whether a table fits the text block is known only once it is laid out: each part's tables are laid
out alone first (print.css breaks a word in a cell only at a hyphen, so a table is as wide as its
longest words), and one wider than the text block is marked for print.css to set in smaller type
(.wide); one too wide even so is turned on a landscape page (.landscape), and one too wide for that
is hyphenated and breaks its words anywhere (.crowded) rather than run off the page. So a table
takes the width its words need, up to the measure, before any word of it breaks.

A part that is mostly tables (a volume's statistical appendix) is first laid out as it comes, and a table
that fits the block holding it there is not tried alone: a trial copy lacks only the part's note calls (and
its margin numbers, which take no room), so it is no wider. Where every table fits, that layout is the
part's and no table is tried at all; where one does not, the part is laid out once more than otherwise,
which costs less than trying the rest would have. In a part mostly of text, trying its tables alone is the
cheaper bet.
"""
from __future__ import annotations

import copy

from lxml import html as lxml_html
from lxml.html import builder as E

from ..book.markup import CROWDED, FOOTNOTE, LANDSCAPE, PAGE_NUMBER, PROBE, WIDE
from .weasy import boxes, page_box, unwrap

# The ways to set a table, tried in order; the last, words broken anywhere, when none fits whole words.
SETTINGS = ("", WIDE, f"{WIDE} {LANDSCAPE}", f"{WIDE} {LANDSCAPE} {CROWDED}")
SLACK = 0.5  # CSS px a table may pass the text block by: rounding in the layout
# The share of a part's HTML in its tables from which it is laid out as it comes before any table is tried.
MOSTLY_TABLES = 0.5


def fit_tables(html: str, render, lay_out, known: dict | None = None):
    """Lay out a part, each table too wide for the text block marked to be set smaller or turned.

    render lays out a trial document and lay_out the part's HTML, each returning WeasyPrint's document.
    known keeps whether each table (by its place and HTML) is too wide as it comes: the same part laid out
    again, its notes cut or marked, is not laid out as it comes first to learn it again.
    """
    if "<table" not in html:
        return lay_out(html)
    root = lxml_html.document_fromstring(html)
    for cell in root.xpath("//body//td | //body//th"):
        _trim(cell)
    for table in root.xpath("//body//table"):
        _regular(table)
    tables = root.xpath("//body//table[not(ancestor::table)]")
    as_it_comes = _serialize(root)
    known = {} if known is None else known
    keys = [(i, lxml_html.tostring(table, encoding="unicode", with_tail=False)) for i, table in enumerate(tables)]
    document, pending, settings = None, list(range(len(tables))), SETTINGS[:-1]
    if all(key in known for key in keys):
        pending, settings = [i for i in pending if known[keys[i]]], SETTINGS[1:-1]
    elif LANDSCAPE not in html and sum(len(key[1]) for key in keys) >= MOSTLY_TABLES * len(as_it_comes):
        # (A part with a turned table is laid out twice, the text after it moved: it is not laid out as it comes.)
        document = lay_out(as_it_comes)
        pending = _too_wide_in_part(document, tables, pending)
    chosen = {i: "" for i in range(len(tables)) if i not in pending}
    for setting in settings:
        if not pending:
            break
        too_wide = _too_wide(root, tables, pending, setting, render)
        chosen.update((i, setting) for i in pending if i not in too_wide)
        pending = sorted(too_wide)
    chosen.update((i, SETTINGS[-1]) for i in pending)
    known.update((key, bool(chosen[key[0]])) for key in keys)
    if not any(chosen.values()):
        return document if document is not None else lay_out(as_it_comes)
    for i, setting in chosen.items():
        if setting:
            tables[i].set("class", f"{tables[i].get('class') or ''} {setting}".strip())
    return lay_out(_serialize(root))


def _serialize(root) -> str:
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def _too_wide_in_part(document, tables: list, which: list[int]) -> list[int]:
    """Return which of the tables are wider than the block holding them in the part's layout; all of `which`
    if the layout does not show each shown table once in the text (a table in a note, say)."""
    # A table hidden (display: none, pieces.py) is laid out in no trial either.
    shown = [i for i, table in enumerate(tables)
             if not any("display: none" in (el.get("style") or "") for el in (table, *table.iterancestors()))]
    order, found = {}, set()
    for page in document.pages:
        box = page_box(page)
        for area in box.children:
            if isinstance(area, (boxes.MarginBox, boxes.FootnoteAreaBox)):
                continue
            for _, table, (left, right) in _trials(area, (box.content_box_x(), box.content_box_x() + box.width),
                                                   probe=False):
                number = order.setdefault(id(table.element), len(order))
                first, last = _extent(table, absolute=False)
                if first < left - SLACK or last > right + SLACK:
                    found.add(number)
    if len(order) != len(shown):
        return which
    return [i for i in which if i in {shown[number] for number in found}]


def _regular(table) -> None:
    """Fill each row of a table with empty cells to its widest row's columns, and end each cell's rows with its group's.

    Rows of unequal length are HTML a browser sets (a TEI table of sums and braces has them), but PDF/UA-1
    asks a tagged table for a grid: every row as many columns, every column as many rows.
    """
    rows = []  # each row, with how many of the table's columns it leaves free
    for group in [table, *(g for g in table if g.tag in ("thead", "tbody", "tfoot"))]:
        group_rows = [row for row in group if row.tag == "tr"]
        spanned: dict[int, int] = {}  # column -> rows of the group a cell above still fills
        for i, row in enumerate(group_rows):
            taken, column, left = set(spanned), 0, len(group_rows) - i
            for cell in (c for c in row if c.tag in ("td", "th")):
                while column in taken:
                    column += 1
                down = _span(cell, "rowspan") or left  # rowspan="0": to the group's end
                if down > left:
                    cell.set("rowspan", str(left))
                across = max(_span(cell, "colspan"), 1)
                for c in range(column, column + across):
                    taken.add(c)
                    if min(down, left) > 1:
                        spanned[c] = min(down, left)
                column += across
            rows.append((row, taken))
            spanned = {c: n - 1 for c, n in spanned.items() if n > 1}
    width = max((max(taken) + 1 for _, taken in rows if taken), default=0)
    for row, taken in rows:
        for _ in range(width - len(taken)):
            row.append(row.makeelement("td"))


def _span(cell, attribute: str) -> int:
    """Return a cell's rowspan or colspan as HTML reads it: 1 when absent or not a number."""
    value = (cell.get(attribute) or "").strip()
    return int(value) if value.isdigit() else 1


def _trim(cell) -> None:
    """Strip the spaces a cell's text begins and ends with (the line breaks of the HTML around it).

    WeasyPrint leaves them out of the width a column needs but not out of the line it sets there, so a
    cell a line holds would wrap after its first word ("Native / customs") in a table narrower than the page.
    """
    cell.text = (cell.text or "").lstrip() or None
    if not len(cell):
        cell.text = (cell.text or "").rstrip() or None
    elif cell[-1].tail:
        cell[-1].tail = cell[-1].tail.rstrip() or None


def _too_wide(root, tables: list, which: list[int], setting: str, render) -> set[int]:
    """Return which of the tables, set so, are wider than the text block when laid out alone."""
    trials = []
    for i in which:
        trial = copy.deepcopy(tables[i])
        trial.tail = None
        # Ids, notes and page numbers belong to the book's real copy, not to a trial one.
        for el in trial.xpath(".//*[@id]"):
            del el.attrib["id"]
        for el in trial.xpath(f".//span[contains(concat(' ', @class, ' '), ' {FOOTNOTE} ') or @class='{PAGE_NUMBER}']"):
            el.drop_tree()
        trial.set("class", f"{trial.get('class') or ''} {setting}".strip())
        trial.set(PROBE, str(i))
        trials.append(E.DIV(_in_place(tables[i], trial)))
    body = root.find("body")
    document = E.HTML(copy.deepcopy(root.find("head")), E.BODY(*trials), **dict(root.attrib))
    document.find("body").attrib.update(body.attrib)
    laid = render(_serialize(document))
    found = set()
    for page in laid.pages:
        box = page_box(page)
        for number, table, (left, right) in _trials(box, (box.content_box_x(), box.content_box_x() + box.width)):
            first, last = _extent(table)
            if first < left - SLACK or last > right + SLACK:
                found.add(int(number))
    return found


def _in_place(table, trial):
    """Return the trial within copies of the blocks holding the table (a quotation narrows the measure)."""
    for holder in table.iterancestors():
        if holder.tag in ("body", "section"):  # a chapter's section would begin each trial on a new page
            break
        shell = lxml_html.Element(holder.tag, {k: v for k, v in holder.attrib.items() if k != "id"})
        shell.append(trial)
        trial = shell
    return trial


def _trials(box, frame: tuple[float, float], probe: bool = True):
    """Yield (trial number, table box, the left and right of the block holding it) for each piece of a trial
    table within box; with probe False, of any table not inside another (its number None)."""
    for child in getattr(box, "children", ()):
        element = getattr(child, "element", None)
        if isinstance(child, boxes.TableBox) and element is not None and (not probe or element.get(PROBE) is not None):
            yield element.get(PROBE), child, frame
        elif isinstance(child, boxes.BlockContainerBox) and not getattr(child, "is_table_wrapper", False):
            yield from _trials(child, (child.content_box_x(), child.content_box_x() + child.width), probe)
        else:
            yield from _trials(child, frame, probe)


def _extent(box, absolute: bool = True) -> tuple[float, float]:
    """Return the leftmost and rightmost edges of a box and of every box inside it (but absolutely placed ones,
    margin numbers, unless absolute)."""
    left, right = box.position_x, box.position_x + box.margin_width()
    for child in getattr(box, "children", ()):
        if not absolute and unwrap(child) is not child:
            continue
        first, last = _extent(child, absolute)
        left, right = min(left, first), max(right, last)
    return left, right
