"""The scanned page one click away; names and abbreviations linked to their entries in the volume's lists."""
from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from lxml import etree
from PIL import Image, ImageChops

from publish.book.errors import ManuscriptError
from publish.build import build, check
from publish.tei.importer import import_tei
from publish.tei.text import FIRST_USE

from conftest import TEI_DATA, make_manuscript
from readers import NS, Ebook, PrintedBook, assert_accessible_and_archival, named_destinations, structure_elements
from test_tei import assert_epubcheck, margin_numbers, tei_label

SCANS = "https://static.history.state.gov/frus/frus1961-63v05/medium/{facs}.png"
PAGES = """\
# One

[Page 1]{facs=0011} The first page begins here and runs on for a while, long enough to wrap round to a second
line. [Page 2]{facs=0012} The second page begins within the paragraph. [Page 3] The third page has no scan.[^1]

[^1]: A note [Page 4]{facs=0014} on which the fourth page begins.

## 5. A document {#d5 page=5}

Its page is set on its heading, which names no scan.
"""
SCANNED = {"1": "0011", "2": "0012", "4": "0014"}  # label -> facs, as the manuscript gives them


def rectangle(annotation) -> tuple[float, float, float, float]:
    """Return an annotation's rectangle as left, bottom, right, top (PDF allows either corner first)."""
    x0, y0, x1, y1 = (float(v) for v in annotation.Rect)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def scan_links(path: Path, template: str = SCANS) -> list[tuple[int, str, tuple[float, float, float, float]]]:
    """Return every link of the PDF to a scanned page by template as (page, address, rectangle)."""
    with pikepdf.open(path) as pdf:
        return [(i, str(a.A.URI), rectangle(a)) for i, page in enumerate(pdf.pages)
                for a in page.obj.get("/Annots", []) if a.Subtype == "/Link" and "/A" in a and "/URI" in a.A
                and str(a.A.URI).startswith(template.split("{facs}")[0])]


def linked_numbers(path: Path, book) -> dict[str, str]:
    """Map each margin number printed to the address its link goes to ('' where it has none)."""
    printed = PrintedBook(path, book)
    links = scan_links(path, "https://")
    found = {}
    for page, label in margin_numbers(printed):
        word = next(w for w in printed.in_zone("margin", page) if w.text == label)
        x, y = (word.x0 + word.x1) / 2, printed.sizes[page][1] - (word.top + word.bottom) / 2
        over = [uri for p, uri, (x0, y0, x1, y1) in links if p == page and x0 <= x <= x1 and y0 <= y <= y1]
        assert len(over) <= 1, (label, over)
        found[label] = over[0] if over else ""
    return found


def marker_links(epub: Ebook) -> dict[str, str]:
    """Map each page-list entry to the address of the link its marker is the content of ('' where none)."""
    found = {}
    for name, href in epub.page_list():
        marker = epub.target(href)
        assert marker.get(f"{{{NS['epub']}}}type") == "pagebreak"  # the page list still goes to the marker
        link = marker.xpath("ancestor::x:a", namespaces=NS)
        assert not link or link[0].get("class") == "facsimile"
        found[name] = link[0].get("href") if link else ""
    return found


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scanned")
    folder = make_manuscript(tmp / "ms", {"one.md": PAGES}, f"facsimile_url: {SCANS}\n")
    return build(folder, tmp / "out")


def test_each_margin_number_links_to_its_scanned_page_and_no_other(scanned):
    links = linked_numbers(scanned.outputs["pdf"], scanned.book)
    assert links == {label: SCANS.format(facs=SCANNED[label]) if label in SCANNED else "" for label in "12345"}
    assert len(scan_links(scanned.outputs["pdf"])) == len(SCANNED)


def test_a_scan_link_is_tagged_as_a_link_saying_where_it_goes(scanned):
    with pikepdf.open(scanned.outputs["pdf"]) as pdf:
        nums = pdf.Root.StructTreeRoot.ParentTree.Nums
        owners = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        in_tree = {e.objgen for e in structure_elements(pdf)}
        scans = {SCANS.format(facs=facs): label for label, facs in SCANNED.items()}
        annotations = [a for page in pdf.pages for a in page.obj.get("/Annots", []) if "/A" in a and "/URI" in a.A]
        assert sorted(str(a.A.URI) for a in annotations) == sorted(scans)
        for annotation in annotations:
            owner = owners[int(annotation.StructParent)]
            assert owner.S == "/Link" and owner.objgen in in_tree
            assert [k.Obj.objgen for k in owner.K] == [annotation.objgen]
            assert str(owner.Alt) == str(annotation.Contents) == f"scanned image of page {scans[str(annotation.A.URI)]}"
            # Beside its page break, not in it: the break's /Alt ("page 1") would hide it from assistive technology.
            assert "/Alt" not in owner.P
    assert_accessible_and_archival(scanned.outputs["pdf"])


