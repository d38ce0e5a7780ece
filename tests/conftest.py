"""Shared fixtures: real builds of small manuscripts, read back as a reader would."""
from __future__ import annotations

import base64
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from publish.build import build

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "manuscript"
ROOTS = Path(__file__).resolve().parent / "roots"
# Real FRUS volumes in TEI (public domain), kept in the repository so that a clone alone runs the suite.
TEI_DATA = Path(__file__).resolve().parent / "data"
# Every build in the suite is dated by this, never by the clock or by when the repository was last
# committed to: a test that compares two builds, or a build with a date, holds on any day. Tests of
# how the date is chosen set or remove it themselves.
FIXED_EPOCH = "1700000000"
os.environ["SOURCE_DATE_EPOCH"] = FIXED_EPOCH


@pytest.fixture(scope="session", autouse=True)
def cache_key(tmp_path_factory):
    """Sign the suite's cache entries with a key of its own, one for the whole run, never the user's."""
    from publish.system import cache
    before = os.environ.get(cache.KEY_ENV)
    os.environ[cache.KEY_ENV] = str(tmp_path_factory.mktemp("cache-key") / "key")
    yield Path(os.environ[cache.KEY_ENV])
    if before is None:
        del os.environ[cache.KEY_ENV]
    else:
        os.environ[cache.KEY_ENV] = before


# The smallest real PNG (one pixel): images are judged by their content, so a header alone is refused.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
                       "hgGAWjR9awAAAABJRU5ErkJggg==")

BOOK_YAML = """\
id: {id}
volume_title: Test Volume
subseries: 1961–1963
volume: Volume V
editors: [A. Editor]
year: 1998
{extra}chapters:
{chapters}
"""


def make_manuscript(folder: Path, chapters: dict[str, str], extra: str = "", book_id: str = "test") -> Path:
    """Write a small manuscript: book.yaml plus the given chapter files (dedented)."""
    folder.mkdir(parents=True, exist_ok=True)
    listing = "".join(f"  - {name}\n" for name in chapters)
    (folder / "book.yaml").write_text(BOOK_YAML.format(id=book_id, extra=extra, chapters=listing), encoding="utf-8")
    for name, text in chapters.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


def require(wanted: list[tuple[str, object]]) -> None:
    """Fail (on CI) or skip (elsewhere) unless each named engine is there (its second item true)."""
    missing = [what for what, there in wanted if not there]
    if missing:
        reason = f"{', '.join(missing)} missing: run tests/js/setup.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def copy_root(name: str, tmp_path: Path) -> Path:
    """Copy a manuscript from tests/roots into a temporary folder."""
    target = tmp_path / name
    shutil.copytree(ROOTS / name, target)
    return target


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """Build the sample manuscript once: both formats."""
    out = tmp_path_factory.mktemp("sample")
    return build(SAMPLE, out)


@pytest.fixture(scope="session")
def edge_build(tmp_path_factory):
    """Build the edge-case manuscript once: both formats."""
    out = tmp_path_factory.mktemp("edge")
    return build(ROOTS / "edge", out)


@pytest.fixture(scope="session")
def synthetic_build(tmp_path_factory):
    """Build a generated 40-page manuscript: many breaks, in every position a line can give them."""
    from synthetic import generate
    folder = generate(tmp_path_factory.mktemp("synthetic") / "m", 40, chapter_pages=20)
    return build(folder, tmp_path_factory.mktemp("synthetic-out"), ("pdf",))
