"""Import a FRUS volume from the Office of the Historian's TEI XML as a manuscript (book.yaml and Markdown)."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from lxml import etree

from .config import BOOK_FILE, FIELDS
from .errors import Diagnostic, OutputError, RefusedError, SourceError
from .fsutil import atomic_folder
from .pages import MARKER, UNLABELLED, PageBreak, gap_name, gaps
from .teitext import XML_ID, Renderer, Volume, escape, headed, label_of, local

# The names import-tei gives the Markdown files it writes: 01-title-page.md.
IMPORTED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.md")
# titleStmt title types -> book.yaml keys
TITLES = {"series": "series", "subseries": "subseries", "volumenumber": "volume", "volume": "volume_title"}


@dataclass
class ImportResult:
    """What an import wrote, and what it could not carry over exactly."""

    files: list[Path] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass
class _File:
    """One Markdown file of the manuscript being made."""

    name: str
    front: bool
    lines: list[str]


def import_tei(volume: Path, manuscript: Path, force: bool = False) -> ImportResult:
    """Write a manuscript made from a TEI volume; refuse to replace an existing one unless forced."""
    root = parse(volume)
    _check_target(manuscript, force)
    text = _text_of(root)
    vol = Volume(str(volume), *_index(text, str(volume)))
    meta = _metadata(root, text, volume, vol)
    files = _files(text, vol)
    meta["front_matter"] = [f.name for f in files if f.front]
    meta["chapters"] = [f.name for f in files if not f.front]
    if not meta["chapters"]:
        raise SourceError("no text to import: the file holds no division or document", volume)
    header = f"# Imported from {volume.name} by `publish import-tei`: edit freely.\n"
    texts = {f.name: "\n".join(_squeeze(f.lines)) + "\n" for f in files}
    texts[BOOK_FILE] = header + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    _write(manuscript, texts, volume)
    return ImportResult([manuscript / name for name in [BOOK_FILE, *(f.name for f in files)]], vol.warnings)


def _write(manuscript: Path, texts: dict[str, str], volume: Path) -> None:
    """Write the files; into an existing folder, replace only what an earlier import wrote, book.yaml last."""
    if not manuscript.exists():
        with atomic_folder(manuscript) as tmp:
            for name, text in texts.items():
                (tmp / name).write_text(text, encoding="utf-8")
        return
    earlier = _imported(manuscript)
    for name in texts:
        if (manuscript / name).exists() and name not in earlier:
            raise RefusedError(f"{manuscript / name} was not written by an import (book.yaml does not list it): "
                               "move it away, or import into a new folder")
    if volume.resolve() in {(manuscript / name).resolve() for name in earlier | set(texts)}:
        raise RefusedError(f"{volume} would be replaced by the import: keep the TEI file apart from the manuscript")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".import-", suffix=".part", dir=manuscript))
    except OSError as exc:
        raise OutputError(f"cannot write to {manuscript}: {exc.strerror}") from None
    try:
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8")
        for name in sorted(texts, key=lambda n: n == BOOK_FILE):
            os.replace(tmp / name, manuscript / name)
        for name in earlier - set(texts):
            (manuscript / name).unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write to {manuscript}: {exc.strerror}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _imported(manuscript: Path) -> set[str]:
    """Return the files an earlier import wrote: book.yaml and the Markdown files it lists in the folder."""
    if not (manuscript / BOOK_FILE).is_file():
        return set()
    try:
        data = yaml.safe_load((manuscript / BOOK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):  # ValueError: not UTF-8, or a number too long
        data = None
    listed = [] if not isinstance(data, dict) else \
        [n for key in ("front_matter", "chapters") if isinstance(data.get(key), list) for n in data[key]]
    # Only names an import writes: a Markdown file directly in the folder, not a link out of it.
    return {BOOK_FILE} | {n for n in listed if isinstance(n, str) and IMPORTED_NAME.fullmatch(n)
                          and not (manuscript / n).is_symlink() and not (manuscript / n).is_dir()}


def parse(path: Path):
    """Parse a TEI file; a missing or malformed file is one clear message with its line."""
    if not path.is_file():
        raise SourceError("no such TEI file", path)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
    try:
        return etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"not well-formed XML: {exc.msg}", path, exc.lineno or 0) from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", path) from None


def _check_target(target: Path, force: bool) -> None:
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        return
    if not force:
        raise RefusedError(f"{target} already exists: import into a new folder, or pass --force to replace it")
    if not (target / BOOK_FILE).is_file():
        raise RefusedError(f"{target} is not a manuscript folder (it has no {BOOK_FILE}): "
                           "--force replaces only a manuscript")


def _text_of(root):
    """Return the element holding the text: TEI's <text>, or the root of a fragment."""
    if local(root) == "TEI":
        found = root.find("{*}text")
        if found is None:
            found = root.find("text")
        if found is not None:
            return found
    return root