def test_a_number_moved_to_the_next_page_keeps_its_link_beside_its_break(tmp_path):
    # A break before every third word: some fall at the end of a page's last line, and their numbers are
    # drawn on the next page's first line, outside the paragraph (layout.py).
    words = [f"w{i:04d}" for i in range(900)]
    text = " ".join(f"[Page {i // 3 + 2}]{{facs=f{i // 3 + 2}}}{w}" if i % 3 == 0 else w for i, w in enumerate(words))
    folder = make_manuscript(tmp_path / "m", {"01.md": f"# One\n\n[Page 1]{{facs=f1}} {text}.\n"},
                             extra=f"facsimile_url: {SCANS}\n")
    result = build(folder, tmp_path / "out", ("pdf",))
    with pikepdf.open(result.outputs["pdf"]) as pdf:
        pages = {page.objgen: i for i, page in enumerate(pdf.pages)}
        elements = list(structure_elements(pdf))
        breaks = {str(e.Alt): e for e in elements if e.S == "/Span" and "/Alt" in e}
        links = [e for e in elements if e.S == "/Link" and str(e.get("/Alt", "")).startswith("scanned image of ")]
        assert len(links) == len(breaks) == 301
        moved = 0
        for link in links:
            page_break = breaks[str(link.Alt).removeprefix("scanned image of ")]
            # Just after its break, in the paragraph: never at the top of the tree, between sections.
            siblings = list(link.P.K)
            at = next(i for i, kid in enumerate(siblings) if isinstance(kid, pikepdf.Dictionary)
                      and kid.objgen == link.objgen)
            assert at > 0 and siblings[at - 1].objgen == page_break.objgen
            moved += pages[link.Pg.objgen] != pages[page_break.Pg.objgen]
        assert moved, "no number was moved to the next page: the case is not exercised"
        document = pdf.Root.StructTreeRoot.K[0] if isinstance(pdf.Root.StructTreeRoot.K, pikepdf.Array) \
            else pdf.Root.StructTreeRoot.K
        assert "/Link" not in [str(k.S) for k in document.K]
    assert_accessible_and_archival(result.outputs["pdf"])


def test_each_page_marker_links_to_its_scanned_page_and_no_other(scanned):
    epub = Ebook(scanned.outputs["epub"])
    assert marker_links(epub) == {label: SCANS.format(facs=SCANNED[label]) if label in SCANNED else ""
                                  for label in "12345"}
    for doc in epub.content_documents():
        for link in epub.xhtml(doc).xpath("//x:a[@class='facsimile']", namespaces=NS):
            name = link.xpath("x:span/@aria-label", namespaces=NS)[0]
            assert link.get("aria-label") == f"Scanned image of page {name}"
    assert_epubcheck(scanned.outputs["epub"])


def test_without_an_address_no_page_links_and_the_margin_looks_the_same(scanned, tmp_path):
    # The same pages and scans, but book.yaml says nowhere they are shown: nothing links.
    folder = make_manuscript(tmp_path / "ms", {"one.md": PAGES})
    plain = build(folder, tmp_path / "out")
    assert scan_links(plain.outputs["pdf"], "https://") == []
    assert set(marker_links(Ebook(plain.outputs["epub"])).values()) == {""}
    # A link neither colours nor boxes the number it lies on: every page looks as it does without one.
    pictures = []
    for result, name in ((scanned, "linked"), (plain, "plain")):
        subprocess.run(["pdftoppm", "-png", "-r", "70", result.outputs["pdf"], tmp_path / name], check=True)
        pictures.append(sorted(tmp_path.glob(f"{name}-*.png")))
    assert len(pictures[0]) == len(pictures[1])
    for linked, unlinked in zip(*pictures):
        with Image.open(linked) as a, Image.open(unlinked) as b:
            assert ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None, linked.name


