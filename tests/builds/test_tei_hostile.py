"""Hostile TEI: attribute values, numbers, entities and mutated volumes never make structure or a traceback;
--force replaces only what an import wrote, all at once."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from publish.book.errors import EXIT_REFUSED, ManuscriptError, OutputError, SourceError
from publish.book.numbers import whole
from publish.build import load
from publish.cli import main
from publish.tei.importer import MANIFEST, import_tei

from conftest import TEI_DATA
from test_tei import FOOTER, HEADER, chapter_text, markdown, tiny

# Characters XML 1.0 allows; anything else cannot be in a TEI file at all.
XML_CHAR = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
xml_text = st.text(st.characters(blacklist_categories=("Cs",)).filter(XML_CHAR.fullmatch), max_size=6)
# What would make structure if written as it stands: line breaks (XML's and Unicode's), headings, fences,
# attribute blocks, quotes, comments, code, page markers, notes, and digits int() reads or refuses.
TOKENS = ["\n", "\r\n", "\n\n# Injected\n\n", "\n## 9. Injected\n", "\n:::\n", "::: {.x}", "```", "~~~", "{", "}",
          "{#x .y onclick=z}", '"', "'", "<!--", "-->", "#", "[Page 5]", "[^1]", "\\", "`", "&", "<", ">",
          "\u2028", "\u2029", "\x85", "²", "+3", "-", "*", "|", "pagebreak", "footnotes", "page-3", "d1-fn1", " "]
value = st.lists(st.one_of(st.sampled_from(TOKENS), xml_text), max_size=6).map("".join)
# The attributes every element below carries, each given an arbitrary value (and an xml:id).
ANY = ("type", "n", "rend", "facs", "role", "cols", "rows", "reason", "target")


def attrs(values: dict[str, str]) -> str:
    """Return XML attributes; line breaks and tabs as character references, which XML keeps."""
    refs = {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
    return "".join(f" {name}={quoteattr(v, refs)}" for name, v in values.items())


def hostile_volume(v: dict[str, dict[str, str]]) -> str:
    """A chapter of two documents, a page break, a footnote, a list, a table, a gap and a ref, every
    element carrying arbitrary attribute values besides the ones that give its structure."""
    return (f'<div type="document"{attrs(v["doc"])}><head{attrs(v["head"])}>Memo</head>'
            f'<p{attrs(v["p"])}>Text<note{attrs(v["note"])}>A note.</note> more<gap{attrs(v["gap"])}/> and '
            f'<ref{attrs(v["ref"])}>link</ref>.</p><pb n="7"{attrs(v["pb"])}/>'
            f'<list{attrs(v["list"])}><item>One</item></list>'
            f'<table{attrs(v["table"])}><row{attrs(v["row"])}><cell{attrs(v["cell"])}>Cell</cell></row></table>'
            '</div><div type="document"><head>Second</head><p>Two.</p></div>')


ELEMENTS = ("doc", "head", "p", "note", "gap", "ref", "pb", "list", "table", "row", "cell")
# The attributes that decide an element's structure keep a fixed value: the rest are arbitrary.
FIXED = {"doc": {"type", "xml:id"}, "note": {"rend", "type"}, "pb": {"n"}}
# An xml:id must be a name given once (libxml2 refuses any other): names the build gives its own, or any.
TAKEN = {"frus9999", "pg_I", "pg_II", "preface", "ch1"}
ident = st.one_of(st.sampled_from(["page-3", "page-unnumbered-I", "d1-fn1", "pagebreak", "footnotes", "d1"]),
                  st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True).filter(lambda i: i not in TAKEN))
volumes = st.tuples(
    st.fixed_dictionaries({el: st.fixed_dictionaries({a: value for a in ANY if a not in FIXED.get(el, ())})
                           for el in ELEMENTS}),
    st.lists(ident, min_size=len(ELEMENTS), max_size=len(ELEMENTS), unique=True),
).map(lambda drawn: {el: {**values, "xml:id": i} if "xml:id" not in FIXED.get(el, ()) else values
                     for (el, values), i in zip(drawn[0].items(), drawn[1])})


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(volumes)
def test_an_attribute_value_never_makes_structure(values):
    """Whatever the attributes hold, the book has the TEI's chapters, documents, pages, notes and table."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            folder, warnings, book = tiny(Path(tmp), hostile_volume(values))
        except ManuscriptError as exc:  # a clean diagnostic would do, but none is expected: say which
            pytest.fail(f"the import does not check: {[str(d) for d in exc.diagnostics]}")
        assert [c.front for c in book.chapters] == [True, False]
        assert [s.title for s in book.chapters[1].sections][1:] == ["Second"]
        assert len(book.chapters[1].sections) == 2
        assert [pb.label for pb in book.page_breaks] == ["[I]", "II", "7"]
        assert sum(len(c.notes) for c in book.chapters) == 1
        body = book.chapters[1].body
        # A list of a type (participants, subject...) is set as its print sets it, without bullets.
        bullets = 0 if (values["list"].get("type") or "").strip() else 1
        assert len(body.xpath(".//table")) == 1 and len(body.xpath(".//li")) == bullets
        assert not body.xpath(".//h3|.//h4|.//h5|.//h6|.//pre|.//code|.//blockquote")
        # The words in order; the note's mark (its n, whatever it holds) is printed after "Text".
        assert re.search(r"Memo\b.*\bText.* more and link\. One Cell Second Two\.$", chapter_text(book))
        for el in body.iter():
            assert not [a for a in el.attrib if a.startswith("on")], el.attrib
        # Each division and span the importer writes has classes of plain names only.
        for cls in body.xpath(".//@class"):
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_. -]*", cls), cls