def _index(text, path: str) -> tuple[dict, dict, set, set, list]:
    """Find page breaks, the ids refs point to, and the ids the Markdown will define."""
    pages, markers, warnings, seen = {}, {}, [], {}
    for pb in text.iter("{*}pb", "pb"):
        label = label_of(pb) or UNLABELLED
        if label == UNLABELLED:
            markers[pb] = f"[Page {label}]"  # a page boundary, not a page a link can go to
            continue
        if not MARKER.fullmatch(f"[Page {label}]"):
            warnings.append(Diagnostic(path, pb.sourceline, 0, "I007", f"page label '{label}' cannot be written "
                                       "as a page marker ([Page 588], [Page XII], [Page [I]]): left out",
                                       "warning"))
            continue
        if label in seen:
            warnings.append(Diagnostic(path, pb.sourceline, 0, "I008", f"page {label} is marked twice (first on "
                                       f"line {seen[label]}): the second marker is left out", "warning"))
            continue
        seen[label] = pb.sourceline
        markers[pb] = f"[Page {label}]"
        if pb.get(XML_ID):
            pages[pb.get(XML_ID)] = PageBreak(label)
    targets = {t.split("#", 1)[1] for ref in text.iter("{*}ref", "ref")
               for t in (ref.get("target") or "").split() if t.startswith("#")}
    ids = {el.get(XML_ID): el for el in text.iter() if isinstance(el.tag, str) and el.get(XML_ID)}
    anchors = {i for i, el in ids.items() if local(el) == "div" or (i in targets and local(el) != "pb")}
    return pages, markers, targets, anchors, warnings


def _metadata(root, text, path: Path, vol: Volume) -> dict:
    """Return book.yaml's keys from the teiHeader (and the text, where the header is silent)."""
    def find(xpath: str) -> str:
        found = root.xpath(xpath, namespaces={"t": "http://www.tei-c.org/ns/1.0"})
        return " ".join(" ".join(found[0].itertext()).split()) if found else ""

    ident = find("//t:publicationStmt/t:idno[@type='frus']") or (
        root.get(XML_ID) if local(root) == "TEI" else "") or path.stem
    ident = re.sub(r"[^A-Za-z0-9._-]+", "-", ident).strip("-._") or "volume"
    meta: dict = {"id": ident}
    for kind, key in TITLES.items():
        value = find(f"//t:titleStmt/t:title[@type='{kind}']")
        if value:
            meta[key] = value
    if "volume_title" not in meta:
        meta["volume_title"] = _volume_title(find("//t:titleStmt/t:title[@type='complete']"), meta.get("series", ""))
    editors = root.xpath("//t:titleStmt/t:editor", namespaces={"t": "http://www.tei-c.org/ns/1.0"})
    names = [(e.get("role"), " ".join("".join(e.itertext()).split())) for e in editors]
    if any(n for r, n in names if r != "general"):
        meta["editors"] = [n for r, n in names if n and r != "general"]
    if any(n for r, n in names if r == "general"):
        meta["general_editor"] = next(n for r, n in names if n and r == "general")
    for key, xpath in (("publisher", "//t:publicationStmt/t:publisher"), ("place", "//t:publicationStmt/t:pubPlace"),
                       ("year", "//t:publicationStmt/t:date"), ("rights", "//t:publicationStmt/t:availability")):
        if find(xpath):
            meta[key] = find(xpath)
    # The Office of the Historian's own id of the volume names its page on history.state.gov.
    if find("//t:publicationStmt/t:idno[@type='frus']"):
        meta["identifier"] = f"https://history.state.gov/historicaldocuments/{ident}"
    if local(root) != "TEI":
        meta["volume_title"] = " ".join(" ".join(root.find("{*}head").itertext()).split()) \
            if root.find("{*}head") is not None else ident
        vol.warnings.append(Diagnostic(vol.path, root.sourceline or 0, 0, "I009", "no teiHeader (a fragment): "
                                       "fill in the volume's titles, editors and year in book.yaml", "warning"))
    elif not meta.get("volume_title"):
        meta["volume_title"] = ident
        vol.warnings.append(Diagnostic(vol.path, 0, 0, "I009", "the teiHeader gives no volume title: "
                                       "book.yaml's volume_title is the id; edit it", "warning"))
    start = _start_page(text)
    if start:
        meta["start_page"] = start
    # The print edition's own gaps (plates, maps, inserts), so that check tells them from lost pages.
    breaks = [PageBreak(MARKER.fullmatch(m)["label"]) for m in vol.markers.values()]
    if start:
        breaks.insert(0, PageBreak(start))
    found = [gap_name(before, after) for before, after in gaps(breaks)]
    if found:
        meta["page_gaps"] = found
    return {k: meta[k] for k in FIELDS if k in meta}


