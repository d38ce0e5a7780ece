"""The PDF as assistive technology and an archive read it: tagged PDF/UA-1 and PDF/A-2u, validated."""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pdfplumber
import pikepdf
import pytest

from publish.build import build

from conftest import make_manuscript
from readers import assert_accessible_and_archival, structure_elements


@pytest.fixture(scope="module", params=["sample", "edge"])
def built(request, sample_build, edge_build):
    return {"sample": sample_build, "edge": edge_build}[request.param]


def test_both_validators_pass(built):
    path = built.outputs["pdf"]
    assert_accessible_and_archival(path)
    # A second, independent checker of PDF/UA-1's machine-checkable rules (built on pikepdf).
    run = subprocess.run([str(Path(sys.executable).parent / "pdfua"), "check", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 0 and "result: PASS" in run.stdout, run.stdout


def test_structure_tree_holds_headings_notes_and_tables(edge_build):
    pdf = pikepdf.open(edge_build.outputs["pdf"])
    roles = Counter(str(e.S) for e in structure_elements(pdf))
    assert roles["/H1"] >= 1 and roles["/H2"] >= 1 and roles["/P"] > 10
    assert roles["/Table"] >= 1 and roles["/TH"] >= 1 and roles["/TD"] >= 1
    notes = [e for e in structure_elements(pdf) if e.S == pikepdf.Name.Note]
    anchors = {a for ch in edge_build.book.chapters for a in ch.notes}
    assert anchors and anchors <= {str(n.ID).split(" (")[0] for n in notes}
    ids = pikepdf.NameTree(pdf.Root.StructTreeRoot.IDTree)
    assert len({str(n.ID) for n in notes}) == len(notes), "a note's ID names it alone"
    assert all(ids[str(n.ID)].objgen == n.objgen for n in notes), "the ID tree finds every note"
    assert roles["/Reference"] >= len(anchors), "each note's number in the text refers to it"
    assert roles["/Link"] >= 1
    for link in (e for e in structure_elements(pdf) if e.S == pikepdf.Name.Link):
        annots = [k.Obj for k in link.K if isinstance(k, pikepdf.Dictionary) and k.get("/Type") == "/OBJR"]
        assert annots and all(str(a.Contents).strip() for a in annots), "a link is tagged and described"


def test_every_marked_content_id_is_reachable_from_the_root(built):
    pdf = pikepdf.open(built.outputs["pdf"])
    root = pdf.Root.StructTreeRoot
    nums = root.ParentTree.Nums
    parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    in_tree = {e.objgen for e in structure_elements(pdf)}
    keys = set()
    for number, page in enumerate(pdf.pages):
        assert page.obj.Tabs == pikepdf.Name.S
        mcids = [int(op.operands[1].MCID) for op in pikepdf.parse_content_stream(page)
                 if op.operator == pikepdf.Operator("BDC") and "/MCID" in op.operands[1]]
        if not mcids:
            continue
        key = int(page.obj.StructParents)
        assert key not in keys, "two pages share a parent-tree entry"
        keys.add(key)
        for mcid in mcids:
            element = parents[key][mcid]
            assert element.objgen in in_tree, f"page {number}: MCID {mcid} belongs to no element of the tree"
            assert mcid in (element.K if isinstance(element.K, pikepdf.Array) else [element.K])
    assert int(root.ParentTreeNextKey) > max(parents)


def test_tagged_text_reads_across_page_and_margin_breaks_whole(sample_build):
    with pdfplumber.open(sample_build.outputs["pdf"]) as pdf:
        pages = [page.filter(lambda o: o.get("object_type") != "char" or o.get("tag") != "Artifact")
                 for page in pdf.pages]
        text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))
        furniture = " ".join(c["text"] for page in pdf.pages for c in page.chars if c.get("tag") == "Artifact")
    # The sentences around [Page 588] and [Page 589] read on without their margin numbers.
    assert "the cause of the Cuban revolution; as a matter of fact it knew much less" in text
    assert "a Latin American atom-free-zone, a nuclear test ban" in text
    # The line citing the document under its heading is text (not an artifact), and names its pages.
    line = "Foreign Relations of the United States, 1961–1963, vol. V, Soviet Union, doc. 270, pp. 587–589."
    assert line in text
    assert not re.search(r"\b58[89]\b", text.split("Central Files")[0].replace(line, "")), \
        "a margin number is read as text"
    assert "5 8 8" in furniture and "5 8 9" in furniture