@pytest.mark.parametrize("marker, shown", [("[Page 2]{facs=../x}", "../x"), ("[Page 2]{facs=a b}", "a b"),
                                           ('[Page 2]{facs="0012"}', '"0012"'), ("[Page 2]{facs=}", "")])
def test_a_scan_name_that_is_no_plain_name_is_refused(tmp_path, marker, shown):
    folder = make_manuscript(tmp_path / "ms", {"one.md": f"# One\n\n[Page 1] Text.\n\nMore {marker} text.\n"})
    with pytest.raises(ManuscriptError) as caught:
        check(folder)
    [diag] = [d for d in caught.value.diagnostics if d.code == "P006"]
    assert (diag.line, diag.column) == (5, len("More [Page 2]{facs=") + 1)
    assert f"'{shown}' cannot name a page's scanned image" in diag.message


def test_a_mistyped_marker_naming_its_scan_is_a_malformed_marker(tmp_path):
    folder = make_manuscript(tmp_path / "ms", {"one.md": "# One\n\n[Page 1] Text [Page 2 ]{facs=0012} more.\n"})
    with pytest.raises(ManuscriptError) as caught:
        check(folder)
    assert [(d.code, d.column) for d in caught.value.diagnostics] == [("P001", len("[Page 1] Text ") + 1)]


@pytest.mark.parametrize("address", ["http://static.history.state.gov/frus/v/medium/{facs}.png",
                                     "https://static.history.state.gov/frus/v/medium/0011.png",
                                     "https://x/{facs}/{facs}.png", 'https://x/{facs}"><script>', "{facs}"])
def test_an_address_not_https_or_without_its_one_slot_is_refused(tmp_path, address):
    folder = make_manuscript(tmp_path / "ms", {"one.md": PAGES}, f"facsimile_url: '{address}'\n")
    with pytest.raises(ManuscriptError) as caught:
        check(folder)
    assert [d.code for d in caught.value.diagnostics] == ["M006"]
    assert "facsimile_url" in caught.value.diagnostics[0].message


def test_a_marker_without_a_scan_is_the_marker_it_always_was(tmp_path):
    folder = make_manuscript(tmp_path / "ms", {"one.md": "# One\n\n[Page 1] Text [Page 2]{facs=0012} and "
                                                         "[Page 3]{.smallcaps} and [Page 4](#page-1).\n"})
    book = check(folder).book
    assert [(pb.label, pb.facs) for pb in book.page_breaks] == [("1", ""), ("2", "0012")]
    assert "Page 3" in book.chapters[0].body.text_content()  # a span's text, and a link's, as before


# ---- a TEI volume: its pages' facs, its lists of persons and of terms ----

