"""The PDF laid out in parts, in parallel and from the cache, is the book a single pass would make."""
from __future__ import annotations

import shutil

import pytest
from lxml import html as lxml_html
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from publish.build import STYLES, build, load
from publish.pdf import typeset, workers
from publish.pdf.html import OTHER_PART, chapter_html, page_css, prelims_html
from publish.pdf.typeset import STYLESHEET
from publish.pdf.writer import _longest_first, _parts
from publish.system import cache

from conftest import ROOTS, make_manuscript
from readers import PrintedBook, named_destinations, outline

EPOCH = "1700000000"  # builds compared byte for byte must share their date


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        return build(ROOTS / "edge", tmp_path_factory.mktemp("one"), ("pdf",), jobs=1)


def test_parallel_build_is_byte_identical_to_a_sequential_one(sequential, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    parallel = build(ROOTS / "edge", tmp_path, ("pdf",), jobs=2)
    assert parallel.outputs["pdf"].read_bytes() == sequential.outputs["pdf"].read_bytes()


def test_parts_make_the_pages_a_single_pass_makes(sequential, tmp_path):
    book = sequential.book
    printed = PrintedBook(sequential.outputs["pdf"], book)
    # The whole book as one document, through WeasyPrint once, with the contents' numbers as printed.
    folios = {}
    for point in book.outline:
        page = named_destinations(printed.path)[point.anchor]
        folios[point.anchor] = printed_folio(printed, page)
    whole = lxml_html.document_fromstring(prelims_html(book, folios))
    for index in range(len(book.chapters)):
        chapter = lxml_html.document_fromstring(chapter_html(book, index).replace(OTHER_PART, "#"))
        whole.body.extend(chapter.body)
    for number in whole.xpath("//span[@class='pn']"):
        number.drop_tree()  # absolutely positioned: the text is laid out the same without them
    single = tmp_path / "single.pdf"
    fonts = FontConfiguration()
    sheets = [CSS(filename=str(STYLES / STYLESHEET), font_config=fonts), CSS(string=page_css(book), font_config=fonts)]
    HTML(string=lxml_html.tostring(whole, encoding="unicode"), base_url=str(book.folder) + "/").write_pdf(
        single, stylesheets=sheets, font_config=fonts)
    reference = PrintedBook(single, book)
    assert reference.page_count == printed.page_count

    def body(pdf, page):
        return sorted((round(w.top), round(w.x0), w.text) for w in pdf.in_zone("body", page))
    for page in range(printed.page_count):
        assert body(printed, page) == body(reference, page), f"page {page} differs"


def printed_folio(pdf: PrintedBook, page: int) -> str:
    words = pdf.in_zone("head", page) + pdf.in_zone("foot", page)
    return next(w.text for w in words if w.text.isdigit() or set(w.text) <= set("ivxlc"))


def test_one_chapter_edit_redoes_only_that_chapter_and_matches_a_clean_build(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    folder = tmp_path / "m"
    shutil.copytree(ROOTS / "edge", folder)
    out = tmp_path / "out"
    build(folder, out, ("pdf",), jobs=2)
    cached = set((cache.folder(out, "edge") / "pdf").glob("*.pdf"))
    assert len(cached) == 4  # the prelims, the preface and two chapters
    chapter = folder / "01-one.md"
    chapter.write_text(chapter.read_text(encoding="utf-8").replace(" the first", " thE first", 1), encoding="utf-8")
    # What is laid out, and whether worker processes start: for one chapter to lay out, they are not worth it.
    laid, spawned = [], []
    layout, spawn = typeset.Typesetter.layout, workers.Workers.spawn
    monkeypatch.setattr(typeset.Typesetter, "layout",
                        lambda self, html, *rest: laid.append(lxml_html.fromstring(html).findtext(".//h1"))
                        or layout(self, html, *rest))
    monkeypatch.setattr(workers.Workers, "spawn", lambda self: spawned.append(self.count) or spawn(self))
    rebuilt = build(folder, out, ("pdf",), jobs=2)
    # Chapter Two, after the edited one, waits for its place and comes from the cache: its length was counted.
    assert laid == ["Chapter One"] and not spawned
    now = set((cache.folder(out, "edge") / "pdf").glob("*.pdf"))
    assert len(now - cached) == 1 and len(cached - now) == 1, "only the edited chapter is laid out again"
    again = build(folder, out, ("pdf",), jobs=1)  # nothing to lay out: every part from the cache
    assert set((cache.folder(out, "edge") / "pdf").glob("*.pdf")) == now and laid == ["Chapter One"]
    clean = build(folder, tmp_path / "clean", ("pdf",), jobs=1)
    assert again.outputs["pdf"].read_bytes() == clean.outputs["pdf"].read_bytes()
    assert rebuilt.outputs["pdf"].read_bytes() == clean.outputs["pdf"].read_bytes()
    assert outline(rebuilt.outputs["pdf"]) == outline(clean.outputs["pdf"])


def test_a_long_chapter_is_laid_out_first_and_the_book_is_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    para = "The Ambassador said that the question of the treaty would be taken up again next week. " * 12
    short = "# {title}\n\n[Page {page}] " + para + "\n"
    chapters = {f"{n}.md": short.format(title=f"Short {n}", page=n) for n in (1, 2, 5, 6)}
    chapters["3.md"] = "# Long\n\n[Page 3] " + "\n\n".join([para] * 60) + "\n\n[Page 4] The end.\n"
    folder = make_manuscript(tmp_path / "m", dict(sorted(chapters.items())))
    book = load(folder)[0]
    parts = _parts(book)
    assert [p.index for p in _longest_first(parts, 2)] == [2, 0, 1, 3, 4]
    parallel = build(folder, tmp_path / "two", ("pdf",), jobs=2)
    sequential = build(folder, tmp_path / "one", ("pdf",), jobs=1)
    assert parallel.outputs["pdf"].read_bytes() == sequential.outputs["pdf"].read_bytes()
    pdf = PrintedBook(parallel.outputs["pdf"], parallel.book)
    assert pdf.page_count > 12 and [w.page for w in pdf.in_zone("margin") if w.text == "4"]
