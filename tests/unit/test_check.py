"""Each manuscript check, on a small broken manuscript: the code, the file and the line it names."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from publish.book.config import load_metadata
from publish.book.errors import EXIT_MANUSCRIPT, EXIT_OK, EXIT_REFUSED, ManuscriptError
from publish.build import check
from publish.markdown.convert import to_html

from conftest import PNG, ROOT, SAMPLE, make_manuscript

DOC = """\
# Chapter

## 1. First {#d1 page=1}

"""


def problems(folder: Path, strict: bool = False) -> list:
    """Return every diagnostic a check of folder reports, errors and warnings alike."""
    try:
        return check(folder, strict).warnings
    except ManuscriptError as exc:
        return exc.diagnostics


def found(folder: Path) -> set[tuple[str, str, int]]:
    """Return (code, file name, line) of each diagnostic."""
    return {(d.code, Path(d.path).name, d.line) for d in problems(folder)}


def one(folder: Path, code: str):
    """Return the only diagnostic with this code."""
    hits = [d for d in problems(folder) if d.code == code]
    assert len(hits) == 1, [str(d) for d in problems(folder)]
    return hits[0]


def text_case(tmp_path: Path, body: str, extra: str = "") -> Path:
    """A one-file manuscript: a chapter, document 1 on page 1, then body from line 5."""
    return make_manuscript(tmp_path / "m", {"01.md": DOC + body}, extra)


# ---- the sample is clean, even under --strict (the Makefile's check target) ----

def test_sample_is_clean_under_strict():
    assert check(SAMPLE, strict=True).warnings == []


# ---- metadata ----

def write_yaml(tmp_path: Path, text: str, files=("01.md",)) -> Path:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "book.yaml").write_text(text, encoding="utf-8")
    for name in files:
        (folder / name).write_text(DOC + "Text.\n", encoding="utf-8")
    return folder


GOOD = "id: t\nvolume_title: T\nchapters:\n  - 01.md\n"


@pytest.mark.parametrize("yaml_text, code, line", [
    ("id: t\nvolume_title: [unclosed\nchapters:\n  - 01.md\n", "M003", 3),
    ("- just\n- a list\n", "M004", 1),
    ("id: t\nvolume_titel: T\nchapters:\n  - 01.md\n", "M005", 2),
    ("id: t\nvolume_title: T\neditors: {a: 1}\nchapters:\n  - 01.md\n", "M006", 3),
    ("id: t\nvolume_title: T\nfont_size: '10pt; } @import url(http://x.org/a.css)'\nchapters: [01.md]\n",
     "M006", 3),
    ('id: t\nvolume_title: "T\\x01"\nchapters: [01.md]\n', "M006", 2),
    ("id: t\nchapters:\n  - 01.md\n", "M007", 1),
    ("id: t\nvolume_title: ''\nchapters:\n  - 01.md\n", "M007", 2),
    ("id: ../evil\nvolume_title: T\nchapters:\n  - 01.md\n", "M008", 1),
    ('id: "t\\n"\nvolume_title: T\nchapters:\n  - 01.md\n', "M008", 1),
    ("id: |\n  t\nvolume_title: T\nchapters:\n  - 01.md\n", "M008", 1),
    ("id: a/b\nvolume_title: T\nchapters:\n  - 01.md\n", "M008", 1),
    ("id: '..'\nvolume_title: T\nchapters:\n  - 01.md\n", "M008", 1),
    ('id: t\nvolume_title: T\nedition: "1.0\\n"\nchapters:\n  - 01.md\n', "M006", 3),
    ('id: t\nvolume_title: T\nlanguage: "en\\n"\nchapters:\n  - 01.md\n', "M006", 3),
    ("id: t\nvolume_title: T\nmargins: 1in 4in\nchapters:\n  - 01.md\n", "M014", 3),
    ("id: t\nvolume_title: T\npage_size: 6in 9in\nmargins: 5in 1in\nchapters:\n  - 01.md\n", "M014", 4),
    ("id: t\nvolume_title: T\nfont_size: 1000pt\nchapters:\n  - 01.md\n", "M014", 3),
    ("id: t\nvolume_title: T\npage_size: 9999in 9in\nchapters:\n  - 01.md\n", "M014", 3),
    ("id: t\nvolume_title: T\nchapters:\n  - 01.md\n  - ../outside.md\n", "M009", 5),
    ("id: t\nvolume_title: T\nchapters:\n  - 01.md\n  - 02.md\n", "M010", 5),
    ("id: t\nvolume_title: T\nid: u\nchapters:\n  - 01.md\n", "M012", 3),
    ("id: t\nvolume_title: T\nchapters:\n  - 01.md\n  - ./01.md\n", "M013", 5),
])
def test_metadata_problem(tmp_path, yaml_text, code, line):
    (tmp_path / "outside.md").write_text(DOC, encoding="utf-8")
    diag = one(write_yaml(tmp_path, yaml_text), code)
    assert (Path(diag.path).name, diag.line) == ("book.yaml", line)
    assert diag.is_error


@pytest.mark.parametrize("geometry", ["page_size: A4 landscape", "page_size: letter\nmargins: 1in",
                                      "margins: 2cm 25mm 2cm 3em\nfont_size: 12pt", "page_size: 5.5in 8.5in"])
def test_page_geometry_that_holds_text_is_accepted(tmp_path, geometry):
    assert problems(write_yaml(tmp_path, GOOD + geometry + "\n")) == []


def test_unknown_key_names_the_likely_key(tmp_path):
    diag = one(write_yaml(tmp_path, GOOD + "volme: V\n"), "M005")
    assert "did you mean 'volume'?" in diag.message


def test_no_book_yaml_and_not_utf8(tmp_path):
    (tmp_path / "empty").mkdir()
    assert found(tmp_path / "empty") == {("M001", "book.yaml", 0)}
    folder = write_yaml(tmp_path, GOOD)
    (folder / "book.yaml").write_bytes(b"id: t\nvolume_title: caf\xe9\n")
    assert found(folder) == {("M002", "book.yaml", 0)}


def test_unlisted_markdown_file_is_a_warning(tmp_path):
    folder = write_yaml(tmp_path, GOOD, files=("01.md", "notes.md"))
    diag = one(folder, "M011")
    assert Path(diag.path).name == "notes.md" and not diag.is_error


def test_chapter_symlinked_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "secret.md").write_text(DOC, encoding="utf-8")
    folder = write_yaml(tmp_path, GOOD + "  - 02.md\n")
    os.symlink(tmp_path / "secret.md", folder / "02.md")
    assert ("M009", "book.yaml", 5) in found(folder)


# ---- page markers ----

@pytest.mark.parametrize("marker", ["[Page 58 8]", "[page 588]", "[Pg. 588]", "[Page 588", "[Page588]",
                                    "[ Page 588]", "[Page 588a]"])
def test_malformed_marker(tmp_path, marker):
    diag = one(text_case(tmp_path, f"Text {marker} more.\n"), "P001")
    assert (diag.line, diag.column) == (5, 6)
    assert marker.rstrip() in diag.message


@pytest.mark.parametrize("text", ["The [P]resident said [pm] and [Pages 5–7].",
                                  "Well-formed: [Page 2] and [Page [I]] and [Page XII]."])
def test_no_false_malformed_marker(tmp_path, text):
    assert "P001" not in {d.code for d in problems(text_case(tmp_path, text + "\n"))}


def test_unnumbered_pages_without_a_numeral_have_no_order(tmp_path):
    folder = text_case(tmp_path, "Plates: [Page [B]] text [Page [A1]] text [Page [I]] text [Page [II]] text.\n")
    assert problems(folder) == []


def test_heading_page_that_is_not_a_label(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": "# Ch\n\n## 1. Doc {#d1 page=5x8}\n\nText.\n"})
    assert ("P001", "01.md", 3) in found(folder)


@pytest.mark.parametrize("body, code, line, severity", [
    ("A [Page 2] b.\n\nC [Page 2] d.\n", "P002", 7, "error"),
    ("A [Page [2]] b.\n\nC [Page 2] d.\n", "P002", 7, "error"),  # one page 2 to a reader going to it
    ("A [Page 3] b.\n\nC [Page 2] d.\n", "P003", 7, "error"),
    ("A [Page 3] b.\n", "P004", 5, "warning"),
    ("A [Page XII] b.\n\nC [Page XI] d.\n", "P003", 7, "error"),
    ("A [Page IIX] b.\n", "P001", 5, "error"),
])
def test_page_sequence(tmp_path, body, code, line, severity):
    diag = one(text_case(tmp_path, body), code)
    assert (Path(diag.path).name, diag.line, diag.severity) == ("01.md", line, severity)


def test_arabic_and_roman_sequences_are_checked_apart(tmp_path):
    folder = write_yaml(tmp_path, "id: t\nvolume_title: T\nfront_matter: [00.md]\nchapters: [01.md]\n", ())
    (folder / "00.md").write_text("# Preface\n\n[Page V]\n\nText [Page VI] text.\n", encoding="utf-8")
    (folder / "01.md").write_text(DOC + "Text [Page 2] text [Page VII] text [Page 3].\n", encoding="utf-8")
    assert problems(folder) == []


# ---- structure ----

@pytest.mark.parametrize("body, code, line", [
    ("## 1. Again\n", "S004", 5),
    ("## 3. Third\n\n## 2. Second\n", "S005", 7),
    ("## 2. Second {#d1}\n", "S003", 5),
    ("See [document 9](#d9).\n", "S006", 5),
    ("See [the other file](02.md#d9).\n", "S006", 5),
    ("![A map](map.png)\n", "S007", 5),
])
def test_structure_problem(tmp_path, body, code, line):
    diag = one(text_case(tmp_path, body), code)
    assert (Path(diag.path).name, diag.line, diag.severity) == ("01.md", line, "error")


def test_duplicate_document_across_files_names_both(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": DOC + "Text.\n",
                                              "02.md": "# Two\n\nIntro.\n\n## 1. First again\n\nText.\n"})
    diag = one(folder, "S004")
    assert (Path(diag.path).name, diag.line) == ("02.md", 5) and "01.md:3" in diag.message
    assert "S003" not in {d.code for d in problems(folder)}  # the doubled d1 is one problem, not two


def test_cross_references_that_resolve(tmp_path):
    folder = text_case(tmp_path, "See [270](#d1), [p. 2](#page-2), [x](#here) and [y](https://history.state.gov).\n\n"
                                 "[Page 2] Text []{#here} more.\n")
    assert problems(folder) == []


def test_text_before_the_first_chapter_and_a_file_without_one(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": "Stray text.\n\n# Ch\n\n## 1. D {#d1 page=1}\n\nT.\n",
                                              "02.md": "Only text.\n"})
    codes = {(c, f) for c, f, _ in found(folder)}
    assert {("S001", "01.md"), ("S002", "02.md")} <= codes


# ---- notes ----

@pytest.mark.parametrize("body, code, line, severity", [
    ("Text.[^1]\n", "N001", 5, "error"),
    ("Text.\n\n[^1]: A note.\n", "N002", 7, "warning"),
    ("Text.[^1]\n\n[^1]: One.\n\n[^1]: Two.\n", "N003", 9, "error"),
])
def test_footnote_problem(tmp_path, body, code, line, severity):
    diag = one(text_case(tmp_path, body), code)
    assert (diag.line, diag.severity) == (line, severity)


@pytest.mark.parametrize("body", ["A note.[^1]\n\n> [^1]: Quoted note.\n",
                                  "A note.[^1]\n\n> > [^1]: Quoted note.\n",
                                  "A note.[^1]\n\n- [^1]: Quoted note.\n",
                                  "> A note.[^1]\n>\n> [^1]: Quoted note.\n"])
def test_a_note_defined_in_a_quote_or_list_is_defined_as_pandoc_defines_it(tmp_path, body):
    assert "Quoted note." in to_html(body).split('class="footnotes', 1)[-1]
    assert problems(text_case(tmp_path, body)) == []


# ---- text ----

@pytest.mark.parametrize("body, column", [("Over 2# hours.\n", 6), ("Some 1#000 tons.\n", 6),
                                          ("Some 1|000 tons.\n", 6), ("A mis\ufffddecoded word.\n", 6)])
def test_bad_transcription_is_a_warning(tmp_path, body, column):
    diag = one(text_case(tmp_path, body), "T001")
    assert (diag.line, diag.column, diag.severity) == (5, column, "warning")


def test_no_false_bad_transcription(tmp_path):
    body = ("### 3. A heading\n\n| Year | Tons |\n|-----:|-----:|\n|1961|2|\n\n"
            "Code `a#1` and [link](https://x.org/p#1) and &#189; and []{#d5x}.\n\n```\n2# in code\n```\n")
    assert "T001" not in {d.code for d in problems(text_case(tmp_path, body))}


def test_control_character_is_a_warning(tmp_path):
    diag = one(text_case(tmp_path, "Text\x01 here.\n"), "T002")
    assert (diag.line, diag.column, diag.severity) == (5, 5, "warning")


def test_mixed_quotes_in_one_document(tmp_path):
    body = "He said “yes.”\n\nShe said \"no.\"\n\n## 2. Other\n\n\"Straight\" only.\n"
    diag = one(text_case(tmp_path, body), "T003")
    assert (diag.line, diag.severity) == (7, "warning")


def test_quotes_in_attributes_and_links_are_not_prose(tmp_path):
    body = '“Curly” text, [a link](https://x.org "title") and <span class="x">raw</span>.\n'
    assert problems(text_case(tmp_path, body)) == []


# ---- refused input: the code, and the line that asks for it ----

@pytest.mark.parametrize("body, code", [
    ("<script>alert(1)</script>\n", "R001"),
    ('<iframe src="https://example.org"></iframe>\n', "R001"),
    ('<img src="map.png" onerror="alert(1)">\n', "R001"),
    ('[text]{onclick="alert(1)"}\n', "R001"),
    ("[click](javascript:alert(1))\n", "R001"),
    ('<a href=" JaVaScRiPt:alert(1)">x</a>\n', "R001"),
    ("[local](file:///etc/passwd)\n", "R002"),
    ("![map](http://example.org/map.png)\n", "R003"),
    ("![map](file:///etc/passwd)\n", "R003"),
    ("![map](../../etc/passwd)\n", "R003"),
    ("![map](/etc/passwd)\n", "R003"),
    ('<img srcset="map.png 1x, https://example.org/m.png 2x">\n', "R003"),
    ('<svg><rect width="1" height="1"/></svg>\n', "R003"),
    ('<span style="background: url(https://example.org/x.png)">x</span>\n', "R004"),
    ('[x]{style="background: u\\72l(x)"}\n', "R004"),
    ('<span style="font-size: 1e9px">x</span>\n', "R004"),
    ("![map](map.png){width=99999in}\n", "R004"),
    ('<table><tr><td colspan="100000000">x</td></tr></table>\n', "R004"),
    ('<table><colgroup><col span="100000000"></colgroup><tr><td>x</td></tr></table>\n', "R004"),
])
def test_refused_input(tmp_path, body, code):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "map.png").write_bytes(PNG)
    diag = one(text_case(tmp_path, body), code)
    assert (Path(diag.path).name, diag.line, diag.is_error) == ("01.md", 5, True)


def test_plain_presentation_is_accepted(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "map.png").write_bytes(PNG)
    body = ('![map](map.png){width=50%}\n\n[Centred]{style="text-align: center; font-variant: small-caps"}\n\n'
            '<table><tr><td colspan="2" rowspan="3">x</td></tr></table>\n')
    assert problems(text_case(tmp_path, body)) == []


def test_image_symlinked_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "secret.png").write_bytes(PNG)
    folder = text_case(tmp_path, "![map](map.png)\n")
    os.symlink(tmp_path / "secret.png", folder / "map.png")
    diag = one(folder, "R003")
    assert "outside the manuscript folder" in diag.message and diag.line == 5


@pytest.mark.parametrize("svg, reason", [
    ('<svg xmlns="http://www.w3.org/2000/svg"><image href="https://example.org/x.png"/></svg>', "references"),
    ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
     '<use xlink:href="file:///etc/passwd#x"/></svg>', "references"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://x.org/a.css);</style></svg>', "stylesheet"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url(https://x.org/a#g)"/></svg>', "resource"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
    ('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "event handler"),
    ('<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
     "entities"),
])
def test_svg_image_reaching_out_is_refused(tmp_path, svg, reason):
    folder = text_case(tmp_path, "![figure](fig.svg)\n")
    (folder / "fig.svg").write_text(svg, encoding="utf-8")
    diag = one(folder, "R003")
    assert reason in diag.message and diag.line == 5


def test_plain_svg_and_png_images_are_accepted(tmp_path):
    folder = text_case(tmp_path, "![figure](fig.svg)\n\n![map](img/map.png)\n")
    (folder / "fig.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><defs><linearGradient id="g"/>'
                                    '</defs><rect fill="url(#g)" width="5" height="5"/>'
                                    '<use href="#g"/></svg>', encoding="utf-8")
    (folder / "img").mkdir()
    (folder / "img" / "map.png").write_bytes(PNG)
    assert problems(folder) == []


# ---- the report: every problem in one pass, printed as path:line:column: CODE message ----

def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "publish", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_cli_reports_every_problem_in_one_pass(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": DOC + "Over 2# hours [page 3].[^x]\n\n## 1. Again\n",
                                              "02.md": "# Two\n\n<script>x()</script>\n"})
    (folder / "book.yaml").write_text((folder / "book.yaml").read_text() + "colour: red\n")
    run = run_cli("check", str(folder))
    lines = run.stderr.splitlines()
    # An error in book.yaml hides nothing: the chapters it lists are checked in the same run.
    assert lines[:5] == [
        f"{folder}/01.md:5:6: T001 '2#' looks like a bad transcription (e.g. '2#' for '2½'); check the print edition",
        f"{folder}/01.md:5:15: P001 malformed page marker '[page 3]': write it as [Page 588], [Page XII] or [Page [I]]",
        f"{folder}/01.md:5:24: N001 footnote [^x] is used but not defined",
        f"{folder}/01.md:7:1: S004 document 1 appears twice (first at {folder}/01.md:3)",
        f"{folder}/02.md:3:1: R001 refused raw HTML <script>: scripts, frames, forms and active content are "
        "not allowed in a manuscript",
    ]
    assert len(lines) == 7 and lines[5].startswith(f"{folder}/book.yaml:11:1: M005 unknown key 'colour'")
    assert lines[-1] == "publish: 5 error(s), 1 warning(s); nothing was written"
    assert run.returncode == EXIT_REFUSED and "Traceback" not in run.stderr


def test_a_chapter_book_yaml_cannot_find_is_reported_and_the_others_still_checked(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": DOC + "Text [page 3].\n"})
    (folder / "book.yaml").write_text((folder / "book.yaml").read_text() + "  - 02.md\npage_size: 6in; 9in\n")
    run = run_cli("check", str(folder))
    codes = [line.split()[1] for line in run.stderr.splitlines()[:-1]]
    assert codes == ["P001", "M010", "M006"] and run.returncode == EXIT_MANUSCRIPT, run.stderr


def test_cli_check_ok_and_strict(tmp_path):
    folder = text_case(tmp_path, "Over 2# hours.\n")
    run = run_cli("check", str(folder))
    assert run.returncode == EXIT_OK
    assert run.stdout.startswith(f"{folder}: ok: 1 chapter(s), 1 document(s), 1 original page(s), 1 warning(s)")
    assert f"{folder}/01.md:5:6: T001" in run.stderr
    strict = run_cli("check", str(folder), "--strict")
    assert strict.returncode == EXIT_MANUSCRIPT
    assert strict.stderr.splitlines()[-1] == "publish: 0 error(s), 1 warning(s); nothing was written"


def test_nesting_too_deep_for_the_layout_is_refused(tmp_path):
    """WeasyPrint recurses once per level: 100 nested lists would end in a RecursionError."""
    body = "".join("  " * level + "- item\n" for level in range(100))
    diag = one(text_case(tmp_path, body), "S008")
    assert (diag.line, diag.is_error) == (53, True)  # where the lists pass 48 levels


def test_a_volume_of_1000_pages_is_checked_whole(tmp_path):
    """Every page, note and document of a volume-sized manuscript is checked, in seconds."""
    words = ("the president said that mikoyan would be seeing attorney general kennedy at supper " * 7).split()
    files, page, doc = {}, 1, 1
    for chapter in range(10):
        parts = [f"# Chapter {chapter + 1}\n"]
        for _ in range(25):
            parts.append(f"## {doc}. Document {doc}\n")
            for para in range(4):
                parts.append(f"{' '.join(words)}[^{doc}n{para}] [Page {page}] {' '.join(words)}\n")
                parts.append(f"[^{doc}n{para}]: {' '.join(words[:40])}\n")
                page += 1
            doc += 1
        files[f"{chapter:02d}.md"] = "\n".join(parts)
    last = files["09.md"] = files["09.md"].replace("[Page 990]", "[Page 989]")
    line = last[:last.rindex("[Page 989]")].count("\n") + 1
    folder = make_manuscript(tmp_path / "m", files)
    assert [(d.code, Path(d.path).name, d.line) for d in problems(folder)] == [
        ("P002", "09.md", line), ("P004", "09.md", line + 4)]  # and 991 follows 989


def test_a_merged_mapping_is_read_not_a_crash(tmp_path):
    # Found by the property test: YAML's merge key brings in keys that stand nowhere in the file.
    folder = make_manuscript(tmp_path / "m", {"01.md": "# One\n\nText.\n"}, extra="<<: {a: b}\n")
    meta, diags = load_metadata(folder)
    assert [d.code for d in diags] == ["M005"] and meta.chapters == ["01.md"]


@pytest.mark.parametrize("number", ["١٢", "²", "9" * 5000])
def test_a_heading_whose_number_is_not_ascii_or_huge_is_no_document(number, tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": f"# Chapter\n\n## {number}. Memorandum\n\nText.\n"})
    result = check(folder)
    assert [s.number for c in result.book.chapters for s in c.sections] == [""]


def test_an_escaped_comment_opening_is_text(tmp_path):
    # "\<!--" is the text "<!--" to pandoc: what follows is checked, and the note after it is defined.
    folder = make_manuscript(tmp_path / "m", {"01.md": "# Ch\n\nA[^n].\n\nText \\<!-- x\n\n[^n]: Note.\n"})
    result = check(folder)
    assert not result.warnings
    assert [b.text_content() for c in result.book.chapters for n in c.notes.values() for b in n.blocks] == ["Note."]
