"""The PDF read back: margin numbers where the old pages began, navigation, labels, fonts, metadata."""
from __future__ import annotations

import re
import shutil

import pdfplumber
import pikepdf
import pytest

from publish.book.markup import CITATION, PROBE, RESUMED
from publish.build import STYLES, build
from publish.pdf.typeset import Typesetter
from publish.series.validate import page_integrity

from conftest import make_manuscript
from readers import (
    PrintedBook,
    named_destinations,
    normalize,
    outline,
    page_labels,
    printed_notes,
    stranded_headings,
    text_lines,
)

LINE = 15.0  # one line of body text, in points, with a little slack


@pytest.fixture(scope="module", params=["sample", "edge", "synthetic"])
def printed(request, sample_build, edge_build, synthetic_build):
    result = {"sample": sample_build, "edge": edge_build, "synthetic": synthetic_build}[request.param]
    return result.book, PrintedBook(result.outputs["pdf"], result.book)


def _numbers(pdf: PrintedBook, label: str):
    return [w for w in pdf.in_zone("margin") if w.text == label]


def test_each_margin_number_stands_beside_the_line_where_its_page_begins(printed):
    book, pdf = printed
    assert book.page_breaks
    words = pdf.locate(book)
    for pb in book.page_breaks:
        word = words.get(pb.anchor)
        assert word is not None, f"text after [Page {pb.label}] not found in the PDF"
        numbers = _numbers(pdf, pb.label)
        assert len(numbers) == 1, f"page {pb.label}: expected one margin number, found {numbers}"
        number = numbers[0]
        assert number.page == word.page, f"[Page {pb.label}] marked on page {number.page}, text on {word.page}"
        assert abs(number.bottom - word.bottom) <= LINE, f"[Page {pb.label}] not level with its line"
        left, right = pdf.block(number.page)
        if number.page % 2 == 0:
            assert number.x0 >= right + 2, f"[Page {pb.label}] not in the outer (right) margin of a recto"
        else:
            assert number.x1 <= left - 2, f"[Page {pb.label}] not in the outer (left) margin of a verso"
        assert 0 <= number.x0 and number.x1 <= pdf.width, "margin number off the page"


def test_margin_numbers_never_overlap_each_other_or_the_text(printed):
    _, pdf = printed
    for page in range(pdf.page_count):
        margin = pdf.in_zone("margin", page)
        boxes = margin + pdf.in_zone("body", page)
        for a in margin:
            for b in boxes:
                if b is a:
                    continue
                overlap = a.x0 < b.x1 and b.x0 < a.x1 and a.top < b.bottom and b.top < a.bottom
                assert not overlap, f"page {page}: '{a.text}' overlaps '{b.text}'"


def test_two_breaks_on_one_line_stack(edge_build):
    pdf = PrintedBook(edge_build.outputs["pdf"], edge_build.book)
    three, four = _numbers(pdf, "3")[0], _numbers(pdf, "4")[0]
    assert pdf.find("crossing and").page == pdf.find("fourth-page words").page == three.page == four.page
    assert four.top >= three.bottom - 0.5, "numbers of breaks on one line must stack, not overlap"


def test_no_marker_text_is_left(printed):
    _, pdf = printed
    text = " ".join(w.text for w in pdf.words)
    assert "[Page" not in text and "Page]" not in text


