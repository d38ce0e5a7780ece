"""Faults around a build: interrupts, a full disk, a dying worker, a cache that lies, other manuscripts."""
from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import psutil
import pytest
import weasyprint

import publish.pdf.typeset
from publish import cli
from publish.book.errors import EXIT_INTERRUPTED, EXIT_OUTPUT
from publish.build import build
from publish.system import cache

from conftest import ROOT, ROOTS, SAMPLE
from synthetic import generate

SAMPLE_ID = "frus1961-63v05-d270"


@pytest.fixture
def book(tmp_path):
    """A generated manuscript of several chapters (so that the PDF is laid out by worker processes),
    built once into out/: (folder, out, the bytes of its outputs)."""
    folder = generate(tmp_path / "m", 60, chapter_pages=15)
    out = tmp_path / "out"
    build(folder, out, jobs=2)
    outputs = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert len(outputs) == 2
    return folder, out, outputs


def untouched(out: Path, outputs: dict[str, bytes]) -> bool:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == outputs


def start(args: list, tmp_path: Path, **limits) -> subprocess.Popen:
    """Start `publish` in a session of its own (a terminal's Ctrl-C reaches the whole group)."""
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir(exist_ok=True)

    def limit():
        for name, value in limits.items():
            resource.setrlimit(getattr(resource, name), (value, value))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file too large fails the write, as a full disk does
    return subprocess.Popen([sys.executable, "-m", "publish", *map(str, args)], cwd=ROOT, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmpdir)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit)