def test_a_line_break_in_an_attribute_is_a_space_in_the_text(tmp_path):
    folder, _, book = tiny(tmp_path, '<div type="document" xml:id="d1" n="4&#10;# Injected&#10;"><head>Memo</head>'
                                     '<list type="x&#10;:::&#10;# Injected"><item>One</item></list></div>')
    text = markdown(folder)
    assert "## 4 # Injected. Memo {#d1}" in text and not re.search(r"^(#+|:::+)\s*(\{[^}]*\})?\s*Injected", text, re.M)
    assert book.chapters[1].sections[0].title == "4 # Injected. Memo"


def test_a_caption_broken_into_lines_begins_no_block(tmp_path):
    folder, _, book = tiny(tmp_path, '<table><head>A<lb/># Injected<lb/>- item<lb/>&gt; quote</head>'
                                     '<row><cell>x</cell></row></table>')
    assert not re.search(r"^(#|-|>)", markdown(folder).split("<caption>")[1], re.M)
    assert book.chapters[1].body.xpath("string(.//caption)").split() == ["A", "#", "Injected", "-", "item", ">",
                                                                       "quote"]


def test_a_heading_ending_in_a_hash_keeps_it(tmp_path):
    folder, _, book = tiny(tmp_path, '<div type="document" xml:id="d1"><head>Memo on C#</head><p>x</p></div>')
    assert book.chapters[1].sections[0].title == "Memo on C#"


def test_a_division_named_by_an_id_of_other_letters_is_a_file_name_an_import_writes(tmp_path):
    """A division whose heading and id have no letters a file name of ours holds is named by its kind."""
    folder, _, book = tiny(tmp_path, '</div><div type="chapter" xml:id="\u65e5\u672c"><head>\u65e5\u672c</head>'
                                     '<p>Kept.</p>')
    assert book.meta.chapters == ["02-chapter-one.md", "03-div.md"] and "Kept." in chapter_text(book)
    assert (folder / MANIFEST).read_text(encoding="utf-8").count("03-div.md") == 1


def test_a_file_name_with_a_line_break_makes_no_key(tmp_path):
    source = tmp_path / "v\nchapters: [x.md]\n\u2028id: evil.xml"
    source.write_text(HEADER + "<p>Text.</p>" + FOOTER, encoding="utf-8")
    import_tei(source, tmp_path / "m")
    book, _ = load(tmp_path / "m")
    assert book.meta.id == "frus9999v01" and book.meta.chapters == ["02-chapter-one.md"]


def test_control_characters_in_the_header_stay_out_of_book_yaml(tmp_path):
    """XML 1.0 allows C1 controls (U+0080-U+009F), which book.yaml refuses: the titles are read without them."""
    header = HEADER.replace("<title type=\"volume\">Test Volume", "<title type=\"volume\">Test&#x9b;2J&#x85;Volume")
    folder, _, book = tiny(tmp_path, "<p>Text.</p>", header=header)
    assert book.meta.volume_title == "Test2J Volume"


