"""A turned table floats as a printer sets it: the text after it fills the page before it."""
from __future__ import annotations

import pytest

from publish.book.markup import LANDSCAPE
from publish.build import build
from publish.pdf import floats, pieces, typeset

from readers import Ebook, PrintedBook, assert_accessible_and_archival, short_before_turned
from test_tei import margin_numbers, tiny

# Fourteen columns of a ship's log, as frus1872p2v5 prints them: too wide for the page even in smaller type.
HEADS = ["Initials of the officer of the watch.", "Hours.", "Knots.", "Tenths.", "Standard compass courses.",
         "Leeway points.", "Direction.", "Force.", "Weather.", "Derivation of standard compass.", "Barometer.",
         "Thermometer.", "Temperature of the sea.", "Remarks."]
CELLS = "".join(f"<cell>{h}</cell>" for h in HEADS)
CAPTION = '<p rend="center">Attested copy of the log.</p>'
TABLE = f'<table><row role="label">{CELLS}</row><row>{CELLS}</row></table>'
LINE = 15.0  # one line of body text, in points, with a little slack


def words(name: str, count: int = 60) -> list[str]:
    """Return count words of their own, none a reader could take for another (the paragraph's name in each),
    without vowels: a line never ends in a hyphenated one."""
    return [f"{name}x{j}" for j in range(count)]


def paragraphs(name: str, count: int, note: int | None = None) -> str:
    """Return count paragraphs of some five lines, the note-th calling a note."""
    out = []
    for i in range(count):
        call = f'<note n="1" xml:id="d1fn1">{" ".join(words("nt", 12))}</note>' if i == note else ""
        out.append(f'<p>{" ".join(words(f"{name}{i}"))}{call}</p>')
    return "".join(out)


def body_words(printed: PrintedBook) -> list:
    return [w for w in printed.words if printed.zone(w) == "body"]


def fill(printed: PrintedBook, page: int) -> float:
    """Return how far down the text block a page's text goes, as a fraction of its height."""
    bottom = max(w.bottom for w in printed.in_zone("body", page))
    return (bottom - printed.top) / (printed.bottom - printed.top)


def built(tmp_path, body: str, formats: tuple[str, ...] = ("pdf",)):
    result, printed = built_all(tmp_path, body, formats)
    (turned,) = [i for i in range(printed.page_count) if printed.turned(i)]
    return result, printed, turned


def built_all(tmp_path, body: str, formats: tuple[str, ...] = ("pdf",), **options):
    folder, warnings, _ = tiny(tmp_path, body)
    assert warnings == []
    result = build(folder, tmp_path / "out", formats, **options)
    return result, PrintedBook(result.outputs["pdf"], result.book)


# Three logs in one chapter, each followed by text that may fill the page before it; an original page
# begins between each log's text and the next log, so each log's page before is short as first laid out.
THREE_LOGS = ('<pb n="1" xml:id="pg_1"/><div type="document" xml:id="d1" n="1"><head>Report of the commander</head>'
              f'<p>{" ".join(words("bd", 20))}</p>{CAPTION}{TABLE}{paragraphs("ka", 10, note=1)}'
              f'<pb n="2" xml:id="pg_2"/>{paragraphs("ga", 2)}{TABLE}{paragraphs("kb", 10)}'
              f'<pb n="3" xml:id="pg_3"/>{paragraphs("gb", 2)}{TABLE}{paragraphs("kc", 10)}'
              f'<pb n="4" xml:id="pg_4"/>{paragraphs("ms", 3)}</div>')