def workers_of(process: subprocess.Popen, count: int = 2, timeout: float = 120) -> list[psutil.Process]:
    """Wait until the build has its PDF workers laying out; return them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            found = [p for p in psutil.Process(process.pid).children() if "spawn_main" in " ".join(p.cmdline())]
        except psutil.Error:
            found = []  # a process came or went while they were listed
        if len(found) >= count:
            time.sleep(1)  # inside WeasyPrint's layout by now
            return found
        time.sleep(0.05)
    raise AssertionError("the build never started its PDF workers")


def test_ctrl_c_stops_a_parallel_build_with_one_line_and_leaves_nothing(book, tmp_path):
    folder, out, outputs = book
    # Two chapters to lay out: for one, the build starts no workers.
    for name in ("01-chapter.md", "02-chapter.md"):
        (folder / name).write_text((folder / name).read_text() + "\nOne more line.\n")
    process = start(["all", folder, "--out", out], tmp_path)
    workers_of(process)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr) == (EXIT_INTERRUPTED, "publish: interrupted; earlier outputs are untouched\n")
    assert untouched(out, outputs)
    assert not list(out.glob(".*.part"))
    # No folder of the build's or WeasyPrint's is left. (Once in several runs an empty file named
    # tmpXXXXXXXX, of a process not yet identified, stayed behind: nothing of the book is in it.)
    left = list((tmp_path / "tmpdir").iterdir())
    assert all(p.is_file() and p.stat().st_size == 0 and p.name.startswith("tmp") for p in left), left


def test_an_interrupt_swallowed_by_the_renderer_still_wins(book, monkeypatch, capsys):
    """WeasyPrint's SVG drawing catches BaseException: the interrupt must still stop the build."""
    folder, out, outputs = book
    (folder / "01-chapter.md").write_text((folder / "01-chapter.md").read_text() + "\nOne more line.\n")
    draw = weasyprint.Document.write_pdf

    def swallowing(self, *args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except BaseException:  # noqa: B036 - what the renderer does
            pass
        return draw(self, *args, **kwargs)
    monkeypatch.setattr(weasyprint.Document, "write_pdf", swallowing)
    assert cli.main(["all", str(folder), "--out", str(out), "--jobs", "1"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "publish: interrupted; earlier outputs are untouched\n"
    assert untouched(out, outputs)


def test_a_full_disk_is_one_clear_error_and_leaves_the_previous_outputs(book, tmp_path):
    folder, out, outputs = book
    (folder / "01-chapter.md").write_text((folder / "01-chapter.md").read_text() + "\nOne more line.\n")
    process = start(["all", folder, "--out", out], tmp_path, RLIMIT_FSIZE=20_000)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == EXIT_OUTPUT, stderr
    # (fontconfig, which cannot write its own cache either, may say so first.)
    assert stderr.splitlines()[-1].startswith(f"publish: error: cannot write to {out}: File too large")
    assert "Traceback" not in stderr
    assert untouched(out, outputs) and not list(out.glob(".*.part"))


def test_a_build_leaves_no_temporary_folder(tmp_path):
    process = start(["pdf", ROOTS / "edge", "--out", tmp_path / "out", "--jobs", "2"], tmp_path)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert not list((tmp_path / "tmpdir").iterdir())


def test_each_manuscript_keeps_its_own_cache(tmp_path, monkeypatch):
    out = tmp_path / "out"
    build(SAMPLE, out, ("pdf",), jobs=1)
    build(ROOTS / "edge", out, ("pdf",), jobs=1)
    laid = []
    layout = publish.pdf.typeset.Typesetter.layout
    monkeypatch.setattr(publish.pdf.typeset.Typesetter, "layout",
                        lambda self, html, *rest: laid.append(html) or layout(self, html, *rest))
    build(SAMPLE, out, ("pdf",), jobs=1)
    # Nothing: every part, the prelims too, comes from the sample's own cache.
    assert laid == []
    assert sorted(p.name for p in (out / cache.CACHE).iterdir()) == sorted(["edge", SAMPLE_ID])


def _javascript_in(pdf: Path) -> list[str]:
    with pikepdf.open(pdf) as doc:
        return [str(obj.get("/S")) for obj in doc.objects
                if isinstance(obj, pikepdf.Dictionary) and ("/JS" in obj or obj.get("/S") == pikepdf.Name.JavaScript)]


@pytest.mark.parametrize("where", ["catalog", "page", "link", "untagged"])
def test_a_tampered_cache_entry_is_laid_out_again_not_joined(tmp_path, where):
    out = tmp_path / "out"
    build(ROOTS / "edge", out, ("pdf",), jobs=1)
    kept = cache.folder(out, "edge")
    # The parts laid out whole (the prelims), and the pieces a chapter is made of (publish/pdf/pieces.py): the
    # chapter's own entry only lists them.
    entries = [*(kept / "pdf").glob("*.pdf"), *(kept / "piece").glob("*.pdf")]
    assert sum(entry.stat().st_size == 0 for entry in entries) == 3  # the preface and two chapters
    for entry in (entry for entry in entries if entry.stat().st_size):
        with pikepdf.open(entry, allow_overwriting_input=True) as part:
            script = part.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
            if where == "catalog":
                part.Root.OpenAction = script
            elif where == "untagged":  # as an entry from before tagging would be
                del part.Root.StructTreeRoot
            elif where == "page":
                part.pages[0].obj.AA = pikepdf.Dictionary(O=script)
            else:
                part.pages[0].obj.Annots = part.make_indirect(pikepdf.Array([pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10], A=script)]))
            part.save(entry)
        # Whoever can write the cache can also write the digest beside an entry.
        info = entry.with_suffix(".json")
        data = json.loads(info.read_text())
        info.write_text(json.dumps(data | {"sha256": hashlib.sha256(entry.read_bytes()).hexdigest()}))
    rebuilt = build(ROOTS / "edge", out, ("pdf",), jobs=1)
    assert _javascript_in(rebuilt.outputs["pdf"]) == []
    clean = build(ROOTS / "edge", tmp_path / "clean", ("pdf",), jobs=1)
    assert rebuilt.outputs["pdf"].read_bytes() == clean.outputs["pdf"].read_bytes()


def test_a_damaged_cache_entry_is_a_miss(tmp_path):
    out = tmp_path / "out"
    first = build(ROOTS / "edge", out, ("pdf",), jobs=1).outputs["pdf"].read_bytes()
    for entry in (cache.folder(out, "edge") / "pdf").glob("*.pdf"):
        entry.write_bytes(entry.read_bytes()[:-100])
    assert build(ROOTS / "edge", out, ("pdf",), jobs=1).outputs["pdf"].read_bytes() == first


def test_an_image_replaced_under_its_name_is_drawn_anew(tmp_path):
    from PIL import Image
    folder = tmp_path / "m"
    (folder).mkdir()
    (folder / "book.yaml").write_text((ROOTS / "edge" / "book.yaml").read_text())
    for md in (ROOTS / "edge").glob("*.md"):
        (folder / md.name).write_text(md.read_text())
    chapter = folder / "01-one.md"
    chapter.write_text(chapter.read_text() + "\n![A map](map.png)\n")
    Image.new("RGB", (40, 20), "white").save(folder / "map.png")
    out = tmp_path / "out"
    build(folder, out, ("pdf",), jobs=1)
    Image.new("RGB", (40, 20), "black").save(folder / "map.png")
    rebuilt = build(folder, out, ("pdf",), jobs=1).outputs["pdf"].read_bytes()
    clean = build(folder, tmp_path / "clean", ("pdf",), jobs=1).outputs["pdf"].read_bytes()
    assert rebuilt == clean
