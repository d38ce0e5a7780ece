"""The README and docs/ document what the code declares, their links lead somewhere, and their examples work."""
import re
import textwrap
import unicodedata
from pathlib import Path

import yaml

from publish.book.config import key_table
from publish.book.errors import EXIT_CODES
from publish.build import build

from conftest import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _prose(text: str) -> str:
    """Return the text without code blocks, indented code and code spans, where a link is only an example."""
    text = re.sub(r"^ *```.*?^ *```$", "", text, flags=re.S | re.M)
    text = re.sub(r"^(?: {4}|\t).*$", "", text, flags=re.M)
    return re.sub(r"(`+).+?\1", "", text, flags=re.S)


def _anchors(text: str) -> set[str]:
    """Return the anchors GitHub gives a Markdown file's headings."""
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", re.sub(r"^ *```.*?^ *```$", "", text, flags=re.S | re.M),
                              re.M):
        words = "".join(c for c in heading.lower() if c in " -_" or unicodedata.category(c)[0] in "LN")
        anchors.add(words.replace(" ", "-"))
    return anchors


def test_the_key_table_is_the_one_the_declarations_make():
    """docs/manuscript.md holds the table `make docs` renders from config.py: a key added, renamed or
    described anew without `make docs` fails here."""
    manuscript = _text(DOCS / "manuscript.md")
    assert f"<!-- keys:begin -->\n{key_table()}<!-- keys:end -->\n" in manuscript


def test_the_code_table_lists_every_code_the_code_reports():
    table = _text(DOCS / "checks-and-safety.md").split("## Error and warning codes")[1].split("\n## ")[0]
    listed = re.findall(r"^\| ([A-Z]\d{3})\b", table, re.M)
    reported = {code for path in (ROOT / "publish").rglob("*.py")
                for code in re.findall(r"""["']([A-Z]\d{3})["']""", _text(path))}
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(reported)


def test_the_docs_list_every_exit_code():
    page = _text(DOCS / "checks-and-safety.md")
    table = page.split("Exit codes (also listed by `publish --help`):")[1].split("\n\n")[1]
    assert [int(row.split("|")[1]) for row in table.splitlines()[2:]] == list(EXIT_CODES)


def test_every_relative_link_resolves():
    """Every link to a file of the repository names one that exists, and every #anchor a heading in it."""
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)(?: \"[^\"]*\")?\)", _prose(_text(page))):
            if re.match(r"[a-z]+:", target):
                continue  # a web address or mailto:, not a file here
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists() or not linked.is_relative_to(ROOT):
                broken.append((page.name, target))
            elif anchor and (linked.suffix != ".md" or anchor not in _anchors(_text(linked))):
                broken.append((page.name, target))
    assert broken == []


def test_every_doc_is_linked_from_the_readme_and_every_picture_shown():
    readme = _text(ROOT / "README.md")
    shown = "".join(_text(page) for page in PAGES)
    assert [page.name for page in DOCS.glob("*.md") if f"](docs/{page.name})" not in readme] == []
    assert [image.name for image in DOCS.glob("*.png") if f"{image.name})" not in shown] == []


def test_the_readme_opens_with_a_page_and_the_two_commands():
    """What a newcomer sees first: what it is, a page of the PDF, `make pdf` and `make test`."""
    readme = _text(ROOT / "README.md")
    first_screen = "\n".join(readme.splitlines()[:30])
    assert "![" in first_screen and "make pdf" in first_screen and "make test" in first_screen
    assert len(readme.splitlines()) < 120


def test_readme_first_book_builds_with_no_warning(tmp_path):
    """The book of the README's five-minute tour builds as it stands, with what it shows."""
    tour = _text(ROOT / "README.md").split("## Your own book in five minutes")[1]
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