def test_running_foot_names_the_original_pages_each_page_covers(printed):
    book, pdf = printed
    body = pdf.in_zone("body")
    headings = {normalize(t) for ch in book.chapters for t in [ch.title] + [s.title for s in ch.sections]}
    # The line citing a document under its heading is the edition's, as the heading is: no original page's text.
    headings |= {normalize(line.text_content()) for ch in book.chapters
                 for line in ch.body.iter() if line.get("class") == CITATION}
    rows = {}
    for i, w in enumerate(body):
        rows.setdefault((w.page, round(w.bottom)), []).append(i)
    heading_words = {i for row in rows.values() if any(normalize(" ".join(body[j].text for j in row)) in h
                                                       for h in headings) for i in row}
    words = pdf.locate(book)
    starts = [(body.index(words[pb.anchor]), pb.label) for pb in book.page_breaks]
    checked = 0
    for page in range(pdf.page_count):
        text = [i for i, w in enumerate(body) if w.page == page and i not in heading_words]
        if not text or not (pdf.in_zone("head", page) or pdf.in_zone("foot", page)):
            continue  # a blank page (it may hold a note WeasyPrint deferred to it)
        before = [label for i, label in starts if i < text[0]]
        here = [label for i, label in starts if text[0] <= i <= text[-1]]
        if not (before or here):
            assert "p." not in pdf.foot_text(page)
            continue
        opens_page = here and min(i for i, _ in starts if i >= text[0]) == text[0]
        first = here[0] if opens_page or not before else before[-1]
        last = here[-1] if here else before[-1]
        expected = f"p. {first}" if first == last else f"pp. {first}–{last}"
        assert expected in pdf.foot_text(page), f"page {page}: foot '{pdf.foot_text(page)}', expected {expected}"
        checked += 1
    assert checked >= 2


def test_outline_is_the_books_structure_then_the_original_pages(printed):
    book, pdf = printed
    expected = []
    for point in book.outline:
        expected.append((1, point.title, point.anchor))
        expected += [(2, child.title, child.anchor) for child in point.children]
    items = outline(pdf.path)
    assert items[:len(expected)] == expected
    # Then the print edition's pages, as the EPUB's page list has them, grouped by tens.
    branch = items[len(expected):]
    assert branch[0][:2] == (1, "Original pages")
    leaves = [(title, dest) for level, title, dest in branch if level == 3]
    assert leaves == [(f"p. {pb.name}", pb.anchor) for pb in book.page_breaks]
    # Named as the EPUB's page list names them: an unnumbered [I] (the edge case's preface) is "p. I".
    assert not [title for _, title, _ in branch if "[" in title]
    groups = [item for item in branch if item[0] == 2]
    assert len(groups) == -(-len(book.page_breaks) // 10)
    dests = named_destinations(pdf.path)
    for _, title, dest in groups:
        assert dest in dests and title.startswith("p")
    with pikepdf.open(pdf.path) as doc, doc.open_outline() as tree:
        assert tree.root[-1].is_closed  # closed: the contents come first


def test_named_destinations_for_every_document_and_original_page(printed):
    book, pdf = printed
    dests = named_destinations(pdf.path)
    for point in book.outline:
        for child in point.children:
            assert child.anchor in dests
    for pb in book.page_breaks:
        assert dests[pb.anchor] == _numbers(pdf, pb.label)[0].page


def test_every_destination_keeps_the_viewers_horizontal_position_and_zoom(printed):
    book, pdf = printed
    with pikepdf.open(pdf.path) as doc, doc.open_outline() as tree:
        pages = {p.objgen: i for i, p in enumerate(doc.pages)}
        named = dict(pikepdf.NameTree(doc.Root.Names.Dests).items())

        def items(nodes):
            for node in nodes:
                yield node
                yield from items(node.children)
        # A bookmark or a link goes to a name or holds its array: each way, the array is what a viewer obeys.
        targets = [named[str(d)] if isinstance(d, (str, pikepdf.String)) else d
                   for d in [n.destination for n in items(tree.root)]
                   + [a.Dest for page in doc.pages for a in page.get("/Annots", []) if "/Dest" in a]]
        assert len(targets) > len(book.page_breaks)
        tops = {}
        for name, dest in [*named.items(), *((None, t) for t in targets)]:
            kind, left, top, zoom = dest[1:]
            page = pages[dest[0].objgen]
            assert (kind, left, zoom) == (pikepdf.Name.XYZ, None, None), f"{name}: {dest}"
            assert 0 <= top <= pdf.sizes[page][1], f"{name}: top {top} off page {page}"
            tops[str(name)] = (page, pdf.sizes[page][1] - float(top))
    # The top is that of the line where the page begins: the margin number stands just below it.
    for pb in book.page_breaks:
        number = _numbers(pdf, pb.label)[0]
        page, top = tops[pb.anchor]
        assert page == number.page and top - 1 <= number.top <= top + LINE, \
            f"p. {pb.label}: destination at {top:.1f}, margin number at {number.top:.1f}"


@pytest.mark.parametrize("extra, imprint", [("edition: 1.2.0\n", "Edition 1.2.0, built {day}."),
                                            ("", "Built {day}.")])
def test_the_edition_page_names_the_edition_when_book_yaml_gives_it(tmp_path, extra, imprint):
    folder = make_manuscript(tmp_path / "m", {"01.md": "# Chapter\n\nText.\n"}, extra=extra)
    result = build(folder, tmp_path / "out", ("pdf",))
    with pdfplumber.open(result.outputs["pdf"]) as doc:
        page = next(p for p in doc.pages if "About this edition" in (p.extract_text() or ""))
        lines = page.extract_text().splitlines()
    assert lines[-1] == imprint.format(day=result.book.date[:10])
    assert not [line for line in lines if "Edition," in line]


def test_cross_references_are_live_links(edge_build):
    with pikepdf.open(edge_build.outputs["pdf"]) as pdf:
        targets = [str(a.get("/Dest")) for page in pdf.pages for a in page.get("/Annots", [])
                   if a.get("/Subtype") == "/Link" and a.get("/Dest") is not None]
    assert "d2" in targets


def test_page_labels_roman_front_matter_then_arabic(printed):
    book, pdf = printed
    labels = page_labels(pdf.path)
    first_chapter = named_destinations(pdf.path)[next(c.anchor for c in book.chapters if not c.front)]
    assert labels[:3] == ["i", "ii", "iii"]
    assert labels[first_chapter] == "1"
    assert labels[first_chapter:] == [str(n) for n in range(1, len(labels) - first_chapter + 1)]


def test_every_font_is_embedded(printed):
    _, pdf = printed
    with pikepdf.open(pdf.path) as doc:
        fonts = {}
        for page in doc.pages:
            for font in page.Resources.get("/Font", {}).values():
                fonts[str(font.get("/BaseFont"))] = font
        assert fonts
        for base, font in fonts.items():
            descriptor = font.get("/FontDescriptor") or font.DescendantFonts[0].FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), f"{base} not embedded"
            assert "Libertine" in base, f"unexpected font {base}"


