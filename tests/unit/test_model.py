"""The page-break model and the book structure, as both writers receive them."""
from __future__ import annotations

import pytest

from publish.book.model import Division, divide
from publish.book.pages import PageBreak, find_markers, roman_value
from publish.build import load

from conftest import make_manuscript


@pytest.mark.parametrize("text, label, kind, anchor", [
    ("[Page 588]", "588", "arabic", "page-588"),
    ("[Page XII]", "XII", "roman", "page-XII"),
    ("[Page [I]]", "[I]", "unnumbered", "page-unnumbered-I"),
    ("[Page xiv]", "xiv", "roman", "page-xiv"),
])
def test_markers_as_the_office_of_the_historian_prints_them(text, label, kind, anchor):
    [(_, pb)] = find_markers(f"the revolution; {text} as a matter", "f.md")
    assert (pb.label, pb.kind, pb.anchor, pb.line, pb.column) == (label, kind, anchor, 1, 17)


def test_marker_places_count_lines_and_columns():
    found = find_markers("one\ntwo [Page 5] three\n[Page 6]\n", "f.md")
    assert [(pb.label, pb.line, pb.column) for _, pb in found] == [("5", 2, 5), ("6", 3, 1)]


def test_things_that_are_not_markers_are_not_parsed():
    assert find_markers("[Page 58 8] [page 588] [Pg. 588] [Page 588 and [Page]", "f.md") == []


def test_roman_values():
    assert [roman_value(t) for t in ("I", "iv", "XII", "MCMLXII", "IIII", "ABC")] == [1, 4, 12, 1962, None, None]
    assert PageBreak("XIV").number == 14 and PageBreak("[III]").number == 3


def test_page_breaks_in_reading_order_with_their_sources(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": """
        # One

        ## 1. First {page=10}

        Words on ten.[^a] More [Page 12] words.

        [^a]: A note that runs [Page 11] on.
    """})
    book, _ = load(folder)
    # A note's breaks stand where the note is called, as a reader meets them.
    assert [(pb.label, pb.line) for pb in book.page_breaks] == [("10", 3), ("11", 7), ("12", 5)]
    # The one reading order every writer takes: the note's text between its call and what follows.
    order = book.reading_order()
    assert order["d1"] < order["page-10"] < order["d1-fn1ref"] < order["page-11"] < order["page-12"]


def test_start_page_headings_and_lone_markers(tmp_path):
    folder = make_manuscript(tmp_path / "m", {
        "01.md": """
            # One

            ## 1. First

            Words on five. Then [Page 6] six.

            ## 2. Second {page=6}

            Still six, so no new break.

            [Page 7]
        """,
        "02.md": """
            # Two

            ## 3. Third

            Seven runs on into the next chapter.
        """}, extra="start_page: '5'\n")
    book, _ = load(folder)
    one, two = book.chapters
    assert [(pb.label, pb.path.endswith("book.yaml")) for pb in one.page_breaks] == [("5", True), ("6", False)]
    # A break that ends a chapter begins the next one: it is carried to the next chapter's heading.
    assert [pb.label for pb in two.page_breaks] == ["7"]
    assert two.body[0].xpath("./span[@class='pagebreak']/@id") == ["page-7"]
    # A lone marker never leaves an empty paragraph behind.
    assert not [p for p in one.body.iter("p") if not p.text_content().strip()]


def test_documents_anchors_and_notes_numbered_per_document(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": """
        # One {#ch-one}

        ## 270. Editorial Note[^s]

        Text.[^1] More.[^2]

        ## Preface to the Annex

        Text.[^3]

        ## 271. Telegram {#custom}

        Text.[^4]

        [^s]: Source note.
        [^1]: One.
        [^2]: Two.
        [^3]: Three.
        [^4]: Four.
    """})
    book, _ = load(folder)
    chapter = book.chapters[0]
    assert chapter.anchor == "ch-one"
    assert [(s.number, s.anchor, s.title) for s in chapter.sections] == [
        ("270", "d270", "270. Editorial Note"), ("", "preface-to-the-annex", "Preface to the Annex"),
        ("271", "custom", "271. Telegram")]
    assert {a: n.number for a, n in chapter.notes.items()} == {
        "d270-fn1": "1", "d270-fn2": "2", "d270-fn3": "3", "preface-to-the-annex-fn1": "1", "custom-fn1": "1"}
    assert chapter.notes["d270-fn1"].blocks[0].text_content() == "Source note."


def test_long_chapter_titles_are_shortened_for_the_running_head():
    from publish.pdf.html import running_head
    assert running_head("Mikoyan in Washington, November 1962", 30) == "Mikoyan in Washington, November 1962"
    long = ("Egypt: Representations by the United States Regarding the Capitulations and the Mixed Courts")
    short = running_head(long, 30)
    assert short.endswith("…") and long.startswith(short[:-1]) and long[len(short) - 1] == " "
    # Small capitals are wider than italic: the verso's form is shorter for the same room.
    assert len(running_head(long, 30, verso=True)) < len(short)


@pytest.mark.parametrize("series, head", [
    ("Papers Relating to the Foreign Relations of the United States", "Foreign Relations, 1961–1963, Volume V"),
    ("Foreign Relations of the United States Diplomatic Papers", "Foreign Relations, 1961–1963, Volume V"),
    ("Foreign Relations of the United States, Supplement", "Foreign Relations, Supplement, 1961–1963, Volume V"),
    ("Papers Relating to Foreign Affairs", "Foreign Affairs, 1961–1963, Volume V"),
])
def test_the_verso_head_names_the_series_as_frus_prints_it(series, head, tmp_path):
    from publish.book.config import load_metadata
    folder = make_manuscript(tmp_path / "m", {"01.md": "# One\n\nText.\n"}, extra=f"series: {series}\n")
    meta, _ = load_metadata(folder)
    assert meta.verso_head == head


def test_a_heading_heads_what_follows_it_to_the_next_of_its_level_or_higher_lower_ones_nested():
    level = {"h1": 1, "h2": 2, "h3": 3, "h4": 4}.get
    shape = lambda items: [(d.level, shape(d.content)) if isinstance(d, Division) else d for d in items]  # noqa: E731
    blocks = ["h1", "p1", "h2", "p2", "h3", "p3", "h2", "p4", "h4", "h3", "p5"]
    assert shape(divide(blocks, level)) == [
        "h1", "p1", (2, ["h2", "p2", (3, ["h3", "p3"])]), (2, ["h2", "p4", (4, ["h4"]), (3, ["h3", "p5"])])]


def test_a_chapters_divisions_are_its_documents(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": """
        # One

        Opening.

        ## 1. First Document

        Text.

        ### Enclosure

        Enclosed.

        ## 2. Second Document

        More.
        """})
    chapter = load(folder)[0].chapters[0]
    divisions = [d for d in chapter.divisions() if isinstance(d, Division)]
    assert [d.content[0].get("id") for d in divisions] == [s.anchor for s in chapter.sections] == ["d1", "d2"]
    first = divisions[0].content
    assert [el.level if isinstance(el, Division) else el.tag for el in first] == ["h2", "div", "p", 3]