def test_every_turned_table_of_a_chapter_fills_the_page_before_it(tmp_path, monkeypatch):
    layouts = []  # how many times each part was laid out: once, and once more for each table that took text

    def counted(html, lay_out):
        layouts.append([LANDSCAPE in html, 0])

        def once(text):
            layouts[-1][1] += 1
            return lay_out(text)
        return floats.lay_out_floated(html, once)
    monkeypatch.setattr(typeset, "lay_out_floated", counted)
    result, printed = built_all(tmp_path, THREE_LOGS, ("pdf", "epub"), jobs=1)
    turned = [i for i in range(printed.page_count) if printed.turned(i)]
    runs = [i for i in turned if i - 1 not in turned]  # the first page of each log
    assert len(runs) == 3
    page_of = {w.text: w.page for w in body_words(printed)}
    for first, name in zip(runs, ("ka", "kb", "kc")):
        # The page before each log is filled to within a fifth of its foot, with the log's own text.
        assert printed.empty_share(first - 1) <= floats.SHORT, name
        assert page_of[f"{name}0x0"] == first - 1, name
        moved = sorted(i for i in range(10) if page_of[f"{name}{i}x0"] < first)
        assert moved == list(range(len(moved))) and len(moved) < 10, name
    assert short_before_turned(printed, floats.SHORT) == []
    # The chapter was laid out once, then once for each log that took text; the other parts once.
    assert sorted(count for landscape, count in layouts if landscape) == [4]
    assert all(count == 1 for landscape, count in layouts if not landscape)
    # Every word once; margin numbers in order, each level with its line.
    counts = {"ka": 10, "ga": 2, "kb": 10, "gb": 2, "kc": 10, "ms": 3}
    texts = sorted(t for t in (w.text for w in body_words(printed)) if t[:2] in {"bd", *counts})
    expected = words("bd", 20) + [w for name, count in counts.items() for i in range(count) for w in words(f"{name}{i}")]
    assert texts == sorted(expected)
    assert_margin_numbers_level(result, printed, ["1", "2", "3", "4"])
    assert_accessible_and_archival(result.outputs["pdf"])
    # The EPUB keeps the manuscript's order: each log, then the text after it, then the next original page.
    text = epub_text(result)
    order = ["bdx19", "Attested", "ka0x0", "ka9x59", "ga0x0", "kb0x0", "kb9x59", "gb0x0", "kc0x0", "kc9x59", "ms0x0"]
    assert [text.index(word) for word in order] == sorted(text.index(word) for word in order)
    assert text.count("Remarks.") == 6 and text.index("Remarks.") < text.index("ka0x0")


def test_the_text_after_a_turned_table_fills_the_page_before_it(tmp_path):
    # A short paragraph, the log, then paragraphs enough for a page and more before the next original page.
    result, printed, turned = built(tmp_path, (
        '<pb n="1" xml:id="pg_1"/><div type="document" xml:id="d1" n="1"><head>Report of the commander</head>'
        f'<p>{" ".join(words("bd", 20))}</p>{CAPTION}{TABLE}{paragraphs("kt", 12, note=1)}'
        f'<pb n="2" xml:id="pg_2"/>{paragraphs("ms", 3)}</div>'), ("pdf", "epub"))
    before = turned - 1
    assert fill(printed, before) >= 0.8
    # The log and its caption alone on the turned page, after the text that fills the page before.
    on_turned = {w.text for w in printed.in_zone("body", turned)}
    assert {"Attested", "Initials", "Remarks."} <= on_turned and not any(t.startswith("kt") for t in on_turned)
    page_of = {w.text: w.page for w in body_words(printed)}
    assert page_of["kt0x0"] == before and page_of["bdx0"] <= before
    # A note stands at the foot of the page of the paragraph calling it.
    assert page_of["ntx0"] == page_of["kt1x0"] == before
    # The text moved before the log is whole paragraphs, in their order; the rest follows it.
    moved = sorted(i for i in range(12) if page_of[f"kt{i}x0"] < turned)
    assert moved == list(range(len(moved))) and 0 < len(moved) < 12
    assert all(page_of[f"kt{i}x{j}"] > turned for i in range(len(moved), 12) for j in (0, 59))
    # Every word once.
    texts = [w.text for w in body_words(printed)]
    expected = (words("bd", 20) + [w for i in range(12) for w in words(f"kt{i}")]
                + [w for i in range(3) for w in words(f"ms{i}")] + words("nt", 12))
    assert sorted(t for t in texts if t in set(expected)) == sorted(expected)
    assert_margin_numbers_level(result, printed, ["1", "2"])
    assert_accessible_and_archival(result.outputs["pdf"])
    # The EPUB keeps the manuscript's order: the log, then the text after it.
    text = epub_text(result)
    assert text.index("bdx19") < text.index("Attested") < text.index("Remarks.") < text.index("kt0x0")