def test_document_metadata(sample_build):
    meta = sample_build.book.meta
    with pikepdf.open(sample_build.outputs["pdf"]) as pdf:
        info = pdf.docinfo
        assert str(info.Title) == meta.title
        assert str(info.Author) == "; ".join(meta.editors)
        assert "Mikoyan" in str(info.Subject)
        assert "Cuban missile crisis" in str(info.Keywords)
        assert str(pdf.Root.Lang) == "en"
        with pdf.open_metadata() as xmp:
            assert xmp["dc:source"] == meta.source_edition


def test_running_heads_and_folios(sample_build):
    book = sample_build.book
    pdf = PrintedBook(sample_build.outputs["pdf"], book)
    labels = page_labels(pdf.path)
    chapter_pages = [p for p in range(pdf.page_count) if labels[p].isdigit()]
    verso = [p for p in chapter_pages if p % 2 == 1]
    recto = [p for p in chapter_pages[1:] if p % 2 == 0]  # the first is the chapter opener
    assert verso and recto
    for p in verso:
        head = " ".join(w.text for w in pdf.in_zone("head", p))
        assert head.startswith(labels[p]) and "Foreign Relations, 1961–1963, Volume V".upper() in head.upper()
    for p in recto:
        head = " ".join(w.text for w in pdf.in_zone("head", p))
        assert head.endswith(labels[p]) and book.chapters[0].title in head


def test_every_page_with_text_after_the_title_pages_prints_its_folio(printed):
    _, pdf = printed
    labels = page_labels(pdf.path)
    margins = {}
    for word in pdf.words:
        if pdf.zone(word) in ("head", "foot"):
            margins.setdefault(word.page, set()).add(word.text)
    first_contents = next(w.page for w in pdf.words if w.text == "Contents")
    text_pages = sorted({w.page for w in pdf.words if w.page >= first_contents})
    # Notes that did not fit under a chapter's last lines get a page of their own: it has its folio too.
    missing = [p for p in text_pages if labels[p] not in margins.get(p, set())]
    assert not missing, f"pages with text but no folio: {[labels[p] for p in missing]}"


