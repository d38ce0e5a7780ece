"""The join's merge of a chapter's pieces, told their blocks' shapes, makes the structure tagging.Merger makes."""
from __future__ import annotations

import pikepdf
import pytest

from publish.pdf.join import _Merger, _Piece, _shape, _Structure
from publish.pdf.tagging import KEY, Merger, kids_of, role_of


def _element(pdf, key, role, kids):
    """Return an indirect structure element standing for the HTML element `key` (None: for none)."""
    element = pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name(role), K=pikepdf.Array(kids))
    if key is not None:
        element[KEY] = key
    return pdf.make_indirect(element)


# A chapter's section in three pieces: (key, role, kids), a kid an MCID or an element. A block of the third piece
# continues one of the second's (10), another holds an element continuing one inside the second's (11), one
# continues nothing; a block holds the same element twice (30, walked as the merge walks it).
PIECES = [
    [(5, "/Div", [(6, "/P", [0])])],
    [(10, "/Div", [(11, "/P", [1]), (None, "/Span", [2])]), (15, "/P", [3])],
    [(10, "/Div", [(12, "/P", [4])]), (20, "/Div", [(11, "/P", [5]), (21, "/P", [6])]), (25, "/P", [7]),
     (30, "/Div", [(31, "/P", [8]), (31, "/P", [9])])],
]


def _dump(element) -> tuple:
    return (str(element.S), int(element[KEY]) if KEY in element else None,
            tuple(_dump(kid) if role_of(kid) else int(kid) for kid in kids_of(element)))


def _merged(merger: Merger, shaped: bool, pieces) -> tuple:
    pdf = pikepdf.new()

    def make(key, role, kids):
        return _element(pdf, key, role, [make(*kid) if isinstance(kid, tuple) else kid for kid in kids])

    sections = [make(1, "/Sect", blocks) for blocks in pieces]
    for section in sections[1:]:
        if shaped:
            blocks = kids_of(section)
            merger.expect(blocks, [_shape(block) for block in blocks])
        merger.join(section, sections[0])
    return _dump(sections[0])


@pytest.mark.parametrize("pieces", [PIECES, PIECES[:2], [PIECES[0], PIECES[2], PIECES[1]]])
def test_blocks_taken_by_their_shapes_merge_as_walked_blocks_do(pieces):
    assert _merged(_Merger(), True, pieces) == _merged(Merger(), False, pieces)


def test_a_block_continuing_none_met_before_is_not_walked(monkeypatch):
    walked = []
    monkeypatch.setattr(_Merger, "walk", lambda self, element: walked.append(element))
    _merged(_Merger(), True, PIECES[:2])
    assert not walked


def _source(blocks) -> pikepdf.Pdf:
    """Return a one-page part whose section holds blocks ((key, role, MCIDs) each), its parent tree pointing at them."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.pages[0].obj.StructParents = 0
    owners = {mcid: block for block in (_element(pdf, *b) for b in blocks) for mcid in kids_of(block)}
    section = _element(pdf, 1, "/Sect", list({id(b): b for b in owners.values()}.values()))
    document = _element(pdf, None, "/Document", [section])
    pdf.Root.StructTreeRoot = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.StructTreeRoot, K=document,
        ParentTree=pikepdf.Dictionary(Nums=pikepdf.Array([0, pikepdf.Array([owners[m] for m in sorted(owners)])]))))
    return pdf


def test_only_the_parent_tree_of_a_piece_whose_content_was_joined_to_another_is_repointed():
    # The third piece's paragraph (its content marked) continues the second's; the second's section continues
    # the first's, its paragraph continuing nothing.
    sources = [_source([(2, "/P", [0])]), _source([(4, "/P", [0, 1])]), _source([(4, "/P", [0]), (5, "/P", [1])])]
    out = pikepdf.new()
    structure = _Structure(out)
    for index, source in enumerate(sources):
        out.pages.extend(source.pages)
        structure.add(source, list(out.pages)[index:], 0, continued=index > 0, read=_Piece(source))
    assert structure.moving == [(4, 6)]
    structure.finish(sources[0])
    nums = out.Root.StructTreeRoot.ParentTree.Nums
    assert [int(key) for key in nums[::2]] == [0, 1, 2]
    second, third = list(nums[3]), list(nums[5])
    # The third piece's first mark points at the paragraph it was joined to, its second at its own.
    assert third[0].objgen == second[0].objgen and int(third[1][KEY]) == 5