def assert_margin_numbers_level(result, printed: PrintedBook, labels: list[str]) -> None:
    """Assert the margin numbers stand in order, each level with the line its original page begins."""
    assert [label for _, label in margin_numbers(printed) if label in labels] == labels
    located = printed.locate(result.book)
    for pb in result.book.page_breaks:
        if pb.label in labels:
            (number,) = [w for w in printed.in_zone("margin") if w.text == pb.label]
            word = located[pb.anchor]
            assert number.page == word.page and abs(number.bottom - word.bottom) <= LINE, pb.label


def epub_text(result) -> str:
    ebook = Ebook(result.outputs["epub"])
    return " ".join(" ".join(ebook.xhtml(doc).itertext()) for doc in ebook.content_documents())


def test_no_text_moves_across_a_document_heading_an_original_page_or_a_closing(tmp_path):
    # After the log: a new document; the next original page; the closing that attests the copy of the log.
    for name, after in (("heading", ('</div><div type="document" xml:id="d2" n="2"><head>Next</head>'
                                     f'{paragraphs("kt", 8)}')),
                        ("page", f'<pb n="2" xml:id="pg_2"/>{paragraphs("kt", 8)}'),
                        ("closing", f'<closer>{" ".join(words("kt0", 12))}</closer>{paragraphs("kt", 8)}')):
        (tmp_path / name).mkdir()
        _, printed, turned = built(tmp_path / name, (
            '<pb n="1" xml:id="pg_1"/><div type="document" xml:id="d1" n="1"><head>Report of the commander</head>'
            f'<p>{" ".join(words("bd", 20))}</p>{CAPTION}{TABLE}{after}</div>'))
        page_of = {w.text: w.page for w in body_words(printed)}
        assert page_of["kt0x0"] > turned, name
        assert fill(printed, turned - 1) < 0.5, name  # the cost: the page before stays short


@pytest.fixture()
def every_clean_start_cuts():
    """Cut at every page that begins cleanly."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pieces, "PIECE_EVERY", 1)
        yield


# A word changed before, among and after the text moved before each log, between the logs and after
# them; lines added before the first log, which change what fits on the page before it and after.
EDITS = [(word, word.upper()) for word in ("bdx3", "ka0x5", "ka8x5", "ga1x5", "kb0x5", "kc1x5", "kc9x5", "ms1x5")] + [
    ("bdx7", " ".join(["bdx7", *words("zz", 40)]))]


@pytest.mark.parametrize(("edit", "new"), EDITS, ids=[e for e, _ in EDITS[:-1]] + ["lines-added"])
def test_a_rebuild_with_floated_tables_is_the_clean_build(tmp_path, every_clean_start_cuts, edit, new):
    # Three logs, each taking text (test_every_turned_table_of_a_chapter_fills_the_page_before_it).
    rebuilt_as_clean(tmp_path, THREE_LOGS, edit, new)


def test_a_rebuild_after_a_table_that_took_no_text_is_the_clean_build(tmp_path, every_clean_start_cuts):
    # The page before the log is full: no text moves. An edit in the log lays out again from the log's
    # piece, if one began there: laid out alone, it would have no page before it, and would take text.
    rebuilt_as_clean(tmp_path, (
        '<pb n="1" xml:id="pg_1"/><div type="document" xml:id="d1" n="1"><head>Report of the commander</head>'
        f'{paragraphs("bd", 9)}{CAPTION}{TABLE}{paragraphs("kt", 8)}<pb n="2" xml:id="pg_2"/>'
        f'{paragraphs("pr", 10)}</div>'), "Barometer.", "BAROMETER.")


def rebuilt_as_clean(tmp_path, body: str, edit: str, new: str) -> None:
    """Build a tiny volume, edit a word and build it again from the cache: the clean build's bytes."""
    folder, warnings, _ = tiny(tmp_path, body)
    assert warnings == []
    build(folder, tmp_path / "incremental", ("pdf",), jobs=1)
    chapter = next(p for p in sorted(folder.glob("*.md")) if edit in p.read_text(encoding="utf-8"))
    chapter.write_text(chapter.read_text(encoding="utf-8").replace(edit, new), encoding="utf-8")
    incremental = build(folder, tmp_path / "incremental", ("pdf",), jobs=1).outputs["pdf"]
    clean = build(folder, tmp_path / "clean", ("pdf",), jobs=1).outputs["pdf"]
    assert incremental.read_bytes() == clean.read_bytes()
