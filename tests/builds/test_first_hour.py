"""A new user's own book: nothing invented in it, and advice for the names and files a newcomer gets wrong."""
from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from publish.book.config import load_metadata
from publish.book.errors import ManuscriptError
from publish.build import build, check
from publish.tei.importer import import_tei

from conftest import PNG, TEI_DATA, make_manuscript
from readers import Ebook

# What a FRUS volume says of itself and a book of one's own must not, unless its book.yaml does.
FRUS_FACTS = ("Government Printing Office", "Washington", "Foreign Relations", "history.state.gov",
              "Public domain", "Office of the Historian")


def _texts(result) -> dict[str, str]:
    """Return the PDF's text and every text file of the EPUB (OPF, title page, chapters), by name."""
    with pdfplumber.open(result.outputs["pdf"]) as pdf:
        texts = {"pdf": "\n".join(page.extract_text() or "" for page in pdf.pages)}
    epub = Ebook(result.outputs["epub"])
    texts.update({name: data.decode("utf-8") for name, data in epub.files.items()
                  if name.endswith((".opf", ".xhtml", ".ncx"))})
    return texts


def test_a_minimal_book_states_nothing_it_was_not_told(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "book.yaml").write_text("id: mine\nvolume_title: My Own Book\nchapters: [one.md]\n", encoding="utf-8")
    (folder / "one.md").write_text("# One\n\nHello, reader.\n", encoding="utf-8")
    texts = _texts(build(folder, tmp_path / "out"))
    assert "My Own Book" in texts["pdf"] and "Hello, reader." in texts["pdf"]
    assert any("My Own Book" in text for name, text in texts.items() if name.endswith(".opf"))
    assert {(name, fact) for name, text in texts.items() for fact in FRUS_FACTS if fact in text} == set()
    # With no original page marked, there is no print edition to name or page numbers to explain.
    assert "reproduces the text of" not in texts["pdf"] and "outer margin" not in texts["pdf"]


def test_what_a_book_yaml_says_is_printed(tmp_path):
    folder = tmp_path / "said"
    folder.mkdir()
    (folder / "book.yaml").write_text(
        "id: said\nvolume_title: Said\nseries: Foreign Relations of the United States\n"
        "publisher: United States Government Printing Office\nplace: Washington\nyear: 1955\n"
        "rights: 'Public domain: a work of the United States Government.'\n"
        "identifier: https://history.state.gov/historicaldocuments/said\nchapters: [one.md]\n", encoding="utf-8")
    (folder / "one.md").write_text("# One\n\nText.\n", encoding="utf-8")
    texts = _texts(build(folder, tmp_path / "out"))
    pdf = " ".join(texts["pdf"].split())
    assert "United States Government Printing Office Washington, 1955" in pdf
    assert "Identifier: https://history.state.gov/historicaldocuments/said" in pdf
    opf = next(text for name, text in texts.items() if name.endswith(".opf"))
    assert "Public domain" in opf and "https://history.state.gov/historicaldocuments/said" in opf


def test_an_imported_volume_writes_the_imprint_its_tei_gives(tmp_path):
    import_tei(TEI_DATA / "frus1894Nicaragua.xml", tmp_path / "nic")
    meta, diags = load_metadata(tmp_path / "nic")
    assert not [d for d in diags if d.is_error]
    assert (meta.series, meta.publisher, meta.place, meta.year, meta.identifier) == (
        "Foreign Relations of the United States, 1894", "United States Government Printing Office", "Washington",
        "1895", "https://history.state.gov/historicaldocuments/frus1894Nicaragua")


# ---- the names and files a newcomer gets wrong: one input of each class ----

def _problems(folder: Path) -> list[str]:
    """Return every diagnostic a check of folder reports, as printed."""
    try:
        return [str(d) for d in check(folder).warnings]
    except ManuscriptError as exc:
        return [str(d) for d in exc.diagnostics]


@pytest.mark.parametrize("key, meant", [("title", "volume_title"), ("author", "editors"), ("Editors", "editors"),
                                        ("volme", "volume")])
def test_a_guessed_key_gets_the_key_meant(tmp_path, key, meant):
    folder = make_manuscript(tmp_path / "m", {"01.md": "# One\n\nText.\n"}, extra=f"{key}: x\n")
    assert [p for p in _problems(folder) if "M005" in p][0].endswith(f"unknown key '{key}'; did you mean '{meant}'?"
                                                                    + (" (names are case-sensitive)"
                                                                       if key.lower() == meant else ""))


@pytest.mark.parametrize("written, named, hint", [("chapter-1.md", "chapter-01.md", ""),
                                                  ("Chapter-01.md", "chapter-01.md", " (names are case-sensitive)")])
def test_a_misspelt_chapter_file_gets_the_file_there(tmp_path, written, named, hint):
    folder = make_manuscript(tmp_path / "m", {written: "# One\n\nText.\n"})
    (folder / written).rename(folder / named)
    assert f"M010 chapters file '{written}' does not exist; did you mean '{named}'?{hint}" in "\n".join(
        _problems(folder))


def test_an_image_named_in_other_capitals_gets_a_case_hint(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": "# One\n\n![A map](map.png)\n"})
    (folder / "Map.png").write_bytes(PNG)
    assert any(p.endswith("S007 image 'map.png' does not exist; did you mean 'Map.png'? (names are case-sensitive)")
               for p in _problems(folder))


def test_a_file_of_text_with_no_heading_says_where_its_text_begins(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": "<!-- a comment -->\n[Page 3]\n\nJust text.\n"})
    assert [p for p in _problems(folder) if "S00" in p] == [
        f"{folder / '01.md'}:4: S002 no chapter heading in this file: begin it with one, a line such as '# Title'"]


@pytest.mark.parametrize("encoding, seems", [("utf-16", "it looks like UTF-16"), ("latin-1", "perhaps Latin-1")])
@pytest.mark.parametrize("where", ["book.yaml", "01.md"])
def test_a_file_not_in_utf8_gets_advice_to_save_it_so(tmp_path, encoding, seems, where):
    folder = make_manuscript(tmp_path / "m", {"01.md": "# Café\n\nText.\n"}, extra="description: Café\n")
    (folder / where).write_bytes((folder / where).read_text(encoding="utf-8").encode(encoding, "replace"))
    message = next(p for p in _problems(folder) if "M002" in p)
    assert seems in message and message.endswith("save the file as UTF-8 (in the editor's 'Save as' or "
                                                 "'Encoding' menu)")


def test_a_tab_indenting_book_yaml_gets_advice(tmp_path):
    folder = make_manuscript(tmp_path / "m", {"01.md": "# One\n\nText.\n"})
    text = (folder / "book.yaml").read_text(encoding="utf-8")
    (folder / "book.yaml").write_text(text.replace("  - 01.md", "\t- 01.md"), encoding="utf-8")
    line = text.splitlines().index("  - 01.md") + 1
    [message] = _problems(folder)
    assert message.startswith(f"{folder / 'book.yaml'}:{line}:1: M003 ") and "replace the tab" in message


def test_a_folder_that_does_not_exist_is_named_as_such(tmp_path):
    make_manuscript(tmp_path / "mybook", {"01.md": "# One\n\nText.\n"})
    assert _problems(tmp_path / "mybok") == [f"{tmp_path / 'mybok'}: M015 the manuscript folder "
                                             f"'{tmp_path / 'mybok'}' does not exist; did you mean 'mybook'?"]
