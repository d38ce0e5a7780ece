"""The volume's metadata: every ``book.yaml`` key declared once, with its type, default and doc."""
from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import Diagnostic
from .geometry import geometry_problem
from .pages import FACS_SLOT, LABEL

BOOK_FILE = "book.yaml"
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Values that end up in the PDF's CSS must be plain lengths or keywords (A4, landscape), nothing
# that could close the rule and add another: an @import would fetch.
_CSS_VALUE = r"(?:[0-9]*\.?[0-9]+(?:in|cm|mm|pt|pc|px|q|em|rem)?|[A-Za-z][A-Za-z0-9-]*)"
CSS_LENGTHS = (re.compile(rf"^{_CSS_VALUE}(?:\s+{_CSS_VALUE}){{0,3}}", re.I),
               "CSS lengths or keywords such as '6in 9in'")
LANGUAGE = (re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*"), "a BCP 47 language tag such as 'en' or 'en-US'")
PRINTED_LABEL = (re.compile(rf"(?:{LABEL})"), "a page label as printed: 588, XII or [I]")
PAGE_GAP = (re.compile(rf"(?:{LABEL})\s*[-–]\s*(?:{LABEL})"),
            "the pages on either side of a gap in the printed numbering, such as '4–8'")
# A scanned page's web address: https, {facs} once where the page's image is named, nothing that would end the
# link in HTML or let it run on in a PDF's string.
_URL_PART = r"[^\s\"'<>{}\\^`|]*"
FACSIMILE_URL = (re.compile(rf"https://[A-Za-z0-9.-]+(?::[0-9]+)?/{_URL_PART}{re.escape(FACS_SLOT)}{_URL_PART}"),
                 (f"an https:// address with {FACS_SLOT} where the page's scanned image is named, such as "
                  f"'https://static.history.state.gov/frus/frus1894/medium/{FACS_SLOT}.png'"))
# What a series' title adds to its name, which the verso's head leaves out.
SERIES_NAME = re.compile(r"^papers relating to (?:the )?|\s+of the united states\b[^,]*", re.I)
# A document's web address: {id} stands for its anchor; no space, nothing a citation would mangle.
DOCUMENT_URL = (re.compile(r"https?://[^\s{}]+\{id\}[^\s{}]*"),
                "a web address holding {id} where the document's anchor goes, such as "
                "'https://history.state.gov/historicaldocuments/frus1961-63v05/{id}'")
# A version names release files: no path separators, no spaces, nothing a shell or a URL would mangle.
VERSION = (re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]*"), "letters, digits, '.', '+', '_' and '-', such as '1.2.0'")
# Control characters: no text of the book may hold them (XML forbids most; none is ever meant).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _key(doc: str, default=None, required: bool = False, kind: type = str, form=None):
    """Declare one book.yaml key; form is (pattern, description) for values with a fixed shape."""
    meta = {"doc": doc, "required": required, "kind": kind, "form": form}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Metadata:
    """The volume as ``book.yaml`` describes it."""

    id: str = _key("Short identifier used for output file names, e.g. frus1961-63v05.", required=True)
    series: str = _key("Series title as printed, e.g. Foreign Relations of the United States.", "")
    subseries: str = _key("Years the subseries covers, e.g. 1961–1963.", "")
    volume: str = _key("Volume number as printed, e.g. Volume V.", "")
    volume_title: str = _key("Volume title as printed, e.g. Soviet Union.", required=True)
    editors: list = _key("Editors of the print edition, in order.", [], kind=list)
    general_editor: str = _key("General editor of the print edition.", "")
    publisher: str = _key("Publisher of the print edition, e.g. United States Government Printing Office.", "")
    place: str = _key("Place of publication of the print edition, e.g. Washington.", "")
    year: str = _key("Year of the print edition.", "")
    language: str = _key("Language of the text (BCP 47), used for hyphenation.", "en", form=LANGUAGE)
    rights: str = _key("Rights statement, e.g. Public domain: a work of the United States Government.", "")
    print_edition: str = _key("The print edition the original page numbers come from; made from the titles "
                              "and imprint when empty.", "")
    identifier: str = _key("Stable identifier of this edition, e.g. its web address; printed on the edition "
                           "page when given (import-tei writes the volume's on history.state.gov).", "")
    document_url: str = _key("Web address of each document, with {id} for its anchor, e.g. https://history.state."
                             "gov/historicaldocuments/frus1961-63v05/{id}: ends each citation (import-tei writes "
                             "it); none when empty.", "", form=DOCUMENT_URL)
    description: str = _key("One-paragraph description of the volume.", "")
    keywords: list = _key("Subject keywords.", [], kind=list)
    edition: str = _key("This edition's version, e.g. 1.2.0: names the release files; a release tag "
                        "v<edition> must agree.", "", form=VERSION)
    start_page: str = _key("Original page on which the first text begins when no marker precedes it.", "",
                          form=PRINTED_LABEL)
    page_gaps: list = _key("Gaps the print edition's page numbers have, each as the pages on either side: "
                           "4–8.", [], kind=list, form=PAGE_GAP)
    facsimile_url: str = _key("Web address of an original page's scanned image, {facs} standing for the name "
                              "its page marker gives ([Page 588]{facs=0616}); each margin number of the PDF and "
                              "page marker of the EPUB links to it. import-tei writes the address "
                              "history.state.gov shows a FRUS volume's scans at.", "", form=FACSIMILE_URL)
    running_head: str = _key("Verso running head; derived from series, subseries and volume when empty, as "
                             "FRUS prints it (Foreign Relations, 1927, Volume I); shortened to fit one line.", "")
    page_size: str = _key("Trim size of the PDF, as CSS: width then height.", "6in 9in", form=CSS_LENGTHS)
    margins: str = _key("PDF page margins as CSS: top outer bottom inner.", "0.75in 0.9in 0.8in 0.7in",
                         form=CSS_LENGTHS)
    font_size: str = _key("Body type size of the PDF.", "10.5pt", form=CSS_LENGTHS)
    front_matter: list = _key("Markdown files of the front matter (roman folios), in order.", [], kind=list)
    chapters: list = _key("Markdown files of the chapters, in order.", [], required=True, kind=list)

    @property
    def title(self) -> str:
        """The full title as FRUS prints it on the title page, in one line."""
        parts = (self.series, self.subseries, self.volume, self.volume_title)
        return ", ".join(p for p in parts if p)

    @property
    def verso_head(self) -> str:
        """The verso's head in FRUS's printed form: "Foreign Relations, 1927, Volume I"."""
        if self.running_head:
            return self.running_head
        # The series' short name: "Papers Relating to the Foreign Relations of the United States" and
        # "Foreign Relations of the United States Diplomatic Papers" are both printed "Foreign Relations".
        short = SERIES_NAME.sub("", self.series).strip() or self.series
        short = short[:1].upper() + short[1:]
        return ", ".join(p for p in (short, self.subseries, self.volume) if p) or self.volume_title

    @property
    def urn(self) -> str:
        """The identifier given, else one made from the id alone, which claims no publisher's address."""
        return self.identifier or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'frus-publish:' + self.id)}"

    @property
    def source_edition(self) -> str:
        """The print edition the page numbers come from, in words."""
        if self.print_edition:
            return self.print_edition
        imprint = ", ".join(p for p in (self.place, self.publisher, self.year) if p)
        return f"{self.title} ({imprint})" if imprint else self.title

    @property
    def files(self) -> list[str]:
        return list(self.front_matter) + list(self.chapters)


