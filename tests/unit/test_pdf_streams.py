"""Every stream of the saved PDF ends unambiguously: no data ending in a carriage return before endstream."""
from __future__ import annotations

import io
import zlib

import pikepdf

from publish.pdf.join import PDF_VERSION, _mended, _save, _unambiguous_ends


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
        if any(data.endswith(b"\r") for data in _object_streams(_generated(_document(objects, elements))).values()):
            return _document(objects, elements)
    raise AssertionError("no document found whose object stream ends in a carriage return")


def _xref_ends(data: bytes) -> bool:
    """Say whether the cross-reference stream (qpdf writes it last) ends in a carriage return."""
    return data[:data.rfind(b"endstream")].endswith(b"\r\n")


def _sound(data: bytes) -> None:
    """Assert that qpdf finds the saved file sound, every object where the cross-reference stream says it is, and
    that no stream ends in a carriage return."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert not pdf.check_pdf_syntax()
        for objgen, entry in pdf.get_xref_table().items():
            if entry.type == 1:
                assert data[entry.offset:].startswith(b"%d %d obj\n" % objgen)
    assert not _xref_ends(data) and not any(d.endswith(b"\r") for d in _object_streams(data).values())


def _items(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [str(item.T) for item in pdf.pages[0].Items]


def test_the_cross_reference_stream_never_ends_in_a_carriage_return():
    for objects in range(100, 3000):
        data = _generated(_document(objects))
        if _xref_ends(data) and not any(d.endswith(b"\r") for d in _object_streams(data).values()):
            pdf = _document(objects)
            break
    else:
        raise AssertionError("no document found whose cross-reference stream alone ends in a carriage return")
    saved = _save(pdf)
    _sound(saved)
    assert _items(saved) == [str(i) for i in range(objects)]
    # Only the cross-reference stream is written again: every object before it is as it was.
    xref = int(data[data.rindex(b"startxref") + len(b"startxref"):].split()[0])
    assert saved[:xref] == data[:xref] and saved[xref:] != data[xref:]


def test_object_streams_never_end_in_a_carriage_return():
    pdf = _ambiguous_document()
    first = _object_streams(_generated(pdf))
    ambiguous = {number for number, data in first.items() if data.endswith(b"\r")}
    data = _save(pdf)
    _sound(data)
    # Only the stream that ended so is written again: the others are the same bytes.
    after = _object_streams(data)
    assert after.keys() == first.keys() and ambiguous
    assert {number for number in first if after[number] != first[number]} == ambiguous
    with pikepdf.open(io.BytesIO(data)) as saved:
        items = saved.pages[0].Items
        assert [str(item.T) for item in items] == [str(i) for i in range(len(pdf.pages[0].Items))]
        assert all(item.S == pikepdf.Name.P for item in items)


def test_an_object_stream_of_any_objects_is_mended():
    pdf = _ambiguous_document(elements=False)
    data = _save(pdf)
    assert _object_streams(data)
    _sound(data)
    assert _items(data) == [str(i) for i in range(len(pdf.pages[0].Items))]


def test_every_save_is_sound_and_moves_what_follows_a_mended_stream():
    # Documents of 1 to 15 object streams: the mended one first, in the middle or last, the cross-reference
    # stream's offsets moved past it; a save with nothing to mend is qpdf's as it wrote it.
    seen = set()
    for objects in range(100, 1500, 9):
        generated = _generated(_document(objects))
        mended = any(d.endswith(b"\r") for d in _object_streams(generated).values()) or _xref_ends(generated)
        data = _save(_document(objects))
        _sound(data)
        assert _items(data) == [str(i) for i in range(objects)]
        assert (data != generated) == mended, objects
        seen.add(mended)
    assert seen == {True, False}


def test_without_object_streams_when_the_file_cannot_be_mended(monkeypatch):
    import publish.pdf.join as pdfjoin
    tries = []
    monkeypatch.setattr(pdfjoin, "_mended", lambda data: tries.append(data))
    data = _save(_ambiguous_document())
    assert len(tries) == 1 and _object_streams(tries[0])
    assert not _object_streams(data)
    _sound(data)


def test_a_file_not_as_qpdf_writes_it_is_not_mended():
    data = _generated(_ambiguous_document())
    assert _mended(data) is not None
    assert _mended(data.replace(b"/Predictor 12", b"/Predictor 15")) is None
    assert _mended(data.replace(b"/Type /XRef", b"/Type /XRaf")) is None


def _ending_in_a_carriage_return(data: bytes) -> bytes:
    """Return data with spaces after it until zlib's compression of it ends in a carriage return (its checksum)."""
    while zlib.adler32(data) & 0xFF != ord("\r"):
        data += b" "
    return data


def test_text_streams_and_font_programs_never_end_in_a_carriage_return():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    page = pdf.pages[0].obj
    form = pdf.make_stream(_ending_in_a_carriage_return(b"0 0 1 1 re f"), Type=pikepdf.Name.XObject,
                           Subtype=pikepdf.Name.Form, BBox=[0, 0, 1, 1])
    program = pdf.make_stream(_ending_in_a_carriage_return(b"\x00\x01\x00\x00 a font program"))
    cmap = pdf.make_stream(_ending_in_a_carriage_return(b"begincmap 1 beginbfchar <01> <0041> endbfchar endcmap"))
    descendant = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2, BaseFont=pikepdf.Name("/AAAAAA+Sans"),
        FontDescriptor=pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor, FontFile2=program))))
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0,
                                                DescendantFonts=[descendant], ToUnicode=cmap))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fm1=form), Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(_ending_in_a_carriage_return(b"BT /F1 9 Tf (A) Tj ET /Fm1 Do"))
    saved = io.BytesIO()
    pdf.save(saved)  # compressed, as WeasyPrint writes a part
    part = pikepdf.open(io.BytesIO(saved.getvalue()))
    assert sum(isinstance(o, pikepdf.Stream) and o.read_raw_bytes().endswith(b"\r") for o in part.objects) == 4
    _unambiguous_ends(part)
    data = _save(part)
    part.close()
    with pikepdf.open(io.BytesIO(data)) as after:
        streams = [o for o in after.objects if isinstance(o, pikepdf.Stream) and o.get("/Type") != pikepdf.Name.XRef]
        assert len(streams) >= 4 and not [o for o in streams if o.read_raw_bytes().endswith(b"\r")]
        page = after.pages[0].obj
        # What each says is the same: white space after text, a byte after a font program's last table.
        assert page.Contents.read_bytes().rstrip() == b"BT /F1 9 Tf (A) Tj ET /Fm1 Do"
        assert page.Resources.XObject.Fm1.read_bytes().rstrip() == b"0 0 1 1 re f"
        assert page.Resources.Font.F1.ToUnicode.read_bytes().rstrip().endswith(b"endcmap")
