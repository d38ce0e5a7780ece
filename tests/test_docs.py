"""The README documents what the code declares."""
from conftest import ROOT
from publish.config import FIELDS


def test_readme_lists_every_book_yaml_key():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [key for key in FIELDS if f"| `{key}` |" not in readme] == []
