"""Hostile input: nothing outside the manuscript is read, nothing active is written, work is bounded."""
from __future__ import annotations

import io
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pdfplumber
import pytest
from lxml import etree
from PIL import Image

from publish.book.errors import EXIT_INTERRUPTED, EXIT_SETTINGS, ManuscriptError, PublishError, RefusedError
from publish.build import STYLES, build, check
from publish.markdown.check import check_book, check_sources
from publish.markdown.safety import before_pandoc
from publish.system import interrupt

from conftest import PNG, ROOT, make_manuscript
from test_tei import assert_epubcheck

DOC = "# Chapter\n\n## 1. Document {#d1 page=1}\n\n"


def case(tmp_path: Path, body: str, files: dict[str, bytes] | None = None) -> Path:
    """A one-file manuscript whose body starts on line 5, with the given extra files."""
    folder = make_manuscript(tmp_path / "m", {"01.md": DOC + body})
    for name, data in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def diagnostics(folder: Path) -> list:
    try:
        return check(folder).warnings
    except ManuscriptError as exc:
        return exc.diagnostics


def refused(folder: Path, code: str = "R003"):
    """Return the one error of this code, asserting it is the only error and has a line."""
    errors = [d for d in diagnostics(folder) if d.is_error]
    assert [d.code for d in errors] == [code], [str(d) for d in errors]
    assert errors[0].line >= 5, str(errors[0])
    return errors[0]


def epub_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return z.namelist()


# ---- every resource is resolved once, to a real file inside the manuscript ----

@pytest.mark.parametrize("src", ["img.png?/../../../../etc/passwd", "img.png#/../../../../etc/passwd",
                                 "img.png%3F/../../../../etc/passwd", "./sub/../../m/img.png?x"])
def test_image_url_with_query_or_fragment_is_refused(tmp_path, src):
    folder = case(tmp_path, f"![x]({src})\n", {"img.png": PNG})
    assert refused(folder).line == 5


def test_epub_packs_the_resolved_file_under_its_own_name(tmp_path):
    folder = case(tmp_path, "![a map](sub/../img.png)\n\nText.[^1]\n\n[^1]: A note with ![a seal](seal.png).\n",
                  {"img.png": PNG, "seal.png": PNG})
    out = build(folder, tmp_path / "out", formats=("epub",)).outputs["epub"]
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        media = sorted(n for n in names if n.startswith("EPUB/media/"))
        assert media == ["EPUB/media/image-001.png", "EPUB/media/image-002.png"]  # the note's image too
        assert all(z.read(n) == PNG for n in media)
        chapter = etree.fromstring(z.read("EPUB/chapter-001.xhtml"))
        srcs = chapter.xpath("//*[local-name()='img']/@src")
        assert srcs == ["media/image-001.png", "media/image-002.png"]
    assert not any(".." in n or n.startswith("/") for n in names)


# ---- images are judged by what they hold ----

