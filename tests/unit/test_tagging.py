"""The structure tree as tagging.settle leaves it: every element WeasyPrint tagged stays reachable from the root."""
from __future__ import annotations

import io

import pikepdf

from publish.pdf.tagging import CALLS, KEY, settle


def _element(pdf: pikepdf.Pdf, role: str, parent, key: int | None = None, kids=()) -> pikepdf.Dictionary:
    element = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name(role), P=parent,
                                                   K=pikepdf.Array(kids)))
    if key is not None:
        element[KEY] = key
    if isinstance(parent, pikepdf.Dictionary) and "/K" in parent:
        parent.K = pikepdf.Array([*parent.K, element])
    return element


def _one_page() -> tuple[pikepdf.Pdf, pikepdf.Dictionary]:
    """Return a one-page PDF and its empty structure tree's root."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    root = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot, K=pikepdf.Array()))
    pdf.Root.StructTreeRoot = root
    return pdf, root


def _settled(pdf: pikepdf.Pdf, root, marked: list) -> pikepdf.Pdf:
    """Return the PDF as settle leaves it, its page's marked content 0, 1, … in the elements `marked`."""
    pdf.pages[0].obj.StructParents = 0
    root.ParentTree = pdf.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array([0, pikepdf.Array(marked)])))
    root.ParentTreeNextKey = 1
    saved = io.BytesIO()
    pdf.save(saved)
    return pikepdf.open(io.BytesIO(settle(saved.getvalue())))


def _reachable(element) -> list:
    found = []
    for kid in element.get("/K", []):
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            found += [kid, *_reachable(kid)]
    return found


def test_a_box_standing_for_its_own_element_keeps_its_content_in_place():
    # WeasyPrint may tag a note's box inside the note's own (both for one HTML element): the inner one is joined
    # to the outer, and what it holds must stay in the tree, where it stood (it was dropped, and with it a
    # note's text and links: unreachable for assistive technology, and its links in no Link element).
    pdf, root = _one_page()
    document = _element(pdf, "/Document", root)
    before = _element(pdf, "/P", document, key=1, kids=[0])
    outer = _element(pdf, "/Note", document, key=9)
    label = _element(pdf, "/Lbl", outer, kids=[1])
    inner = _element(pdf, "/Note", outer, key=9)
    first = _element(pdf, "/P", inner, key=10, kids=[2])
    second = _element(pdf, "/P", inner, key=11, kids=[3])
    after = _element(pdf, "/P", outer, key=12, kids=[4])
    with _settled(pdf, root, [before, label, first, second, after]) as settled:
        tree = settled.Root.StructTreeRoot
        elements = _reachable(tree)
        marks = [kid for element in elements for kid in element.K if isinstance(kid, int)]
        assert marks == [0, 1, 2, 3, 4], "every marked content in the tree once, in reading order"
        notes = [e for e in elements if e.S == pikepdf.Name.Note]
        assert len(notes) == 1 and [str(k.S) for k in notes[0].K] == ["/Lbl", "/P", "/P", "/P"]
        reachable = {e.objgen for e in elements}
        for value in tree.ParentTree.Nums[1]:
            assert value.objgen in reachable, "the parent tree names only elements in the tree"


def test_ids_are_told_apart_in_the_order_of_the_tree_the_notes_were_moved_in():
    # settle walks the tree again only after a step moved an element: a note moved from its page's foot to
    # just after its call comes before what followed the call, and a repeated ID is counted in that order.
    pdf, root = _one_page()
    document = _element(pdf, "/Document", root)
    paragraph = _element(pdf, "/P", document, key=1, kids=[0])
    call = _element(pdf, "/Reference", paragraph, key=2, kids=[1])
    call[CALLS] = 9
    after = _element(pdf, "/Div", document, key=5, kids=[2])
    after.ID = pikepdf.String("fn1")
    foot = _element(pdf, "/NonStruct", document)
    note = _element(pdf, "/Note", foot, key=9, kids=[3])
    note.ID = pikepdf.String("fn1")
    with _settled(pdf, root, [paragraph, call, after, note]) as settled:
        elements = _reachable(settled.Root.StructTreeRoot)
        assert [str(e.S) for e in elements] == ["/Document", "/P", "/Reference", "/Note", "/Div"]
        assert [str(e.ID) for e in elements if "/ID" in e] == ["fn1", "fn1 (2)"], "the note first, as it now stands"
        assert set(settled.Root.StructTreeRoot.IDTree.Names[::2]) == {"fn1", "fn1 (2)"}