def test_footnotes_are_numbered_per_document_and_set_at_the_foot(edge_build):
    pdf = PrintedBook(edge_build.outputs["pdf"], edge_build.book)
    call = pdf.find("carries a note")
    note = pdf.find("The footnote begins on page eight")
    # A note that does not fit under its call goes to the foot of the next page.
    assert (note.page, note.top > call.bottom) in ((call.page, True), (call.page + 1, True), (call.page + 1, False))
    assert note.top > pdf.bottom - 100
    assert edge_build.book.chapters[1].notes["d1-fn1"].number == "1"


def test_a_break_never_changes_the_line_breaking(edge_build, tmp_path):
    folder = tmp_path / "plain"
    shutil.copytree(edge_build.book.folder, folder)
    for md in folder.glob("*.md"):
        text = re.sub(r" ?\[Page (\[\w+\]|\w+)\]\n?", "", md.read_text(encoding="utf-8"))
        md.write_text(text.replace(" page=1}", "}"), encoding="utf-8")
    plain = build(folder, tmp_path / "out", ("pdf",))

    def lines(result):
        pdf = PrintedBook(result.outputs["pdf"], result.book)
        rows = {}
        for w in pdf.in_zone("body"):
            rows.setdefault((w.page, round(w.bottom)), []).append(w.text)
        # A citation line names the pages the markers give (none, without them): its range is left out.
        return [re.sub(r", pp?\. \S+\.$", ".", " ".join(words)) for _, words in sorted(rows.items())]
    marked, unmarked = lines(edge_build), lines(plain)
    assert len(marked) > 20
    assert marked == unmarked


def test_a_break_ending_the_last_line_of_a_page_is_marked_beside_the_first_line_of_the_next(tmp_path):
    words = [f"word{n:03d}" for n in range(700)]
    folder = make_manuscript(tmp_path / "ms", {"one.md": "# One\n\n[Page 1] " + " ".join(words) + "\n"})
    plain = build(folder, tmp_path / "plain", ("pdf",))
    pdf = PrintedBook(plain.outputs["pdf"], plain.book)
    first = pdf.find(words[0]).page
    last = max(pdf.in_zone("body", first), key=lambda w: (round(w.bottom), w.x0))
    assert last.text in words and words.index(last.text) < len(words) - 1
    # The same text with an original page beginning just after the last word of that page.
    after = words.index(last.text) + 1
    marked_text = " ".join(words[:after]) + " [Page 2] " + " ".join(words[after:])
    (folder / "one.md").write_text("# One\n\n[Page 1] " + marked_text + "\n", encoding="utf-8")
    marked = build(folder, tmp_path / "marked", ("pdf",))
    pdf = PrintedBook(marked.outputs["pdf"], marked.book)
    begins = pdf.find(words[after])
    numbers = _numbers(pdf, "2")
    assert begins.page == first + 1
    assert [(n.page, abs(n.bottom - begins.bottom) <= LINE) for n in numbers] == [(first + 1, True)]
    assert "p. 2" in pdf.foot_text(first + 1) and "2" not in pdf.foot_text(first).replace("p. 1", "")


def test_a_note_too_long_for_one_page_runs_on_at_the_next_pages_foot(tmp_path):
    sentences = " ".join(f"Sentence {i} of the long note runs on with words enough for a line." for i in range(80))
    body = "\n\n".join(f"Body paragraph {i} goes on, and on, to fill the pages that hold the note." for i in range(40))
    folder = make_manuscript(tmp_path / "m", {"01.md": (
        "# Chapter\n\n## 1. Document\n\n[Page 10] Text before the call, a paragraph to show where the call "
        f"stands.[^a] And text after it.\n\n{body}\n\n[^a]: [7]{{.note-mark}} {sentences}\n")})
    result = build(folder, tmp_path / "out", ("pdf", "epub"))
    # The "7. (continued)" heading each later page's foot is furniture, and no margin number.
    assert page_integrity(result.outputs["pdf"], result.outputs["epub"], result.book) == []
    (note,) = printed_notes(result.outputs["pdf"], result.book)
    assert note.at_its_foot and note.marker == "7."
    pdf = PrintedBook(result.outputs["pdf"], result.book)
    words = pdf.in_zone("body")
    size = next(w.size for w in words if w.text == "Body")  # the text's; the note's is smaller
    small = [w for w in words if w.size < size and w.page >= note.call[0]]
    text = normalize(" ".join(w.text for w in sorted(small, key=lambda w: (w.page, round(w.top), w.x0))))
    # Every sentence, once and in order, inside the text block of the pages from the call's on.
    found = [int(n) for n in re.findall(r"Sentence(\d+)of", text)]
    assert found == list(range(80))
    pages = sorted({w.page for w in small})
    assert pages[0] == note.call[0] and len(pages) > 1 and pages == list(range(pages[0], pages[-1] + 1))
    # Each later page's foot opens with the note's mark, marked as continued, above the text it takes.
    for page in pages[1:]:
        first = sorted((w for w in small if w.page == page), key=lambda w: (round(w.top), w.x0))[:2]
        assert [w.text for w in first] == ["7.", "(continued)"], (page, first)
    # The body goes on above the note's pieces.
    assert any(w.page == pages[1] and w.size == size for w in words)


