"""What WeasyPrint's tagging (write_pdf's pdf_tags) is told about a part that it cannot see in the HTML.

WeasyPrint tags every text it draws as content of the element that holds it, margin boxes included,
and leaves those out of the structure tree. Here, once the pages are arranged (layout.py): the running
heads, folios, page ranges and original-page margin numbers become pagination artifacts that assistive
technology and text extraction skip; the original page break itself becomes an empty structure element
whose /Alt names the page ("page 588"), where it falls in the text; a footnote becomes a Note with an ID,
its number in the text a Reference; a table header gets its scope, an element in another language its
/Lang. Once written, each part's tree is mended where WeasyPrint's falls short of PDF/UA (settle), so
that the join (join.py) makes one tree of the parts' trees without walking them.

WeasyPrint tags page by page: a paragraph, table, list or section that runs onto the next page becomes
one structure element on each, and a note too tall for one page's foot is drawn as pieces (html.py,
cut_notes), each a note of its own. Each element is told which HTML element it stands for (KEY, the
element's place in the document; a note's pieces and a paragraph of a note cut between them share
their first's), and settle makes one element of those a page or a note's cut parted, the book's
structure whatever the pages; a table header repeated atop a page is drawn as an artifact.
"""
from __future__ import annotations

import contextlib
import io
import weakref

import pikepdf
import pydyf

from ..book.markup import (
    FACSIMILE_LINK,
    FOOTNOTE,
    FOOTNOTE_CALL,
    FOOTNOTE_MARKER,
    NEW_PARAGRAPH,
    NOTE_BLOCK,
    PAGE_LABEL,
    PAGE_NUMBER,
    PAGEBREAK,
    PIECE_INDEX,
    PIECE_OF,
    RESUMED,
)
from .weasy import boxes, page_box, tagged, unwrap

# Set on a laid-out box whose drawing is page furniture, to the artifact's subtype (ISO 32000-1 14.8.2.2).
FURNITURE = "publish_artifact"
NOTE_CLASSES = {FOOTNOTE}
# A note's blocks are drawn as spans (html.py, _footnote): each is tagged as the block it stands for, a Note's
# paragraphs P as in the body (ISO 32000-2 Annex L lets a Note hold P, Div, BlockQuote, H). Lists and tables
# in a note stay Span: drawn as lines of a block, they hold no boxes for list items and cells.
NOTE_BLOCK_ROLES = {"p": "/P", "div": "/Div", "blockquote": "/BlockQuote", **{f"h{n}": f"/H{n}" for n in range(1, 7)}}
# A note's number in the text refers to it; at the note, it is its label.
PSEUDO_ROLES = {FOOTNOTE_CALL: "/Reference", FOOTNOTE_MARKER: "/Lbl"}
# Private keys of a part's structure elements, gone from the book: the HTML element an element stands
# for, and the note a Reference calls. join.py reads KEY on a part's top elements, to join a chapter's pieces.
KEY = "/PublishElement"
CALLS = "/PublishNote"
# ...and the note that a block of a note cut into pieces belongs to: settle puts it in the note.
IN_NOTE = "/PublishInNote"
# ...and the page break a margin number's link belongs to (its /Alt): settle puts the link beside it.
BREAK_OF = "/PublishBreak"
# Set on WeasyPrint's PDF while it is tagged: what build_box_tree keeps from page to page (_Keys).
_STATE = "publish_keys"
# pikepdf makes a name anew at each pikepdf.Name.X: those compared with every element of a tree, made once.
_STRUCT_ELEM, _DOCUMENT, _LI, _LINK, _OBJR, _SPAN = (
    pikepdf.Name.StructElem, pikepdf.Name.Document, pikepdf.Name.LI, pikepdf.Name.Link, pikepdf.Name.OBJR,
    pikepdf.Name.Span)


def mark_furniture(document) -> None:
    """Flag the running heads, folios, page ranges, margin numbers and repeated table headers of a laid-out
    part as artifacts."""
    tables = set()
    for page in document.pages:
        for area in page_box(page).children:
            if isinstance(area, boxes.MarginBox):
                _flag(area, "Header" if area.at_keyword.startswith("@top") else "Footer")
            else:
                _mark_numbers(area)
                _mark_repeated_headers(area, tables)


def _mark_repeated_headers(area, tables: set) -> None:
    """Flag the header a table repeats atop each page after its first: it is tagged once, where it begins."""
    for box in area.descendants():
        if isinstance(box, boxes.TableBox) and box.element is not None:
            if id(box.element) in tables:
                for group in box.children:
                    if group.is_header:
                        _flag(group, "Header")
            tables.add(id(box.element))


