"""Property: hostile manuscripts, SVGs and TEI never give a traceback, a hang or an escape.

Each example is built from pieces known to have broken builds (raw HTML that loads or runs, ids of the
generated form, markers with invisible characters, SVGs that reach out, images that are not images),
mutated at random. Every run must end in a clean error or in outputs that hold nothing of a file
outside the manuscript and nothing that runs.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import pikepdf
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from publish.book.errors import PublishError
from publish.build import build
from publish.tei.importer import import_tei

from conftest import PNG, make_manuscript

SECRET = "SECRET-7f3a9c"  # in a file beside the manuscript: no output may hold it
ACTIVE = re.compile(rb"javascript:|<script|\son[a-z]+\s*=|/JavaScript|/JS\b|/Launch|/EmbeddedFile", re.I)

HTML = ['<img src="img.png">', '<img src="img.png?/../../secret.txt">', '<img src="img.png#/../secret.txt">',
        '<img src="../secret.txt">', '<img src="link.png">', '<img src="fig.svg">', '<img src="bad.png">',
        '<video src="img.png" poster="img.png"></video>', '<a href=" JaVa\tScript:alert(1)">x</a>',
        '<a xlink:href="javascript:alert(1)">x</a>', '<span data="img.png">x</span>', '<a href="http://[">x</a>',
        '<svg><set attributeName="href" to="javascript:x"/></svg>', '<div background="img.png">x</div>',
        "[x]{#page-2}", "[y]{#d1-fn1}", "[Pa\u200dge 3]", "[Page 2]", "![m](img.png)", "![s](fig.svg)",
        "[^1]", "\n\n[^1]: ![n](img.png)\n\n", "<b onclick=x>", "> > > >", ":::", "{#d1}", "\x00", "`code`",
        "<plaintext>", "<table><p>x</p><tr><td>y</td></tr></table>", "<o:p>x</o:p>", "<svg:rect/>",
        '<span class="footnote">f</span>', "[n]{.pn}", "[m]{n=2}", "<!-- a -- b -->", "<!--", "-->",
        '<table><tr><td colspan="+100000">x</td></tr></table>', '<a rel="attachment" href="img.png">a</a>']
SVG_PIECES = ['<rect width="4" height="4"/>', '<use href="#a"/>', '<g id="a"><use href="#b"/></g>',
              '<g id="b"><rect width="1" height="1"/></g>', '<image href="../secret.txt"/>',
              '<image href="file:///etc/passwd"/>', '<script>alert(1)</script>', '<a href="javascript:x">l</a>',
              '<style>@import url(../secret.txt);</style>', '<set attributeName="onclick" to="x"/>',
              '<foreignObject><p>x</p></foreignObject>', '<text>words</text>']
TEI_PIECES = ['<ref target="javascript:alert(1)">a</ref>', '<ref target="https://example.org/">b</ref>',
              '<ref target="#d1">c</ref>', '<gap reason=\'x" onclick="y\'/>', '<pb n="2"/>', '<pb n="2 x"/>',
              '<note n="1">A note.</note>', '<hi rend="italic">i</hi>',
              '<ref target="https://history.state.gov/a">d</ref>',
              '<note type=\'x {onclick=y}\' rend="inline"><p>n</p></note>', '<list><item>x</item></list>',
              '<table><row><cell rows="99999" cols="x" role=\'num" onclick="y\'>&lt;/td&gt;&lt;/table&gt;'
              '<table><row><cell>|</cell></row></table></cell></row></table>']

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
piece = st.one_of(st.sampled_from(HTML), text)


def svg_of(pieces: list[str]) -> bytes:
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' + "".join(pieces)
            + "</svg>").encode()


def manuscript(root: Path, pieces: list[str], svg: bytes) -> Path:
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    body = "# Chapter\n\n## 1. Document {#d1 page=1}\n\n" + " ".join(pieces) + "\n"
    folder = make_manuscript(root / "m", {"01.md": body})
    (folder / "img.png").write_bytes(PNG)
    (folder / "bad.png").write_bytes(SECRET.encode() * 10)
    (folder / "fig.svg").write_bytes(svg)
    (folder / "link.png").symlink_to(root / "secret.txt")
    return folder


def assert_clean(path: Path) -> None:
    """The output holds nothing read from outside the manuscript and nothing that runs."""
    if path.suffix == ".epub":
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                assert not name.startswith("/") and ".." not in name, name
                data = z.read(name)
                if name.endswith((".xhtml", ".opf", ".ncx")):
                    tree = etree.fromstring(data)  # well-formed XML, whatever the manuscript held
                assert SECRET.encode() not in data, name
                if name.endswith(".xhtml"):
                    # What runs is an element or an attribute: "javascript:" in text (a code span) is words.
                    for element in tree.iter(etree.Element):
                        assert etree.QName(element).localname not in ("script", "iframe", "object", "embed"), name
                        for key, value in element.attrib.items():
                            assert not etree.QName(key).localname.lower().startswith("on"), (name, key)
                            assert not ACTIVE.search(value.encode()), (name, key, value)
                else:
                    assert not ACTIVE.search(data), (name, ACTIVE.search(data))
    else:
        with pikepdf.open(path) as pdf:
            assert "/Names" not in pdf.Root or "/JavaScript" not in pdf.Root.Names
            assert "/OpenAction" not in pdf.Root
            for page in pdf.pages:
                for annot in page.get("/Annots", []):
                    action = annot.get("/A")
                    assert action is None or action.get("/S") in ("/URI", "/GoTo", None), action
        assert SECRET.encode() not in path.read_bytes()


def run(pieces: list[str], svg_pieces: list[str], formats: tuple[str, ...]) -> None:
    root = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        folder = manuscript(root, pieces, svg_of(svg_pieces))
        try:
            result = build(folder, root / "out", formats=formats)
        except PublishError as exc:
            event(f"refused: {type(exc).__name__}")
            assert not list((root / "out").glob("*.part")) if (root / "out").exists() else True
            return
        event("built")
        for path in result.outputs.values():
            assert_clean(path)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(piece, max_size=8), st.lists(st.sampled_from(SVG_PIECES), max_size=4))
@example(['<img src="img.png?/../../secret.txt">'], [])
@example(["![m](img.png)", "[^1]", "\n\n[^1]: ![n](img.png)\n\n"], [])
@example(['<img src="fig.svg">'], ['<image href="../secret.txt"/>'])
@example(['<a class="noteref" href="#x">1</a>'], [])
@example(["`", '<a xlink:href="javascript:alert(1)">x</a>', "`"], [])  # shown as code: words, not a link
def test_hostile_manuscripts_give_clean_errors_or_clean_epubs(pieces, svg_pieces):
    run(pieces, svg_pieces, ("epub",))


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(HTML), max_size=4), st.lists(st.sampled_from(SVG_PIECES[:4] + SVG_PIECES[-1:]),
                                                              max_size=3))
def test_hostile_manuscripts_give_clean_errors_or_clean_pdfs(pieces, svg_pieces):
    run(pieces, svg_pieces, ("pdf",))


TEI = """<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt><title type="volume">V</title>
</titleStmt><publicationStmt><idno type="frus">{ident}</idno></publicationStmt></fileDesc></teiHeader>
<text><body><div type="chapter" xml:id="ch1"><head>Chapter</head><pb n="1"/>
<div type="document" xml:id="d1" n="1"><head>Doc</head><p>{body}</p></div></div></body></text></TEI>
"""


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.sampled_from(TEI_PIECES), text), max_size=6),
       st.sampled_from(["frus1", "x/../../y", "a\nb", "", "..", "ok"]))
@example([TEI_PIECES[0], TEI_PIECES[1], TEI_PIECES[3], TEI_PIECES[9]], "ok")
def test_hostile_tei_imports_cleanly(pieces, ident):
    root = Path(tempfile.mkdtemp(prefix="hostile-tei-"))
    try:
        body = "".join(p if p.startswith("<") else p.replace("&", "&amp;").replace("<", "&lt;") for p in pieces)
        source = root / "v.xml"
        source.write_text(TEI.format(ident=ident, body=body), encoding="utf-8", errors="replace")
        try:
            import_tei(source, root / "m")
        except PublishError:
            event("import refused")
            return
        assert sorted(p.name for p in root.iterdir()) == ["m", "v.xml"]
        for md in (root / "m").iterdir():
            assert not ACTIVE.search(md.read_bytes()), md.read_text(encoding="utf-8")
            # Links only to the volume's anchors and to history.state.gov.
            assert not re.search(r"\]\((?!#|https://history\.state\.gov/)", md.read_text(encoding="utf-8"))
        try:
            result = build(root / "m", root / "out", formats=("epub",))
        except PublishError as exc:
            event(f"imported, build refused: {str(exc)[:60]}")
            return
        event("imported and built")
        assert_clean(result.outputs["epub"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