def test_a_warning_quoting_an_attribute_is_one_line(tmp_path, capsys):
    source = tmp_path / "v.xml"
    source.write_text(HEADER + '<p><hi rend="x&#10;v.xml:1: E999 forged&#x9b;">a</hi></p>' + FOOTER, encoding="utf-8")
    assert main(["import-tei", str(source), str(tmp_path / "m")]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and re.fullmatch(rf"{re.escape(str(source))}:\d+: I002 hi rend='x v\.xml:1: E999 "
                                            "forged\ufffd' is not known: its text is kept plain", lines[0]), lines


def test_text_inside_an_empty_element_is_warned_of(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<p>Kept<lb>lost one</lb> and <pb n="7">lost two</pb> kept<gap>x</gap>.'
                                            '<space/><lb/></p>')
    assert [(w.code, w.message[:8]) for w in warnings] == [("I012", "<lb> hol"), ("I012", "<pb> hol"),
                                                           ("I012", "<gap> ho")]
    assert "Kept and kept." in chapter_text(book)


# ---- numbers ----

@pytest.mark.parametrize("text, number", [("12", 12), (" 7 ", 7), ("0", 0), ("1000", 1000), ("1001", None),
                                          ("+100000", None), ("-1", None), ("²", None), ("١٢", None), ("1.5", None),
                                          ("", None), ("0" * 5000 + "9", 9), ("9" * 5000, None), ("1 2", None)])
def test_a_number_is_ascii_digits_within_bounds(text, number):
    assert whole(text, 1000) == number


@pytest.mark.parametrize("span", ["²", "+100000", "100000", "١٢", "-2", "0", "", "2.0", "9" * 5000])
def test_a_span_that_is_no_number_in_bounds_is_one_cell_and_a_warning(tmp_path, span):
    folder, warnings, book = tiny(tmp_path, f'<table><row><cell cols="{span}" rows="{span}">a</cell><cell>b</cell>'
                                            '</row></table>')
    cell = book.chapters[1].body.xpath(".//td")[0]
    assert (cell.get("colspan"), cell.get("rowspan")) == (None, None)
    assert [w.code for w in warnings] == ["I010", "I010"] and f"'{span[:20]}" in warnings[0].message


def test_a_span_in_bounds_is_kept(tmp_path):
    folder, warnings, book = tiny(tmp_path, '<table><row><cell cols=" 2 ">a</cell></row><row><cell>b</cell>'
                                            '<cell>c</cell></row></table>')
    assert book.chapters[1].body.xpath(".//td")[0].get("colspan") == "2" and not warnings


@pytest.mark.parametrize("label", ["²", "١٢", "+5", "9" * 5000, "[" + "9" * 5000 + "]"])
def test_a_page_label_no_page_can_have_is_left_out_with_a_warning(tmp_path, label):
    """A label isdigit() accepts and int() refuses, or beyond any printed page, is no marker (and no start page)."""
    body = f'<div type="document" xml:id="d1"><head>Memo</head><p>Before <pb n="{label}"/>after.</p></div>'
    header = HEADER.replace('<pb n="[I]" xml:id="pg_I"/><pb n="II" xml:id="pg_II"/>', "")
    folder, warnings, book = tiny(tmp_path, body, header=header)
    assert [w.code for w in warnings] == ["I007"] and not book.page_breaks
    assert book.meta.start_page in ("", None)


# ---- entities ----

def write(tmp_path: Path, doctype: str, body: str) -> Path:
    source = tmp_path / "v.xml"
    source.write_text(HEADER.replace("<TEI ", doctype + "\n<TEI ", 1) + body + FOOTER, encoding="utf-8")
    return source


def test_entities_declared_in_the_file_are_expanded(tmp_path):
    doctype = ('<!DOCTYPE TEI [<!ENTITY sec "Secretary of State"> <!ENTITY amp2 "A &amp; B">'
               '<!ENTITY both "&sec; and <hi rend=\'italic\'>&amp2;</hi>">]>')
    source = write(tmp_path, doctype, "<p>The &sec; wrote; &both;.</p>")
    result = import_tei(source, tmp_path / "m")
    book, _ = load(tmp_path / "m")
    assert "The Secretary of State wrote; Secretary of State and A & B." in chapter_text(book)
    assert "*A & B*" in markdown(tmp_path / "m") and not result.warnings


def test_an_external_entity_is_not_read_and_is_warned_of(tmp_path):
    (tmp_path / "secret.txt").write_text("SECRET-words", encoding="utf-8")
    (tmp_path / "p.dtd").write_text('<!ENTITY leak "SECRET-leak">', encoding="utf-8")
    doctype = ('<!DOCTYPE TEI [<!ENTITY ext SYSTEM "secret.txt"> <!ENTITY web SYSTEM "http://127.0.0.1:9/x">'
               '<!ENTITY inner "in &ext; side">]>')
    source = write(tmp_path, doctype, "<p>One &ext; two\n&web; three &inner; four.</p>")
    result = import_tei(source, tmp_path / "m")
    assert "SECRET" not in markdown(tmp_path / "m")
    assert "One two three in side four." in chapter_text(load(tmp_path / "m")[0])
    line = HEADER.count("\n") + 2
    assert sorted((w.code, w.line) for w in result.warnings) == [("I011", line), ("I011", line + 1)]
    assert all(str(w).startswith(f"{source}:") and "not read" in w.message for w in result.warnings)


@pytest.mark.parametrize("doctype", ['<!DOCTYPE TEI [<!ENTITY % p SYSTEM "p.dtd"> %p;]>',
                                     '<!DOCTYPE TEI SYSTEM "p.dtd">'])
def test_an_entity_declared_in_a_dtd_outside_is_not_read_and_is_an_error(tmp_path, doctype):
    (tmp_path / "p.dtd").write_text('<!ENTITY leak "SECRET-leak">', encoding="utf-8")
    source = write(tmp_path, doctype, "<p>One &leak; two.</p>")
    with pytest.raises(SourceError, match=r"v\.xml:\d+: entity &leak; is declared nowhere in the file"):
        import_tei(source, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_an_entity_expanding_a_thousandfold_is_refused(tmp_path):
    levels = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 9))
    source = write(tmp_path, f'<!DOCTYPE TEI [<!ENTITY e0 "laugh">{levels}]>', "<p>&e8;</p>")
    with pytest.raises(SourceError, match=r"v\.xml:\d+: not well-formed XML: .*amplification"):
        import_tei(source, tmp_path / "m")