def _mark_numbers(box) -> None:
    for child in getattr(box, "children", None) or ():
        child = unwrap(child)
        if PAGE_NUMBER in _classes(child):
            _flag(child, "Pagination")
        elif _resumes(child):
            # It heads the page's foot, as a running foot would: no margin number (series/validate.py).
            _flag(child, "Footer")
        else:
            _mark_numbers(child)


def _resumes(box) -> bool:
    """Say whether a box is the "3. (continued)" that heads a page's foot where a note runs on: page furniture."""
    element, tag = getattr(box, "element", None), getattr(box, "element_tag", None) or ""
    return tag.endswith(f"::{FOOTNOTE_MARKER}") and RESUMED in (element.get("class") or "").split()


def _flag(box, subtype: str) -> None:
    """Flag a box and everything in it: WeasyPrint marks content text box by text box."""
    setattr(box, FURNITURE, subtype)
    for child in getattr(box, "children", None) or ():
        _flag(unwrap(child), subtype)


def _classes(box) -> set[str]:
    """Return the classes of the element a box draws, none for its ::before, ::marker and the like."""
    element = getattr(box, "element", None)
    if element is None or "::" in (getattr(box, "element_tag", None) or ""):
        return set()
    return set((element.get("class") or "").split())


def marked(original, stream, box, tag):
    """Mark a text as a pagination artifact where it is page furniture, else as WeasyPrint would (original)."""
    subtype = getattr(box, FURNITURE, None)
    if not tagged(stream) or not subtype:
        return original(stream, box, tag)
    properties = {"Type": "/Pagination"}
    if subtype != "Pagination":
        properties["Subtype"] = f"/{subtype}"
    return _artifact(stream, pydyf.Dictionary(properties))


# Text extractors that copy and search artifacts like any text skip a text whose /ActualText says it is none
# (docs/outputs.md, "Page furniture"): Poppler one whose Span's is empty; pdfium one whose innermost mark's
# holds no printable character, which a tab is not. Either text comes out of the other as it would anyway.
_NO_TEXT = pydyf.Dictionary({"ActualText": pydyf.String("")})
_NO_PRINTABLE_TEXT = pydyf.String("\t")


@contextlib.contextmanager
def _artifact(stream, properties):
    stream.begin_marked_content("Span", _NO_TEXT)
    properties["ActualText"] = _NO_PRINTABLE_TEXT
    stream.begin_marked_content("Artifact", properties)
    try:
        yield
    finally:
        stream.end_marked_content()
        stream.end_marked_content()


def build_box_tree(original, box, parent, pdf, page_number, nums, annotations, tags):
    """Build WeasyPrint's structure for a box (original), leaving furniture out, naming notes and page breaks
    and keying each element to its HTML element."""
    inner = unwrap(box)
    tag, _, pseudo = (getattr(inner, "element_tag", None) or "").partition("::")
    if tag == "html" and not isinstance(inner, boxes.PageBox):
        state = getattr(pdf, _STATE, None)
        if state is None or state.root is not inner.element:
            setattr(pdf, _STATE, _Keys(inner.element))
    state = getattr(pdf, _STATE, None)
    if getattr(inner, FURNITURE, None):
        if state is not None:
            state.stand_in(inner)
        yield from _furniture_links(inner, parent, pdf, page_number, annotations)
        return
    # For the page, html and body, WeasyPrint yields the elements of their children.
    html = inner.element if tag not in ("", "html", "body") and not isinstance(inner, boxes.PageBox) else None
    for element in original(box, parent, pdf, page_number, nums, annotations, tags):
        if html is not None and pseudo in PSEUDO_ROLES:
            if pseudo == FOOTNOTE_MARKER and not len(element["K"]):
                continue  # the number a note's piece after its first does not repeat
            element["S"] = PSEUDO_ROLES[pseudo]
            if pseudo == FOOTNOTE_CALL and state is not None:
                element[CALLS[1:]] = state.keys[id(html)]
        elif html is not None and not pseudo:
            _describe(element, html, set((html.get("class") or "").split()))
            # An anonymous box (a list item's body, a cell's block) draws its parent's element: not keyed,
            # else it would be taken for a part of its parent.
            if state is not None and parent.get(KEY[1:]) != state.keys[id(html)]:
                element[KEY[1:]] = state.keys[id(html)]
                if state.keys[id(html)] in state.notes:
                    element[IN_NOTE[1:]] = state.notes[state.keys[id(html)]]
                if element["S"] == "/Table":
                    state.alias_headers(inner)
                elif element["S"] == "/TH":
                    state.headers.setdefault(state.keys[id(html)], element)
        yield element


