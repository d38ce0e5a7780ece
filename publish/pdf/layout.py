"""Work on WeasyPrint's laid-out pages: the part of the PDF writer that knows verso from recto.

Each original page break is an empty inline element holding an absolutely positioned number; the
number is laid out where the break falls and moved here, after layout and before drawing, to the
outer margin of its page (absolute boxes never take part in line breaking, so nothing reflows).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..book.markup import CITATION, PAGE_NUMBER, cite_pages
from . import weasy
from .weasy import boxes, line_size

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Placeholders the stylesheet puts in the margins, replaced page by page once the part is laid out.
FOLIO = "#"
RANGE = "pp."


@dataclass
class _Line:
    page: int
    box: object
    area: str  # "main" or "footnotes": a break never moves from one to the other


@dataclass
class _Number:
    page: int  # where WeasyPrint laid it out
    box: object
    parent: object
    line: _Line | None
    label: str
    # Does text other than headings precede the break on its page? If not, the page begins with it.
    text_before: bool = True


def page_starts(by_page: dict[int, list[_Number]], pages: int, carried: str | None) -> list[tuple[str | None, bool]]:
    """Return, for each of a document's pages, the original page the text is on at its top, and whether a margin
    number laid out on the page before is moved onto it (the page's text then continues that page's).

    by_page: margin_numbers(document).
    """
    return [(top, any(n.page != index for n in by_page.get(index, [])))
            for index, (top, _) in enumerate(_ranges(by_page, pages, carried))]


def arrange_pages(document, gap: float, carried: str | None, folio, by_page: dict | None = None) -> None:
    """Place margin numbers on the outer side, stack close ones, and write each page's folio and range.

    carried is the original page the text is on where the part begins; folio(i) is the folio of the
    part's page i; by_page: margin_numbers(document), if found already (a long chapter's, as it was cut).
    """
    by_page = margin_numbers(document) if by_page is None else by_page
    ranges = _ranges(by_page, len(document.pages), carried)
    for index, (page, (_, text)) in enumerate(zip(document.pages, ranges)):
        page_box = weasy.page_box(page)
        recto = page_box.page_type.side == "right"
        left = page_box.content_box_x()
        right = left + page_box.width
        here = by_page.get(index, [])
        for number in here:
            box = number.box
            x = right + gap if recto else left - gap - box.margin_width()
            box.translate(x - box.position_x, _baseline_shift(box, number.line))
            if number.page != index:
                _move_to_page(number, page_box)
            _anchor_at_line(document, number, index)
        _unstack([n.box for n in here])
        for number in here:
            _relink(document, number, index)
        _fill(page_box, {RANGE: text, FOLIO: folio(index)})


def margin_numbers(document) -> dict[int, list[_Number]]:
    """Return the margin numbers of laid-out pages by the page they belong on, each at the line it marks."""
    lines, numbers = _survey(document)
    for number in numbers:
        _settle_line_end(number, lines)
    by_page: dict[int, list[_Number]] = {}
    for number in numbers:
        page = number.line.page if number.line else number.page
        by_page.setdefault(page, []).append(number)
    return by_page


def _ranges(by_page: dict[int, list[_Number]], count: int, carried: str | None):
    """Yield, page by page, the original page the text is on at the top and the range its foot shows."""
    current = carried  # the original page the text is on at the top of the next page
    for index in range(count):
        here = by_page.get(index, [])
        first = top = current
        if here:
            if first is None or not here[0].text_before:
                first = here[0].label
            current = here[-1].label
        # A page without a label ("") bounds the range but is not named in it.
        named = [label for label in (first, *(n.label for n in here)) if label]
        yield top, cite_pages(named[0], named[-1]) if named else ""


def _survey(document) -> tuple[list[_Line], list[_Number]]:
    """Return every line of the text and every margin number, in order, with the line each stands in."""
    lines, numbers = [], []
    for index, page in enumerate(document.pages):
        survey = _PageSurvey(index, lines, numbers)
        for area in weasy.page_box(page).children:
            # The running heads and feet are not the text: a break never moves into them.
            if not isinstance(area, boxes.MarginBox):
                survey.visit(area, weasy.page_box(page), None,
                             "footnotes" if isinstance(area, boxes.FootnoteAreaBox) else "main", False)
    return lines, numbers


class _PageSurvey:
    """One page's lines and margin numbers for _survey, and whether text other than headings has come yet."""

    # Not a function nested in _survey that calls itself: its closure held itself, a cycle that kept every
    # line and box it reached (the part's pages) until the collector's next full pass.
    def __init__(self, index: int, lines: list[_Line], numbers: list[_Number]):
        self.index, self.lines, self.numbers = index, lines, numbers
        self.text_seen = False

    def visit(self, box, parent, line, area, heading) -> None:
        if isinstance(box, boxes.LineBox):
            line = _Line(self.index, box, area)
            self.lines.append(line)
        elif box.style["position"] == "absolute" and PAGE_NUMBER in _box_classes(box):
            self.numbers.append(_Number(self.index, box, parent, line, _text_of(box), self.text_seen))
            return  # the number's own text is not the page's
        elif isinstance(box, boxes.TextBox) and not heading and box.text.strip():
            self.text_seen = True
        # Headings, and the citation line under a document's, are the edition's, not text of an original page.
        heading = heading or getattr(box, "element_tag", "") in HEADINGS or CITATION in _box_classes(box)
        for child in getattr(box, "children", None) or ():
            self.visit(child, box, line, area, heading)


