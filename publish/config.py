"""The volume's metadata: every ``book.yaml`` key declared once, with its type, default and doc."""
from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import Diagnostic

BOOK_FILE = "book.yaml"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _key(doc: str, default=None, required: bool = False, kind: type = str):
    """Declare one book.yaml key."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default),
                     metadata={"doc": doc, "required": required, "kind": kind})
    return field(default=default, metadata={"doc": doc, "required": required, "kind": kind})


@dataclass
class Metadata:
    """The volume as ``book.yaml`` describes it."""

    id: str = _key("Short identifier used for output file names, e.g. frus1961-63v05.", required=True)
    series: str = _key("Series title as printed.", "Foreign Relations of the United States")
    subseries: str = _key("Years the subseries covers, e.g. 1961–1963.", "")
    volume: str = _key("Volume number as printed, e.g. Volume V.", "")
    volume_title: str = _key("Volume title as printed, e.g. Soviet Union.", required=True)
    editors: list = _key("Editors of the print edition, in order.", [], kind=list)
    general_editor: str = _key("General editor of the print edition.", "")
    publisher: str = _key("Publisher of the print edition.", "United States Government Printing Office")
    place: str = _key("Place of publication of the print edition.", "Washington")
    year: str = _key("Year of the print edition.", "")
    language: str = _key("Language of the text (BCP 47), used for hyphenation.", "en")
    rights: str = _key("Rights statement.", "Public domain: a work of the United States Government.")
    print_edition: str = _key("The print edition the original page numbers come from.", "")
    identifier: str = _key("Stable identifier of this edition; derived from id when empty.", "")
    description: str = _key("One-paragraph description of the volume.", "")
    keywords: list = _key("Subject keywords.", [], kind=list)
    version: str = _key("Edition version; a release tag v<version> overrides it.", "")
    start_page: str = _key("Original page on which the first text begins when no marker precedes it.", "")
    running_head: str = _key("Verso running head; derived from series, subseries and volume when empty.", "")
    page_size: str = _key("Trim size of the PDF, as CSS: width then height.", "6in 9in")
    margins: str = _key("PDF page margins as CSS: top outer bottom inner.", "0.75in 0.9in 0.8in 0.7in")
    font_size: str = _key("Body type size of the PDF.", "10.5pt")
    front_matter: list = _key("Markdown files of the front matter (roman folios), in order.", [], kind=list)
    chapters: list = _key("Markdown files of the chapters, in order.", [], required=True, kind=list)

    @property
    def title(self) -> str:
        """The full title as FRUS prints it on the title page, in one line."""
        parts = [self.series + (f", {self.subseries}" if self.subseries else "")]
        parts += [p for p in (self.volume, self.volume_title) if p]
        return ", ".join(parts)

    @property
    def verso_head(self) -> str:
        if self.running_head:
            return self.running_head
        short = "Foreign Relations" if self.series.startswith("Foreign Relations") else self.series
        return ", ".join(p for p in (short + (f", {self.subseries}" if self.subseries else ""), self.volume) if p)

    @property
    def urn(self) -> str:
        return self.identifier or f"https://history.state.gov/historicaldocuments/{self.id}"

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


def load_metadata(folder: Path) -> tuple[Metadata | None, list[Diagnostic]]:
    """Read and validate book.yaml; return the metadata (None if unusable) and every problem found."""
    path = folder / BOOK_FILE
    shown = str(path)
    if not path.is_file():
        return None, [Diagnostic(shown, 0, 0, "M001", f"no {BOOK_FILE}: a manuscript folder needs one "
                                 "(see README, 'The manuscript')")]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Diagnostic(shown, 0, 0, "M002", f"not UTF-8 ({exc.reason} at byte {exc.start})")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [Diagnostic(shown, line, col, "M003", f"YAML syntax error: {problem}")]
    if not isinstance(data, dict) or node is None:
        return None, [Diagnostic(shown, 1, 1, "M004", "book.yaml must be a mapping of keys to values")]

    lines = {k.value: (k.start_mark.line + 1, k.start_mark.column + 1) for k, _ in node.value
             if hasattr(k, "value") and isinstance(k.value, str)}
    diags: list[Diagnostic] = []
    values = {}
    for key, value in data.items():
        line, col = lines.get(key, (0, 0))
        if key not in FIELDS:
            guess = difflib.get_close_matches(str(key), FIELDS, n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else f"; known keys: {', '.join(FIELDS)}"
            diags.append(Diagnostic(shown, line, col, "M005", f"unknown key '{key}'{hint}"))
            continue
        kind = FIELDS[key].metadata["kind"]
        if kind is list:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
                diags.append(Diagnostic(shown, line, col, "M006", f"'{key}' must be a list of strings"))
                continue
            value = [str(v) for v in value]
        elif value is None:
            value = ""
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = str(value)
        else:
            diags.append(Diagnostic(shown, line, col, "M006", f"'{key}' must be a string, "
                                    f"not a {type(value).__name__}"))
            continue
        values[key] = value
    for name, f in FIELDS.items():
        if f.metadata["required"] and not values.get(name):
            diags.append(Diagnostic(shown, 1, 1, "M007", f"required key '{name}' is missing: {f.metadata['doc']}"))
    if values.get("id") and not ID_PATTERN.match(values["id"]):
        line, col = lines["id"]
        diags.append(Diagnostic(shown, line, col, "M008", f"id '{values['id']}' may hold only letters, digits, "
                                "'.', '_' and '-' (it names the output files)"))
    if any(d.is_error for d in diags):
        return None, diags
    meta = Metadata(**values)
    for key in ("front_matter", "chapters"):
        for name in getattr(meta, key):
            line, col = lines.get(key, (0, 0))
            target = (folder / name).resolve()
            if not target.is_relative_to(folder.resolve()):
                diags.append(Diagnostic(shown, line, col, "M009", f"'{name}' lies outside the manuscript folder"))
            elif not target.is_file():
                diags.append(Diagnostic(shown, line, col, "M010", f"{key} file '{name}' does not exist"))
    listed = {(folder / n).resolve() for n in meta.files}
    for md in sorted(folder.glob("*.md")):
        if md.resolve() not in listed:
            diags.append(Diagnostic(str(md), 0, 0, "M011", f"'{md.name}' is not listed in {BOOK_FILE}'s "
                                    "chapters or front_matter: add it or move it out", "warning"))
    return meta, diags