# ---- mutated volumes ----

TEI_NS = "http://www.tei-c.org/ns/1.0"
# A volume with most of what the importer renders, the real document d270 among it.
BASE = (HEADER + (TEI_DATA / "frus1961-63v05_d270.xml").read_text(encoding="utf-8")
        + '<div type="document" xml:id="d271" n="271"><head>Memo<note n="1" xml:id="d271fn1">Source.</note></head>'
        '<note rend="inline" type="source">[Telegram.]</note><dateline>Washington, <date>May 1</date>.</dateline>'
        '<p>Text <ref target="#d270">No. 270</ref><lb/>on <hi rend="italic">page<pb n="590" xml:id="pg_590"/></hi>.</p>'
        '<list type="ordered"><label>1.</label><item>One</item><item><p>Two</p></item></list>'
        '<table><head>T</head><row role="label"><cell>A</cell><cell cols="2">B</cell></row>'
        '<row><cell role="num">1</cell><cell rows="2">2</cell><cell><p>3</p><p>4</p></cell></row></table>'
        '<quote><p>Quoted.</p></quote><figure><graphic url="x"/><p>Caption</p></figure>'
        '<frus:attachment><head>Enclosure</head><p>Att.</p><closer>Yours,<signed>Me</signed></closer>'
        '</frus:attachment></div>' + FOOTER)
INSERTS = ['<pb n="²"/>', '<pb n="+3"/>', '<pb n="5"/>', '<pb/>', '<cell cols="²">x</cell>', '<note n="1"/>',
           "<note/>", "<div/>", "<head/>", "<list/>", "<item/>", "<table/>", "<row/>", "<label/>", "<lb/>", "<hi/>",
           "<ref/>",
           '<div type="document" n="&#10;# x"><head/></div>', "<titlePage/>", "<front/>", "<body/>", "<back/>",
           "<text/>", "<p/>", "<quote/>", "<signed/>", '<hi rend="superscript"> </hi>', "<gap/>", "<space/>",
           '<note rend="inline" n="a"><p>n</p></note>', "<cell/>", "<docTitle><titlePart>T</titlePart></docTitle>"]
STRUCTURE = ["drop", "move", "insert", "attribute"]