def png_of_size(width: int, height: int) -> bytes:
    """A PNG whose header claims the size (a decompression bomb's header, without its data)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return PNG[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + PNG[33:]


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.parametrize("name, data, reason", [
    ("img.png", bytes(range(256)) * 8, "not an image"),
    ("img.png", png_of_size(30000, 30000), "pixels"),
    ("img.png", b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>', "not an image"),
    ("img.png", jpeg(), "JPEG image but is named"),
    ("img.png", PNG[:40], "not an image"),
])
def test_image_judged_by_content(tmp_path, name, data, reason):
    folder = case(tmp_path, f"![x]({name})\n", {name: data})
    assert reason in refused(folder).message


# ---- SVG: static SVG only, bounded ----

SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{}</svg>'


@pytest.mark.parametrize("svg", [
    SVG.format('<a href="javascript:alert(1)"><rect width="1" height="1"/></a>'),
    SVG.format('<a xlink:href=" JavaScript:alert(1)"><rect width="1"/></a>'),
    SVG.format('<set attributeName="href" to="javascript:alert(1)"/>'),
    SVG.format('<animate attributeName="onclick" to="alert(1)"/>'),
    '<?xml-stylesheet href="https://example.org/x.css"?>' + SVG.format('<rect width="1"/>'),
    '<!DOCTYPE svg SYSTEM "https://example.org/svg.dtd">' + SVG.format('<rect width="1"/>'),
    SVG.format('<image href="../secret.png" width="1" height="1"/>'),
    SVG.format('<image xlink:href="/etc/passwd" width="1" height="1"/>'),
    SVG.format('<use href="other.svg#x"/>'),
    SVG.format('<style>rect {{ fill: \\75rl(https://example.org/x) }}</style>'),
    SVG.format('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'),
    SVG.format('<filter id="f"><feImage href="https://example.org/x.png"/></filter>'),
    SVG.format('<x:script xmlns:x="http://example.org/x"/>'),
])
def test_svg_outside_the_static_subset_is_refused(tmp_path, svg):
    folder = case(tmp_path, "![x](fig.svg)\n", {"fig.svg": svg.encode()})
    assert "refused image 'fig.svg'" in refused(folder).message


def nested_use(levels: int, fan: int = 10) -> bytes:
    """An SVG of nested <use>: fan ** levels shapes in a few hundred bytes."""
    parts = ['<rect id="u0" width="1" height="1"/>']
    for level in range(1, levels + 1):
        uses = "".join(f'<use href="#u{level - 1}"/>' for _ in range(fan))
        parts.append(f'<g id="u{level}">{uses}</g>')
    return SVG.format("<defs>" + "".join(parts) + "</defs>" + f'<use href="#u{levels}"/>').encode()


def test_svg_of_nested_use_is_refused_at_once(tmp_path):
    folder = case(tmp_path, "![x](fig.svg)\n", {"fig.svg": nested_use(8)})
    started = time.monotonic()
    assert "once every <use> is expanded" in refused(folder).message
    assert time.monotonic() - started < 20


def test_svg_with_a_use_cycle_is_refused(tmp_path):
    svg = SVG.format('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>').encode()
    folder = case(tmp_path, "![x](fig.svg)\n", {"fig.svg": svg})
    assert "expanded" in refused(folder).message


def test_static_svg_with_a_few_uses_builds_into_both_formats(tmp_path):
    folder = case(tmp_path, "![x](fig.svg)\n", {"fig.svg": nested_use(2)})
    result = build(folder, tmp_path / "out", formats=("epub",))
    assert "EPUB/media/image-001.svg" in epub_names(result.outputs["epub"])


# ---- raw HTML that would load or run something: refused, with its line ----

@pytest.mark.parametrize("body, code", [
    ('<video poster="img.png"></video>\n', "R003"),
    ('<p>Text</p>\n\n<span poster="img.png">x</span>\n', "R003"),
    ('<span srcset="img.png 1x">x</span>\n', "R003"),
    ('<table background="img.png"><tr><td>x</td></tr></table>\n', "R003"),
    ('<span data="img.png">x</span>\n', "R003"),
    ('<a href="#d1">ok</a> and <a href="\tJaVa\tScRiPt:alert(1)">x</a>\n', "R001"),
    ('<a href="&#x20;javascript&#x3A;alert(1)">x</a>\n', "R001"),
    ('<a href="java&#x09;script:alert(1)">x</a>\n', "R001"),
    ('<a xlink:href="https://example.org/">x</a>\n', "R003"),
    ('<div><audio src="img.png"></audio></div>\n', "R003"),
    ('<a href="http://[::1">x</a>\n', "R002"),
    ('<input type="image" src="img.png">\n', "R001"),
])
def test_raw_html_that_loads_or_runs_is_refused_with_its_line(tmp_path, body, code):
    folder = case(tmp_path, body, {"img.png": PNG})
    diags = [d for d in diagnostics(folder) if d.is_error]
    assert code in {d.code for d in diags}, [str(d) for d in diags]
    assert all(d.line == body[:body.index(body.strip().split("\n")[-1])].count("\n") + 5 for d in diags), \
        [str(d) for d in diags]


# ---- bounded work: limits checked before pandoc runs, pandoc bounded in time and memory ----

@pytest.mark.parametrize("body, code", [
    ("> " * 40000 + "deep\n", "S008"),
    ("<div>" * 5000 + "deep" + "</div>" * 5000 + "\n", "S008"),
    ("::: a\n" * 100 + "deep\n" + ":::\n" * 100, "S008"),
    ("".join(f"x[^{i}]\n\n[^{i}]: n\n\n" for i in range(20_001)), "L003"),
    ("\x00" * 4_000_000, "L002"),
    ("\x01 " * 1001, "L002"),
])
def test_limits_are_checked_before_pandoc_runs(tmp_path, monkeypatch, body, code):
    folder = case(tmp_path, body)
    monkeypatch.setattr("publish.markdown.convert.to_html", lambda markdown: pytest.fail("pandoc ran"))
    started = time.monotonic()
    with pytest.raises(ManuscriptError) as failed:
        check(folder)
    assert [d.code for d in failed.value.diagnostics if d.is_error] == [code]
    assert time.monotonic() - started < 30


def test_file_larger_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("publish.markdown.safety.MAX_SOURCE_BYTES", 1000)
    folder = case(tmp_path, "word " * 300)
    with pytest.raises(ManuscriptError) as failed:
        check(folder)
    assert [d.code for d in failed.value.diagnostics] == ["L001"]


def test_pandoc_memory_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr("publish.markdown.safety.PANDOC_MEGABYTES", 6)
    folder = case(tmp_path, "word *x* " * 100_000 + "\n")
    with pytest.raises(PublishError, match="more than 6 MB of memory"):
        check(folder)


@pytest.fixture
def slow_pandoc(tmp_path):
    script = tmp_path / "pandoc"
    script.write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    script.chmod(0o755)
    return script


def test_pandoc_time_is_bounded(tmp_path, monkeypatch, slow_pandoc):
    monkeypatch.setattr("publish.markdown.convert.PANDOC", str(slow_pandoc))
    monkeypatch.setattr("publish.markdown.safety.PANDOC_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(PublishError, match="more than 1 s"):
        check(case(tmp_path, "Text.\n"))
    assert time.monotonic() - started < 10


def test_sigterm_stops_pandoc_at_once(tmp_path, slow_pandoc):
    folder = case(tmp_path, "Text.\n")
    code = ("import sys, publish.markdown.convert as c; c.PANDOC = sys.argv[1]; from publish.cli import main; "
            "sys.exit(main(['epub', sys.argv[2], '--out', sys.argv[3]]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(slow_pandoc), str(folder), str(tmp_path / "out")],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE)
    time.sleep(3)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert time.monotonic() - started < 5
    assert b"Traceback" not in err
    assert not list(tmp_path.glob("out/*.part"))


# ---- ids the build makes itself; markers that only look like markers ----

@pytest.mark.parametrize("body", ["Text [Page 2] and [here]{#page-2}.\n", "Text.[^1] [here]{#d1-fn1}\n\n[^1]: Note.\n",
                                  "### Part {#d1-fn1ref}\n\nText.\n", "[x]{#page-unnumbered-I}\n"])
def test_ids_of_the_generated_form_are_refused(tmp_path, body):
    assert refused(case(tmp_path, body), "S009").line == 5


def test_a_heading_never_slugs_to_a_generated_id(tmp_path):
    folder = case(tmp_path, "[Page 5] Text.\n\n## Page 5\n\nMore.\n\n## Notes fn1\n\nEnd.\n")
    book = check(folder).book
    assert [s.anchor for s in book.chapters[0].sections] == ["d1", "page-5-section", "notes-fn1-section"]


@pytest.mark.parametrize("char", ["\u200d", "\u200b", "\ufeff", "\u00ad"])
def test_marker_with_an_invisible_character_is_a_warning(tmp_path, char):
    folder = case(tmp_path, f"Text [Pa{char}ge 2] more.\n")
    warnings = [d for d in diagnostics(folder) if d.code == "P005"]
    assert [(d.line, d.column, d.severity) for d in warnings] == [(5, 6, "warning")]


def test_pdf_draws_images_from_their_resolved_files(tmp_path):
    svg = SVG.format('<rect width="10" height="10" fill="black"/>').replace("<svg ", '<svg width="10" height="10" ')
    folder = case(tmp_path, "![a map](sub/../img.png)\n\nText.[^1]\n\n[^1]: A figure: ![a figure](fig.svg)\n",
                  {"img.png": PNG, "fig.svg": svg.encode()})
    out = build(folder, tmp_path / "out", formats=("pdf",)).outputs["pdf"]
    with pdfplumber.open(out) as pdf:
        drawn = [img for page in pdf.pages for img in page.images]
        rects = [r for page in pdf.pages for r in page.rects if r["non_stroking_color"] in ((0,), [0], (0, 0, 0))]
    assert len(drawn) == 1 and rects


# ---- what gave a traceback is a clear error ----

@pytest.mark.parametrize("body, code", [
    ('<a class="noteref" href="#x">1</a>\n', "S010"),
    ('<span class="pagebreak">x</span>\n', "S010"),
    ("[x]{.footnote-ref}\n", "S010"),
    # pandoc reads a fence's one bare word as a class: a fake note, page break or number.
    ("::: footnote\nA note the build never made.\n:::\n", "S010"),
    ("  ::::: pagebreak :::::\nx\n:::::\n", "S010"),
    ("```pn\n588\n```\n", "S010"),
    ("~~~ footnotes\nx\n~~~\n", "S010"),
    ('<img src="%00.png">\n', "S007"),
    ('<img src="loop.png">\n', "S007"),
    ("<img src=\"" + "a" * 300 + ".png\">\n", "S007"),
])
def test_raw_html_that_crashed_the_build_is_a_clear_error(tmp_path, body, code):
    folder = case(tmp_path, body)
    (folder / "loop.png").symlink_to("loop.png")
    assert refused(folder, code).line == 5


@pytest.mark.parametrize("yaml_text", [
    "id: t\nvolume_title: T\nchapters: ['" + "a" * 300 + ".md']\n",
    "id: t\nvolume_title: T\nchapters: [loop.md]\n",
    "id: t\nvolume_title: T\nyear: 1" + "0" * 5000 + "\nchapters: [01.md]\n",
    'id: t\nvolume_title: "\\ud800"\nchapters: [01.md]\n',
])
def test_book_yaml_that_crashed_the_build_is_a_clear_error(tmp_path, yaml_text):
    folder = case(tmp_path, "Text.\n")
    (folder / "loop.md").symlink_to("loop.md")
    (folder / "book.yaml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ManuscriptError) as failed:
        check(folder)
    assert {d.code for d in failed.value.diagnostics if d.is_error} <= {"M003", "M006", "M010"}


@pytest.mark.parametrize("body, code", [
    ("".join(" " * (2 * i) + "- x\n" for i in range(300)), "S008"),  # pandoc: 4 s for 300, cubic
    ("[" * 12 + "x" + "]" * 12 + "\n", "L004"),  # pandoc: over 30 s, exponential
    ("Text [" * 20 + "\n", "L004"),
    ("[a](#d1 " * 400 + "\n", "L004"),
    ("`" * 4000 + "x\n", "L004"),
])
def test_input_pandoc_reads_in_unbounded_time_is_refused_first(tmp_path, monkeypatch, body, code):
    folder = case(tmp_path, body)
    monkeypatch.setattr("publish.markdown.convert.to_html", lambda markdown: pytest.fail("pandoc ran"))
    with pytest.raises(ManuscriptError) as failed:
        check(folder)
    assert [(d.code, d.line) for d in failed.value.diagnostics if d.is_error] == [(code, 5 if code == "L004" else 53)]


def test_nesting_that_real_text_has_is_accepted(tmp_path):
    body = ("- a\n    - b\n        - c\n\n> quoted [Page 2] [Page [I]] (see (a) and (b)) ``code``\n\n"
            "1. one\n2. two\n\nText \\[ and \\[ escaped [[x](#d1)].\n")
    assert [d for d in diagnostics(case(tmp_path, body)) if d.is_error] == []


# ---- limits with no gap: spans as HTML reads them, table size, markers; all before the work ----

def build_refused(folder: Path, out: Path, code: str) -> list:
    """Build both formats, asserting it stops with only errors of this code, each with its line, and writes nothing."""
    with pytest.raises(ManuscriptError) as failed:
        build(folder, out)
    errors = [d for d in failed.value.diagnostics if d.is_error]
    assert {d.code for d in errors} == {code}, [str(d) for d in errors]
    assert all(d.path == str(folder / "01.md") and d.line >= 5 for d in errors), [str(d) for d in errors]
    assert not out.exists() or not any(out.glob("*.pdf")) and not any(out.glob("*.epub"))
    return errors


@pytest.mark.parametrize("attribute", ['colspan="+1001"', 'rowspan=" +1001"', 'colspan="00001001"',
                                       'rowspan="1001.5"', 'rowspan="1001px"', "rowspan=" + "9" * 5000])
def test_a_span_is_read_as_html_reads_it_and_then_limited(tmp_path, attribute):
    folder = case(tmp_path, f"<table><tr><td {attribute}>x</td></tr></table>\n")
    assert build_refused(folder, tmp_path / "out", "R004")[0].line == 5


def test_spans_within_the_limit_build_into_both_formats(tmp_path):
    folder = case(tmp_path, '<table><tr><td colspan="+2">wide</td></tr><tr><td rowspan=" 1">a</td><td>b</td></tr>'
                            "</table>\n")
    result = build(folder, tmp_path / "out")
    assert_epubcheck(result.outputs["epub"])
    with pdfplumber.open(result.outputs["pdf"]) as pdf:
        assert "wide" in "".join(page.extract_text() for page in pdf.pages)


@pytest.mark.parametrize("body", [
    "<table><tr>" + "<td>x</td>" * 10_000 + "</tr></table>\n",
    "<table><tr>" + '<td colspan="60">x</td>' * 2 + "</tr></table>\n",
    "|" + "a|" * 101 + "\n|" + "-|" * 101 + "\n|" + "1|" * 101 + "\n",
    "<table>" + "<tr><td>x</td></tr>" * 10_001 + "</table>\n",
])
def test_tables_beyond_the_limits_are_refused_before_they_are_laid_out(tmp_path, monkeypatch, body):
    monkeypatch.setattr("publish.pdf.writer.write_pdf", lambda *a, **k: pytest.fail("laid out"))
    errors = build_refused(case(tmp_path, body), tmp_path / "out", "L005")
    assert [d.line for d in errors] == [5]


def test_page_markers_beyond_the_limit_are_refused_before_pandoc(tmp_path, monkeypatch):
    folder = case(tmp_path, "".join(f"[Page {i}]\n\n" for i in range(2, 20_003)))
    monkeypatch.setattr("publish.markdown.convert.to_html", lambda markdown: pytest.fail("pandoc ran"))
    with pytest.raises(ManuscriptError) as failed:
        check(folder)
    assert [(d.code, d.path) for d in failed.value.diagnostics if d.is_error] == [("L003", str(folder / "01.md"))]


def test_thirty_thousand_page_markers_are_checked_in_linear_time(tmp_path):
    """Lone markers (pages without text) and a line of markers: each once quadratic, now a few seconds."""
    lone = "".join(f"[Page {i}]\n\n" for i in range(2, 15_002))
    line = " ".join(f"w [Page {i}]" for i in range(15_002, 30_002)) + "\n"
    folder = make_manuscript(tmp_path / "m", {"01.md": DOC + lone + "Text.\n", "02.md": "# Two\n\n" + line})
    started = time.monotonic()
    book = check(folder).book
    assert len(book.page_breaks) == 30_001
    assert [pb.label for pb in book.page_breaks] == [str(i) for i in range(1, 30_002)]
    assert time.monotonic() - started < 120  # generous: some 10 s on two shared cores; quadratic took hours


def test_a_signal_stops_every_check_at_once(tmp_path):
    """A SIGTERM that came while the checks ran makes each of them stop, whichever thread it runs in."""
    folder = case(tmp_path, "Text [Page 2] more.\n")
    book = check(folder).book
    sources = {folder / "01.md": (folder / "01.md").read_text(encoding="utf-8")}
    with interrupt.handled():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        for stage in (lambda: before_pandoc(sources), lambda: check_sources(book.meta, folder, sources),
                      lambda: check_book(book, sources)):
            with pytest.raises(KeyboardInterrupt):
                stage()


# ---- raw HTML a book cannot hold: a clear error where it stands, not a traceback or a broken file ----

@pytest.mark.parametrize("body", [
    "Text <plaintext>more\n", "<table><p>x</p><tr><td>y</td></tr></table>\n",
    "<table><tr><td>a</td></tr>loose text</table>\n", "<ul><p>x</p></ul>\n", "Text <li>item</li>\n",
    "Text <span><div>block</div></span>\n", "<table><tr><td>a</td></tr><tr><p>b</p></tr></table>\n",
    'x <svg:rect width="1"/> y\n', "x <o:p>y</o:p> z\n", "x <w:sdt>y</w:sdt> z\n", "x <font color=red>y</font>\n",
    "<center>x</center>\n", "x <xmp>y</xmp>\n", "x <my-widget>y</my-widget>\n",
])
def test_raw_html_a_book_cannot_hold_is_a_clear_error_in_both_formats(tmp_path, body):
    assert build_refused(case(tmp_path, body), tmp_path / "out", "S011")[0].line == 5


@pytest.mark.parametrize("body, code", [
    ('<a rel="attachment" href="https://example.org/x">x</a>\n', "R003"),
    ('<a rel="nofollow Attachment" href="#d1">x</a>\n', "R003"),
    ('<img src="http://127.0.0.1:9/x.png">\n', "R003"), ('<img src="file:///etc/passwd">\n', "R003"),
    ("![x](file:///etc/passwd)\n", "R003"), ('<span style="background: url(http://127.0.0.1:9/x)">x</span>\n', "R004"),
    ('<span style="background: \\75rl(img.png)">x</span>\n', "R004"), ("[x]{style='content: url(img.png)'}\n", "R004"),
])
def test_what_weasyprint_would_fetch_is_refused_before_layout(tmp_path, monkeypatch, body, code):
    monkeypatch.setattr("publish.pdf.writer.write_pdf", lambda *a, **k: pytest.fail("laid out"))
    assert build_refused(case(tmp_path, body), tmp_path / "out", code)[0].line == 5


def test_what_weasyprint_fetches_only_as_it_writes_is_refused_not_a_traceback(tmp_path):
    from publish.pdf.typeset import Typesetter
    folder = case(tmp_path, "Text.\n")
    setter = Typesetter(STYLES, folder, "")
    laid = setter.layout('<p><a rel="attachment" href="https://127.0.0.1:9/x">x</a></p>')
    with pytest.raises(RefusedError, match="refused to fetch 'https://127.0.0.1:9/x'"):
        setter.draw(laid, None, 1, False)


@pytest.mark.parametrize("body", [
    "Text <!-- a -- b --> more.\n", "<!-- x --- y -->\n\nText more.\n", "Text <!-- -- --> more.\n",
    "Text <?xml version='1.0'?> more.\n",
    "Text.[^1] more.\n\n[^1]: A note <!-- c -- d --> ends.\n",
    "| a | b |\n|---|---|\n| Text <!-- e -- f --> | more. |\n",
])
def test_comments_leave_no_trace_and_the_epub_stays_well_formed(tmp_path, body):
    result = build(case(tmp_path, body), tmp_path / "out")
    assert_epubcheck(result.outputs["epub"])
    with zipfile.ZipFile(result.outputs["epub"]) as z:
        chapter = z.read("EPUB/chapter-001.xhtml").decode("utf-8").split("<body", 1)[1]
    with pdfplumber.open(result.outputs["pdf"]) as pdf:
        printed = " ".join(page.extract_text() for page in pdf.pages)
    for text in (chapter, printed):
        assert "Text" in text and "more" in text
        assert not re.search(r"<!--|<\?xml version='1|\b[a-f]\b -- |---", text)


@pytest.mark.parametrize("body, what", [
    ('Text <span class="footnote">forged</span> more.\n', "class 'footnote'"),
    ("Text [99]{.pn} more.\n", "class 'pn'"),
    ('Text <span class="&#x66;ootnote">forged</span> more.\n', "class 'footnote'"),
    ('Text <span class="&#34;\tpagebreak">forged</span> more.\n', "class 'pagebreak'"),
    ("Text <a class=noteref href='#d1'>1</a> more.\n", "class 'noteref'"),
    ("Text <span class='x fn-p'>y</span>.\n", "class 'fn-p'"),
    ('<div class="landscape">\n\nx\n\n</div>\n', "class 'landscape'"),
    ("::: {.chapter}\nx\n:::\n", "class 'chapter'"),
    ('Text <span data-piece="1">y</span>.\n', "attribute 'data-piece'"),
    ("Text [y]{n=3 marker=x}.\n", "attribute 'n'"),
    ("Text [y]{label=5}.\n", "attribute 'label'"),
    ("### Part {#p page=2 srcline=99}\n", "attribute 'srcline'"),
    ('Text <span data-title="x">y</span>.\n', "attribute 'data-title'"),
])
def test_the_builds_own_classes_and_attributes_are_refused(tmp_path, body, what):
    errors = build_refused(case(tmp_path, body), tmp_path / "out", "S010")
    assert errors[0].line == 5 and what in errors[0].message, str(errors[0])


def test_names_like_the_builds_own_are_the_authors(tmp_path):
    body = ('Text [y]{.smallcaps .footnoteish} <span class="pnx" title="t" data-note="n">z</span> '
            '<a href="https://example.org/?n=5&label=2">link</a> see p.pn and .footnote.\n\n### Part {#p page=2}\n')
    result = build(case(tmp_path, body), tmp_path / "out", formats=("epub",))
    assert_epubcheck(result.outputs["epub"])


# ---- what gave a traceback on a newcomer's first file or setting ----

@pytest.mark.parametrize("files", [{"01.md": "", "02.md": DOC}, {"01.md": DOC, "02.md": "", "03.md": DOC + "x"},
                                   {"01.md": ""}, {"01.md": DOC, "02.md": "\n\n\n"}])
def test_an_empty_chapter_file_is_a_clear_error_wherever_it_stands(tmp_path, files):
    folder = make_manuscript(tmp_path / "m", files)
    empty = next(name for name, text in files.items() if not text.strip())
    errors = build_refused_anywhere(folder, tmp_path / "out")
    assert [(d.code, d.path, d.line) for d in errors] == [("S002", str(folder / empty), 1)]


def build_refused_anywhere(folder: Path, out: Path) -> list:
    with pytest.raises(ManuscriptError) as failed:
        build(folder, out)
    assert not out.exists() or not any(out.glob("*.pdf")) and not any(out.glob("*.epub"))
    return [d for d in failed.value.diagnostics if d.is_error]


@pytest.mark.parametrize("epoch", ["9" * 30, "253402300800", "-1", "+5", "1e9", "1_000", "\u00b2", "\u0663",
                                   "12 34", "0x10"])
def test_a_source_date_epoch_no_date_can_hold_is_a_settings_error(tmp_path, epoch):
    folder = case(tmp_path, "Text.\n")
    run = subprocess.run([sys.executable, "-m", "publish", "epub", str(folder), "--out", str(tmp_path / "out")],
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": epoch},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == EXIT_SETTINGS, run.stderr
    assert "SOURCE_DATE_EPOCH must be whole seconds since 1970 UTC, up to 253402300799" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()


def test_the_last_second_a_date_holds_dates_the_book(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "253402300799")
    assert check(case(tmp_path, "Text.\n")).book.date == "9999-12-31T23:59:59Z"