FIELDS = {f.name: f for f in dataclasses.fields(Metadata)}
# Keys that were renamed: still read, with a warning naming the new key.
RENAMED = {"version": "edition"}
# Names a newcomer writes for a key, from other tools' metadata (pandoc, Dublin Core, EPUB).
SYNONYMS = {"title": "volume_title", "name": "volume_title", "book_title": "volume_title",
            "author": "editors", "authors": "editors", "editor": "editors", "creator": "editors",
            "date": "year", "published": "year", "lang": "language", "city": "place", "license": "rights",
            "copyright": "rights", "isbn": "identifier", "doi": "identifier", "url": "identifier",
            "abstract": "description", "summary": "description", "subject": "keywords", "tags": "keywords",
            "files": "chapters", "chapter": "chapters", "toc": "chapters", "preface": "front_matter",
            "paper_size": "page_size", "papersize": "page_size", "fontsize": "font_size", "margin": "margins",
            "geometry": "margins", "version": "edition"}


def key_table() -> str:
    """Render every book.yaml key as the Markdown table docs/manuscript.md holds (make docs)."""
    rows = ["| key | what it is | default |", "|---|---|---|"]
    for name, f in FIELDS.items():
        doc = f.metadata["doc"] + "".join(f" Formerly `{old}`, still read with warning M016."
                                          for old, new in RENAMED.items() if new == name)
        value = f.default_factory() if f.default is dataclasses.MISSING else f.default
        default = "*required*" if f.metadata["required"] else f"`{value}`" if value else ""
        doc = doc.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
        rows.append(f"| `{name}` | {doc} | {default} |")
    return "\n".join(rows) + "\n"


