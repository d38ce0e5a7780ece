"""The README documents what the code declares."""
from conftest import ROOT
from publish.config import FIELDS


def test_readme_lists_every_book_yaml_key():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [key for key in FIELDS if f"| `{key}` |" not in readme] == []


def test_readme_lists_every_exit_code():
    from publish.errors import EXIT_CODES
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("Exit codes (also listed by `publish --help`):")[1].split("\n\n")[1]
    assert [int(row.split("|")[1]) for row in table.splitlines()[2:]] == list(EXIT_CODES)
