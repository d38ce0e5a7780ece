"""Import a FRUS volume from the Office of the Historian's TEI XML as a manuscript (book.yaml and Markdown)."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from lxml import etree

from ..book.config import BOOK_FILE, CONTROL, FIELDS
from ..book.errors import Diagnostic, OutputError, RefusedError, SourceError
from ..book.numbers import MAX_PAGE, whole
from ..book.pages import FACS, MARKER, UNLABELLED, PageBreak, gap_name, gaps
from ..system import interrupt
from ..system.fsutil import atomic_folder
from .text import (
    EMPTY,
    POINTER_TAGS,
    XML_ID,
    Renderer,
    Volume,
    escape,
    headed,
    heading,
    label_of,
    local,
    one_line,
    pointed,
    pointers,
    safe_id,
)

# The names import-tei gives the Markdown files it writes: 01-title-page.md.
IMPORTED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.md")
# What an import wrote, as `sha256sum` prints it (`sha256sum -c` checks it): --force replaces a file
# only while it is exactly as written.
MANIFEST = ".import-tei.sha256"
MANIFEST_LINE = re.compile(r"([0-9a-f]{64})  (\S+)")
# Where history.state.gov shows a volume's scanned pages (HistoryAtState/hsg-shell, modules/pages.xqm): the
# image its page view shows, named by the pb's facs.
FACSIMILE_SCANS = "https://static.history.state.gov/frus/{volume}/medium/{{facs}}.png"
PREDEFINED = {"amp", "lt", "gt", "quot", "apos"}  # XML's own entities, declared nowhere
# titleStmt title types -> book.yaml keys, in the order the complete title gives them. The Office of the
# Historian's TEI spells two types both ways: the older volumes' shells "subseries", "volumenumber", the
# modern ones "sub-series", "volume-number".
TITLES = {"series": "series", "subseries": "subseries", "sub-series": "subseries",
          "volumenumber": "volume", "volume-number": "volume", "volume": "volume_title"}


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
    root, entities = parse(volume)
    _check_target(manuscript, force)
    text = _text_of(root)
    vol = Volume(str(volume), *_index(text, str(volume)))
    vol.linked, vol.first_uses = pointers(text, vol.anchors)
    vol.warnings[:0] = entities
    meta = _metadata(root, text, volume, vol)
    files = _files(text, vol)
    meta["front_matter"] = [f.name for f in files if f.front]
    meta["chapters"] = [f.name for f in files if not f.front]
    if not meta["chapters"]:
        raise SourceError("no text to import: the file holds no division or document", volume)
    # The file's name is in a YAML comment: a line break in it would begin a key of its own.
    header = f"# Imported from {CONTROL.sub('?', one_line(volume.name))} by `publish import-tei`: edit freely.\n"
    texts = {f.name: "\n".join(_squeeze(f.lines)) + "\n" for f in files}
    texts[BOOK_FILE] = header + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    _write(manuscript, texts, volume)
    return ImportResult([manuscript / name for name in [BOOK_FILE, *(f.name for f in files)]], vol.warnings)


def _write(manuscript: Path, texts: dict[str, str], volume: Path) -> None:
    """Write the files and their manifest; into an existing folder, replace only what an import wrote, all at once."""
    data = {name: text.encode("utf-8") for name, text in texts.items()}
    data[MANIFEST] = "".join(f"{hashlib.sha256(b).hexdigest()}  {name}\n" for name, b in data.items()).encode()
    if not manuscript.exists():
        with atomic_folder(manuscript) as tmp:
            for name, content in data.items():
                (tmp / name).write_bytes(content)
        return
    earlier = _replaceable(manuscript, set(data))
    if volume.resolve() in {(manuscript / name).resolve() for name in earlier | set(data)}:
        raise RefusedError(f"{volume} would be replaced by the import: keep the TEI file apart from the manuscript")
    try:
        staged = Path(tempfile.mkdtemp(prefix=".import-", suffix=".part", dir=manuscript))
    except OSError as exc:
        raise OutputError(f"cannot write to {manuscript}: {exc.strerror}") from None
    try:
        for name, content in data.items():
            (staged / name).write_bytes(content)
        _swap(manuscript, staged, earlier, set(data))
    except OSError as exc:
        raise OutputError(f"cannot write to {manuscript}: {exc.strerror}; nothing in it was changed") from None
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def _swap(manuscript: Path, staged: Path, earlier: set[str], names: set[str]) -> None:
    """Move the earlier import's files aside and the staged ones in; on any failure put everything back.

    Signals wait until the moves are done (they are renames within one folder, and few), so an
    interrupt finds either the old manuscript or the new one, never a mixture.
    """
    kept = Path(tempfile.mkdtemp(prefix=".import-", suffix=".old", dir=manuscript))
    moves: list[tuple[Path, Path]] = []
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        interrupt.check()
        for name in sorted(earlier):
            os.replace(manuscript / name, kept / name)
            moves.append((manuscript / name, kept / name))
        for name in sorted(names):
            os.replace(staged / name, manuscript / name)
            moves.append((staged / name, manuscript / name))
    except BaseException:
        try:
            for source, target in reversed(moves):
                os.replace(target, source)
        except OSError as exc:
            raise OutputError(f"cannot write to {manuscript} ({exc.strerror}), nor put back the files it replaced: "
                              f"they are in {kept}; move them back by hand") from None
        shutil.rmtree(kept, ignore_errors=True)
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    shutil.rmtree(kept, ignore_errors=True)


def _replaceable(manuscript: Path, names: set[str]) -> set[str]:
    """Return the files an earlier import wrote and nobody changed since; refuse if any other file would be lost.

    At stake are the files the new import writes, those the earlier one wrote, book.yaml and every
    file it lists: each must be absent, or exactly as the manifest records an import wrote it.
    """
    recorded = _manifest(manuscript)
    unchanged = {name for name, digest in recorded.items() if _digest(manuscript / name) == digest}
    at_stake = (names - {MANIFEST}) | set(recorded) | {BOOK_FILE} | _listed(manuscript)
    lost = sorted(name for name in at_stake if name not in unchanged and os.path.lexists(manuscript / name))
    if lost:
        shown = ", ".join(lost[:10]) + (f" and {len(lost) - 10} more" if len(lost) > 10 else "")
        raise RefusedError(f"--force replaces only files an import wrote and nobody changed since, and these are "
                           f"not (written or edited by hand, or listed in {BOOK_FILE}): {shown}. Move them out of "
                           "the folder, or import into a new folder")
    return unchanged | ({MANIFEST} if (manuscript / MANIFEST).is_file() else set())


def _manifest(manuscript: Path) -> dict[str, str]:
    """Return the files the manifest says an import wrote, with their SHA-256; only names an import writes."""
    try:
        lines = (manuscript / MANIFEST).read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):  # no manifest (hand-written, or imported before there was one)
        return {}
    found = [MANIFEST_LINE.fullmatch(line) for line in lines]
    return {m[2]: m[1] for m in found if m and (m[2] == BOOK_FILE or IMPORTED_NAME.fullmatch(m[2]))}


def _digest(path: Path) -> str | None:
    """Return the SHA-256 of a regular file (not a link); None when there is none to read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if not path.is_symlink() and path.is_file() else None
    except OSError:
        return None


