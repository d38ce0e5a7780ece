"""The markup contract (publish/book/markup.py): the stylesheets select only declared classes; citations."""
from __future__ import annotations

from pathlib import Path

import pytest
import tinycss2
from lxml import html as lxml_html

from publish.book import markup
from publish.book.pages import PageBreak
from publish.build import load
from publish.epub.content import chapter_documents
from publish.pdf.html import chapter_html, cut_notes, mark_resumed, prelims_html

from conftest import make_manuscript

STYLES = Path(markup.__file__).parent.parent / "styles"
# Classes the stylesheets select that the build does not name: pandoc's own ([text]{.smallcaps}),
# the TEI's type attributes the import writes as classes as they stand (<note type="source">,
# <list type="subject">, <list type="participants">), and small capitals as a transcription's HTML
# writes them.
PANDOC_OWN = {"smallcaps"}
TEI_TYPES = {"source", "subject", "participants"}
GENERIC = {"sc"}


def declared() -> set[str]:
    """Return every class markup.py declares: its names, the values of its tables and the note blocks' classes."""
    names = set()
    for key, value in vars(markup).items():
        if not key.isupper() or key == "NOTE_BLOCKS":  # NOTE_BLOCKS are tags, classed with a prefix below
            continue
        if isinstance(value, str):
            names.add(value)
        elif isinstance(value, dict):
            names |= set(value.values())
        elif isinstance(value, (set, frozenset, tuple)):
            names |= set(value)
    return names | {markup.NOTE_BLOCK + tag for tag in markup.NOTE_BLOCKS}


def selected_classes(css: str) -> set[str]:
    """Return every class a stylesheet's selectors name, in rules at any depth."""
    found = set()

    def tokens(values):
        for token in values:
            yield token
            if token.type == "function":  # :not(.x), :is(.x, .y)
                yield from tokens(token.arguments)

    def walk(rules):
        for rule in rules:
            if rule.type == "qualified-rule":
                prelude = list(tokens(rule.prelude))
                found.update(name.value for dot, name in zip(prelude, prelude[1:])
                             if dot.type == "literal" and dot.value == "." and name.type == "ident")
                walk(tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True))
            elif rule.type == "at-rule" and rule.content is not None:  # @media, @supports, @page
                walk(tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True))

    walk(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))
    return found


def test_the_class_reader_finds_selectors_not_comments_or_urls():
    css = """/* .commented { } */ @font-face { src: url(fonts/a.otf); }
             td.num, .a .b > p.c, :not(.d) { width: 1.5em; } @media print { .e::before { content: "." } }
             @page chapter:left { @top-left { content: "x.y"; } }"""
    assert selected_classes(css) == {"num", "a", "b", "c", "d", "e"}


@pytest.mark.parametrize("sheet", ["print.css", "epub.css"])
def test_every_class_a_stylesheet_selects_is_declared(sheet):
    # A class renamed in markup.py but not in the stylesheet (or the other way) would silently unstyle it.
    undeclared = selected_classes((STYLES / sheet).read_text()) - declared() - PANDOC_OWN - TEI_TYPES - GENERIC
    assert not undeclared, f"{sheet} selects classes markup.py does not declare: {sorted(undeclared)}"


def test_the_stylesheets_select_the_contract_s_own_classes():
    # The test above would pass on a stylesheet the reader could not parse: it must find what it checks.
    printed = selected_classes((STYLES / "print.css").read_text())
    assert {markup.PAGEBREAK, markup.PAGE_NUMBER, markup.FOOTNOTE, markup.PIECE, markup.CONTINUED,
            markup.RESUMED, markup.AT_START, markup.WIDE, markup.LANDSCAPE, markup.CROWDED} <= printed
    assert {markup.PAGEBREAK, markup.NOTES, markup.TABLE_BOX} <= selected_classes((STYLES / "epub.css").read_text())


