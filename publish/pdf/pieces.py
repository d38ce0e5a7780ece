"""A chapter in pieces: cut where a page begins cleanly with a block, so that an edit lays out one piece again.

After a chapter is laid out, a page that begins with one of the chapter's top-level blocks (not the rest
of a block split across the break, its margin above kept, no footnote carried over from the page
before and no margin number moved onto it) could begin a layout of its own and come out the same.
Such a page becomes a cut where its block's content says so (its hash, like rsync's chunks), so a clean
build and an incremental one cut at the same places whatever was edited elsewhere. Each piece is drawn
and cached as its own PDF; after an edit only the pieces from the changed block on are laid out again,
from the cut before it, until the layout begins a page with the next unchanged cut block.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass

from lxml import html as lxml_html

from ..book.markup import FLOAT_AT, FOOTNOTE, NO_CUT
from ..book.pages import roman
from ..system.fork import shared
from .cache import PdfCache
from .html import OTHER_PART
from .laid import Laid
from .layout import arrange_pages, margin_numbers, page_starts
from .typeset import MARGIN_GAP, PROGRESS, Typesetter, collected_seldom, lay_out, lost_notes, write
from .weasy import boxes, page_box

# One clean page start in this many becomes a cut: pieces of some 12 pages in a FRUS chapter (where
# about one page in three begins cleanly), few enough that each piece's own fonts and the joins stay cheap.
PIECE_EVERY = 4
# Blocks laid out after the one where a relaid region should be back in step: without what follows it, a
# block kept with the next (a document's heads, its first line, a paragraph's orphans) would fit at the foot
# of the page before, and the region would be laid out again to the next cut. About a page of FRUS text.
LOOKAHEAD = 12


def _section(root):
    """Return the chapter's section element of a parsed part (the body's first element)."""
    body = root.find("body")
    return next(el for el in body if isinstance(el.tag, str))


def parse(html: str):
    """Return a part's document and its chapter's top-level blocks."""
    root = lxml_html.document_fromstring(html)
    return root, [el for el in _section(root) if isinstance(el.tag, str)]


def signatures(blocks) -> list[str]:
    """Return what decides each block's layout: its HTML and the sibling before it (CSS's `p + p`)."""
    out, before = [], ""
    for block in blocks:
        own = lxml_html.tostring(block, encoding="unicode", with_tail=False)
        out.append(hashlib.sha256(f"{before}\n{own}".encode()).hexdigest())
        before = f"{block.tag} {block.get('class') or ''}"
    return out


def context(root) -> str:
    """Return the digest of the part apart from its blocks: the root's attributes, head and section's."""
    section = _section(root)
    shallow = (dict(root.attrib), lxml_html.tostring(root.find("head"), encoding="unicode"),
               section.tag, dict(section.attrib))
    return hashlib.sha256(repr(shallow).encode()).hexdigest()


def is_cut(signature: str) -> bool:
    """Say whether a block beginning a page cleanly becomes a cut."""
    return int(signature[:12], 16) % PIECE_EVERY == 0


def piece_html(html: str, start: int, stop: int | None, right: bool,
               notes_to: int | None = None) -> tuple[str, list[int], set[str]]:
    """Return the part laid out from block start (on a recto if right) to before block stop, the chapter's
    index of each block it keeps, and the notes it shows (of the blocks before notes_to, if given).

    The chapter's first block stays, on pages of its own that are dropped after layout, so the running
    heads it sets and the count of the chapter's pages are as in the whole chapter; of the blocks before
    start, the one just before and the first of each kind stay hidden, for selectors (`p + p`,
    `:first-of-type`). Blocks from stop on are left out.
    """
    root, blocks = parse(html)
    kept = list(range(len(blocks) if stop is None else min(stop, len(blocks))))
    if start > 0:
        kinds = set()
        for index, block in enumerate(blocks[:start]):
            first_of_kind = block.tag not in kinds
            kinds.add(block.tag)
            if index == 0:
                continue
            if first_of_kind or index == start - 1:
                block.set("style", "display: none")
            else:
                block.drop_tree()
                kept.remove(index)
        style = blocks[start].get("style")
        side = "right" if right else "left"
        blocks[start].set("style", f"break-before: {side}" + (f"; {style}" if style else ""))
    for block in blocks[stop:] if stop is not None else ():
        block.drop_tree()
    upto = notes_to if notes_to is not None else stop
    shown = blocks[start:upto] if upto is not None else blocks[start:]
    notes = {el.get("id") for b in shown for el in b.iter() if isinstance(el.tag, str)
             and FOOTNOTE in (el.get("class") or "").split()}
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>"), kept, notes


def lead_pages(document, start: int, indices: list[int]) -> int:
    """Return how many pages come before the one where block start begins (0 for the whole chapter)."""
    if start == 0:
        return 0
    for number, page in enumerate(document.pages):
        top = _top_blocks(page_box(page), indices)
        if top and top[0][0] == start:
            return number
    raise RuntimeError("a piece's first block begins no page")


def _top_blocks(page_box, indices: list[int]) -> list[tuple[int | None, object]]:
    """Return (index among the chapter's blocks, box) for each top-level block on the page.

    indices holds the chapter's index of each block the laid-out document has.
    """
    section = _find_section(page_box)
    if section is None:
        return []
    order = _order(section.element, tuple(indices))
    return [(order.get(child.element) if child.element is not section.element else None, child)
            for child in section.children if isinstance(child, boxes.BlockLevelBox)]


@functools.lru_cache(maxsize=1)
def _order(section, indices: tuple[int, ...]) -> dict:
    """Return the chapter's index of each block element of the section (asked again for each page of a document)."""
    # Keyed by the elements themselves: while they are held, lxml gives the boxes the same element objects.
    # A block that moved before a turned table (floats.py) says where it stood.
    return {el: indices[int(el.get(FLOAT_AT, i))] for i, el in enumerate(e for e in section if isinstance(e.tag, str))}


def _find_section(page_box):
    """Return the box of the chapter's section on a page, if the page has one."""
    for area in page_box.children:
        if isinstance(area, (boxes.MarginBox, boxes.FootnoteAreaBox)):
            continue
        stack = [area]
        while stack:
            box = stack.pop(0)
            if getattr(box, "element_tag", None) == "section" and box.element is not None:
                return box
            if getattr(box, "element_tag", None) in ("html", "body"):
                stack.extend(c for c in box.children if isinstance(c, boxes.ParentBox))
    return None


def cut_at(document, number: int, moved_in: bool, indices: list[int], sigs: list[str]) -> int | None:
    """Return the block that begins page `number` cleanly if it is a cut, else None."""
    if number == 0 or moved_in:
        return None
    here = _top_blocks(page_box(document.pages[number]), indices)
    before = _top_blocks(page_box(document.pages[number - 1]), indices)
    if not here or here[0][0] is None or (before and before[-1][0] == here[0][0]) or not is_cut(sigs[here[0][0]]):
        return None
    box = here[0][1]
    if box.element.get(NO_CUT) is not None:
        return None  # its page comes of text moved before a turned table: laid out from here, it would not
    if box.margin_top == 0 and box.style["margin_top"].value != 0:
        return None  # dropped at this unforced break, kept after the forced one that begins a piece
    # A note called on an earlier page may be set at this one's foot, when it did not fit at its own.
    calls, notes = set(), set()
    for area in page_box(document.pages[number]).children:
        if isinstance(area, boxes.FootnoteAreaBox):
            notes |= {id(child.element) for child in area.children}
        else:
            calls |= {id(box.footnote.element) for box in _descendants(area) if getattr(box, "footnote", None)}
    return here[0][0] if notes <= calls else None


def _descendants(box):
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _descendants(child)


def cuts(document, sigs: list[str], moved_in: list[bool], indices: list[int], first: int,
         start: int) -> list[tuple[int, int]]:
    """Return (page, block) where each piece of a laid-out run begins: page `first` holds block start."""
    found = [(first, start)]
    for number in range(first + 1, len(document.pages)):
        block = cut_at(document, number, moved_in[number], indices, sigs)
        if block is not None and block > found[-1][1]:
            found.append((number, block))
    return found


@dataclass
class _Kept:
    """A piece of the last build, taken from the cache (or laid out alone if it is not there)."""

    start: int
    stop: int | None
    pages: int
    right: bool
    carried: str | None


@dataclass
class _Fresh:
    """Pages laid out in this build: from page `lead` of the document to before page `end`."""

    document: object
    lead: int
    end: int
    starts: list  # layout.page_starts of the document, from `lead` on
    cuts: list[tuple[int, int]]  # (page, block) where each piece begins, the page counted from `lead`
    notes: set[str]  # the footnotes called on its pages
    # layout.margin_numbers of the document from `lead` on: found as it is cut, kept to place them as it is drawn
    # (a survey of every box of a long chapter, on the build's critical path).
    numbers: dict

    @property
    def pages(self) -> int:
        return self.end - self.lead


@dataclass
class Run:
    """A chapter laid out for drawing, in segments kept from the last build or laid out now."""

    html: str
    sigs: list[str]
    context: str
    carried: str | None
    segments: list
    whole: bool = False  # its one segment is the chapter's HTML laid out as it comes, from the first page

    @property
    def pages(self) -> int:
        return sum(s.pages for s in self.segments)

    def lost(self, anchors: set[str]) -> set[str]:
        """Return the footnotes laid out now that are on no page or run past its foot."""
        fresh = [s for s in self.segments if isinstance(s, _Fresh)]
        return {a for s in fresh for a in lost_notes(s.document, anchors & s.notes)}


class Chapters:
    """Lay out and draw chapters in pieces, each kept in the cache, laying out again only what changed."""

    def __init__(self, setter: Typesetter, cache: PdfCache, build: int | None = None, patience: float = 0.0):
        self.setter, self.cache = setter, cache
        self.build = build  # the build's process, where a long chapter may be drawn on two cores (else None)
        self.patience = patience  # seconds a copy drawing half may go silent before it is taken for stuck

    def layout(self, html: str, carried: str | None, notes: set[str] = frozenset()) -> Run:
        """Lay out a chapter, from the last build's cuts around the blocks that changed where it can.

        A chapter with a note too tall for the foot of one page (of notes, its footnotes) is laid out
        whole, the note run on from page to page (typeset.lay_out), as one piece.
        """
        trials = {}  # the trial layouts of its tables, kept until it is laid out with its notes cut, if it is
        with collected_seldom():  # its pages surveyed for cuts too, not only laid out (typeset.YOUNG_OBJECTS)
            return self._laid_out(html, carried, notes, trials)

    def _laid_out(self, html: str, carried: str | None, notes: set[str], trials: dict) -> Run:
        run = self._layout(html, carried, trials)
        if run.lost(notes):
            whole = run.segments[0].document if run.whole else None
            document = lay_out(self.setter, html, notes, whole, trials)
            fresh = self._fresh(document, run.sigs, list(range(len(run.sigs))), 0, 0, len(document.pages), carried,
                                set(notes))
            fresh.cuts = fresh.cuts[:1]
            run.segments = [fresh]
        return run

    def _layout(self, html: str, carried: str | None, trials: dict) -> Run:
        """Lay out a chapter, each footnote at the foot of its page or lost, in pieces where it can (trials:
        Typesetter.layout's, when it is laid out whole)."""
        root, blocks = parse(html)
        sigs, ctx = signatures(blocks), context(root)
        run = Run(html, sigs, ctx, carried, [])
        plan = self._plan(sigs, ctx)
        if plan is None or plan["carried"] != carried:
            document = self.setter.layout(html, trials)
            notes = {el.get("id") for b in blocks for el in b.iter() if isinstance(el.tag, str)
                     and FOOTNOTE in (el.get("class") or "").split()}
            run.segments = [self._fresh(document, sigs, list(range(len(blocks))), 0, 0, len(document.pages), carried,
                                        notes)]
            run.whole = True
            return run
        old = plan["sigs"]
        kept = [_Kept(p["start"], q["start"] if q else None, p["pages"], p["right"], p["carried"])
                for p, q in zip(plan["pieces"], plan["pieces"][1:] + [None])]
        # The first piece with a changed block; laid out again from its first block if that is unchanged
        # (the pages before are the same, so it still begins a page), else from the piece before.
        first = next((i for i, k in enumerate(kept) if old[k.start:k.stop] != sigs[k.start:k.stop]
                      or (k.stop is None and len(old) != len(sigs))), None)
        if first is None:
            run.segments = kept
            return run
        while first and (kept[first].start >= len(sigs) or old[kept[first].start] != sigs[kept[first].start]):
            first -= 1
        begin, shift = kept[first], len(sigs) - len(old)
        run.segments = kept[:first]
        # Each later cut whose blocks to the chapter's end are unchanged is where the layout may be back in step.
        targets = [k for k in kept[first + 1:] if old[k.start:] == sigs[k.start + shift:]]
        for target in targets:
            if target.start + shift <= begin.start:
                continue
            fresh, in_step = self._region(run, begin, target.start + shift, target)
            if in_step:
                run.segments.append(fresh)
                run.segments += [_Kept(k.start + shift, k.stop + shift if k.stop is not None else None,
                                       k.pages, k.right, k.carried) for k in kept if k.start >= target.start]
                return run
            if len(fresh.cuts) > 1:  # keep the pieces before its last cut, and go on from there
                page, block = fresh.cuts.pop()
                fresh.end = fresh.lead + page
                fresh.notes -= _notes_of(fresh.document.pages[fresh.end:])
                run.segments.append(fresh)
                begin = _Kept(block, None, 0, page_box(fresh.document.pages[fresh.end]).page_type.side == "right",
                              fresh.starts[page][0])
        run.segments.append(self._region(run, begin, None, None)[0])
        return run

    def _plan(self, sigs: list[str], ctx: str) -> dict | None:
        kept = self.cache.plans.get(self._plan_key(sigs, ctx))
        if kept is None:
            return None
        try:
            plan = json.loads(kept[0])
        except (ValueError, RecursionError):
            return None
        return plan if _sound(plan, ctx) else None

    def _plan_key(self, sigs: list[str], ctx: str) -> str:
        # By the chapter's first block (its heading): an edit in its text keeps the chapter's plan.
        return self.cache.key("plan", ctx, sigs[0] if sigs else "")

    def _region(self, run: Run, begin: _Kept, until: int | None, expect: _Kept | None) -> tuple[_Fresh, bool]:
        """Lay out from begin's first block; with until, to that block, and say if it begins a page as expect did."""
        stop, upto = (until + 1 + LOOKAHEAD, until + 1) if until is not None else (None, None)
        html, indices, notes = piece_html(run.html, begin.start, stop, begin.right, upto)
        document = self.setter.layout(html)
        lead = lead_pages(document, begin.start, indices)
        fresh = self._fresh(document, run.sigs, indices, lead, begin.start, len(document.pages), begin.carried, notes)
        if until is None:
            return fresh, True
        end = next((lead + i for i, page in enumerate(document.pages[lead:])
                    if [b for b, _ in _top_blocks(page_box(page), indices)[:1]] == [until]), None)
        if (end is None or cut_at(document, end, fresh.starts[end - lead][1], indices, run.sigs) != until
                or (page_box(document.pages[end]).page_type.side == "right") != expect.right
                or fresh.starts[end - lead][0] != expect.carried):
            # A cut among the blocks after until may not be one where they are followed by the rest.
            fresh.cuts = [(page, block) for page, block in fresh.cuts if block <= until]
            return fresh, False
        fresh.end = end
        fresh.cuts = [(page, block) for page, block in fresh.cuts if page < end - lead]
        fresh.notes -= _notes_of(document.pages[end:])
        return fresh, True

    def _fresh(self, document, sigs, indices, lead: int, start: int, end: int, carried, notes: set[str]) -> _Fresh:
        numbers = margin_numbers(document.copy(document.pages[lead:]))
        starts = page_starts(numbers, len(document.pages) - lead, carried)
        moved = [False] * lead + [m for _, m in starts]
        found = [(page - lead, block) for page, block in cuts(document, sigs, moved, indices, lead, start)
                 if page < end]
        return _Fresh(document, lead, end, starts, found, notes, numbers)

    def draw(self, run: Run, first_folio: int, lower_roman: bool) -> Laid:
        """Draw a laid-out chapter piece by piece; return it with the cache entries it was made from."""
        with collected_seldom():  # its margin numbers placed too, not only its pieces written (typeset.YOUNG_OBJECTS)
            return self._draw(run, first_folio, lower_roman)

    def _draw(self, run: Run, first_folio: int, lower_roman: bool) -> Laid:
        made, keys, pieces = [], [], []  # made: each piece's PDF, or how to draw it
        offset = 0

        def folio(i):
            return roman(first_folio + i).lower() if lower_roman else str(first_folio + i)

        for segment in run.segments:
            if isinstance(segment, _Kept):
                key = self._key(run, segment.start, segment.stop, segment.right, segment.carried, first_folio + offset,
                                lower_roman)
                pdf = self.cache.piece(key)
                made.append(pdf if pdf is not None
                            else functools.partial(self._alone, run, segment, lambda i, o=offset: folio(o + i)))
                keys.append(key)
                pieces.append(segment)
            else:
                pages = segment.document.pages[segment.lead:segment.end]
                view = segment.document.copy(segment.document.pages[segment.lead:])
                arrange_pages(view, MARGIN_GAP, segment.starts[0][0], lambda i, o=offset: folio(o + i),
                              segment.numbers)
                bounds = [page for page, _ in segment.cuts] + [segment.pages]
                stops = [block for _, block in segment.cuts[1:]] + [self._next_start(run, segment)]
                for (page, block), stop_page, stop in zip(segment.cuts, bounds[1:], stops):
                    right = page_box(pages[page]).page_type.side == "right"
                    carried = segment.starts[page][0]
                    made.append(functools.partial(_write, segment.document, pages[page:stop_page]))
                    keys.append(self._key(run, block, stop, right, carried, first_folio + offset + page, lower_roman))
                    pieces.append(_Kept(block, stop, stop_page - page, right, carried))
            offset += segment.pages
        # A long chapter's pieces are drawn on two cores where this process may fork (system/fork.py).
        todo = [i for i, pdf in enumerate(made) if callable(pdf)]
        jobs = [made[i] for i in todo]
        drawn = ([job() for job in jobs] if self.build is None
                 else shared(jobs, [pieces[i].pages for i in todo], PROGRESS, self.build, self.patience))
        for i, pdf in zip(todo, drawn):
            made[i] = pdf
            self.cache.pieces.put(keys[i], pdf)
        plan = {"context": run.context, "carried": run.carried, "sigs": run.sigs,
                "pieces": [{"start": p.start, "pages": p.pages, "right": p.right, "carried": p.carried}
                           for p in pieces]}
        plan_key = self._plan_key(run.sigs, run.context)
        self.cache.plans.put(plan_key, json.dumps(plan).encode())
        return Laid(tuple(made), offset, self.cache.made_of(keys, plan_key))

    def _next_start(self, run: Run, segment: _Fresh) -> int | None:
        """Return the first block of the segment after this one (None at the chapter's end)."""
        later = run.segments[run.segments.index(segment) + 1:]
        if not later:
            return None
        return later[0].start if isinstance(later[0], _Kept) else later[0].cuts[0][1]

    def _key(self, run: Run, start: int, stop: int | None, right: bool, carried, first_folio: int, lower: bool) -> str:
        return self.cache.key("piece", run.context, run.sigs[start:stop], right, carried, first_folio, lower)

    def _alone(self, run: Run, piece: _Kept, folio) -> bytes:
        """Lay out and draw one piece by itself (its drawing is not in the cache)."""
        html, indices, notes = piece_html(run.html, piece.start, piece.stop, piece.right)
        # A chapter with a note run on from page to page is one piece, laid out so again.
        document = lay_out(self.setter, html, notes)
        lead = lead_pages(document, piece.start, indices)
        pages = document.pages[lead:]
        if len(pages) != piece.pages:
            raise RuntimeError(f"a piece laid out alone came out {len(pages)} pages long, not {piece.pages}")
        view = document.copy(pages)
        arrange_pages(view, MARGIN_GAP, piece.carried, folio)
        return _write(document, pages)


def _sound(plan, ctx: str) -> bool:
    """Say whether a plan read from the cache (which may come from elsewhere) is one this build can follow."""
    if not isinstance(plan, dict) or plan.get("context") != ctx:
        return False
    sigs, pieces = plan.get("sigs"), plan.get("pieces")
    if not (isinstance(sigs, list) and all(isinstance(s, str) for s in sigs) and isinstance(pieces, list) and pieces):
        return False
    starts = [p.get("start") if isinstance(p, dict) else None for p in pieces]
    return (starts[0] == 0 and all(type(a) is int and type(b) is int and a < b for a, b in zip(starts, starts[1:]))
            and starts[-1] < len(sigs)
            and all(type(p.get("pages")) is int and p["pages"] > 0 and type(p.get("right")) is bool
                    and isinstance(p.get("carried"), (str, type(None))) for p in pieces)
            and isinstance(plan.get("carried"), (str, type(None))))


def _notes_of(pages) -> set[str]:
    """Return the ids of the footnotes set on pages."""
    found = set()
    for page in pages:
        for area in page_box(page).children:
            if isinstance(area, boxes.FootnoteAreaBox):
                found |= {c.element.get("id") for c in area.children if c.element is not None}
    return found


def _write(document, pages) -> bytes:
    """Return pages as a PDF of their own; a link to an anchor on no page of them points to another part."""
    anchors = {name for page in pages for name in page.anchors}
    for page in pages:
        page.links = [("external", OTHER_PART + target, *rest) if kind == "internal" and target not in anchors
                      else (kind, target, *rest) for kind, target, *rest in page.links]
    return write(document.copy(pages))