def _furniture_links(box, parent, pdf, page_number, annotations):
    """Yield a Link element for each link in furniture: a margin number's to its page's scanned image.

    The furniture is left out of the tree with what it holds; its links are not: PDF/UA-1 (7.18.5) puts every
    link annotation in a Link element, whose description says where it goes (settle puts one held by a page
    break beside it, where its /Alt would hide it).
    """
    page = pdf.page_references[page_number]
    for link in (box, *_descendants(box)):
        annotation = getattr(link, "link_annotation", None)
        if annotation is None:
            continue
        objr = pydyf.Dictionary({"Type": "/OBJR", "Obj": annotation.reference, "Pg": page})
        pdf.add_object(objr)
        text = " ".join("".join(link.element.itertext()).split()) if link.element is not None else ""
        classes = set((link.element.get("class") or "").split()) if link.element is not None else set()
        description = pydyf.String(f"scanned image of page {text}" if FACSIMILE_LINK in classes else text or "link")
        annotation["Contents"] = description
        element = pydyf.Dictionary({"Type": "/StructElem", "S": "/Link", "K": pydyf.Array([objr.reference]),
                                    "Pg": page, "P": parent.reference, "Alt": description})
        if FACSIMILE_LINK in classes:
            # A margin number's text is its page's label (html.py). One moved to the next page's first line
            # (layout.py) is drawn outside its break's text: settle puts the link beside the break wherever.
            element[BREAK_OF[1:]] = pydyf.String(_page_alt(text))
        pdf.add_object(element)
        annotations.append((element.reference, annotation))
        yield element


def _descendants(box):
    """Yield the boxes under a laid-out box, through the placeholders of absolutely positioned ones."""
    for child in getattr(box, "children", None) or ():
        child = unwrap(child)
        yield child
        yield from _descendants(child)


class _Keys:
    """The key of each HTML element of a document, and the header cells tagged so far."""

    def __init__(self, root):
        self.root = root
        # A chapter drawn in pieces is one document: its elements are keyed once, not once a piece.
        if root not in _KEYED:
            _KEYED[root] = _keyed(root)
        self.keys, self.notes = _KEYED[root]
        self.headers = {}  # key -> the header cell's first structure element
        self.stand_ins = []  # (mark given a repeated header's cell, key of its cell)

    def stand_in(self, box) -> None:
        """Give the header cells of a repeated table header a mark, which WeasyPrint names for the cells below."""
        for cell in box.descendants():
            if getattr(cell, "element_tag", None) == "th" and cell.element is not None:
                cell.mark = pydyf.Dictionary({"A": pydyf.Dictionary()})
                self.stand_ins.append((cell.mark, self.keys[id(cell.element)]))

    def alias_headers(self, table) -> None:
        """Point the cells of a table's later page at its header cells where they were tagged, not repeated."""
        names = {mark["ID"].string: self.headers[key]["ID"] for mark, key in self.stand_ins
                 if "ID" in mark and key in self.headers}
        self.stand_ins = []
        if not names:
            return
        for cell in table.descendants():
            attributes = getattr(cell, "mark", None)
            attributes = attributes.get("A") if attributes is not None else None
            if attributes is not None and "Headers" in attributes:
                attributes["Headers"] = pydyf.Array(names.get(h.string, h) for h in attributes["Headers"])


def _keyed(root) -> tuple[dict, dict]:
    """Return each element's key by its id, and the note's key by the key of each block of a note cut into pieces."""
    keys, in_note, notes, paragraphs = {}, {}, {}, {}
    for index, element in enumerate(root.iter()):
        key = index
        note = element.get(PIECE_OF)
        if note is not None:
            key = notes.setdefault(note, index)
            for block in element:  # a piece holds one block of its note, or a part of it (html._cut)
                own = NEW_PARAGRAPH in (block.get("class") or "").split() or element.get(PIECE_INDEX) == "0"
                paragraphs[note] = keys[id(block)] = index + 1 if own else paragraphs.get(note, index + 1)
                in_note[keys[id(block)]] = key
        keys.setdefault(id(element), key)
    return keys, in_note


