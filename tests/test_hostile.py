"""Hostile input: nothing outside the manuscript is read, nothing active is written, work is bounded."""
from __future__ import annotations

import io
import os
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

from conftest import PNG, ROOT, make_manuscript
from publish.build import build, check
from publish.errors import EXIT_INTERRUPTED, ManuscriptError, PublishError

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
    monkeypatch.setattr("publish.convert.to_html", lambda markdown: pytest.fail("pandoc ran"))
    started = time.monotonic()
    with pytest.raises(ManuscriptError) as failed:
        check(folder)
    assert [d.code for d in failed.value.diagnostics if d.is_error] == [code]
    assert time.monotonic() - started < 30


def test_file_larger_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("publish.safety.MAX_SOURCE_BYTES", 1000)
    folder = case(tmp_path, "word " * 300)
    with pytest.raises(ManuscriptError) as failed:
        check(folder)
    assert [d.code for d in failed.value.diagnostics] == ["L001"]


def test_pandoc_memory_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr("publish.safety.PANDOC_MEGABYTES", 6)
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
    monkeypatch.setattr("publish.convert.PANDOC", str(slow_pandoc))
    monkeypatch.setattr("publish.safety.PANDOC_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(PublishError, match="more than 1 s"):
        check(case(tmp_path, "Text.\n"))
    assert time.monotonic() - started < 10


def test_sigterm_stops_pandoc_at_once(tmp_path, slow_pandoc):
    folder = case(tmp_path, "Text.\n")
    code = ("import sys, publish.convert as c; c.PANDOC = sys.argv[1]; from publish.cli import main; "
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
    monkeypatch.setattr("publish.convert.to_html", lambda markdown: pytest.fail("pandoc ran"))
    with pytest.raises(ManuscriptError) as failed:
        check(folder)
    assert [(d.code, d.line) for d in failed.value.diagnostics if d.is_error] == [(code, 5 if code == "L004" else 53)]


def test_nesting_that_real_text_has_is_accepted(tmp_path):
    body = ("- a\n    - b\n        - c\n\n> quoted [Page 2] [Page [I]] (see (a) and (b)) ``code``\n\n"
            "1. one\n2. two\n\nText \\[ and \\[ escaped [[x](#d1)].\n")
    assert [d for d in diagnostics(case(tmp_path, body)) if d.is_error] == []