def _settle_line_end(number: _Number, lines: list[_Line]) -> None:
    """A break that ends its line begins the page on the next line: move it there."""
    line = number.line
    if line is None or _text_after(number.box, line):
        return
    position = next(i for i, ln in enumerate(lines) if ln is line)
    following = next((ln for ln in lines[position + 1:] if ln.area == line.area), None)
    if following is not None:
        first_on_page = next(ln for ln in lines if ln.page == following.page and ln.area == following.area)
        number.text_before = following is not first_on_page or following.area != "main"
        number.line = following


def _anchor_at_line(document, number: _Number, index: int) -> None:
    """Put the break's destination at the top of the line its number marks, on that line's page."""
    # WeasyPrint anchors a break where it was laid out: for one moved to the next line (_settle_line_end),
    # the line before, perhaps on the page before.
    name = number.parent.style["anchor"]
    if number.line is None or name not in document.pages[number.page].anchors:
        return
    x1, _, x2, _ = document.pages[number.page].anchors.pop(name)
    top = number.line.box.position_y
    document.pages[index].anchors[name] = (x1, top, x2, top)


def _relink(document, number: _Number, index: int) -> None:
    """Put the link of a margin number (to its page's scanned image) where the number now stands, on its page."""
    # WeasyPrint gathers a page's links as it lays them out, before the number is moved.
    inside = {id(box) for box, _ in _walk(number.box)}
    laid = weasy.links(document.pages[number.page])
    moved = [link for link in laid if id(link[3]) in inside]
    if moved:
        laid[:] = [link for link in laid if id(link[3]) not in inside]
        weasy.links(document.pages[index]).extend(
            (kind, target, weasy.hit_rectangle(box), box) for kind, target, _, box in moved)


def _move_to_page(number: _Number, page_box) -> None:
    """Hand an absolute box to another page's root box, so it is drawn there."""
    number.parent.children = [c for c in number.parent.children if c is not number.box]
    root = page_box.children[0]
    root.children = list(root.children) + [number.box]


def _walk(box, ancestors=()):
    """Yield every box under box with the tuple of its ancestors."""
    yield box, ancestors
    inner = ancestors + (box,)
    for child in getattr(box, "children", None) or ():
        yield from _walk(child, inner)


def _box_classes(box) -> set[str]:
    element = getattr(box, "element", None)
    if element is None or getattr(box, "pseudo_type", None):
        return set()
    return set((element.get("class") or "").split())


def _in_number(ancestors) -> bool:
    return any(PAGE_NUMBER in _box_classes(a) for a in ancestors)


def _text_of(box) -> str:
    return "".join(b.text for b, _ in _walk(box) if isinstance(b, boxes.TextBox))


def _line_texts(line):
    """Yield the line's text boxes and margin numbers in order (numbers' own text excluded)."""
    for box, ancestors in _walk(line):
        if box.style["position"] == "absolute" and PAGE_NUMBER in _box_classes(box):
            yield box
        elif isinstance(box, boxes.TextBox) and not _in_number(ancestors):
            yield box


def _text_after(number_box, line: _Line) -> bool:
    seen = False
    for box in _line_texts(line.box):
        if box is number_box:
            seen = True
        elif seen and isinstance(box, boxes.TextBox) and box.text.strip():
            return True
    return False


def _baseline_shift(box, line: _Line | None) -> float:
    """Return how far to move a margin number so its baseline matches the line it marks."""
    own = next((b for b, _ in _walk(box) if isinstance(b, boxes.TextBox)), None)
    text = next((b for b in _line_texts(line.box) if isinstance(b, boxes.TextBox) and b.text.strip()),
                None) if line else None
    if own is None or text is None:
        return 0
    return (text.position_y + text.baseline) - (own.position_y + own.baseline)


def _unstack(numbers) -> None:
    """Push down any margin number that would overlap the one above it."""
    numbers.sort(key=lambda b: b.position_y)
    bottom = None
    for box in numbers:
        if bottom is not None and box.position_y < bottom:
            box.translate(0, bottom - box.position_y)
        bottom = box.position_y + box.margin_height()


def _fill(page_box, texts: dict[str, str]) -> None:
    """Replace the placeholders in the page's margin boxes."""
    for margin in page_box.children:
        if not isinstance(margin, boxes.MarginBox):
            continue
        for box, _ in _walk(margin):
            if isinstance(box, boxes.TextBox) and box.text in texts:
                _retext(box, texts[box.text], margin.at_keyword.rsplit("-", 1)[-1])


def _retext(box, text: str, align: str) -> None:
    """Change the text of a laid-out text box; margin text never affects the page's layout."""
    layout = box.pango_layout
    layout.text = text  # WeasyPrint keeps layouts asleep between layout and drawing
    layout.reactivate(box.style)
    line, _ = layout.get_first_line()
    width, _ = line_size(line, box.style)
    layout.deactivate()
    if align in ("right", "center"):
        box.position_x += (box.width - width) / (2 if align == "center" else 1)
    box.text = text
    box.width = width