def operations(kinds: list[str]):
    return st.tuples(st.sampled_from(kinds), st.integers(0, 10**4), st.integers(0, 10**4), st.sampled_from(INSERTS),
                     st.sampled_from(ANY), value)


def mutated(changes) -> bytes:
    """Return BASE with elements dropped, moved into others, inserted, given hostile attribute values or text."""
    root = etree.fromstring(BASE.encode())
    for op, a, b, insert, name, text in changes:
        els = [el for el in root.iter() if isinstance(el.tag, str)]
        el, other = els[a % len(els)], els[b % len(els)]
        if op == "drop" and el is not root:
            el.getparent().remove(el)
        elif op == "move" and el is not root and el is not other and el not in other.iterancestors():
            other.append(el)
        elif op == "insert":
            new = etree.fromstring(f'<x xmlns="{TEI_NS}">{insert}</x>')[0]
            other.insert(a % (len(other) + 1), new)
        elif op == "attribute":
            el.set(name, "".join(c for c in text if XML_CHAR.fullmatch(c)))
        elif op == "text" and b % 2:
            el.text = (el.text or "") + "".join(c for c in text if XML_CHAR.fullmatch(c))
        elif op == "text" and el is not root:
            el.tail = (el.tail or "") + "".join(c for c in text if XML_CHAR.fullmatch(c))
    return etree.tostring(root.getroottree(), encoding="utf-8")


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations([*STRUCTURE, "text"]), min_size=1, max_size=6))
def test_a_mutated_volume_imports_or_is_one_clear_message(changes):
    """Drop, move, insert elements, set attributes and add text at random: the import succeeds or names file
    and line."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "v.xml"
        source.write_bytes(mutated(changes))
        try:
            result = import_tei(source, Path(tmp) / "m")
        except SourceError as exc:
            event("refused")
            assert re.match(rf"{re.escape(str(source))}(:\d+)?: ", str(exc)), str(exc)
            return
        event("imported")
        assert result.files and all(p.exists() for p in result.files)


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations(STRUCTURE), min_size=1, max_size=6))
def test_a_mutated_volume_that_imports_checks(changes):
    """What imports is a manuscript that checks, but for page breaks a mutation moved out of order."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "v.xml"
        source.write_bytes(mutated(changes))
        try:
            import_tei(source, Path(tmp) / "m")
        except SourceError:
            return
        try:
            load(Path(tmp) / "m")
        except ManuscriptError as exc:
            assert {d.code for d in exc.diagnostics if d.is_error} <= {"P002", "P003"}, exc.diagnostics


# ---- --force ----