# The keys of a document's elements (_keyed), while its tree lives: the ids they are found by are its elements'.
_KEYED = weakref.WeakKeyDictionary()


def _page_alt(label: str) -> str:
    """Return the /Alt of a page break's element: "page 588"."""
    return f"page {label}"


def _describe(element, html, classes: set[str]) -> None:
    """Add to the structure element of an HTML element what WeasyPrint leaves out."""
    if html.get("lang"):
        element["Lang"] = pydyf.String(html.get("lang"))  # text in another language
    if PAGEBREAK in classes and html.get(PAGE_LABEL):
        element["Alt"] = pydyf.String(_page_alt(html.get(PAGE_LABEL)))
    elif element["S"] == "/TH":
        # Which cells a header heads, for checkers and readers that do not follow /Headers.
        element["A"]["Scope"] = "/Row" if html.get("scope") == "row" else "/Column"
    elif classes & NOTE_CLASSES and (html.get("id") or html.get(PIECE_OF)):
        # A note's pieces after its first (html.py, cut_notes) are Notes too, that settle joins to the first.
        element["S"] = "/Note"
        if html.get("id"):
            element["ID"] = pydyf.String(html.get("id"))
    elif role := next((NOTE_BLOCK_ROLES[c.removeprefix(NOTE_BLOCK)] for c in sorted(classes)
                       if c.startswith(NOTE_BLOCK) and c.removeprefix(NOTE_BLOCK) in NOTE_BLOCK_ROLES), None):
        element["S"] = role


def settle(pdf: bytes) -> bytes:
    """Return a tagged part with one element per HTML element, its notes beside their calls, its list items'
    bodies made, its IDs unique and an ID tree naming them."""
    with pikepdf.open(io.BytesIO(pdf)) as part:
        root = part.Root.StructTreeRoot
        merged = Merger()
        merged.walk(root)
        merged.repoint(root)
        # The tree is walked again only after a step that moved an element: most parts move few or none.
        elements = list(_elements(root))
        if _gather_notes(elements, merged.first):
            elements = list(_elements(root))
        if _place_notes(elements, merged.first):
            elements = list(_elements(root))
        _annotate_links(root, elements)  # moves only annotations, not elements
        if _lift_links(elements):
            elements = list(_elements(root))
        ids = {}
        for element in elements:
            if CALLS in element:
                del element[CALLS]
            if IN_NOTE in element:
                del element[IN_NOTE]
            if BREAK_OF in element:
                del element[BREAK_OF]
            # Only the part's top elements keep their key, for the join (a chapter's pieces share its section).
            if KEY in element and element.P.get("/S") != _DOCUMENT:
                del element[KEY]
            if element.S == _LI:
                _give_body(part, element)
            if "/ID" in element:
                # A note that runs onto the next page is tagged once on each: an ID names one element.
                identify(ids, element)
        if ids:
            tree = pikepdf.NameTree.new(part)
            for name in sorted(ids):
                tree[name] = ids[name]
            root.IDTree = tree.obj
        saved = io.BytesIO()
        part.save(saved, deterministic_id=True)
    return saved.getvalue()