def did_you_mean(name: str, known, synonyms: dict[str, str] | None = None) -> str:
    """Return '; did you mean ...?' for a name not known, from synonyms, case or spelling ('' if none)."""
    known, name = list(known), name[:200]  # difflib's time grows with the lengths compared
    if guess := (synonyms or {}).get(name.lower().replace("-", "_")):
        return f"; did you mean '{guess}'?"
    if cased := next((k for k in known if k.lower() == name.lower()), None):
        return f"; did you mean '{cased}'? (names are case-sensitive)"
    import difflib  # here: only a misspelt name needs it

    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def load_metadata(folder: Path) -> tuple[Metadata | None, list[Diagnostic]]:
    """Read and validate book.yaml; return the metadata (None if unusable) and every problem found."""
    path = folder / BOOK_FILE
    shown = str(path)
    if not folder.is_dir():
        state = "is a file, not a folder" if folder.exists() else "does not exist"
        return None, [Diagnostic(str(folder), 0, 0, "M015", f"the manuscript folder '{folder}' {state}"
                                 f"{did_you_mean(folder.name, _folders(folder.parent))}")]
    if not path.is_file():
        return None, [Diagnostic(shown, 0, 0, "M001", f"no {BOOK_FILE}: a manuscript folder needs one "
                                 "(see docs/manuscript.md)")]
    if not path.resolve().is_relative_to(folder.resolve()):
        return None, [Diagnostic(shown, 0, 0, "M009", f"{BOOK_FILE} links to a file outside the manuscript folder")]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Diagnostic(shown, 0, 0, "M002", not_utf8(path.read_bytes(), exc))]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except ValueError as exc:  # a number too long to read (Python caps integers at 4300 digits)
        return None, [Diagnostic(shown, 0, 0, "M003", f"YAML value cannot be read: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if tab := re.search(r"^[ -]*\t", text, re.M):
            line, col = text.count("\n", 0, tab.end()) + 1, tab.end() - tab.start()
            problem += "; YAML indents with spaces only: replace the tab at the start of the line by spaces"
        return None, [Diagnostic(shown, line, col, "M003", f"YAML syntax error: {problem}")]
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        return None, [Diagnostic(shown, 1, 1, "M004", "book.yaml must be a mapping of keys to values")]

    places = _places(node)
    diags = _duplicate_keys(shown, node)
    values = {}
    for key, value in data.items():
        line, col = places.get(str(key), [(0, 0)])[0]
        if key in RENAMED and RENAMED[key] not in data:
            diags.append(Diagnostic(shown, line, col, "M016", f"'{key}' is now called '{RENAMED[key]}': rename "
                                    "it", "warning"))
            key = RENAMED[key]
        if key not in FIELDS:
            hint = did_you_mean(str(key), FIELDS, SYNONYMS) or f"; known keys: {', '.join(FIELDS)}"
            diags.append(Diagnostic(shown, line, col, "M005", f"unknown key '{key}'{hint}"))
            continue
        value, problem = _coerce(FIELDS[key], value)
        if problem:
            diags.append(Diagnostic(shown, line, col, "M006", f"'{key}' {problem}"))
        else:
            values[key] = value
    for name, f in FIELDS.items():
        if not f.metadata["required"] or values.get(name) or (name in data and name not in values):
            continue  # given, or already reported as the wrong type
        line, col = places[name][0] if name in data else (1, 1)
        state = "empty" if name in data else "missing"
        diags.append(Diagnostic(shown, line, col, "M007", f"required key '{name}' is {state}: {f.metadata['doc']}"))
    # fullmatch: with match and $, "id\n" would pass, and name files with a newline.
    if values.get("id") and not ID_PATTERN.fullmatch(values["id"]):
        line, col = places["id"][0]
        diags.append(Diagnostic(shown, line, col, "M008", f"id '{values['id']}' may hold only letters, digits, "
                                "'.', '_' and '-' (it names the output files)"))
    if "chapters" not in values:
        return None, diags  # missing or unreadable: there is nothing more to check
    # With errors above, nothing will be built; the files that can be read are still checked, so that
    # one run reports every problem.
    meta = Metadata(**values)
    if problem := geometry_problem(meta.page_size, meta.margins, meta.font_size):
        key = next((k for k in ("margins", "page_size", "font_size") if k in places), "id")
        diags.append(Diagnostic(shown, *places.get(key, [(1, 1)])[0], "M014", f"the page cannot hold text: {problem}"))
    file_diags, unusable = _check_files(meta, folder, shown, places)
    meta.front_matter = [name for name in meta.front_matter if name not in unusable]
    meta.chapters = [name for name in meta.chapters if name not in unusable]
    return meta, diags + file_diags


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    """Say what a file that is not UTF-8 seems to be, and to save it as UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:200].count(b"\0") > len(data[:200]) // 4:
        seems = "it looks like UTF-16 ('Unicode' in some editors)"
    else:
        seems = f"{exc.reason} at byte {exc.start}, perhaps Latin-1 or Windows-1252"
    return f"not UTF-8 ({seems}): save the file as UTF-8 (in the editor's 'Save as' or 'Encoding' menu)"


def _folders(parent: Path) -> list[str]:
    """Return the names of the folders in parent that hold a book.yaml."""
    try:
        return [p.name for p in parent.iterdir() if (p / BOOK_FILE).is_file()]
    except OSError:
        return []


def _places(node: yaml.MappingNode) -> dict[str, list[tuple[int, int]]]:
    """Map each top-level key to the (line, column) of the key, then of each item of its list value."""
    places = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            items = value.value if isinstance(value, yaml.SequenceNode) else []
            places[key.value] = [(n.start_mark.line + 1, n.start_mark.column + 1) for n in [key, *items]]
    return places


def _duplicate_keys(shown: str, node: yaml.MappingNode) -> list[Diagnostic]:
    """Report keys given twice: YAML keeps the last silently."""
    seen, diags = {}, []
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        line = key.start_mark.line + 1
        if key.value in seen:
            diags.append(Diagnostic(shown, line, key.start_mark.column + 1, "M012", f"key '{key.value}' is "
                                    f"given twice (first on line {seen[key.value]}); the last one would win"))
        seen.setdefault(key.value, line)
    return diags


def _coerce(f, value) -> tuple[object, str]:
    """Return a key's value in its declared type, and what is wrong with it ('' when nothing)."""
    if f.metadata["kind"] is list:
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                                  for v in value):
            return value, "must be a list of strings"
        value = [str(v) for v in value]
    elif value is None:
        value = ""
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = str(value)
    else:
        return value, f"must be a string, not a {type(value).__name__}"
    texts = value if isinstance(value, list) else [value]
    if any(CONTROL.search(t) for t in texts):
        return value, "holds a control character"
    form = f.metadata["form"]
    for text in texts if form else ():
        if text and not form[0].fullmatch(text):
            return value, f"must be {form[1]}, not '{text}'"
    return value, ""


def _check_files(meta: Metadata, folder: Path, shown: str, places: dict) -> tuple[list[Diagnostic], set[str]]:
    """Check that every listed file exists inside the folder, once, and every Markdown file is listed.

    Return the problems, and the listed names that cannot be read as chapters.
    """
    diags, listed, unusable = [], {}, set()
    for key in ("front_matter", "chapters"):
        for index, name in enumerate(getattr(meta, key), 1):
            spots = places.get(key, [(0, 0)])
            line, col = spots[index] if index < len(spots) else spots[0]
            try:
                target = (folder / name).resolve()
                found = target.is_file()
            except (OSError, RuntimeError, ValueError) as exc:  # a name too long, a symlink loop, a NUL
                diags.append(Diagnostic(shown, line, col, "M010", f"{key} file '{name}' cannot be read: {exc}"))
                unusable.add(name)
                continue
            if not target.is_relative_to(folder.resolve()):
                diags.append(Diagnostic(shown, line, col, "M009", f"'{name}' lies outside the manuscript folder"))
                unusable.add(name)
            elif not found:
                present = [p.relative_to(folder).as_posix() for p in (*folder.glob("*.md"), *folder.glob("*/*.md"))]
                diags.append(Diagnostic(shown, line, col, "M010", f"{key} file '{name}' does not exist"
                                        f"{did_you_mean(name, present)}"))
                unusable.add(name)
            elif target in listed:
                diags.append(Diagnostic(shown, line, col, "M013", f"'{name}' is listed twice "
                                        f"(first on line {listed[target]})"))
            listed.setdefault(target, line)
    for md in sorted(folder.glob("*.md")):
        try:
            unlisted = md.resolve() not in listed
        except RuntimeError:  # a symlink loop: it is no chapter
            unlisted = True
        if unlisted:
            diags.append(Diagnostic(str(md), 0, 0, "M011", f"'{md.name}' is not listed in {BOOK_FILE}'s "
                                    "chapters or front_matter: add it or move it out", "warning"))
    return diags, unusable