def test_a_cold_build_lays_out_no_document_twice(tmp_path, monkeypatch):
    # A chapter with a note that runs on and a table to fit: laid out whole, then with the note cut,
    # then marked; each of these and each trial of the table once (a second layout would be the same).
    sentences = " ".join(f"Sentence {i} of the long note runs on with words enough for a line." for i in range(80))
    body = "\n\n".join(f"Body paragraph {i} goes on, and on, to fill the pages that hold the note." for i in range(40))
    table = "| " + " | ".join(f"Column{i}heading" for i in range(12)) + " |\n|" + "---|" * 12 + "\n| " + \
        " | ".join(["cell"] * 12) + " |\n"
    folder = make_manuscript(tmp_path / "m", {"01.md": (
        f"# Chapter\n\n## 1. Document\n\n[Page 10] Text before the call.[^a] And after it.\n\n{table}\n{body}\n\n"
        f"[^a]: [7]{{.note-mark}} {sentences}\n")})
    laid = []
    lay_out = Typesetter._lay_out
    monkeypatch.setattr(Typesetter, "_lay_out", lambda self, html, *a, **k: laid.append(html) or lay_out(self, html, *a, **k))
    result = build(folder, tmp_path / "out", ("pdf",))
    assert any(f"{RESUMED}\"" in html for html in laid) and any(f"{PROBE}=" in html for html in laid), "case not met"
    assert len(laid) == len(set(laid))
    (note,) = printed_notes(result.outputs["pdf"], result.book)
    assert note.at_its_foot


def _documents(count: int) -> str:
    """Return a chapter of documents as the TEI import writes them, of so many lengths that headings fall
    at the foot of pages: a heading, file number and dateline; some with a first paragraph of one line,
    some with an enclosure headed in its turn, its file number before its heading."""
    sentence = "The Minister called to inquire as to the prospects of an agreement, and I explained the situation."
    parts = ["# Egypt\n", " ".join([sentence] * 3) + "\n"]
    for n in range(1, count + 1):
        paragraphs = [" ".join([sentence] * (1 + (n * 7 + k) % 4)) for k in range(1 + n % 3)]
        if n % 3 == 0:
            paragraphs.insert(0, "I have the honor to report as follows.")
        parts.append(f"## {n}. The Minister in Egypt (Fish) to the Secretary of State {{#d{n}}}\n\n"
                     f"::: source\n611.8331/{n}\n:::\n\n::: dateline\n[Cairo]{{.smallcaps}}, May {n}, 1936.\n:::\n\n"
                     + "\n\n".join(paragraphs) + "\n")
        if n % 2 == 0:
            parts.append(f":::: attachment\n::: source\n[Inclosure in No. {n}.]\n:::\n\n"
                         "### The Egyptian Minister to the Minister in Egypt\n\n"
                         f"::: dateline\n[Cairo]{{.smallcaps}}, May {n}, 1936.\n:::\n\n" + " ".join([sentence] * 3)
                         + "\n::::\n")
    return "\n".join(parts)


