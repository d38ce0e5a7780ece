"""The README documents what the code declares, and its examples work."""
import re
import textwrap

import yaml

from publish.book.config import FIELDS
from publish.build import build

from conftest import ROOT


def test_readme_lists_every_book_yaml_key():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [key for key in FIELDS if f"| `{key}` |" not in readme] == []


def test_readme_lists_every_exit_code():
    from publish.book.errors import EXIT_CODES
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("Exit codes (also listed by `publish --help`):")[1].split("\n\n")[1]
    assert [int(row.split("|")[1]) for row in table.splitlines()[2:]] == list(EXIT_CODES)


def test_readme_first_book_builds_with_no_warning(tmp_path):
    """The book of the README's five-minute tour builds as it stands, with what it shows."""
    tour = (ROOT / "README.md").read_text(encoding="utf-8").split("## Your own book in five minutes")[1]
    tour = textwrap.dedent(tour.split("\n## ")[0])
    blocks = dict(re.findall(r"^ *```(yaml|markdown)\n(.*?)^ *```$", tour, re.S | re.M))
    folder = tmp_path / "mybook"
    folder.mkdir()
    (folder / "book.yaml").write_text(textwrap.dedent(blocks["yaml"]), encoding="utf-8")
    meta = yaml.safe_load(blocks["yaml"])
    (folder / meta["chapters"][0]).write_text(textwrap.dedent(blocks["markdown"]), encoding="utf-8")
    result = build(folder, tmp_path / "build", strict=True)
    assert sorted(p.name for p in result.outputs.values()) == ["mybook.epub", "mybook.pdf"]
    assert result.warnings == [] and result.book.meta.volume_title == "My First Book"
    assert [b.label for b in result.book.page_breaks] == ["2"]