def test_an_original_page_break_stays_findable(sample_build):
    pdf = pikepdf.open(sample_build.outputs["pdf"])
    alts = [str(e.Alt) for e in structure_elements(pdf) if "/Alt" in e and e.S == pikepdf.Name.Span]
    assert [f"page {pb.label}" for pb in sample_build.book.page_breaks if pb.labelled] == alts


def test_one_font_program_per_subset_name_and_a_true_header(built):
    pdf = pikepdf.open(built.outputs["pdf"])
    assert pdf.pdf_version == "1.7"
    programs = {}
    for page in pdf.pages:
        for font in page.obj.Resources.get("/Font", {}).values():
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.FontDescriptor
                program = next(descriptor[k] for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor)
                programs.setdefault(str(descriptor.FontName), set()).add(program.read_raw_bytes())
    assert programs and all(len(p) == 1 for p in programs.values()), \
        [name for name, p in programs.items() if len(p) > 1]


def test_text_in_another_language_says_so(tmp_path):
    folder = make_manuscript(tmp_path / "ms", {"one.md": """
        # One

        [Page 1] The minister answered [c'est la guerre]{lang=fr} and left; a list follows.

        - first item, in a list with [Page 2] a break

          and a second paragraph in the same item
        - second item
        """})
    result = build(folder, tmp_path / "out", ("pdf",))
    pdf = pikepdf.open(result.outputs["pdf"])
    assert [str(e.Lang) for e in structure_elements(pdf) if "/Lang" in e] == ["fr"]
    assert str(pdf.Root.Lang) == result.book.meta.language
    items = [e for e in structure_elements(pdf) if e.S == pikepdf.Name.LI]
    assert items and all({str(k.S) for k in e.K} <= {"/Lbl", "/LBody"} for e in items)
    assert_accessible_and_archival(result.outputs["pdf"])


def test_a_link_whose_text_is_partly_emphasised_is_one_link_holding_every_annotation(tmp_path):
    folder = make_manuscript(tmp_path / "ms", {"one.md": """
        # One

        [Page 1] For text of the memoranda, see [*Foreign Relations*, 1961-1963, volume XI, **Cuban Missile
        Crisis**](https://history.state.gov/historicaldocuments/frus1961-63v11), pages 545-565.
        """})
    pdf_path = build(folder, tmp_path / "out", ("pdf",)).outputs["pdf"]
    pdf = pikepdf.open(pdf_path)
    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    annotations = [a for page in pdf.pages for a in page.obj.get("/Annots", []) if a.Subtype == "/Link"]
    assert len(annotations) >= 2  # the emphasis is given an annotation of its own, covering its words
    for annotation in annotations:
        owner = parents[int(annotation.StructParent)]
        assert owner.S == pikepdf.Name.Link
        assert any(isinstance(k, pikepdf.Dictionary) and k.get("/Type") == "/OBJR" and k.Obj.objgen == annotation.objgen
                   for k in owner.K)
    assert_accessible_and_archival(pdf_path)


def test_a_table_of_rows_of_unequal_length_is_tagged_as_a_grid(tmp_path):
    # As a TEI table of sums and braces is imported: a cell spanning rows beside short rows, a span past the end.
    folder = make_manuscript(tmp_path / "ms", {"one.md": """
        # One

        [Page 1] The indemnities:

        <table>
        <tr><td rowspan="3">Spain</td><td colspan="2">{</td></tr>
        <tr><td>125,373.00</td></tr>
        <tr><td>38,592.22</td><td>262,682.22</td><td>}</td></tr>
        <tr><td rowspan="4">Total</td></tr>
        </table>
        """})
    pdf_path = build(folder, tmp_path / "out", ("pdf",)).outputs["pdf"]
    pdf = pikepdf.open(pdf_path)
    [table] = [e for e in structure_elements(pdf) if e.S == pikepdf.Name.Table]
    rows = [e for e in structure_elements(pdf) if e.S == pikepdf.Name.TR]
    grid = [[0] * 4 for _ in rows]
    for r, row in enumerate(rows):
        column = 0
        for cell in (k for k in row.K if isinstance(k, pikepdf.Dictionary) and k.get("/S") in ("/TD", "/TH")):
            while grid[r][column]:
                column += 1
            across = int(cell.A.get("/ColSpan", 1)) if "/A" in cell else 1
            down = int(cell.A.get("/RowSpan", 1)) if "/A" in cell else 1
            assert r + down <= len(rows), "no cell spans rows past the table's end"
            for i in range(r, r + down):
                for j in range(column, column + across):
                    grid[i][j] += 1
    assert grid == [[1] * 4 for _ in rows], "every row fills the same four columns, each once"
    assert_accessible_and_archival(pdf_path)
