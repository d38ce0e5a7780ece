"""The sample manuscript, mutated at random: every run ends in a valid build or a clean error.

Most examples run the check in-process (fast); a few run a whole build through the command line
in a subprocess, to prove end to end that no traceback is printed, nothing hangs and the previous
outputs survive a failure.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from publish.book.config import FIELDS
from publish.book.errors import EXIT_MANUSCRIPT, EXIT_OK, EXIT_REFUSED, PublishError
from publish.book.pages import MARKER
from publish.build import build, check

from conftest import ROOT, SAMPLE

CHAPTER = "01-mikoyan.md"
CODE = re.compile(r"^[MPSNTRL]\d{3}$")

where = st.floats(0, 1)
files = st.sampled_from([CHAPTER, CHAPTER, "book.yaml"])  # the text has more to get wrong
unicode = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
marks = st.sampled_from(list("[]{}()<>#|^*`:-\"“”'\t\n") + ["\x00", "\u202e", "\ufeff", "[^1]", "]:", "{#d270}",
                                                         '{style="font-size:1e9px"}', "<b onclick=x>"])
markers = st.sampled_from(["[Page 588]", "[Page 58 8]", "[page 588]", "[Pg. 588]", "[Page 588", "[Page 1]",
                           "[Page XII]", "[Page [I]]", "[Page [B2]]", "[Page IIX]", "", "[Page 587]", "[Page 590]"])
keys = st.sampled_from([*FIELDS, "chapterz", "volume_titel", "<<"])
values = st.sampled_from(["", "x", "[1, 2]", "{a: b}", "'open", "yes", "\n  - a", f"[{CHAPTER}]", "../x.md",
                          "null", "1e9", "2001-01-01", "\"\\x01\"", "10pt; } @import url(http://x)", "[\"../../etc\"]"])

mutation = st.one_of(
    st.tuples(st.just("bytes"), files, where, st.binary(max_size=4), st.integers(0, 4)),
    st.tuples(st.just("text"), files, where, unicode, st.integers(0, 3)),
    st.tuples(st.just("text"), files, where, marks, st.integers(0, 1)),
    st.tuples(st.just("marker"), st.integers(0, 9), markers),
    st.tuples(st.just("key"), keys, values),
)


def mutate(folder: Path, mutations) -> None:
    """Apply each mutation to the manuscript in folder."""
    for kind, *args in mutations:
        if kind in ("bytes", "text"):
            name, at, new, cut = args
            path = folder / name
            data = path.read_bytes()
            new = new if kind == "bytes" else new.encode("utf-8")
            start = int(at * len(data))
            path.write_bytes(data[:start] + new + data[start + cut:])
        elif kind == "marker":
            index, new = args
            path = folder / CHAPTER
            text = path.read_text(encoding="utf-8", errors="replace")
            found = list(MARKER.finditer(text))
            if found:
                hit = found[index % len(found)]
                path.write_text(text[:hit.start()] + new + text[hit.end():], encoding="utf-8")
        else:
            key, value = args
            path = folder / "book.yaml"
            text = path.read_bytes().decode("utf-8", errors="replace")
            line = f"{key}: {value}\n"
            replaced, count = re.subn(rf"(?m)^{re.escape(key)}:.*\n(?:  .*\n)*", lambda _: line, text, count=1)
            path.write_text(replaced if count else text + line, encoding="utf-8")


def assert_clean(diagnostics) -> None:
    """Every diagnostic names a file, a place and a known kind of code."""
    for diag in diagnostics:
        assert CODE.match(diag.code), diag
        assert diag.path and diag.line >= 0 and diag.column >= 0 and diag.message
        assert str(diag).startswith(diag.path)


@settings(max_examples=150, deadline=20_000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=3))
def test_mutated_manuscript_checks_cleanly(mutations):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "manuscript"
        shutil.copytree(SAMPLE, folder)
        mutate(folder, mutations)
        try:
            result = check(folder)
        except PublishError as exc:  # a user error: anything else is a bug and fails the test
            assert_clean(getattr(exc, "diagnostics", []))
            assert str(exc)
            event("error " + "".join(sorted({d.code[0] for d in getattr(exc, "diagnostics", [])})))
        else:
            event("ok")
            assert_clean(result.warnings)
            assert result.book.chapters


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> dict[str, bytes]:
    """The sample's outputs, built once."""
    out = tmp_path_factory.mktemp("previous")
    build(SAMPLE, out)
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_manuscript_builds_or_fails_cleanly_from_the_command_line(previous, mutations):
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "manuscript", Path(tmp) / "build"
        shutil.copytree(SAMPLE, folder)
        out.mkdir()
        for name, data in previous.items():
            (out / name).write_bytes(data)
        mutate(folder, mutations)
        run = subprocess.run([sys.executable, "-m", "publish", "all", str(folder), "--out", str(out)], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                             timeout=120)
        event(f"exit {run.returncode}")
        assert run.returncode in (EXIT_OK, EXIT_MANUSCRIPT, EXIT_REFUSED), run.stderr
        assert "Traceback" not in run.stderr
        assert not list(out.glob(".*.part"))
        if run.returncode != EXIT_OK:
            assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == previous
            assert run.stderr.splitlines()[-1].startswith("publish: ")
