"""The join's merge of a chapter's pieces, told their blocks' shapes, makes the structure tagging.Merger makes."""
from __future__ import annotations

import pikepdf
import pytest

from publish.pdf.join import _Merger, _shape
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