def _volume_title(complete: str, series: str) -> str:
    """Return the volume title from the complete title, which repeats the series first."""
    if series and complete.startswith(series):
        return complete[len(series):].lstrip(" ,")
    return complete


def _start_page(text) -> str:
    """Return the page before the first page break when text precedes it (a fragment of a volume)."""
    first = next(text.iter("{*}pb", "pb"), None)
    if first is None or not label_of(first).isdigit() or int(label_of(first)) < 2:
        return ""
    inside = [t for t in first.xpath("preceding::text()") if t.strip() and (
        t.getparent() is text or text in t.getparent().iterancestors())]
    return str(int(label_of(first)) - 1) if inside else ""


def _files(text, vol: Volume) -> list[_File]:
    """Split the text into Markdown files: the title page and each top-level division in its own."""
    files: list[_File] = []
    lead: list[str] = []  # what comes before the first heading of the volume
    if local(text) == "div":
        units = [(text, False)]
    else:
        # A page break between the front, body and back belongs to the text around it.
        units = [(child, local(part) == "front")
                 for part in text if local(part) in ("front", "body", "back", "pb")
                 for child in ([part] if local(part) == "pb" else part)]
    for el, front in units:
        name = local(el)
        renderer = Renderer(vol)
        if name == "div" and files and not headed(el):
            # A division the print edition gave no heading continues the one before it.
            files[-1].lines += [""] + renderer.division(el, 2) + renderer.take_notes()
            continue
        if name in ("div", "titlePage"):
            lines = renderer.division(el, 1) if name == "div" else _title_page(el, renderer)
            lines += renderer.take_notes()
            title = "title-page" if name == "titlePage" else _slug(lines[0].lstrip("# ")) or el.get(XML_ID) or name
            files.append(_File(f"{len(files) + 1:02d}-{title}.md", front, lines))
            if lead:
                _attach(files[0].lines, lead)
                lead = []
            continue
        lines = [vol.markers.get(el, "")] if name == "pb" else renderer.block(el) + renderer.take_notes()
        if files:
            files[-1].lines += [""] + lines
        else:
            lead += lines + [""]
    if lead and files:
        _attach(files[0].lines, lead)
    return files


def _title_page(page, renderer: Renderer) -> list[str]:
    """Render the title page, its title parts as the chapter heading."""
    parts = [renderer.inline(p, heading=True).strip() for p in page.iter("{*}titlePart", "titlePart")]
    parts = [p for p in parts if p]
    title = "".join(p + ("" if i == len(parts) - 1 else " " if p[-1] in ",.:;" else ", ")
                    for i, p in enumerate(parts)) or escape("Title page")
    # Pages that begin before the title begin with it.
    title_at = next((i for i, c in enumerate(page) if local(c) == "docTitle"), 0)
    lead = [c for c in page[:title_at] if local(c) == "pb"]
    rest = [c for c in page if local(c) != "docTitle" and c not in lead]
    return [line for pb in lead for line in (renderer.marker(pb), "")] + [f"# {title} {{#title-page}}", ""] \
        + renderer._blocks(page.text, rest, 2, True)


def _attach(lines: list[str], lead: list[str]) -> None:
    """Put what precedes the first heading with it: page markers before it, anything else just after it."""
    if all(MARKER.fullmatch(line) for line in lead if line):
        lines[0:0] = lead
    else:
        lines[1:1] = [""] + lead


def _slug(heading: str) -> str:
    plain = re.sub(r"\{[^}]*\}|\[\^[^\]]*\]|\\", "", heading).lower()
    words = re.findall(r"[a-z0-9]+", plain)[:6]
    return "-".join(words)[:48].strip("-")


def _squeeze(lines: list[str]) -> list[str]:
    """Drop repeated blank lines and trailing spaces."""
    out: list[str] = []
    for line in lines:
        line = line.rstrip(" ") if not line.endswith("\\") else line
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return out