def test_a_heading_never_ends_a_page(tmp_path):
    # Each heading stands on one page with its file number, dateline and two lines of its text.
    folder = make_manuscript(tmp_path / "m", {"01.md": _documents(40)})
    result = build(folder, tmp_path / "out", ("pdf",))
    lines = text_lines(result.outputs["pdf"])
    numbers = [re.match(r"\d+", line.text) for line in lines if line.kind == "heading"]
    assert sorted(int(n[0]) for n in numbers if n) == list(range(1, 41))
    assert stranded_headings(lines) == []
    # An enclosure's file number, before its heading, stands with it.
    leads = [(line, after) for line, after in zip(lines, lines[1:]) if line.text.startswith("[Inclosure")]
    assert len(leads) == 20 and all(after.kind == "heading" and after.page == line.page for line, after in leads)
    # The same chapter laid out without keeping headings' heads with their text strands headings at the
    # foot of pages: the chapter puts headings there, and the reader of the PDF sees them.
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    sheet = (styles / "print.css").read_text(encoding="utf-8")
    loose = re.sub(r"\.with-next \{[^}]*\}", "", sheet)
    assert loose != sheet
    (styles / "print.css").write_text(loose, encoding="utf-8")
    stranded = build(folder, tmp_path / "loose", ("pdf",), styles=styles)
    assert len(stranded_headings(text_lines(stranded.outputs["pdf"]))) >= 2


def test_a_heading_goes_with_a_turned_table_that_begins_its_text_onto_its_page(tmp_path):
    # Fourteen columns of a ship's log, as frus1872p2v5 prints them: too wide for the page, turned.
    heads = ["Initials of the officer of the watch.", "Hours.", "Knots.", "Tenths.", "Standard compass courses.",
             "Leeway points.", "Direction.", "Force.", "Weather.", "Derivation of standard compass.", "Barometer.",
             "Thermometer.", "Temperature of the sea.", "Remarks."]
    row = "<tr>" + "".join(f"<td>{h}</td>" for h in heads) + "</tr>"
    text = "\n\n".join(f"Paragraph {i} " + "of some words set to fill the page " * 6 for i in range(3))
    folder = make_manuscript(tmp_path / "m", {"01.md": (
        f"# Annexes\n\n{text}\n\n## Annex No. 13.\n\n::: center\n*Plan of amortization.*\n:::\n\n"
        f"<table>\n{row}\n{row}\n</table>\n\n{text}\n")})
    result = build(folder, tmp_path / "out", ("pdf",))
    printed = PrintedBook(result.outputs["pdf"], result.book)
    turned = [i for i, (w, h) in enumerate(printed.sizes) if w > h]
    lines = text_lines(result.outputs["pdf"])
    heading = next(line for line in lines if line.text.startswith("Annex No. 13."))
    assert len(turned) == 1 and heading.page == turned[0]
    assert stranded_headings(lines) == []


LONG_TITLE = ("Egypt: Representations by the United States Regarding the Capitulations and the Mixed Courts, "
              "with Correspondence on the Status of Foreign Nationals Before the Consular Courts")


@pytest.mark.parametrize("extra, verso", [
    ("series: Papers Relating to the Foreign Relations of the United States\n",
     "Foreign Relations, 1961–1963, Volume V"),
    (f"running_head: \"{LONG_TITLE}\"\n", None),
    ("series: Foreign Relations of the United States Diplomatic Papers, with a Subtitle of Many Words Besides\n"
     "page_size: 4in 6in\nmargins: 0.5in 0.6in 0.6in 0.5in\n", None),
], ids=["long-series", "long-head", "narrow-page"])
def test_a_running_head_is_one_line_with_its_folio_an_em_away(tmp_path, extra, verso):
    text = "\n\n".join(f"Paragraph {i} " + "of some words set to fill the page " * 12 for i in range(40))
    folder = make_manuscript(tmp_path / "m", {"01.md": f"# {LONG_TITLE}\n\n{text}\n",
                                              "02.md": f"# Short Title\n\n{text}\n"}, extra=extra)
    result = build(folder, tmp_path / "out", ("pdf",))
    pdf = PrintedBook(result.outputs["pdf"], result.book)
    labels = page_labels(pdf.path)
    heads = [p for p in range(pdf.page_count) if labels[p].isdigit() and pdf.in_zone("head", p)]
    assert len(heads) > 4
    for p in heads:
        words = pdf.in_zone("head", p)
        assert max(w.top for w in words) - min(w.top for w in words) < 2, f"page {labels[p]}: head on two lines"
        folio = [w for w in words if w.text == labels[p]]
        title = [w for w in words if w not in folio]
        assert len(folio) == 1 and title, f"page {labels[p]}: {[w.text for w in words]}"
        gap = title[0].x0 - folio[0].x1 if p % 2 else folio[0].x0 - title[-1].x1
        assert gap >= 8.5, f"page {labels[p]}: folio {gap:.1f}pt from the head"
        left, right = pdf.block(p)
        assert left - 0.5 <= min(w.x0 for w in words) and max(w.x1 for w in words) <= right + 0.5
        if verso and p % 2:
            assert " ".join(w.text for w in title).upper() == verso.upper()


