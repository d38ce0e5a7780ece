"""Citations read back: each document's pages as the PDF's margin numbers and the EPUB's page list give
them, the line under each heading in both formats, and `publish cite`'s exports parsed by other tools."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pikepdf
import pypandoc
import pytest
import rispy
from lxml import etree

from publish.book.citation import citations, csl_item
from publish.book.markup import cite_pages
from publish.build import build, load

from conftest import SAMPLE, make_manuscript
from readers import NS, Ebook, PrintedBook, TaggedText, assert_accessible_and_archival, structure_elements

# A break at a heading stands in the heading's line: its destination may lie a little below the heading's.
SAME_LINE = 3.0
# Documents in every position a page break gives them: the first on book.yaml's start_page, one that
# starts mid-page and spans three pages, one that starts exactly on a break (a marker alone before its
# heading), one whose predecessor ends with a break (the break is the next one's), one on its heading's
# page= attribute, one carried over from the chapter before, an unnumbered one, and a heading with no
# text of its own before a document (no citation).
CHAPTERS = {
    "01-one.md": """
        # Chapter One

        ## 1. First Document {#d1}

        Alpha words on the first page only.

        ## 2. Second Document {#d2}

        Beta words begin the second document. [Page 2] Beta words go on. [Page 3] Beta words end here.

        [Page 4]

        ## 3. Third Document {#d3}

        Gamma words fill the fourth page to its very end. [Page 5]

        ## 4. Fourth Document {#d4}

        Delta words on the fifth page.
        """,
    "02-two.md": """
        # Chapter Two

        Words that open the chapter.

        ## 5. Fifth Document {#d5 page=7}

        Epsilon words.[^1] [Page 8] More epsilon words.

        [^1]: A note to the fifth document.

        ## 6. Sixth Document {#d6}

        Zeta words. [Page 9] More zeta words.
        """,
    "03-three.md": """
        # Chapter Three

        ## 7. Seventh Document {#d7}

        Eta words on the carried page. [Page 10] Eta words on the tenth.

        ## A Letter Without a Number {#letter}

        Theta words of a letter.

        ## A Compilation {#compilation}

        ## 8. Eighth Document {#d8}

        Iota words. [Page 11] Iota words end the book.
        """,
}
EXPECTED = {"d1": ("1",), "d2": ("1", "2", "3"), "d3": ("4",), "d4": ("5",), "d5": ("7", "8"), "d6": ("8", "9"),
            "d7": ("9", "10"), "letter": ("10",), "d8": ("10", "11")}
EXTRA = ('start_page: "1"\npage_gaps: ["5–7"]\nseries: Foreign Relations of the United States\n'
         "document_url: https://history.state.gov/historicaldocuments/test/{id}\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = make_manuscript(tmp_path_factory.mktemp("cite") / "m", CHAPTERS, EXTRA)
    return build(folder, tmp_path_factory.mktemp("cite-out"))


def test_the_model_gives_each_document_the_pages_it_spans(built):
    found = {c.anchor: c.pages for c in citations(built.book)}
    assert found == EXPECTED


def test_a_page_without_a_label_bounds_a_range_and_an_unknown_first_page_gives_none(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": """
        # One

        ## 1. Before Any Marker {#d1}

        Words on a page no marker names. [Page 2] Words on the second page.

        ## 2. Across a Page Without a Label {#d2}

        Words. [Page []] Words on the unnumbered page. [Page 3] Words on the third.

        ## 3. On the Unnumbered Page {#d3}

        Words. [Page []] Words on another unnumbered page.
        """})
    book, _ = load(folder)
    found = {c.anchor: c for c in citations(book)}
    assert {a: c.pages for a, c in found.items()} == {"d1": (), "d2": ("2", "3"), "d3": ("3",)}
    assert "page" not in csl_item(book.meta, found["d1"])
    line = " ".join(book.chapters[0].body.xpath("//*[@class='citation']")[0].text_content().split())
    assert line == "1961–1963, vol. V, Test Volume, doc. 1."


def pdf_places(path) -> dict[str, tuple[int, float]]:
    """Return every named destination as (page, distance from the page's top)."""
    with pikepdf.open(path) as pdf:
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        return {str(k): (pages[v[0].objgen], float(pdf.pages[pages[v[0].objgen]].mediabox[3]) - float(v[3]))
                for k, v in pikepdf.NameTree(pdf.Root.Names.Dests).items()}


def test_the_pdf_margin_numbers_give_each_document_its_cited_pages(built):
    """A document's first page is the last margin number at or above its heading's line; its last, the last
    above the next heading's line (a number in that line marks the next document's page)."""
    model = {c.anchor: c.pages for c in citations(built.book)}
    places = pdf_places(built.outputs["pdf"])
    numbers = sorted((place, name.removeprefix("page-")) for name, place in places.items() if name.startswith("page-"))
    order = [c.anchor for c in citations(built.book)]

    def page_at(place, inclusive):
        page, top = place
        limit = top + SAME_LINE if inclusive else top - SAME_LINE
        before = [label for (p, t), label in numbers if (p, t) <= (page, limit)]
        return before[-1]

    for anchor, following in zip(order, order[1:] + [None]):
        first = page_at(places[anchor], True)
        last = page_at(places[following], False) if following else numbers[-1][1]
        spanned = [label for place, label in numbers
                   if (places[anchor][0], places[anchor][1] + SAME_LINE) < place
                   and (following is None or place < (places[following][0], places[following][1] - SAME_LINE))]
        assert (first, *[s for s in spanned if s != first]) == model[anchor] == EXPECTED[anchor], anchor
        assert last == model[anchor][-1], anchor


def epub_reading(epub: Ebook, anchors: set[str]) -> dict[str, list[str]]:
    """Return, for each document, the pages of the page list on which its heading and its words stand
    (a chapter's heading and opening words, and the citation line, are no document's)."""
    pages, current, document = {}, None, None
    h1, h2 = f"{{{NS['x']}}}h1", f"{{{NS['x']}}}h2"

    def counted(el) -> bool:
        return not any(a.tag == h1 or "citation" in (a.get("class") or "").split()
                       for a in (el, *el.iterancestors()))

    for href in epub.content_documents():
        for event, el in etree.iterwalk(epub.xhtml(href), events=("start", "end")):
            if event == "start":
                if el.get(f"{{{NS['epub']}}}type") == "pagebreak":
                    current = el.get("id").removeprefix("page-")
                if el.tag in (h1, h2):
                    document = el.get("id") if el.get("id") in anchors else None
                    if document:
                        pages[document] = []
                words, owner = el.text, el
            else:
                words, owner = el.tail, el.getparent()
            if (words or "").strip() and document and owner is not None and counted(owner):
                if not pages[document] or pages[document][-1] != current:
                    pages[document].append(current)
    return pages


def test_the_epub_page_list_gives_each_document_its_cited_pages(built):
    epub = Ebook(built.outputs["epub"])
    listed = {href.split("#")[1] for _, href in epub.page_list()}
    model = {c.anchor: c.pages for c in citations(built.book)}
    read = epub_reading(epub, set(EXPECTED))
    assert {a: tuple(p) for a, p in read.items()} == model == EXPECTED
    assert {f"page-{p}" for pages in read.values() for p in pages} <= listed


def test_the_citation_line_stands_under_each_heading_in_both_formats(built):
    book = PrintedBook(built.outputs["pdf"], built.book)
    text = " ".join(w.text for w in book.in_zone("body"))
    assert ("Foreign Relations of the United States, 1961–1963, vol. V, Test Volume, doc. 2, pp. 1–3. Beta words"
            in text)
    assert "Test Volume, p. 10. Theta words" in text  # a document without a number: its pages alone
    # The heading that only opens the next document is not cited.
    assert "A Compilation Foreign" not in text
    epub = Ebook(built.outputs["epub"])
    lines = {}
    for _, _, href in epub.toc():
        heading = epub.target(href)
        after = heading.getnext()
        if after is not None and "citation" in (after.get("class") or ""):
            lines[heading.get("id")] = " ".join("".join(after.itertext()).split())
    assert lines.keys() == EXPECTED.keys()
    assert lines["d2"] == "Foreign Relations of the United States, 1961–1963, vol. V, Test Volume, doc. 2, pp. 1–3."
    for citation in citations(built.book):
        assert lines[citation.anchor].endswith(f", {cite_pages(citation.first, citation.last)}.")


def test_the_pdf_line_is_tagged_text_read_right_after_its_heading(built):
    assert_accessible_and_archival(built.outputs["pdf"])
    tagged = TaggedText(built.outputs["pdf"])
    # (TaggedText puts a space between pieces of content: the italic titles are pieces of their own)
    read = [(str(e.S), re.sub(r" (?=[,.])", "", tagged.text(e)).strip())
            for e in structure_elements(tagged.pdf) if e.S in ("/H2", "/P")]
    after = {text: read[i + 1] for i, (role, text) in enumerate(read[:-1]) if role == "/H2"}
    assert after["2. Second Document"] == ("/P", "Foreign Relations of the United States, 1961–1963, vol. V, "
                                                 "Test Volume, doc. 2, pp. 1–3.")
    assert after["A Compilation"][1] == "8. Eighth Document"


def cite(*args):
    return subprocess.run([sys.executable, "-m", "publish", "cite", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def test_cite_exports_csl_json_in_the_office_of_the_historians_model(tmp_path):
    run = cite(SAMPLE, "--format", "csl-json")
    assert run.returncode == 0, run.stderr
    [item] = json.loads(run.stdout)
    assert item["type"] == "chapter" and item["title"] == "Document 270" and item["page"] == "587-589"
    assert item["collection-title"] == "Foreign Relations of the United States"
    assert item["collection-number"] == "1961–1963" and item["container-title"] == "Soviet Union"
    assert item["volume"] == "V" and item["issued"] == {"date-parts": [[1998]]}
    assert item["editor"][0] == {"family": "Sampson", "given": "Charles S."}
    assert item["URL"] == "https://history.state.gov/historicaldocuments/frus1961-63v05/d270"


@pytest.mark.parametrize("fmt", ["bibtex", "biblatex"])
def test_cite_bibtex_parses_back_with_pandoc(fmt, tmp_path):
    out = tmp_path / f"cites.{fmt}"
    run = cite(SAMPLE, "d270", "--format", fmt, "--out", out)
    assert run.returncode == 0, run.stderr
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # written whole, nothing left beside it
    [item] = json.loads(pypandoc.convert_file(str(out), "csljson", format=fmt))
    assert item["page"] == "587-589" and item["title"] == "Document 270" and item["volume"] == "V"
    assert item["container-title"] == "Soviet Union"
    assert [e["family"] for e in item["editor"]] == ["Sampson", "Joyce"]


def test_cite_ris_parses_back_with_rispy():
    run = cite(SAMPLE, "--format", "ris")
    assert run.returncode == 0, run.stderr
    [record] = rispy.loads(run.stdout)
    assert record["type_of_reference"] == "CHAP" and (record["start_page"], record["end_page"]) == ("587", "589")
    assert record["secondary_title"] == "Soviet Union"
    assert record["urls"] == ["https://history.state.gov/historicaldocuments/frus1961-63v05/d270"]


def test_cite_text_is_the_chicago_full_note_with_pages_and_address():
    run = cite(SAMPLE)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ("Charles S. Sampson and John Michael Joyce, eds., “Document 270,” in Soviet Union, vol. V, "
                          "Foreign Relations of the United States 1961–1963 (Washington: United States Government "
                          "Printing Office, 1998), 587–89, "
                          "https://history.state.gov/historicaldocuments/frus1961-63v05/d270.\n")


def test_cite_names_every_unknown_id_and_writes_nothing(tmp_path):
    out = tmp_path / "cites.json"
    run = cite(SAMPLE, "d270", "d27", "nowhere", "--format", "csl-json", "--out", out)
    assert run.returncode == 3
    assert "K001 no document 'd27'" in run.stderr and "K001 no document 'nowhere'" in run.stderr
    assert "no document 'd27' in this manuscript; did you mean 'd270'?" in run.stderr
    assert "Traceback" not in run.stderr and not out.exists()


def test_cite_reads_the_pages_without_laying_out_the_pdf(tmp_path):
    """`publish cite` never loads WeasyPrint: its pages are the markers'."""
    probe = ("import sys; from publish.cli import main; code = main(['cite', sys.argv[1]]); "
             "assert 'weasyprint' not in sys.modules; sys.exit(code)")
    run = subprocess.run([sys.executable, "-c", probe, str(SAMPLE)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "587–89" in run.stdout