def imported_once(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "v.xml"
    source.write_text(HEADER + '<div type="document" xml:id="d1"><head>Memo</head><p>Old.</p></div>' + FOOTER,
                      encoding="utf-8")
    folder = tmp_path / "m"
    import_tei(source, folder)
    source.write_text(source.read_text(encoding="utf-8").replace("Old.", "New."), encoding="utf-8")
    return source, folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_force_replaces_an_untouched_import_and_keeps_the_rest(tmp_path):
    source, folder = imported_once(tmp_path)
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (folder / "01-preface.md").unlink()  # an imported file the author deleted is no loss
    assert main(["import-tei", str(source), str(folder), "--force"]) == 0
    assert "New." in markdown(folder) and "Old." not in markdown(folder)
    assert (folder / "notes.txt").exists() and (folder / ".git" / "HEAD").exists()
    assert sorted(p.name for p in folder.iterdir()) == [".git", MANIFEST, "01-preface.md", "02-chapter-one.md",
                                                        "book.yaml", "notes.txt"]
    # The manifest is sha256sum's own format: the files are as it says.
    for line in (folder / MANIFEST).read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("change", ["edit chapter", "edit book.yaml", "add listed chapter", "no manifest",
                                    "file in the way", "chapter made a link"])
def test_force_refuses_to_replace_hand_work_and_names_it(tmp_path, capsys, change):
    source, folder = imported_once(tmp_path)
    chapter, book = folder / "02-chapter-one.md", folder / "book.yaml"
    if change == "edit chapter":
        chapter.write_text(chapter.read_text(encoding="utf-8") + "\nMy own words.\n", encoding="utf-8")
        named = ["02-chapter-one.md"]
    elif change == "edit book.yaml":
        book.write_text(book.read_text(encoding="utf-8").replace("Test Volume", "My Title"), encoding="utf-8")
        named = ["book.yaml"]
    elif change == "add listed chapter":
        (folder / "03-mine.md").write_text("# Mine\n", encoding="utf-8")
        book.write_text(book.read_text(encoding="utf-8") + "- 03-mine.md\n", encoding="utf-8")
        named = ["03-mine.md", "book.yaml"]
    elif change == "no manifest":  # imported before there were manifests, or written by hand
        (folder / MANIFEST).unlink()
        named = ["01-preface.md", "02-chapter-one.md", "book.yaml"]
    elif change == "file in the way":  # the new import would write a file the earlier one did not
        (folder / "01-preface.md").rename(folder / "keep.txt")
        (folder / MANIFEST).write_text("".join(line + "\n" for line in (folder / MANIFEST).read_text(
            encoding="utf-8").splitlines() if "01-preface" not in line), encoding="utf-8")
        (folder / "01-preface.md").write_text("# Mine\n", encoding="utf-8")
        named = ["01-preface.md"]
    else:
        (tmp_path / "elsewhere.md").write_bytes(chapter.read_bytes())
        chapter.unlink()
        chapter.symlink_to(tmp_path / "elsewhere.md")
        named = ["02-chapter-one.md"]
    before = snapshot(folder)
    assert main(["import-tei", str(source), str(folder), "--force"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert f"these are not (written or edited by hand, or listed in book.yaml): {', '.join(named)}." in err, err
    assert "Move them out of the folder, or import into a new folder" in err
    assert snapshot(folder) == before and not list(folder.glob(".import-*.part"))


@pytest.mark.parametrize("failing", [1, 2, 3, 5])
def test_an_import_failing_midway_leaves_the_old_manuscript(tmp_path, monkeypatch, failing):
    """A failure while writing or moving the new files (the nth move) leaves every old file as it was."""
    source, folder = imported_once(tmp_path)
    before = snapshot(folder)
    calls = {"n": 0}
    real = os.replace

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == failing:
            raise OSError(28, "No space left on device")
        return real(src, dst)
    monkeypatch.setattr("publish.tei.importer.os.replace", flaky)
    with pytest.raises(OutputError, match="No space left on device; nothing in it was changed"):
        import_tei(source, folder, force=True)
    assert snapshot(folder) == before and sorted(p.name for p in folder.iterdir()) == sorted(
        {Path(n).parts[0] for n in before})


def test_an_interrupt_while_writing_leaves_the_old_manuscript(tmp_path, monkeypatch):
    source, folder = imported_once(tmp_path)
    before = snapshot(folder)
    real = Path.write_bytes

    def interrupted(self, data):
        if self.name == "book.yaml":
            raise KeyboardInterrupt
        return real(self, data)
    monkeypatch.setattr(Path, "write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_tei(source, folder, force=True)
    assert snapshot(folder) == before and sorted(p.name for p in folder.iterdir()) == sorted(
        {Path(n).parts[0] for n in before})


@pytest.mark.parametrize("kind", ["pagebreak", "footnote", "pn", "chapter", "Footnotes"])
def test_a_type_naming_the_builds_own_markup_is_not_written(tmp_path, kind):
    """A TEI type that is a class the build gives page breaks or notes is dropped, and the volume builds."""
    folder, _, book = tiny(tmp_path, f'<div type="document" xml:id="d1" n="1"><head>Memo</head>'
                                     f'<note type="{kind}">By the President:</note><p>Text.</p></div>')
    assert "By the President:" in chapter_text(book)
    assert not re.search(rf"(?m)^:::+ *{kind}\b|\.{kind}\b", markdown(folder), re.I)


@pytest.mark.parametrize("reason", [" illegible", "illegible ", "  ", "two\n words"])
def test_a_value_with_spaces_around_it_is_kept_as_its_words(tmp_path, reason):
    """Pandoc reads no attribute value that begins with a space: the text after an omission stays text."""
    _, _, book = tiny(tmp_path, f'<div type="document" xml:id="d1" n="1"><head>Memo</head>'
                                f'<p>Before<gap reason="{reason}"/> after.</p></div>')
    assert "Before after." in chapter_text(book)
    gaps = book.chapters[1].body.xpath('.//span[@class="gap"]')
    assert len(gaps) == 1 and gaps[0].get("data-reason") == (" ".join(reason.split()) or None)