class Merger:
    """Make one structure element of those that stand for one HTML element (KEY), in the order of their content."""

    def __init__(self):
        self.first = {}  # (key, role) -> the element the others join
        self.moved = {}  # objgen of an element joined to another -> that other
        self.names = {}  # ID of an element joined to another -> the other's ID
        self.joins = 0  # how many joins were made: only a join adds kids to an element

    def walk(self, element) -> None:
        """Join the elements under element, each to the first before it that stands for the same HTML element."""
        found = kids_of(element)
        kids, known = [], len(found)
        for kid in found:
            joins = self.joins
            if self._stays(kid):
                kids.append(kid)
            # A kid standing for element itself (a note's box inside the note's) was joined to it: what it held
            # was added to element's kids, and goes where the kid stood.
            if self.joins != joins and _count(element) > known:
                kids.extend(kids_of(element)[known:])
                known = _count(element)
        # Written again only if changed (the join walks every element of every piece; most stay as they are).
        if len(kids) != len(found) or any(a is not b for a, b in zip(kids, found)) \
                or not isinstance(element.get("/K"), pikepdf.Array) or element.K.is_indirect:
            element.K = pikepdf.Array(kids)

    def join(self, element, into) -> None:
        """Join element (with all it holds) to into: its content follows into's."""
        self.joins += 1
        self.moved[element.objgen] = into
        if "/ID" in element:
            if "/ID" in into:
                self.names[str(element.ID)] = into.ID
            else:
                into.ID = element.ID
        page = element.get("/Pg")
        kids = []
        for kid in kids_of(element):
            if isinstance(kid, int) and page is not None and ("/Pg" not in into or page.objgen != into.Pg.objgen):
                # Content on another page than the element's is marked by reference (ISO 32000-1 14.7.4.2).
                kid = pikepdf.Dictionary(Type=pikepdf.Name.MCR, Pg=page, MCID=kid)
            elif role_of(kid):
                kid.P = into
            kids.append(kid)
        kept = [kid for kid in kids if self._stays(kid)]
        if isinstance(into.get("/K"), pikepdf.Array) and not into.K.is_indirect:
            # Added in place, not written again whole: a chapter's section grows by every piece joined to it.
            into.K.extend(kept)
        else:
            into.K = pikepdf.Array([*kids_of(into), *kept])

    def _stays(self, kid) -> bool:
        """Say whether kid stays where it is; else it is joined to the element before it for the same HTML element."""
        if not role_of(kid):
            return True
        identity = (int(kid[KEY]), kid.S) if KEY in kid else None
        into = self.first.get(identity) if identity else None
        if into is None:
            if identity:
                self.first[identity] = kid
            self.walk(kid)
            return True
        self.join(kid, into)
        return False

    def repoint(self, root) -> None:
        """Point the parent tree and the cells' headers at the elements the joined ones became."""
        if not self.moved:
            return
        for nums in _number_tree_values(root.ParentTree):
            self.repoint_nums(nums)
        if self.names:
            for element in _elements(root):
                attributes = element.get("/A")
                if isinstance(attributes, pikepdf.Dictionary) and "/Headers" in attributes:
                    attributes.Headers = pikepdf.Array(self.names.get(str(h), h) for h in attributes.Headers)

    def repoint_nums(self, nums) -> None:
        """Point the values of a parent tree's [key, value, ...] at the elements the joined ones became."""
        for i, value in enumerate(nums):
            if isinstance(value, pikepdf.Array):
                for j, mark in enumerate(value):
                    if isinstance(mark, pikepdf.Dictionary) and mark.objgen in self.moved:
                        value[j] = self.moved[mark.objgen]
            elif isinstance(value, pikepdf.Dictionary) and value.objgen in self.moved:
                nums[i] = self.moved[value.objgen]


def _number_tree_values(tree):
    """Yield each /Nums array of a number tree, flat or not."""
    if "/Nums" in tree:
        yield tree.Nums
    for kid in tree.get("/Kids", []):
        yield from _number_tree_values(kid)


def _gather_notes(elements: list, first: dict) -> bool:
    """Put in its note each paragraph of a note cut into pieces that a piece after the first begins, in order
    (elements: the tree's, in order); say whether one was moved."""
    moved = False
    for block in [e for e in elements if IN_NOTE in e]:
        note = first.get((int(block[IN_NOTE]), pikepdf.Name.Note))
        if note is None or block.P.objgen == note.objgen:
            continue
        _remove(block)
        note.K = pikepdf.Array([*kids_of(note), block])
        block.P = note
        moved = True
    return moved


def _place_notes(elements: list, first: dict) -> bool:
    """Put each note just after its call, where the HTML has it, not after the page that sets it at its foot
    (elements: the tree's, in order); say whether one was moved."""
    moved = False
    for call in [e for e in elements if CALLS in e]:
        note = first.get((int(call[CALLS]), pikepdf.Name.Note))
        if note is None or note.P.objgen == call.P.objgen:
            continue
        _remove(note)
        siblings = kids_of(call.P)
        at = next(i for i, kid in enumerate(siblings) if _is(kid, call))
        call.P.K = pikepdf.Array([*siblings[:at + 1], note, *siblings[at + 1:]])
        note.P = call.P
        moved = True
    return moved


