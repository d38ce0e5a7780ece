"""The build cache is the tool's own: never followed out of its folder, and trusted only as this tool wrote it."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from lxml import html as lxml_html

from publish import cli
from publish.book.errors import EXIT_OUTPUT
from publish.build import build
from publish.system import cache

from conftest import copy_root


def pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def epub_text(path: Path) -> str:
    with zipfile.ZipFile(path) as epub:
        return "\n".join(lxml_html.fromstring(epub.read(name)).text_content()
                         for name in sorted(epub.namelist()) if name.endswith(".xhtml"))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Return every file under folder, by its path there, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def built(tmp_path):
    """The edge manuscript, copied, built once into out/ (its cache filled): (folder, out)."""
    folder = copy_root("edge", tmp_path)
    out = tmp_path / "out"
    build(folder, out)
    return folder, out


def clean_build(folder: Path, tmp_path: Path) -> dict[str, bytes]:
    """Return the outputs of a build with no cache at all."""
    result = build(folder, tmp_path / "clean")
    return {fmt: path.read_bytes() for fmt, path in result.outputs.items()}


def edit(folder: Path) -> None:
    """Change one word of the first chapter: the rebuild reads and lays out that chapter again."""
    chapter = folder / "01-one.md"
    chapter.write_text(chapter.read_text().replace("Opening words", "Opening remarks", 1))


def forge(entry: Path, data: bytes) -> None:
    """Put data in a cache entry, with the digest of the bytes beside it: all one can do without the key."""
    entry.write_bytes(data)
    info_path = entry.with_suffix(".json")
    info = json.loads(info_path.read_text())
    info["sha256"] = hashlib.sha256(data).hexdigest()
    info_path.write_text(json.dumps(info))


def sign(entry: Path, data: bytes | None = None, **changes) -> None:
    """Write a cache entry as this tool would, with the key: what a mistake of the tool itself would leave."""
    info = json.loads(entry.with_suffix(".json").read_text())
    del info["mac"]
    store = cache.Store(entry.parent.parent, entry.parent.name, entry.suffix)
    store.put(entry.stem, entry.read_bytes() if data is None else data, **(info | changes))


LEVELS = [".cache", ".cache/edge", ".cache/edge/pdf", ".cache/edge/piece", ".cache/edge/pandoc",
          ".cache/edge/plan", ".cache/edge/count", "an entry", "an entry's description"]


@pytest.mark.parametrize("level", LEVELS)
def test_a_link_in_the_cache_is_never_followed(built, tmp_path, level):
    folder, out = built
    precious = tmp_path / "precious"
    if level.startswith(".cache"):
        # The folder it points to holds what the cache held there (entries a build would take and prune)
        # and a file of the user's.
        shutil.copytree(out / level, precious)
        shutil.rmtree(out / level)
        (out / level).symlink_to(precious, target_is_directory=True)
    else:
        precious.mkdir()
        entry = next((out / ".cache/edge/pdf").glob("*.pdf"))
        if level == "an entry's description":
            entry = entry.with_suffix(".json")
        shutil.copy(entry, precious / entry.name)
        entry.unlink()
        entry.symlink_to(precious / entry.name)
    (precious / "letter.txt").write_text("Not the build's to touch.")
    before = snapshot(precious)
    edit(folder)
    rebuilt = build(folder, out)
    assert snapshot(precious) == before
    # The link is gone (a folder of the cache's own in its place), and the next build uses that cache.
    assert not any(p.is_symlink() for p in (out / ".cache").rglob("*"))
    outputs = {fmt: path.read_bytes() for fmt, path in rebuilt.outputs.items()}
    assert outputs == clean_build(folder, tmp_path)
    assert "Opening remarks" in pdf_text(rebuilt.outputs["pdf"])


# Each kind of entry, and how to forge it from the build's own entries: the contents of another entry
# (another chapter's HTML, another part's pages: real text, in the right form).
@pytest.mark.parametrize("kind", ["pandoc", "pdf", "piece", "plan", "count"])
def test_a_forged_entry_is_a_miss_and_the_real_text_is_published(built, tmp_path, kind):
    folder, out = built
    first = {fmt: (out / f"edge.{fmt}").read_bytes() for fmt in ("pdf", "epub")}
    def entries(kind):
        return sorted(p for p in (out / ".cache/edge" / kind).iterdir() if p.suffix != ".json" and p.stat().st_size)
    # The prelims are the one part laid out whole (chapters are lists of pieces): they get a piece's pages.
    pool = [p.read_bytes() for p in entries(kind) + (entries("piece") if kind == "pdf" else [])]
    assert len(pool) >= 2
    for entry in entries(kind):
        forge(entry, b"1" if kind == "count" else next(data for data in pool if data != entry.read_bytes()))
    rebuilt = build(folder, out)
    assert {fmt: path.read_bytes() for fmt, path in rebuilt.outputs.items()} == first
    assert "Opening words" in pdf_text(rebuilt.outputs["pdf"]) and "Opening words" in epub_text(rebuilt.outputs["epub"])


def test_forged_html_does_not_reach_the_book(built, tmp_path):
    folder, out = built
    for entry in (out / ".cache/edge/pandoc").glob("*.html"):
        forge(entry, entry.read_bytes().replace(b"Opening words", b"Forged words"))
    rebuilt = build(folder, out)
    assert "Forged" not in pdf_text(rebuilt.outputs["pdf"]) and "Forged" not in epub_text(rebuilt.outputs["epub"])
    assert "Opening words" in pdf_text(rebuilt.outputs["pdf"]) and "Opening words" in epub_text(rebuilt.outputs["epub"])


@pytest.mark.parametrize("change", [
    {"pages": "12"}, {"pages": 0}, {"pages": True}, {"pages": 10 ** 30}, {"kept": [1, 2]}, {"kept": "piece/x"}])
def test_a_part_described_wrongly_even_by_this_tool_is_a_miss(built, tmp_path, change):
    folder, out = built
    for entry in (out / ".cache/edge/pdf").glob("*.pdf"):
        sign(entry, **change)
    rebuilt = build(folder, out)
    assert {fmt: path.read_bytes() for fmt, path in rebuilt.outputs.items()} == clean_build(folder, tmp_path)


@pytest.mark.parametrize("kind, suffix, data", [
    *(("count", ".txt", data) for data in (b"9" * 5000, b"-3", b"\xff", b"0", b"", "\u0663".encode())),
    *(("plan", ".plan", data) for data in (b"[" * 100_000, b"{}", b'{"pieces": 3}', b"\xff", b"null"))])
def test_a_count_or_plan_written_wrongly_even_by_this_tool_is_a_miss(built, tmp_path, kind, suffix, data):
    folder, out = built
    for entry in (out / ".cache/edge" / kind).glob(f"*{suffix}"):
        sign(entry, data)
    edit(folder)
    rebuilt = build(folder, out)
    assert {fmt: path.read_bytes() for fmt, path in rebuilt.outputs.items()} == clean_build(folder, tmp_path)


def _javascript_in(pdf: Path) -> list[str]:
    with pikepdf.open(pdf) as doc:
        return [str(obj.get("/S")) for obj in doc.objects
                if isinstance(obj, pikepdf.Dictionary) and ("/JS" in obj or obj.get("/S") == pikepdf.Name.JavaScript)]


@pytest.mark.parametrize("where", ["link", "structure", "catalog", "page", "untagged"])
def test_a_script_in_a_signed_part_is_not_shipped(built, tmp_path, where):
    """Even an entry with a good signature is checked for what acts: the key may have been read."""
    folder, out = built
    parts = [p for kind in ("pdf", "piece") for p in (out / ".cache/edge" / kind).glob("*.pdf") if p.stat().st_size]
    links = 0
    for entry in parts:
        with pikepdf.open(entry, allow_overwriting_input=True) as part:
            script = part.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("alert(1)")))
            if where == "link":
                for page in part.pages:
                    for annot in page.get("/Annots", []):
                        annot.AA = pikepdf.Dictionary(E=script)  # on the mouse entering the link
                        links += 1
            elif where == "structure":
                acting = pikepdf.Dictionary(S=pikepdf.Name.Link, AA=pikepdf.Dictionary(O=script))
                part.Root.StructTreeRoot.K.append(acting)
            elif where == "catalog":
                part.Root.OpenAction = script
            elif where == "page":
                part.pages[0].obj.AA = pikepdf.Dictionary(O=script)
            else:  # as an entry from before tagging would be
                del part.Root.StructTreeRoot
            part.save(entry)
        sign(entry)
    assert where != "link" or links
    rebuilt = build(folder, out, ("pdf",))
    assert _javascript_in(rebuilt.outputs["pdf"]) == []
    assert rebuilt.outputs["pdf"].read_bytes() == clean_build(folder, tmp_path)["pdf"]


@pytest.mark.parametrize("where", ["destination", "link's structure", "page's structure", "parent tree"])
def test_a_part_the_join_cannot_read_is_a_miss_not_a_traceback(built, tmp_path, where):
    folder, out = built
    parts = [p for kind in ("pdf", "piece") for p in (out / ".cache/edge" / kind).glob("*.pdf") if p.stat().st_size]
    for entry in parts:
        with pikepdf.open(entry, allow_overwriting_input=True) as part:
            if where == "destination":  # to a page of no part
                page = part.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Page))
                tree = pikepdf.NameTree.new(part)
                tree["forged"] = pikepdf.Array([page, pikepdf.Name.Fit])
                part.Root.Names = pikepdf.Dictionary(Dests=tree.obj)
            elif where == "link's structure":
                for page in part.pages:
                    for annot in page.get("/Annots", []):
                        annot.StructParent = pikepdf.Name.Forged
            elif where == "page's structure":
                part.pages[0].obj.StructParents = pikepdf.String("one")
            else:
                part.Root.StructTreeRoot.ParentTree = pikepdf.Dictionary(Nums=[pikepdf.Name.Forged, 1])
            part.save(entry)
        sign(entry)
    rebuilt = build(folder, out, ("pdf",))
    assert rebuilt.outputs["pdf"].read_bytes() == clean_build(folder, tmp_path)["pdf"]


@contextlib.contextmanager
def read_only(folder: Path):
    """Make folder and all it holds read-only for this process (root too: immutable), for the duration."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "-R", "+i", folder]).returncode:
            pytest.skip("running as root, without chattr to make a folder read-only")
        undo = ["chattr", "-R", "-i", folder]
    else:
        subprocess.run(["chmod", "-R", "a-w", folder], check=True)
        undo = ["chmod", "-R", "u+w", folder]
    try:
        yield
    finally:
        subprocess.run(undo, check=True)