def test_every_class_the_writers_give_a_book_is_declared(tmp_path):
    # A class written as a literal in a writer, not taken from markup.py, shows here.
    wide = " | ".join(f"Column{i}heading" for i in range(8))
    folder = make_manuscript(tmp_path / "m", {"00-preface.md": "# Preface\n\n[Page v] Before.\n", "01.md": f"""
        # One

        [Page 1] Text with a note.[^1] And [Page []] more, [Page 2] on.

        ## 5. A document

        | {wide} |
        |{"---|" * 8}
        | {" | ".join("1" * 8)} |

        [^1]: First paragraph of a note long enough to be cut into pieces, if the layout found it too tall.

            Second paragraph.
        """})
    yaml = folder / "book.yaml"  # the preface is front matter: listed there, not among the chapters
    yaml.write_text(yaml.read_text().replace("chapters:\n  - 00-preface.md", "front_matter: [00-preface.md]\nchapters:"))
    book, _ = load(folder)
    chapter = book.chapters[1]
    printed = cut_notes(chapter_html(book, 1), set(chapter.notes))
    printed = mark_resumed(printed, {(next(iter(chapter.notes)), "1")})
    roots = [lxml_html.document_fromstring(doc) for doc in (prelims_html(book, {}), chapter_html(book, 0), printed)]
    roots += [el for doc in chapter_documents(book) for el in doc.body]
    written = {name for root in roots for el in root.iter() if isinstance(el.tag, str)
               for name in (el.get("class") or "").split()}
    assert {markup.PAGE_NUMBER, markup.PIECE, markup.RESUMED, markup.FRONT, markup.TABLE_BOX, markup.NOTES} <= written
    assert written - declared() == set()


@pytest.mark.parametrize("first, last, cited", [
    ("4", None, "p. 4"),
    ("4", "4", "p. 4"),
    ("4", "5", "pp. 4–5"),
    ("XII", "XIV", "pp. XII–XIV"),
    ("[I]", "3", "pp. [I]–3"),
])
def test_pages_are_cited_as_a_reader_cites_them(first, last, cited):
    assert markup.cite_pages(first, last) == cited


@pytest.mark.parametrize("label", ["588", "XII", "xiv", "[I]", "[4]", "[Map 1]", "[]"])
def test_a_page_s_id_is_one_a_manuscript_may_not_set(label):
    assert markup.GENERATED_ID.fullmatch(PageBreak(label).anchor)


def test_a_note_s_ids_are_ones_a_manuscript_may_not_set():
    note = markup.note_id("d270", 3)
    assert (note, markup.ref_id(note)) == ("d270-fn3", "d270-fn3ref")
    assert markup.GENERATED_ID.fullmatch(note) and markup.GENERATED_ID.fullmatch(markup.ref_id(note))


def test_the_build_s_own_classes_and_attributes_are_reserved():
    for name in (markup.PAGEBREAK, markup.BOUNDARY, markup.NOTEREF, markup.FOOTNOTE, markup.NOTES,
                 markup.PAGE_NUMBER, markup.AT_START, markup.PIECE, markup.CONTINUED, markup.RESUMED,
                 markup.NEW_PARAGRAPH, markup.NOTE_BLOCK + "p", markup.CHAPTER, markup.FRONT, markup.WIDE,
                 markup.LANDSCAPE, markup.CROWDED):
        assert markup.RESERVED_CLASS.fullmatch(name), name
    # The importer writes a note's printed mark in a span of its own class: a manuscript may too.
    assert not markup.RESERVED_CLASS.fullmatch(markup.NOTE_MARK)
    reserved = markup.RESERVED_DATA.split("|")
    for attribute in (markup.PAGE_LABEL, markup.SOURCE_LINE, markup.SOURCE_COLUMN, markup.SOURCE_PATH,
                      markup.NOTE_NUMBER, markup.NOTE_MARKER, markup.PIECE_OF, markup.PIECE_INDEX, markup.PROBE):
        assert markup.pandoc_key(attribute) in reserved, attribute
