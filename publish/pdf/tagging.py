"""What WeasyPrint's tagging (write_pdf's pdf_tags) is told about a part that it cannot see in the HTML.

WeasyPrint tags every text it draws as content of the element that holds it, margin boxes included,
and leaves those out of the structure tree. Here, once the pages are arranged (layout.py): the running
heads, folios, page ranges and original-page margin numbers become pagination artifacts that assistive
technology and text extraction skip; the original page break itself becomes an empty structure element
whose /Alt names the page ("page 588"), where it falls in the text; a footnote becomes a Note with an ID,
its number in the text a Reference; a table header gets its scope, an element in another language its
/Lang. Once written, each part's tree is mended where WeasyPrint's falls short of PDF/UA (settle), so
that the join (join.py) makes one tree of the parts' trees without walking them.
"""
from __future__ import annotations

import contextlib
import io

import pikepdf
import pydyf

from ..book.markup import FOOTNOTE, FOOTNOTE_CALL, FOOTNOTE_MARKER, PAGE_LABEL, PAGE_NUMBER, PAGEBREAK
from .weasy import boxes, page_box, tagged, unwrap

# Set on a laid-out box whose drawing is page furniture, to the artifact's subtype (ISO 32000-1 14.8.2.2).
FURNITURE = "publish_artifact"
NOTE_CLASSES = {FOOTNOTE}
# A note's number in the text refers to it; at the note, it is its label.
PSEUDO_ROLES = {FOOTNOTE_CALL: "/Reference", FOOTNOTE_MARKER: "/Lbl"}


def mark_furniture(document) -> None:
    """Flag the running heads, folios, page ranges and margin numbers of a laid-out part as artifacts."""
    for page in document.pages:
        for area in page_box(page).children:
            if isinstance(area, boxes.MarginBox):
                _flag(area, "Header" if area.at_keyword.startswith("@top") else "Footer")
            else:
                _mark_numbers(area)


def _mark_numbers(box) -> None:
    for child in getattr(box, "children", None) or ():
        child = unwrap(child)
        if PAGE_NUMBER in _classes(child):
            _flag(child, "Pagination")
        else:
            _mark_numbers(child)


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


@contextlib.contextmanager
def _artifact(stream, properties):
    stream.begin_marked_content("Artifact", properties)
    try:
        yield
    finally:
        stream.end_marked_content()


def build_box_tree(original, box, parent, pdf, page_number, nums, annotations, tags):
    """Build WeasyPrint's structure for a box (original), leaving furniture out and naming notes and page breaks."""
    inner = unwrap(box)
    if getattr(inner, FURNITURE, None):
        return
    tag, _, pseudo = (getattr(inner, "element_tag", None) or "").partition("::")
    # For the page, html and body, WeasyPrint yields the elements of their children.
    html = inner.element if tag not in ("", "html", "body") and not isinstance(inner, boxes.PageBox) else None
    for element in original(box, parent, pdf, page_number, nums, annotations, tags):
        if html is not None and pseudo in PSEUDO_ROLES:
            element["S"] = PSEUDO_ROLES[pseudo]
        elif html is not None and not pseudo:
            _describe(element, html, set((html.get("class") or "").split()))
        yield element


def _describe(element, html, classes: set[str]) -> None:
    """Add to the structure element of an HTML element what WeasyPrint leaves out."""
    if html.get("lang"):
        element["Lang"] = pydyf.String(html.get("lang"))  # text in another language
    if PAGEBREAK in classes and html.get(PAGE_LABEL):
        element["Alt"] = pydyf.String(f"page {html.get(PAGE_LABEL)}")
    elif element["S"] == "/TH":
        # Which cells a header heads, for checkers and readers that do not follow /Headers.
        element["A"]["Scope"] = "/Row" if html.get("scope") == "row" else "/Column"
    elif classes & NOTE_CLASSES and html.get("id"):
        element["S"] = "/Note"
        element["ID"] = pydyf.String(html.get("id"))


def settle(pdf: bytes) -> bytes:
    """Return a tagged part with its list items' bodies made, its IDs unique and an ID tree naming them."""
    with pikepdf.open(io.BytesIO(pdf)) as part:
        root = part.Root.StructTreeRoot
        ids = {}
        for element in _elements(root):
            if element.S == pikepdf.Name.LI:
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
    labels = [k for k in item.K if _role(k) == pikepdf.Name.Lbl]
    rest = [k for k in item.K if _role(k) != pikepdf.Name.Lbl]
    if any(_role(k) != pikepdf.Name.LBody for k in rest) and all(_role(k) for k in rest):
        body = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem, S=pikepdf.Name.LBody, P=item, K=pikepdf.Array(rest)))
        for kid in rest:
            kid.P = body
        item.K = pikepdf.Array([*labels, body])


def _role(kid):
    """Return the structure type of a kid of a structure element, None if it is content (an MCID, an OBJR)."""
    return kid.get("/S") if isinstance(kid, pikepdf.Dictionary) else None


def _elements(element):
    """Yield the structure elements under element."""
    kids = element.get("/K", [])
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type", pikepdf.Name.StructElem) == pikepdf.Name.StructElem \
                and "/S" in kid:
            yield kid
            yield from _elements(kid)
