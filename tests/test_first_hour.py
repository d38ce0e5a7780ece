"""A new user's own book: nothing invented in it, and advice for the names and files a newcomer gets wrong."""
from __future__ import annotations

import pdfplumber
import pytest

from conftest import TEI_DATA
from publish.build import build
from publish.config import load_metadata
from publish.tei import import_tei
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