# ---- Tables as a typesetter sets them ----

def table_words(printed: PrintedBook, page: int) -> list:
    """Return the words of a page's text block set in a table's type (smaller than the text's)."""
    return [w for w in printed.in_zone("body", page) if w.size < 10]


def test_a_table_of_short_cells_is_as_wide_as_they_are_and_breaks_no_word(tmp_path):
    # As the TEI import writes a table: each cell's text on a line of its own between its tags.
    rows = [("Native customs", "1, 800, 000"), ("Tribute rice", "960, 000"), ("Salt", "2, 400, 000"),
            ("Manchu pensions", "2, 830, 000")]
    table = "<table>\n" + "".join(f"<tr>\n<td>\n{a}\n</td>\n<td class=\"num\">\n{b}\n</td>\n</tr>\n"
                                  for a, b in rows) + "</table>\n"
    folder = make_manuscript(tmp_path / "m", {"01.md": f"# Revenue\n\nThe estimate gives:\n\n{table}\nAfter.\n"})
    result = build(folder, tmp_path / "out", ("pdf",))
    printed = PrintedBook(result.outputs["pdf"], result.book)
    page = next(w.page for w in printed.words if w.text == "Tribute")
    cells = table_words(printed, page)
    # Each row on one line: its words share a baseline.
    for a, b in rows:
        first = next(w for w in cells if w.text == a.split()[0])
        assert all(any(w.text == t and abs(w.bottom - first.bottom) < 1 for w in cells) for t in f"{a} {b}".split()), a
    left, right = printed.block(page)
    assert max(w.x1 for w in cells) - min(w.x0 for w in cells) < (right - left) / 2  # no wider than it needs


def test_a_chapter_whose_tables_fit_is_laid_out_once_and_no_table_alone(tmp_path, monkeypatch):
    # A chapter mostly of a table that fits its text block, a note called in a cell: the chapter laid out as
    # it comes shows it, and that layout is the chapter's; a trial copy of the table, without the call, is
    # no wider.
    table = "| Name | Place |\n|---|---|\n| Smith[^a] | Paris |\n| Jones | London |\n" + "".join(
        f"| Person {i} | City {i} |\n" for i in range(60))
    folder = make_manuscript(tmp_path / "m", {"01.md": f"# Chapter\n\nText before.\n\n{table}\nAfter.\n\n"
                                                         "[^a]: The note.\n"})
    laid = []
    lay_out = Typesetter._lay_out
    monkeypatch.setattr(Typesetter, "_lay_out", lambda self, html, *a, **k: laid.append(html) or lay_out(self, html, *a, **k))
    result = build(folder, tmp_path / "out", ("pdf",))
    assert not any(PROBE in html for html in laid)
    assert len([html for html in laid if "Smith" in html]) == 1
    printed = PrintedBook(result.outputs["pdf"], result.book)
    page = next(w.page for w in printed.words if w.text.startswith("Smith"))
    assert all(w.size < 10 for w in printed.in_zone("body", page) if w.text in ("Paris", "London"))  # in the table
    (note,) = printed_notes(result.outputs["pdf"], result.book)
    assert note.at_its_foot


