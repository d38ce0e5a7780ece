"""The whole series: shares built as separate processes by the workflow's own commands, a broken volume
among good ones, a run killed and resumed, and the index read back by a RELAX NG validator and Chromium."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pikepdf
import pytest
import yaml
from lxml import etree

from publish.book.errors import EXIT_MANUSCRIPT, EXIT_SERIES
from publish.build import load
from publish.series.validate import _is_margin_number, page_integrity
from publish.series.volume import RECORD, TIMINGS, WORK

from conftest import ROOT, make_manuscript, require
from test_tei import FOOTER, HEADER

WORKFLOW = ROOT / ".github" / "workflows" / "series.yml"
OPDS_SCHEMA = ROOT / "tests" / "data" / "opds" / "opds.rng"
JS = ROOT / "tests" / "js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ATOM = "{http://www.w3.org/2005/Atom}"
# EPUBCheck starts a Java machine per volume (20 s a volume on this shared machine): the broken-catalogue
# build runs it, the others leave it out, as the record says.
NO_EPUBCHECK = ("--skip", "epubcheck")


def publish(*args, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the command line in a process of its own."""
    return subprocess.run([sys.executable, "-m", "publish", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def chapter(title: str, pages: range, words: int = 40) -> str:
    """Return a chapter of the given original pages, each holding some text."""
    return f"# {title}\n\n" + "".join(f"[Page {p}]\n\n" + "Text of the page. " * words + "\n\n" for p in pages)


def write_catalogue(folder: Path, volumes: dict[str, str]) -> Path:
    listing = "".join(f"  - id: {vid}\n    source: {source}\n" for vid, source in volumes.items())
    (folder / "series.yaml").write_text(f"title: A Test Series\nvolumes:\n{listing}", encoding="utf-8")
    return folder / "series.yaml"


def good_volumes(folder: Path) -> dict[str, str]:
    """Write three manuscripts of different lengths and a TEI volume; return their catalogue entries."""
    make_manuscript(folder / "short", {"ch1.md": chapter("Short", range(1, 3))}, book_id="short")
    make_manuscript(folder / "long", {"ch1.md": chapter("Long", range(1, 9), 120)}, book_id="long")
    make_manuscript(folder / "middle", {"ch1.md": chapter("Middle", range(3, 7), 60)}, book_id="middle")
    pages = "".join(f'<pb n="{p}" xml:id="pg_{p}"/><p>{"Words of the page. " * 30}</p>' for p in range(1, 5))
    (folder / "tei").mkdir()
    (folder / "tei" / "frus9999v01.xml").write_text(HEADER + pages + FOOTER, encoding="utf-8")
    return {"short": "short", "long": "long", "middle": "middle", "tei": "tei/frus9999v01.xml"}


def files(out: Path) -> dict[str, bytes]:
    """Return every file a run left in out, by path, but the timings, the build cache and the TEI work areas."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != TIMINGS and not {".cache", WORK} & set(p.relative_to(out).parts)}


def workflow_step(job: str, name: str) -> dict:
    """Return a step of the series workflow, by its job and name."""
    steps = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"][job]["steps"]
    return next(step for step in steps if step.get("name") == name)


def run_step(step: dict, cwd: Path, bin_dir: Path, **env: str) -> subprocess.CompletedProcess:
    """Run a workflow step's script with bash, as a runner would, `publish` on the PATH."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               "OUT": "series", **env}
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=environ, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    """Build the series once whole, and once in three shares on three "machines" (folders) by the workflow's
    own commands, their uploads gathered into one folder and indexed there."""
    folder = tmp_path_factory.mktemp("series")
    catalogue = write_catalogue(folder, good_volumes(folder))
    whole = publish("series", catalogue, "--out", "whole", *NO_EPUBCHECK, cwd=folder)
    assert whole.returncode == 0, whole.stderr
    # The workflow runs `publish` from the set-up environment: here, this interpreter with this checkout.
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    (bin_dir / "publish").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m publish "$@" {" ".join(NO_EPUBCHECK)}\n')
    (bin_dir / "publish").chmod(0o755)

    def machine(name: str) -> Path:
        place = folder / name
        place.mkdir()
        (place / "series.yaml").symlink_to(catalogue)
        return place

    output = folder / "github-output"
    planned = run_step(workflow_step("plan", "Plan the shares"), machine("planner"), bin_dir,
                       CATALOGUE="series.yaml", SHARES="3", GITHUB_OUTPUT=str(output))
    assert planned.returncode == 0, planned.stderr
    matrix = json.loads(output.read_text().removeprefix("matrix="))
    merged, shares = machine("merge"), []
    for k, entry in enumerate(matrix["include"]):
        builder = machine(f"share-{k}")
        shares.append(run_step(workflow_step("build", "Build the share"), builder, bin_dir, CATALOGUE="series.yaml",
                               SHARE=entry["share"]))
        listing = builder / "github-output"
        listed = run_step(workflow_step("build", "List the share's files"), builder, bin_dir,
                          VOLUMES=entry["volumes"], GITHUB_OUTPUT=str(listing))
        assert listed.returncode == 0, listed.stderr
        # What upload-artifact takes from the list, and download-artifact puts into one folder.
        for pattern in listing.read_text().split("\n")[1:-2]:
            for path in builder.glob(pattern):
                (merged / path.relative_to(builder)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, merged / path.relative_to(builder))
    indexed = run_step(workflow_step("index", "Make the index"), merged, bin_dir, CATALOGUE="series.yaml")
    return folder, whole, matrix, shares, indexed


def test_three_shares_give_the_bytes_of_one_run(series):
    folder, _, matrix, shares, indexed = series
    assert [run.returncode for run in shares] == [0, 0, 0], [run.stderr for run in shares]
    assert indexed.returncode == 0, indexed.stderr
    # Every volume in exactly one share; the largest alone, as longest-first balancing puts it.
    ids = [entry["volumes"].split() for entry in matrix["include"]]
    assert sorted(vid for share in ids for vid in share) == ["long", "middle", "short", "tei"]
    assert ["long"] in ids and [entry["share"] for entry in matrix["include"]] == ["1/3", "2/3", "3/3"]
    # A share writes no index; the merge does.
    shared = files(folder / "merge" / "series")
    one = files(folder / "whole")
    assert sorted(shared) == sorted(one) and shared == one
    wanted = {"catalog.xml", "index.html", "SHA256SUMS", "long/long.pdf", "tei/tei.epub", "tei/record.json"}
    assert wanted <= set(one)
    record = json.loads(one["long/record.json"])
    assert record["validators"]["epubcheck"] == {"verdict": "not run", "problems": ["skipped (--skip)"]}
    assert record["validators"]["page-integrity"]["verdict"] == "pass" and record["original_pages"] == 8
    # The timings are kept, but out of the sums: they differ from run to run.
    sums = (folder / "whole" / "SHA256SUMS").read_text()
    assert (folder / "whole" / "long" / TIMINGS).is_file() and TIMINGS not in sums
    check = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder / "whole", capture_output=True)
    assert check.returncode == 0 and sums.count("\n") == 4 * 3 + 2


def test_the_plan_is_the_same_every_time_and_keys_each_shares_inputs(series):
    folder = series[0]
    again = publish("series", "series.yaml", "--plan", "3", *NO_EPUBCHECK, cwd=folder)
    assert json.loads(again.stdout) == series[2]
    cache = workflow_step("build", "The share's volumes as last built")["with"]
    assert "matrix.key" in cache["key"] and "matrix.share" in cache["key"]
    # A changed volume changes its share's key only.
    text = folder / "short" / "ch1.md"
    before = text.read_text(encoding="utf-8")
    try:
        text.write_text(before + "One more line.\n", encoding="utf-8")
        changed = json.loads(publish("series", "series.yaml", "--plan", "3", *NO_EPUBCHECK, cwd=folder).stdout)
    finally:
        text.write_text(before, encoding="utf-8")
    moved = [a["volumes"].split() for a, b in zip(series[2]["include"], changed["include"]) if a["key"] != b["key"]]
    assert len(moved) == 1 and "short" in moved[0], moved


def test_a_rerun_builds_nothing_unchanged(series):
    folder = series[0]
    before = {p: p.stat().st_mtime_ns for p in (folder / "whole").glob("*/*.pdf")}
    again = publish("series", "series.yaml", "--out", "whole", *NO_EPUBCHECK, cwd=folder)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("0 volume(s) built, 4 unchanged, 0 failed")
    assert before == {p: p.stat().st_mtime_ns for p in (folder / "whole").glob("*/*.pdf")}


def test_the_opds_feed_is_valid_opds_and_offers_both_files_of_every_volume(series):
    out = series[0] / "whole"
    feed = etree.parse(str(out / "catalog.xml"))
    schema = etree.RelaxNG(etree.parse(str(OPDS_SCHEMA)))
    assert schema.validate(feed), schema.error_log
    entries = feed.getroot().findall(f"{ATOM}entry")
    assert len(entries) == 4
    for entry in entries:
        links = {link.get("type"): link.get("href") for link in entry.findall(f"{ATOM}link")
                 if link.get("rel") == "http://opds-spec.org/acquisition"}
        assert sorted(links) == ["application/epub+zip", "application/pdf"]
        assert all((out / href).is_file() for href in links.values())
    # The same date as the books', from SOURCE_DATE_EPOCH: never the clock.
    assert feed.getroot().findtext(f"{ATOM}updated") == "2023-11-14T22:13:20Z"
    # The schema bites: an entry without its id is not OPDS.
    entries[0].remove(entries[0].find(f"{ATOM}id"))
    assert not schema.validate(feed)


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """Build a catalogue of one good volume and three broken ones: not TEI, missing, one failing a check."""
    folder = tmp_path_factory.mktemp("broken")
    make_manuscript(folder / "good", {"ch1.md": chapter("Good", range(1, 4))}, book_id="good")
    make_manuscript(folder / "trips", {"ch1.md": "# Trips\n\n[Page 1]\n\nA note called[^x] and never given.\n"},
                    book_id="trips")
    (folder / "nottei.xml").write_text("<html><body>Not a TEI volume</body></html>\n", encoding="utf-8")
    catalogue = write_catalogue(folder, {"good": "good", "nottei": "nottei.xml", "gone": "no/such.xml",
                                         "trips": "trips"})
    run = publish("series", catalogue, "--out", "out", cwd=folder)
    return folder, run


def test_a_broken_volume_is_reported_by_id_and_cause_and_the_others_are_built(broken):
    folder, run = broken
    out = folder / "out"
    assert run.returncode == EXIT_SERIES + 3, run.stderr
    failed = dict(line.removeprefix("failed: ").split(": ", 1) for line in run.stderr.splitlines()
                  if line.startswith("failed: "))
    assert sorted(failed) == ["gone", "nottei", "trips"]
    assert failed["nottei"] == "nottei.xml: no text to import: the file holds no division or document"
    assert "C005" in failed["gone"] and "N001" in failed["trips"]
    good = json.loads((out / "good" / RECORD).read_text())
    assert good["status"] == "ok" and good["original_pages"] == 3 and (out / "good" / "good.pdf").is_file()
    assert {name: v["verdict"] for name, v in good["validators"].items()} == {
        "epubcheck": "pass", "pdf-ua-1": "pass", "pdf-a-2u": "pass", "page-integrity": "pass"}
    trips = json.loads((out / "trips" / RECORD).read_text())
    assert trips["status"] == "failed" and trips["error"]["exit_code"] == EXIT_MANUSCRIPT
    assert not (out / "trips" / "trips.pdf").exists()
    # --index alone gathers the same: its exit code counts the same failures.
    again = publish("series", "series.yaml", "--out", "out", "--index", cwd=folder)
    assert again.returncode == EXIT_SERIES + 3 and again.stderr.count("failed: ") == 3


def test_the_index_does_not_offer_a_volume_whose_files_did_not_arrive(broken, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(broken[0] / "out", out, ignore=shutil.ignore_patterns(".cache", WORK))
    shutil.copy(broken[0] / "series.yaml", tmp_path)
    (out / "good" / "good.pdf").unlink()
    run = publish("series", "series.yaml", "--out", "out", "--index", cwd=tmp_path)
    assert run.returncode == EXIT_SERIES + 4
    assert "failed: good: good/good.pdf is missing, though its record lists it" in run.stderr
    assert 'href="good/good' not in (out / "catalog.xml").read_text() + (out / "index.html").read_text()


def test_the_page_integrity_check_finds_a_page_not_in_the_book_or_out_of_order(broken):
    folder = broken[0]
    book, _ = load(folder / "good")
    pdf, epub = folder / "out" / "good" / "good.pdf", folder / "out" / "good" / "good.epub"
    assert page_integrity(pdf, epub, book) == []
    held = next(ch for ch in book.chapters if ch.page_breaks).page_breaks
    pages = list(held)
    # The outputs hold a page the book does not: each place that lists pages says so.
    held[:] = pages[:2]
    problems = page_integrity(pdf, epub, book)
    assert {"PDF structure: page 3 is not in the book", "EPUB page list: page 3 is not in the book"} <= set(problems)
    assert any("margin number(s) for" in p for p in problems), problems
    # Or in another order: pages 1 and 2 begin on one PDF page, whose margin numbers then read in the wrong order.
    held[:] = [pages[1], pages[0], pages[2]]
    problems = page_integrity(pdf, epub, book)
    assert problems[0] == "PDF structure: the pages are out of order"
    assert [p.split(": ", 1)[1] for p in problems[1:-1]] == [
        "margin number '1' where page 2 begins", "margin number '2' where page 1 begins"], problems
    assert problems[-1] == "EPUB page list: the pages are out of order"


def test_the_page_integrity_check_reads_what_each_margin_number_prints(broken, tmp_path):
    folder = broken[0]
    book, _ = load(folder / "good")
    epub = folder / "out" / "good" / "good.epub"
    pdf = tmp_path / "good.pdf"
    with pikepdf.open(folder / "out" / "good" / "good.pdf") as doc:
        # The text the first two margin numbers show, swapped in the content stream: each prints the other's label.
        shows = []
        for page in doc.pages:
            ops, runs = list(pikepdf.parse_content_stream(page)), []
            for k, (operands, operator) in enumerate(ops):
                if str(operator) in ("BDC", "BMC"):
                    runs.append(str(operator) == "BDC" and _is_margin_number(page, *operands))
                elif str(operator) == "EMC":
                    runs.pop()
                elif str(operator) in ("Tj", "TJ") and any(runs):
                    shows.append((page, ops, k))
        (page1, ops1, k1), (page2, ops2, k2) = shows[:2]
        ops1[k1], ops2[k2] = ops2[k2], ops1[k1]
        for page, ops in ((page1, ops1), (page2, ops2)):
            page.Contents = doc.make_stream(pikepdf.unparse_content_stream(ops))
        doc.save(pdf)
    problems = page_integrity(pdf, epub, book)
    assert [p.split(": ", 1)[1] for p in problems] == ["margin number '2' where page 1 begins",
                                                        "margin number '1' where page 2 begins"], problems
    # A margin number in a font its page does not hold is named, not a crash.
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            ops = [(([pikepdf.Name("/Missing")] + list(operands[1:])) if str(op) == "Tf" else operands, op)
                   for operands, op in pikepdf.parse_content_stream(page)]
            page.Contents = doc.make_stream(pikepdf.unparse_content_stream(ops))
        doc.save(tmp_path / "unfont.pdf")
    assert any("margin number '(no font)'" in p for p in page_integrity(tmp_path / "unfont.pdf", epub, book))


def test_the_html_index_lists_every_volume_and_every_link_leads_to_a_file(series, broken):
    require([("node", shutil.which("node")), ("Chromium", Path(CHROMIUM).exists()),
             ("tests/js/node_modules", (JS / "node_modules" / "playwright-core").is_dir())])
    for out, ids in ((series[0] / "whole", ["long", "middle", "short", "tei"]),
                     (broken[0] / "out", ["gone", "good", "nottei", "trips"])):
        run = subprocess.run(["node", str(JS / "index_links.mjs"), str(out / "index.html")], capture_output=True,
                             text=True, timeout=120, env={**os.environ, "CHROMIUM": CHROMIUM})
        assert run.returncode == 0, run.stderr
        seen = json.loads(run.stdout)
        assert sorted(seen["volumes"]) == ids
        targets = [Path(unquote(urlparse(href).path)) for href in seen["links"]]
        assert targets and all(t.is_file() and t.is_relative_to(out) for t in targets), targets
        built = [vid for vid in ids if (out / vid / f"{vid}.pdf").is_file()]
        linked = {t.relative_to(out).as_posix() for t in targets}
        assert linked >= {f"{v}/{v}.{f}" for v in built for f in ("pdf", "epub")}


def test_a_run_killed_mid_series_resumes_with_what_was_not_finished(tmp_path):
    catalogue = write_catalogue(tmp_path, good_volumes(tmp_path))
    skip = [*NO_EPUBCHECK, "--skip", "pdf-ua-1", "--skip", "pdf-a-2u"]
    command = [sys.executable, "-m", "publish", "series", str(catalogue), "--out", "out", *skip]
    run = subprocess.Popen(command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    first = tmp_path / "out" / "short" / RECORD
    try:
        deadline = time.monotonic() + 300
        while not first.exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the run and its PDF workers, as a machine lost would
        run.wait()
    done = sorted(p.parent.name for p in (tmp_path / "out").glob(f"*/{RECORD}"))
    assert "short" in done and len(done) < 4, done
    before = {vid: (tmp_path / "out" / vid / f"{vid}.pdf").stat().st_mtime_ns for vid in done}
    resumed = publish("series", catalogue, "--out", "out", *skip, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    unchanged = sorted(line.split(":")[0] for line in resumed.stderr.splitlines() if "unchanged since" in line)
    built = sorted(line.split(":")[0] for line in resumed.stderr.splitlines() if ": built," in line)
    assert unchanged == done and sorted(built + done) == ["long", "middle", "short", "tei"]
    assert before == {vid: (tmp_path / "out" / vid / f"{vid}.pdf").stat().st_mtime_ns for vid in done}
    assert not list((tmp_path / "out").rglob("*.part")), "a killed run's temporary files stay behind"


@pytest.mark.parametrize("text, expected", [
    ("volumes:\n  - {id: a, source: a}\n  - {id: a, source: b}\n",
     "series.yaml:3:10: C004 id 'a' is given twice (first on line 2)"),
    ("volumes: [{id: 'a b', source: a}]\n", "series.yaml:1:16: C003 id 'a b' may hold only"),
    ("volumes: [{id: a}]\n", "series.yaml:1:11: C002 each volume needs an 'id' and a 'source'"),
    ("volumes: [{id: a, source: a, format: pdf}]\n", "series.yaml:1:11: C002 unknown key 'format'"),
    ("title: x\n", "series.yaml:1:1: C002 the catalogue must hold a list 'volumes'"),
    ("volumes: [{id: a\n", "series.yaml:2:1: C001 YAML syntax error"),
])
def test_a_wrong_catalogue_is_refused_with_its_line_and_nothing_is_built(tmp_path, text, expected):
    (tmp_path / "series.yaml").write_text(text, encoding="utf-8")
    run = publish("series", "series.yaml", "--out", "out", cwd=tmp_path)
    assert run.returncode == EXIT_MANUSCRIPT and run.stderr.startswith(expected), run.stderr
    assert not (tmp_path / "out").exists()