def test_a_read_only_cache_is_read_and_not_written(built, tmp_path):
    folder, out = built
    edit(folder)
    kept = out / ".cache"
    before = snapshot(kept)
    with read_only(kept):
        rebuilt = build(folder, out)
        assert snapshot(kept) == before
    assert {fmt: path.read_bytes() for fmt, path in rebuilt.outputs.items()} == clean_build(folder, tmp_path)


def test_a_read_only_output_folder_is_one_clear_error(built, capsys):
    folder, out = built
    edit(folder)
    before = snapshot(out)
    with read_only(out):
        code = cli.main(["all", str(folder), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == EXIT_OUTPUT, err
    assert f"publish: error: cannot write to {out}" in err and "Traceback" not in err
    assert snapshot(out) == before


@pytest.mark.parametrize("key", ["under a file", "readable by others"])
def test_without_a_safe_key_nothing_is_cached(tmp_path, monkeypatch, key):
    folder = copy_root("edge", tmp_path)
    if key == "under a file":
        (tmp_path / "file").write_text("")
        monkeypatch.setenv(cache.KEY_ENV, str(tmp_path / "file" / "key"))
    else:
        path = tmp_path / "keys" / "key"
        monkeypatch.setenv(cache.KEY_ENV, str(path))
        assert cache.secret() is not None and path.stat().st_mode & 0o777 == 0o600
        path.chmod(0o644)
        cache._secret.cache_clear()
    out = tmp_path / "out"
    result = build(folder, out)
    assert not (out / ".cache").exists()
    [warning] = [w for w in result.warnings if w.code == "B002"]
    assert warning.path == os.environ[cache.KEY_ENV] and not warning.is_error and "every build starts cold" in str(warning)
    assert {fmt: path.read_bytes() for fmt, path in result.outputs.items()} == clean_build(folder, tmp_path)


def test_the_key_is_the_same_for_every_store_and_kept_private(tmp_path, monkeypatch):
    path = tmp_path / "k" / "key"
    monkeypatch.setenv(cache.KEY_ENV, str(path))
    a = cache.Store(tmp_path / "out" / cache.CACHE / "x", "pdf", ".pdf")
    a.put("entry", b"data", pages=1)
    cache._secret.cache_clear()  # as a new process would read it
    assert cache.Store(tmp_path / "out" / cache.CACHE / "x", "pdf", ".pdf").get("entry") == (b"data", {"pages": 1})
    assert path.stat().st_mode & 0o777 == 0o600 and len(path.read_bytes()) == cache.KEY_BYTES


def pdf_entries(out: Path) -> dict[str, set[str]]:
    """Return the names of the PDF writer's entries in the edge manuscript's cache, by kind."""
    kept = cache.folder(out, "edge")
    return {kind: {p.name for p in (kept / kind).iterdir()} for kind in ("pdf", "piece", "plan", "count")}


def test_after_an_edit_the_cache_keeps_what_the_build_used_and_only_that(built, tmp_path):
    """The entries a rebuild leaves are a clean build's, pieces drawn in the worker processes too."""
    folder, out = built
    edit(folder)
    build(folder, out, ("pdf",), jobs=2)
    build(folder, tmp_path / "clean", ("pdf",), jobs=2)
    assert pdf_entries(out) == pdf_entries(tmp_path / "clean")
    assert all(pdf_entries(out).values())
