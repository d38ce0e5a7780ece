"""Marks and lists of an imported FRUS volume as the print set them, in the Markdown and the built books."""
from __future__ import annotations

import re

import pdfplumber
import pytest

from publish.build import build

from readers import NS, Ebook
from test_tei import markdown, tiny

CALLS = ('<p>It was not only.* <note n="*" xml:id="d1fn1">A starred note.</note> The students.¶\n'
         '    <note n="¶" xml:id="d1fn2">A pilcrow note.</note> Department of State\n'
         '    <note n="1" xml:id="d1fn3">A numbered note.</note> Your <note n="†" xml:id="d1fn4">A dagger note.</note>'
         'Excellency, and <hi rend="italic">Times</hi> <note n="‡" xml:id="d1fn5">An italic one.</note> said so.</p>')
LISTS = ('<list type="subject"><head>SUBJECT</head><item>Vienna Meeting</item></list>'
         '<list type="participants"><head>PARTICIPANTS:</head><item>The President</item>'
         '<item>Secretary Rusk</item></list>'
         '<p>The rules: <list><item>Rule 1. Never.</item><item>Rule 2. Always.</item><item>Rule 3. Seldom.</item>'
         '</list></p><p>Fruit: <list><item>apples</item><item>pears</item></list></p>')


def document(body: str) -> str:
    return f'<div type="document" xml:id="d1" n="1"><head>Memorandum</head>{body}</div>'


def epub_paragraphs(path) -> list[str]:
    """Return the text of every paragraph of the EPUB's content documents, calls included."""
    epub = Ebook(path)
    return [" ".join("".join(p.itertext()).split()) for name in epub.content_documents()
            for p in epub.xhtml(name).xpath("//x:p", namespaces=NS)]


def pdf_text(path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_one_mark_per_call_and_no_space_before_it(tmp_path):
    folder, warnings, book = tiny(tmp_path, document(CALLS))
    text = markdown(folder)
    assert ("It was not only.[^d1fn1] The students.[^d1fn2] Department of State[^d1fn3] Your[^d1fn4] "
            "Excellency, and *Times*[^d1fn5] said so.") in text
    result = build(folder, tmp_path / "out")
    (para,) = [p for p in epub_paragraphs(result.outputs["epub"]) if p.startswith("It was")]
    assert para == "It was not only.* The students.¶ Department of State1 Your† Excellency, and Times‡ said so."
    printed = " ".join(pdf_text(result.outputs["pdf"]).split())
    assert "only.* The students.¶ Department of State1 Your† Excellency, and Times‡ said" in printed


@pytest.mark.parametrize("mark", ["1", "a"])
def test_a_letter_or_figure_before_a_call_is_text_not_its_mark(tmp_path, mark):
    folder, warnings, book = tiny(tmp_path, document(f'<p>Section {mark} <note n="{mark}" xml:id="d1fn1">N.</note>'
                                                     f' reads.</p>'))
    assert f"Section {mark}[^d1fn1] reads." in markdown(folder)


def test_a_call_after_a_page_marker_keeps_its_space(tmp_path):
    folder, warnings, book = tiny(tmp_path, document('<p>End <pb n="5"/> <note n="*" xml:id="d1fn1">N.</note>'
                                                     ' more.</p>'))
    # "[Page 5][^d1fn1]" would read as a reference link: the call would be lost.
    assert "End [Page 5] [^d1fn1] more." in markdown(folder)
    (note,) = book.chapters[1].notes.values()
    assert note.blocks[0].text_content().strip() == "N."


def test_lists_bulleted_only_where_the_print_had_bullets(tmp_path):
    folder, warnings, book = tiny(tmp_path, document(LISTS))
    text = markdown(folder)
    assert re.findall(r"(?m)^-   .*", text) == ["-   apples", "-   pears"]
    assert "::: participants\nPARTICIPANTS:\n\nThe President\n\nSecretary Rusk\n:::" in text
    result = build(folder, tmp_path / "out")
    epub = Ebook(result.outputs["epub"])
    items = [" ".join("".join(li.itertext()).split()) for name in epub.content_documents()
             for li in epub.xhtml(name).xpath("//x:li[not(ancestor::x:nav) and not(ancestor::*[@epub:type='footnotes'])]",
                                              namespaces=NS)]
    assert items == ["apples", "pears"]
    paragraphs = epub_paragraphs(result.outputs["epub"])
    assert {"Vienna Meeting", "The President", "Secretary Rusk", "Rule 1. Never."} <= set(paragraphs)
    printed = pdf_text(result.outputs["pdf"])
    lines = [" ".join(line.split()) for line in printed.splitlines()]
    assert {"Rule 1. Never.", "Rule 2. Always.", "The President", "Secretary Rusk"} <= set(lines)
    with pdfplumber.open(result.outputs["pdf"]) as pdf:
        found = [w for page in pdf.pages for w in page.extract_words()]
    # The participants stand flush under their head, as the print sets them: no paragraph indent.
    starts = [a["x0"] for a, b in zip(found, found[1:]) if (a["text"], b["text"]) in (("The", "President"),
                                                                                     ("Secretary", "Rusk"))]
    (head,) = [w["x0"] for w in found if w["text"] == "PARTICIPANTS:"]
    assert len(starts) == 2 and all(abs(x - head) < 0.5 for x in starts), (head, starts)
    assert "• apples" in lines and not [line for line in lines if "•" in line and "apples" not in line
                                          and "pears" not in line]