def test_a_table_too_wide_for_the_measure_is_set_smaller_with_its_words_whole(tmp_path):
    # Seven columns of the Presidents and their ministers, as frus1872p2v5 prints them: too wide for the
    # measure in the text's type, they fit in smaller type without a word broken.
    heads = ["Presidents of the United States.", "Period of office.", "United States Secretaries of State.",
             "Period of office.", "United States Ministers in London.", "Period of appointment.", "Remarks."]
    cells = ["James Monroe", "March 4, 1817, to March 4, 1825", "John Quincy Adams", "March 5, 1817, to March 3, 1825",
             "Richard Rush", "December 22, 1817, to April, 1825", "Envoy extraordinary and minister plenipotentiary"]
    table = ("<table>\n<tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>\n"
             + ("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>\n") * 3 + "</table>\n")
    folder = make_manuscript(tmp_path / "m", {"01.md": f"# Ministers\n\nThe list:\n\n{table}\nAfter.\n"})
    result = build(folder, tmp_path / "out", ("pdf",))
    printed = PrintedBook(result.outputs["pdf"], result.book)
    assert all(w < h for w, h in printed.sizes)  # not turned
    page = next(w.page for w in printed.words if w.text == "Monroe")
    words_ = table_words(printed, page)
    assert words_ and max(w.size for w in words_) < 8.5  # in smaller type
    whole = {w for text in heads + cells for w in text.split()}
    assert [w.text for w in words_ if w.text not in whole] == []  # no word broken, none hyphenated
    left, right = printed.block(page)
    assert left - 0.5 <= min(w.x0 for w in words_) and max(w.x1 for w in words_) <= right + 0.5


def test_no_page_break_rule_stands_before_a_chapter_title(tmp_path):
    # The print's pages [1] to [3] end before the chapter's title: their numbers stand in the margin,
    # but a rule marks only a break within a line, as page 4's does.
    folder = make_manuscript(tmp_path / "m", {"01.md": "[Page 1]\n\n[Page 2]\n\n[Page 3]\n\n# Message\n\n"
                                                         "Some text [Page 4]that runs on.\n"})
    result = build(folder, tmp_path / "out", ("pdf",))
    with pdfplumber.open(result.outputs["pdf"]) as pdf:
        (page,) = [p for p in pdf.pages if any(w["text"] == "Message" for w in p.extract_words())]
        lines = {w["text"]: w for w in page.extract_words()}
        rules = {round(r["top"]) for r in page.rects + page.lines}
        assert rules and all(abs(top - lines["runs"]["top"]) < 4 for top in rules)


def _closings(count: int) -> str:
    """Return documents of growing length, each ended by a closing of four lines (cN a … cN d)."""
    sentence = "The minister reported the state of the negotiations at some length to the department. "
    return "# Despatches\n\n" + "\n".join(
        f"## {n}. Despatch\n\n{sentence * (3 + 2 * n)}\n\n::: closer\n"
        + "\\\n".join(f"c{n}{line} your obedient servant," for line in "abcd") + "\n:::\n" for n in range(1, count + 1))


def _closing_pages(pdf) -> dict[int, set[int]]:
    """Return the pages each closing's lines stand on, by its document's number."""
    pages: dict[int, set[int]] = {}
    for word in pdf.words:
        if m := re.fullmatch(r"c(\d+)[abcd]", word.text):
            pages.setdefault(int(m[1]), set()).add(word.page)
    return pages


def test_a_closing_is_set_whole_on_one_page(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": _closings(24)})
    result = build(folder, tmp_path / "out", ("pdf",))
    pages = _closing_pages(PrintedBook(result.outputs["pdf"], result.book))
    assert sorted(pages) == list(range(1, 25))
    assert all(len(on) == 1 for on in pages.values()), pages
    # Without keeping it whole, the same chapter splits closings between pages.
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    sheet = (styles / "print.css").read_text(encoding="utf-8")
    loose = sheet.replace("break-inside: avoid; }", "}", 1)
    assert ".closer { text-align: right; margin: 0.4em 0; }" in loose
    (styles / "print.css").write_text(loose, encoding="utf-8")
    split = build(folder, tmp_path / "loose", ("pdf",), styles=styles)
    assert any(len(on) > 1 for on in _closing_pages(PrintedBook(split.outputs["pdf"], split.book)).values())