VOLUME = """<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0" xmlns:frus="http://history.state.gov/frus/ns/1.0" xml:id="frus1961-63v05">
    <teiHeader><fileDesc><titleStmt>
        <title type="complete">Foreign Relations of the United States, 1961–1963, Volume V, Soviet Union</title>
        <title type="series">Foreign Relations of the United States</title>
        <title type="sub-series">1961–1963</title><title type="volume-number">Volume V</title>
        <title type="volume">Soviet Union</title>
    </titleStmt><publicationStmt><publisher>United States Government Printing Office</publisher>
        <pubPlace>Washington</pubPlace><date>1998</date><idno type="frus">frus1961-63v05</idno>
    </publicationStmt><sourceDesc><p>Released in 1998 as printed book</p></sourceDesc></fileDesc></teiHeader>
    <text>
        <front>
            <pb n="III" xml:id="pg_III" facs="0003"/>
            <div type="section" xml:id="preface">
                <head>Preface</head>
                <p>The rivalry was central to the foreign policy of President
                    <persName corresp="#p_KJF1">Kennedy</persName>
                    and to relations with the <gloss target="#t_USSR1">USSR</gloss>.</p>
            </div>
            <pb n="XXI" xml:id="pg_XXI" facs="0021"/>
            <div type="section" xml:id="terms">
                <head>Abbreviations</head>
                <list type="terms">
                    <item>
                        <hi rend="strong">
                            <term xml:id="t_CIA1">CIA</term>,</hi> Central Intelligence
                        Agency</item>
                    <item>
                        <hi rend="strong">
                            <term xml:id="t_USSR1">USSR</term>,</hi> Union of Soviet Socialist
                        Republics</item>
                </list>
            </div>
            <pb n="XXV" xml:id="pg_XXV" facs="0025"/>
            <div type="section" xml:id="persons">
                <head>Persons</head>
                <list type="names">
                    <item>
                        <hi rend="strong">
                            <persName xml:id="p_KJF1">Kennedy, John F.</persName>,</hi> President of the
                        United States</item>
                    <item>
                        <hi rend="strong">
                            <persName xml:id="p_KNS1">Khrushchev, Nikita S.</persName>,</hi> Chairman of
                        the Council of Ministers of the Soviet Union</item>
                </list>
            </div>
        </front>
        <body>
            <div type="chapter" xml:id="ch1">
                <head>Vienna Summit</head>
                <div type="document" xml:id="d1" n="1">
                    <head>1. Memorandum From <persName corresp="#p_KJF1">President Kennedy</persName></head>
                    <pb n="1" xml:id="pg_1" facs="0029"/>
                    <p>The <gloss target="#t_CIA1">CIA</gloss> reported that
                        <persName corresp="#p_KNS1">Khrushchev</persName>
                        would meet <persName corresp="#p_KJF1">Kennedy</persName>; see <ref target="#d1">the
                        <gloss target="#t_USSR1">USSR</gloss> note</ref>. <persName corresp="#p_XYZ1">Nobody</persName>
                        is in no list.<note n="1" xml:id="d1fn1">The <gloss target="#t_USSR1">USSR</gloss> said
                        so.</note></p>
                    <pb n="2" xml:id="pg_2"/>
                    <p>The second page has no scan.</p>
                </div>
            </div>
        </body>
    </text>
</TEI>
"""
ENTRIES = {"t_CIA1": "CIA", "t_USSR1": "USSR", "p_KJF1": "Kennedy, John F.", "p_KNS1": "Khrushchev, Nikita S."}
# Each name or abbreviation linked, in reading order, with its entry: not the one in a heading, nor the one
# in a link's text, nor the one whose entry the volume lacks.
USES = [("Kennedy", "p_KJF1"), ("USSR", "t_USSR1"), ("CIA", "t_CIA1"), ("Khrushchev", "p_KNS1"),
        ("Kennedy", "p_KJF1"), ("USSR", "t_USSR1")]


@pytest.fixture(scope="module")
def listed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("listed")
    (tmp / "v.xml").write_text(VOLUME, encoding="utf-8")
    imported = import_tei(tmp / "v.xml", tmp / "ms")
    assert not imported.warnings
    return build(tmp / "ms", tmp / "out")


def tei_scans(tei: Path) -> dict[str, str]:
    """Map each page the TEI labels to the address of its scan by the scheme ('' where its pb has no facs)."""
    root = etree.parse(str(tei)).getroot()
    volume = root.xpath("//t:publicationStmt/t:idno[@type='frus']", namespaces={"t": "http://www.tei-c.org/ns/1.0"})
    template = f"https://static.history.state.gov/frus/{volume[0].text}/medium/{{facs}}.png"
    return {tei_label(pb): template.format(facs=pb.get("facs")) if pb.get("facs") else ""
            for pb in root.iter("{*}pb") if tei_label(pb)}


def assert_scans_as_the_tei_gives_them(tei: Path, result) -> None:
    """Assert that every margin number and page marker links to the scan the TEI's facs names, and only those."""
    want = tei_scans(tei)
    printed = linked_numbers(result.outputs["pdf"], result.book)
    assert Counter(printed) == Counter(want) and printed == want
    epub = marker_links(Ebook(result.outputs["epub"]))
    assert epub == {pb.name: want[pb.label] for pb in result.book.page_breaks}


def test_every_page_links_to_the_scan_its_facs_names(listed, tmp_path):
    (tmp_path / "v.xml").write_text(VOLUME, encoding="utf-8")
    assert_scans_as_the_tei_gives_them(tmp_path / "v.xml", listed)
    assert listed.book.meta.facsimile_url == SCANS


