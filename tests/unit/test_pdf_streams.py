"""Every stream of the saved PDF ends unambiguously: no data ending in a carriage return before endstream."""
from __future__ import annotations

import io

import pikepdf

from publish.pdf.join import PDF_VERSION, _ambiguous_object_streams, _save


def _document(objects: int, elements: bool = True) -> pikepdf.Pdf:
    """Return a one-page PDF whose page holds `objects` structure elements (or plain dictionaries), all bound for
    object streams."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    kind = {"Type": pikepdf.Name.StructElem, "S": pikepdf.Name.P} if elements else {}
    pdf.pages[0].obj.Items = pikepdf.Array(pdf.make_indirect(pikepdf.Dictionary(T=str(i), **kind))
                                           for i in range(objects))
    return pdf


def _generated(pdf: pikepdf.Pdf) -> bytes:
    saved = io.BytesIO()
    pdf.save(saved, object_stream_mode=pikepdf.ObjectStreamMode.generate, deterministic_id=True,
             min_version=PDF_VERSION)
    return saved.getvalue()


def _object_streams(data: bytes) -> dict[int, bytes]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        numbers = {entry.obj_stream_number for entry in pdf.get_xref_table().values() if entry.type == 2}
        return {number: pdf.get_object(number, 0).read_raw_bytes() for number in numbers}


def _ambiguous_document(elements: bool = True) -> pikepdf.Pdf:
    """Return the first such document that qpdf writes with an object stream ending in a carriage return."""
    for objects in range(100, 2000):
        if _ambiguous_object_streams(_generated(_document(objects, elements))):
            return _document(objects, elements)
    raise AssertionError("no document found whose object stream ends in a carriage return")


def test_object_streams_never_end_in_a_carriage_return():
    pdf = _ambiguous_document()
    first = _object_streams(_generated(pdf))
    ambiguous = {number for number, data in first.items() if data.endswith(b"\r")}
    data = _save(pdf, [])
    assert not _ambiguous_object_streams(data)
    # Only the stream that ended so is written again: the others are the same bytes.
    after = _object_streams(data)
    assert after.keys() == first.keys() and ambiguous
    assert {number for number in first if after[number] != first[number]} == ambiguous
    with pikepdf.open(io.BytesIO(data)) as saved:
        items = saved.pages[0].Items
        assert [str(item.T) for item in items] == [str(i) for i in range(len(pdf.pages[0].Items))]
        assert all(item.S == pikepdf.Name.P for item in items)
        for obj in saved.objects:
            if isinstance(obj, pikepdf.Stream):
                assert not obj.read_raw_bytes().endswith(b"\r")


def test_without_object_streams_when_a_stream_holds_no_structure_element():
    pdf = _ambiguous_document(elements=False)
    data = _save(pdf, [])
    assert not _object_streams(data) and not _ambiguous_object_streams(data)
    with pikepdf.open(io.BytesIO(data)) as saved:
        assert len(saved.pages[0].Items) == len(pdf.pages[0].Items)


def test_without_object_streams_when_no_variation_will_do(monkeypatch):
    import publish.pdf.join as pdfjoin
    tries = []
    monkeypatch.setattr(pdfjoin, "_ambiguous_object_streams", lambda data: {1: [(2, 0)]} if _object_streams(data) else {})
    monkeypatch.setattr(pdfjoin, "_varied", lambda data, ambiguous: tries.append(data) or data)
    data = _save(_document(300), [])
    assert len(tries) == pdfjoin.VARIATIONS
    assert not _object_streams(data)
    with pikepdf.open(io.BytesIO(data)) as saved:
        assert len(saved.pages[0].Items) == 300


def test_the_check_reads_the_object_streams_every_object_would_show():
    # It reads only the object streams the cross-reference stream names; reading every object is the oracle.
    seen = set()
    for objects in range(100, 1500, 9):
        saved = _generated(_document(objects))
        with pikepdf.open(io.BytesIO(saved)) as pdf:
            expected = any(isinstance(obj, pikepdf.Stream) and obj.get("/Type") == pikepdf.Name.ObjStm
                           and obj.read_raw_bytes().endswith(b"\r") for obj in pdf.objects)
        assert bool(_ambiguous_object_streams(saved)) == expected, objects
        seen.add(expected)
    assert seen == {True, False}