def _annotate_links(root, elements: list) -> None:
    """Give each link annotation to its Link element (PDF/UA-1 7.18.5), not to a span inside the link (elements:
    the tree's)."""
    # WeasyPrint gives an inline element inside a link (the <em> of "<a><em>Foreign Relations</em>, 1961</a>")
    # an annotation of its own, and tags it in that element.
    owners = {}
    for element in elements:
        if element.S == _LINK:
            continue
        # Few elements hold an annotation: only theirs are walked up to a link.
        annotations = [kid for kid in kids_of(element) if _is_link_annotation(kid)]
        if not annotations:
            continue
        link = element.get("/P")
        while link is not None and link.get("/S") != _LINK:
            link = link.get("/P")
        if link is None:
            continue
        element.K = pikepdf.Array([kid for kid in kids_of(element) if not _is_link_annotation(kid)])
        link.K = pikepdf.Array([*kids_of(link), *annotations])
        owners.update({int(kid.Obj.StructParent): link for kid in annotations})
    if owners:
        for nums in _number_tree_values(root.ParentTree):
            for i in range(0, len(nums), 2):
                if int(nums[i]) in owners:
                    nums[i + 1] = owners[int(nums[i])]


def _lift_links(elements: list) -> bool:
    """Put a margin number's Link element just after its page break's element, wherever the number was drawn
    (elements: the tree's, in order); say whether one was moved.

    The break's /Alt stands for all it holds: assistive technology would never reach a link inside. A number
    moved to the next page's first line is drawn outside the text, and its link would stand outside it too.
    """
    moved = False
    breaks = {str(e.Alt): e for e in elements if "/Alt" in e and e.S == _SPAN}
    for link in [e for e in elements if e.S == _LINK and BREAK_OF in e]:
        holder = breaks.get(str(link[BREAK_OF]))
        if holder is None or holder.get("/P") is None:
            continue
        _remove(link)
        outer = holder.P
        kids = kids_of(outer)
        at = next(i for i, kid in enumerate(kids) if _is(kid, holder))
        outer.K = pikepdf.Array([*kids[:at + 1], link, *kids[at + 1:]])
        link.P = outer
        moved = True
    return moved


def _is_link_annotation(kid) -> bool:
    """Say whether a kid of a structure element is a reference to a link annotation."""
    return (isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == _OBJR
            and kid.Obj.get("/Subtype") == _LINK)


def _remove(element) -> None:
    """Take a structure element out of its parent, and the parent out of its own if it was a page's foot left empty."""
    parent = element.P
    parent.K = pikepdf.Array([kid for kid in kids_of(parent) if not _is(kid, element)])
    if not len(parent.K) and parent.get("/S") == pikepdf.Name.NonStruct:
        _remove(parent)


def _is(kid, element) -> bool:
    """Say whether a kid of a structure element is the element given."""
    return isinstance(kid, pikepdf.Dictionary) and kid.objgen == element.objgen


def _count(element) -> int:
    """Return how many kids a structure element has, without reading them."""
    kids = element.get("/K")
    return len(kids) if isinstance(kids, pikepdf.Array) else int(kids is not None)


def kids_of(element) -> list:
    """Return the kids of a structure element (or the tree's root) as a list."""
    kids = element.get("/K", [])
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def identify(ids: dict, element) -> None:
    """Enter a structure element in ids under its ID, given a count after it if another element has it."""
    name, count = str(element.ID), 1
    while name in ids:
        count += 1
        name = f"{element.ID} ({count})"
    if name != str(element.ID):
        element.ID = pikepdf.String(name)
    ids[name] = element


def _give_body(pdf: pikepdf.Pdf, item) -> None:
    """Put a list item's paragraphs in its body (ISO 32000-1 14.8.4.3.3), not beside its label."""
    labels = [k for k in item.K if role_of(k) == pikepdf.Name.Lbl]
    rest = [k for k in item.K if role_of(k) != pikepdf.Name.Lbl]
    if any(role_of(k) != pikepdf.Name.LBody for k in rest) and all(role_of(k) for k in rest):
        body = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem, S=pikepdf.Name.LBody, P=item, K=pikepdf.Array(rest)))
        for kid in rest:
            kid.P = body
        item.K = pikepdf.Array([*labels, body])


def role_of(kid):
    """Return the structure type of a kid of a structure element, None if it is content (an MCID, an OBJR)."""
    return kid.get("/S") if isinstance(kid, pikepdf.Dictionary) else None


def _elements(element):
    """Yield the structure elements under element, each before those it holds (read once it is taken)."""
    # A stack of its own, not a generator nested as deep as the tree, which passed each element up through
    # every level: settle walks each part's tree up to five times, and the nesting was most of the walks' time.
    stack = [iter(kids_of(element))]
    while stack:
        kid = next(stack[-1], _DONE)
        if kid is _DONE:
            stack.pop()
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type", _STRUCT_ELEM) == _STRUCT_ELEM \
                and "/S" in kid:
            yield kid
            stack.append(iter(kids_of(kid)))


_DONE = object()