def test_each_name_and_abbreviation_links_to_its_entry_in_the_epub(listed):
    epub = Ebook(listed.outputs["epub"])
    uses, entries = [], {}
    for doc in epub.content_documents():
        for link in epub.xhtml(doc).xpath("//x:a[@href]", namespaces=NS):
            href = link.get("href") if "#" not in link.get("href")[:1] else doc + link.get("href")
            target = epub.target(href) if ".xhtml#" in href else None
            if link.get("id") in ENTRIES:  # an entry: it links back to the first name or abbreviation linked to it
                entries[link.get("id")] = target
            elif href.split("#")[-1] in ENTRIES:
                uses.append(("".join(link.itertext()), href.split("#")[-1]))
                # It lands on its entry, in its list.
                assert "".join(target.itertext()) == ENTRIES[target.get("id")]
                assert target.xpath("ancestor::x:section/@aria-labelledby", namespaces=NS)[0] in ("terms", "persons")
    assert uses == USES
    assert set(entries) == set(ENTRIES)
    first = {entry: text for text, entry in reversed(USES)}
    for entry, use in entries.items():
        assert use.get("id") == entry + FIRST_USE and use.get("href").endswith(f"#{entry}")
        assert "".join(use.itertext()) == first[entry]
    assert_epubcheck(listed.outputs["epub"])


def test_each_name_and_abbreviation_links_to_its_entry_in_the_pdf(listed):
    path = listed.outputs["pdf"]
    destinations = named_destinations(path)
    uses, first_page, back = [], {}, {}
    with pikepdf.open(path) as pdf, pdfplumber.open(path) as plumbed:
        for index, page in enumerate(pdf.pages):
            height = float(page.mediabox[3])
            for annotation in page.obj.get("/Annots", []):
                if "/Dest" not in annotation:
                    continue
                x0, y0, x1, y1 = rectangle(annotation)
                text = "".join(c["text"] for c in plumbed.pages[index].chars if x0 <= (c["x0"] + c["x1"]) / 2 <= x1
                               and y0 <= height - (c["top"] + c["bottom"]) / 2 <= y1)
                dest = str(annotation.Dest)
                if dest in ENTRIES:
                    uses.append((text, dest))
                    first_page.setdefault(dest, index)
                    # The destination's page holds the entry.
                    assert ENTRIES[dest] in " ".join(plumbed.pages[destinations[dest]].extract_text().split())
                elif dest.removesuffix(FIRST_USE) in ENTRIES:
                    back[dest.removesuffix(FIRST_USE)] = (text, destinations[dest])
    assert uses == USES
    # Each entry links back to where the first name or abbreviation linked to it stands.
    assert back == {entry: (name, first_page[entry]) for entry, name in ENTRIES.items()}
    assert_accessible_and_archival(path)


def test_an_excerpt_without_the_lists_links_no_name(tmp_path):
    # The shared excerpt points to the volume's lists, which it does not hold: no link, and no broken one.
    result = import_tei(TEI_DATA / "frus1961-63v05_d270.xml", tmp_path / "ms")
    text = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "ms").glob("*.md"))
    tei = (TEI_DATA / "frus1961-63v05_d270.xml").read_text(encoding="utf-8")
    assert 'corresp="#p_' in tei and "](#p_" not in text and "](#t_" not in text
    assert not [w for w in result.warnings if w.code == "I003"]


def test_a_name_that_cannot_be_a_link_stays_text_and_its_entry_links_to_the_first_that_can(tmp_path):
    # A name with no text, one holding a link, one in a link, one in a heading: none is a link; the first
    # name that can be one is the one the entry links back to.
    body = VOLUME.replace('<gloss target="#t_USSR1">USSR</gloss>.</p>', '<gloss target="#t_USSR1"> </gloss>.</p>') \
        .replace('<persName corresp="#p_KJF1">Kennedy</persName>\n', '<persName corresp="#p_KJF1"><ref target="#d1">'
                 'Kennedy</ref></persName>\n')
    (tmp_path / "v.xml").write_text(body, encoding="utf-8")
    import_tei(tmp_path / "v.xml", tmp_path / "ms")
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((tmp_path / "ms").glob("*.md")))
    assert "President [Kennedy](#d1) and" in text and "[USSR](#t_USSR1){#t_USSR1-first}" not in text.split("# Abb")[0]
    assert "**[USSR](#t_USSR1-first){#t_USSR1},**" in text and "the [USSR](#t_USSR1){#t_USSR1-first} note" not in text
    assert "**[Kennedy, John F.](#p_KJF1-first){#p_KJF1},**" in text
    book = check(tmp_path / "ms").book  # every link lands: check reports none that does not
    links = [a.get("href") for ch in book.chapters for a in ch.body.iter("a")]
    assert links.count("#p_KJF1") == 1 and "#p_KJF1-first" in links
