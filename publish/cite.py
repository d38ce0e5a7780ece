"""`publish cite`: each document's citation, from the manuscript's page-break model, in a reader's format.

The model is book/citation.py's; the formats are real libraries' work: CSL-JSON is the model serialised,
the text a CSL processor's (pandoc's citeproc with the Chicago full-note style history.state.gov uses),
BibTeX and BibLaTeX pandoc's, RIS rispy's. Nothing is laid out: the pages come from the page markers.
"""
from __future__ import annotations

import html
import json
import subprocess
from pathlib import Path

import pypandoc
import rispy
from lxml import html as lxml_html

from .book.citation import Citation, citations, csl_item
from .book.config import BOOK_FILE, Metadata, did_you_mean
from .book.errors import Diagnostic, ManuscriptError, PublishError, ToolError
from .book.markup import PANDOC_NOTE_BACK
from .build import STYLES, load
from .system import interrupt
from .system.fsutil import atomic_output

STYLE = STYLES / "csl" / "chicago-fullnote-bibliography.csl"
PANDOC = pypandoc.get_pandoc_path()
PANDOC_SECONDS = 120
TITLES = ("title", "container-title", "collection-title")


def cite(folder: Path, ids: list[str] | None = None, fmt: str = "text") -> str:
    """Return the citations of the documents named (all when none is), in reading order, in a format."""
    book, _ = load(folder)
    found = citations(book)
    if ids:
        known = {c.anchor: c for c in found}
        unknown = [i for i in dict.fromkeys(ids) if i not in known]
        if unknown:
            example = f", such as {found[0].anchor}" if found else ""
            raise ManuscriptError([Diagnostic(str(folder / BOOK_FILE), 0, 0, "K001", f"no document '{i}' in this "
                                              f"manuscript{did_you_mean(i, known)} (give a document's anchor{example}; "
                                              "without any, publish cite lists them all)") for i in unknown])
        found = [known[i] for i in dict.fromkeys(ids)]
    return render(book.meta, found, fmt)


def render(meta: Metadata, found: list[Citation], fmt: str) -> str:
    """Return citations as text, csl-json, bibtex, biblatex or ris (cli.CITE_FORMATS)."""
    items = [csl_item(meta, c) for c in found]
    if fmt == "csl-json":
        return json.dumps(items, ensure_ascii=False, indent=2) + "\n"
    if fmt in ("bibtex", "biblatex"):
        # The titles' capitals are the print edition's (Soviet Union): a BibTeX style may change a title's
        # case, so each is protected, as CSL-JSON's nocase markup, which pandoc writes as braces.
        protected = [{key: f'<span class="nocase">{html.escape(value, quote=False)}</span>' if key in TITLES else value
                      for key, value in item.items()} for item in items]
        return _pandoc(["-f", "csljson", "-t", fmt], json.dumps(protected)) if items else ""
    if fmt == "ris":
        return rispy.dumps([_ris(item) for item in items], implementation=_Ris) if items else ""
    return _notes(items)


def write(text: str, out: Path | None) -> None:
    """Print the citations, or write them to a file whole (a failure leaves an earlier file as it was)."""
    if out is None:
        print(text, end="")
        return
    with atomic_output(out) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _notes(items: list[dict]) -> str:
    """Return each citation as the style's full note, one a line, in order."""
    if not items:
        return ""
    # The items as the document's references (YAML reads JSON), each cited in a paragraph of its own:
    # a note style puts each in a note, numbered in order.
    markdown = "---\nreferences: " + json.dumps(items) + "\n...\n\n" + "\n\n".join(
        f"[@{{{item['id']}}}]" for item in items) + "\n"
    page = _pandoc(["-f", "markdown", "-t", "html5", "--citeproc", "--csl", str(STYLE)], markdown)
    root = lxml_html.fragment_fromstring(page, create_parent="div")
    notes = root.xpath("//section[contains(@class, 'footnotes')]/ol/li")
    lines = []
    for note in notes:
        for back in note.xpath(f".//a[contains(@class, '{PANDOC_NOTE_BACK}')]"):
            back.drop_tree()
        lines.append(" ".join(note.text_content().split()))
    return "".join(line + "\n" for line in lines)


class _Ris(rispy.RisWriter):
    """rispy's writer, without the count it puts before each record ("1."), which RIS does not have."""

    def set_header(self, count: int) -> str:
        return ""


def _ris(item: dict) -> dict:
    """Return a CSL-JSON item as a RIS record of a book section: its title, the book's, the series'."""
    first, _, last = item.get("page", "").partition("-")
    issued = item.get("issued", {})
    record = {"type_of_reference": "CHAP", "id": item["id"], "title": item["title"],
              "secondary_title": item.get("container-title", ""),
              "tertiary_title": ", ".join(filter(None, (item.get("collection-title"), item.get("collection-number")))),
              "volume": item.get("volume", ""), "start_page": first, "end_page": last,
              "secondary_authors": [", ".join(filter(None, (n.get("family"), n.get("given"), n.get("suffix"))))
                                    or n.get("literal", "") for n in item.get("editor", [])],
              "publisher": item.get("publisher", ""), "place_published": item.get("publisher-place", ""),
              "year": str(issued["date-parts"][0][0]) if "date-parts" in issued else issued.get("literal", ""),
              "urls": [item["URL"]] if "URL" in item else []}
    return {key: value for key, value in record.items() if value}


def _pandoc(args: list[str], text: str) -> str:
    """Run pandoc on text, reading no file or URL but the style given; return what it writes."""
    command = [PANDOC, *args, "--sandbox", "--wrap=none"]
    try:
        run = interrupt.run(command, text.encode("utf-8"), timeout=PANDOC_SECONDS)
    except subprocess.TimeoutExpired:
        raise PublishError(f"pandoc took more than {PANDOC_SECONDS} s to format the citations") from None
    except OSError as exc:
        raise ToolError(f"cannot run pandoc ({PANDOC}): {exc.strerror or exc}") from None
    if run.returncode:
        raise ToolError(f"pandoc failed (exit {run.returncode}): {run.stderr.decode(errors='replace').strip()}")
    return run.stdout.decode("utf-8")