def _listed(manuscript: Path) -> set[str]:
    """Return the files book.yaml lists as front matter or chapters (none when it cannot be read)."""
    try:
        data = yaml.safe_load((manuscript / BOOK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):  # ValueError: not UTF-8, or a number too long
        return set()
    if not isinstance(data, dict):
        return set()
    return {name for key in ("front_matter", "chapters") if isinstance(data.get(key), list)
            for name in data[key] if isinstance(name, str)}


class _NothingOutside(etree.Resolver):
    """Load nothing from outside the file: an external entity or DTD reads as empty."""

    def resolve(self, url, pubid, context):
        return self.resolve_string("", context)


def parse(path: Path):
    """Parse a TEI file, expanding the entities it declares; return its root and warnings of entities left out.

    A missing or malformed file, or an entity declared nowhere, is one clear message with its line.
    Nothing outside the file is read (no DTD, no external entity, no network), and libxml2's limits
    hold (huge_tree off): an entity expanding a thousandfold (a "billion laughs") is refused.
    """
    if not path.is_file():
        raise SourceError("no such TEI file", path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", path) from None
    # Read first without expanding, to find entities whose text is not in the file.
    root = _parse(data, path, resolve=False)
    used: dict[str, int] = {}  # each entity used, and the first line it is used on
    for ref in root.iter(etree.Entity):
        used.setdefault(ref.name, ref.sourceline or 0)
    if not used:
        return root, []
    dtd = root.getroottree().docinfo.internalDTD
    declared = {entity.name: entity for entity in (dtd.iterentities() if dtd is not None else ())}
    warnings, seen = [], set()
    while used:
        name, line = used.popitem()
        seen.add(name)
        entity = declared.get(name)
        if entity is None:
            raise SourceError(f"entity &{name}; is declared nowhere in the file (a DTD outside it is not read): "
                              f"declare it in the file's DOCTYPE, or write its text in place of &{name};", path, line)
        if entity.content is None:
            warnings.append(Diagnostic(str(path), line, 0, "I011", f"entity &{name}; is declared outside the file "
                                       f"({one_line(entity.system_url)[:80]}), which is not read: its text is left "
                                       f"out; write the text in place of &{name};", "warning"))
            continue
        # An entity's text may use entities in its turn: they are checked where it is used.
        for inner in set(re.findall(r"&([^\s&;#]+);", entity.content)) - seen - PREDEFINED:
            used.setdefault(inner, line)
    return _parse(data, path, resolve=True), warnings


def _parse(data: bytes, path: Path, resolve: bool):
    parser = etree.XMLParser(resolve_entities=resolve, no_network=True, huge_tree=False, remove_comments=True)
    parser.resolvers.add(_NothingOutside())
    try:
        return etree.fromstring(data, parser, base_url=str(path))
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"not well-formed XML: {exc.msg}", path, exc.lineno or 0) from None


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
        if not MARKER.fullmatch(f"[Page {label}]") or _too_large(label):
            warnings.append(Diagnostic(path, pb.sourceline, 0, "I007", f"page label '{CONTROL.sub('?', label)[:80]}' "
                                       "cannot be written as a page marker ([Page 588], [Page XII], [Page [I]]; "
                                       f"a number at most {MAX_PAGE:,}): left out", "warning"))
            continue
        if label in seen:
            warnings.append(Diagnostic(path, pb.sourceline, 0, "I008", f"page {label} is marked twice (first on "
                                       f"line {seen[label]}): the second marker is left out", "warning"))
            continue
        seen[label] = pb.sourceline
        markers[pb] = f"[Page {label}]" + _facsimile(pb, path, warnings)
        if pb.get(XML_ID):
            pages[pb.get(XML_ID)] = PageBreak(label)
    for el in text.iter():
        if local(el) in EMPTY and "".join(el.itertext()).strip():
            warnings.append(Diagnostic(path, el.sourceline or 0, 0, "I012", f"<{local(el)}> holds text, which TEI "
                                       "does not allow and the import leaves out: move the text out of it", "warning"))
    targets = {t.split("#", 1)[1] for ref in text.iter("{*}ref", "ref")
               for t in (ref.get("target") or "").split() if t.startswith("#")}
    targets |= {pointed(el) for el in text.iter(*POINTER_TAGS)} - {""}
    ids = {el.get(XML_ID): el for el in text.iter() if isinstance(el.tag, str) and el.get(XML_ID)}
    anchors = {i for i, el in ids.items()
               if safe_id(i) and (local(el) == "div" or (i in targets and local(el) != "pb"))}
    return pages, markers, targets, anchors, warnings


def _facsimile(pb, path: str, warnings: list) -> str:
    """Return a page marker's {facs=...}, naming the page's scanned image as the pb's facs does ('' if none)."""
    facs = (pb.get("facs") or "").strip()
    if not facs:
        return ""
    if not FACS.fullmatch(facs):
        warnings.append(Diagnostic(path, pb.sourceline, 0, "I013", f"facs '{CONTROL.sub('?', facs)[:80]}' cannot name "
                                   "a scanned page (letters, digits, '.', '_' and '-'): the page is not linked to it",
                                   "warning"))
        return ""
    return f"{{facs={facs}}}"


def _too_large(label: str) -> bool:
    """Tell whether a page label is a number (bracketed or not) beyond any printed page."""
    digits = label.strip("[]")
    return re.fullmatch(r"[0-9]+", digits) is not None and whole(digits, MAX_PAGE) is None


def _metadata(root, text, path: Path, vol: Volume) -> dict:
    """Return book.yaml's keys from the teiHeader (and the text, where the header is silent)."""
    def find(xpath: str) -> str:
        found = root.xpath(xpath, namespaces={"t": "http://www.tei-c.org/ns/1.0"})
        return _words(found[0]) if found else ""

    ident = find("//t:publicationStmt/t:idno[@type='frus']") or (
        root.get(XML_ID) if local(root) == "TEI" else "") or path.stem
    ident = re.sub(r"[^A-Za-z0-9._-]+", "-", ident).strip("-._") or "volume"
    meta: dict = {"id": ident}
    for kind, key in TITLES.items():
        value = find(f"//t:titleStmt/t:title[@type='{kind}']")
        if value and key not in meta:
            meta[key] = value
    if "volume_title" not in meta:
        leading = [meta[key] for key in dict.fromkeys(TITLES.values()) if key in meta]
        meta["volume_title"] = _volume_title(find("//t:titleStmt/t:title[@type='complete']"), leading)
    editors = root.xpath("//t:titleStmt/t:editor", namespaces={"t": "http://www.tei-c.org/ns/1.0"})
    names = [(e.get("role"), _words(e, "")) for e in editors]
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
        meta["document_url"] = f"https://history.state.gov/historicaldocuments/{ident}/{{id}}"  # d270: its xml:id
        if any(MARKER.fullmatch(m)["facs"] for m in vol.markers.values()):
            meta["facsimile_url"] = FACSIMILE_SCANS.format(volume=ident)
    if local(root) != "TEI":
        meta["volume_title"] = _words(root.find("{*}head")) if root.find("{*}head") is not None else ident
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


def _words(el, between: str = " ") -> str:
    """Return an element's text as one line, its words apart, without control characters (book.yaml refuses them)."""
    return CONTROL.sub("", " ".join(between.join(el.itertext()).split()))


def _volume_title(complete: str, leading: list[str]) -> str:
    """Return the volume title from the complete title, which repeats the series, years and number first
    (all of it when that is all it holds)."""
    for part in leading:
        rest = complete[len(part):].lstrip(" ,")
        if complete.startswith(part) and rest:
            complete = rest
    return complete


def _start_page(text) -> str:
    """Return the page before the first page break when text precedes it (a fragment of a volume)."""
    first = next(text.iter("{*}pb", "pb"), None)
    number = whole(label_of(first), MAX_PAGE) if first is not None else None
    if number is None or number < 2:
        return ""
    inside = [t for t in first.xpath("preceding::text()") if t.strip() and (
        t.getparent() is text or text in t.getparent().iterancestors())]
    return str(number - 1) if inside else ""


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
            title = "title-page" if name == "titlePage" else \
                _slug(lines[0].lstrip("# ")) or _slug(el.get(XML_ID) or "") or name
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
    return [line for pb in lead for line in (renderer.marker(pb), "")] + [heading(1, title, "title-page"), ""] \
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
