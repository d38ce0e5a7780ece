"""Manuscript checks: every problem found in one pass, each with its file, line and code.

Codes: M metadata, P page markers, S structure, N notes, T text, R refused (unsafe) input.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .config import Metadata
from .errors import Diagnostic
from .fetch import inside
from .model import Book
from .pages import MARKER, NEAR_MARKER

NOTE_REF = re.compile(r"\[\^([^\]\s]+)\](?!:)")
NOTE_DEF = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:", re.M)
BAD_NUMBER = re.compile(r"\d#|#\d|\d\|\d")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FENCE = re.compile(r"^(```|~~~)")
UNSAFE_TAGS = {"script", "iframe", "object", "embed", "frame", "frameset", "applet", "base", "form",
               "meta", "link", "style"}


def _lines(text: str):
    """Yield (line number, line) outside fenced code blocks and HTML comments."""
    fenced = commented = False
    for number, line in enumerate(text.split("\n"), 1):
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if fenced:
            continue
        if commented or "<!--" in line:
            start = line.find("<!--") if not commented else 0
            end = line.find("-->", start)
            commented = end < 0
            line = line[:start] + ("" if commented else line[end + 3:])
        yield number, line


def check_sources(meta: Metadata, folder: Path, sources: dict[Path, str]) -> list[Diagnostic]:
    """Check the Markdown text of every file."""
    diags: list[Diagnostic] = []
    for path, text in sources.items():
        name = str(path)
        refs, defs = {}, {}
        for number, line in _lines(text):
            real = [m.span() for m in MARKER.finditer(line)]
            for m in NEAR_MARKER.finditer(line):
                if not any(s <= m.start() < e for s, e in real) and not _literal(line, m.start()):
                    diags.append(Diagnostic(name, number, m.start() + 1, "P001",
                                            f"malformed page marker '{m[0]}': write it as "
                                            "[Page 588], [Page XII] or [Page [I]]"))
            for m in NOTE_REF.finditer(line):
                refs.setdefault(m[1], (number, m.start() + 1))
            for m in NOTE_DEF.finditer(line):
                if m[1] in defs:
                    diags.append(Diagnostic(name, number, 1, "N003", f"footnote [^{m[1]}] is defined twice "
                                            f"(first on line {defs[m[1]][0]})"))
                defs.setdefault(m[1], (number, 1))
            for m in BAD_NUMBER.finditer(line):
                diags.append(Diagnostic(name, number, m.start() + 1, "T001", f"'{m[0]}' looks like a bad "
                                        "transcription (e.g. '2#' for '2½'); check the print edition",
                                        "warning"))
            for m in CONTROL.finditer(line):
                diags.append(Diagnostic(name, number, m.start() + 1, "T002",
                                        f"control character U+{ord(m[0]):04X} in the text", "warning"))
            for m in re.finditer(r"<\s*(\w+)|\bon\w+\s*=|javascript:", line, re.I):
                tag = (m[1] or "").lower()
                if m[1] is None or tag in UNSAFE_TAGS:
                    diags.append(Diagnostic(name, number, m.start() + 1, "R001",
                                            f"refused raw HTML '{m[0]}': scripts, event handlers, frames and "
                                            "active content are not allowed in a manuscript"))
        # Pandoc ignores definitions it cannot attach and prints undefined references as text.
        for label, (number, col) in refs.items():
            if label not in defs:
                diags.append(Diagnostic(name, number, col, "N001", f"footnote [^{label}] is used but not defined"))
        for label, (number, col) in defs.items():
            if label not in refs:
                diags.append(Diagnostic(name, number, col, "N002", f"footnote [^{label}] is defined but not used",
                                        "warning"))
        diags += _check_quotes(name, text)
    return diags


def _literal(line: str, start: int) -> bool:
    """Tell whether the bracket at start is escaped ('\\[Page 12]') or opens a link's text ('[page 759](url)')."""
    if line[start - 1:start] == "\\":
        return True
    depth = 0
    for i in range(start, len(line)):
        if line[i] == "\\":
            continue
        depth += {"[": 1, "]": -1}.get(line[i], 0) if line[i - 1] != "\\" else 0
        if depth == 0:
            return line[i + 1:i + 2] == "("
    return False


def _check_quotes(name: str, text: str) -> list[Diagnostic]:
    """Warn where one document mixes straight and curly double quotes."""
    diags, start, straight, curly = [], 1, None, False
    for number, line in list(_lines(text)) + [(0, "## ")]:
        if line.startswith("#"):
            if straight and curly:
                diags.append(Diagnostic(name, straight, 0, "T003", "straight and curly quotes mixed in one "
                                        f"document (from line {start}); use one kind", "warning"))
            start, straight, curly = number, None, False
            continue
        body = re.sub(r"\{[^}]*\}|\([^)]*\)", "", line)  # attribute blocks and link targets hold quotes too
        if '"' in body and straight is None:
            straight = number
        curly = curly or "“" in body or "”" in body
    return diags


def check_book(book: Book) -> list[Diagnostic]:
    """Check the converted book: page sequence, anchors, documents, links and images."""
    diags = _check_pages(book)
    sources = {str(ch.path): None for ch in book.chapters}
    anchors: dict[str, str] = {}
    numbers: dict[str, str] = {}
    last_number = 0
    for chapter in book.chapters:
        name = str(chapter.path)
        text = _source(chapter.path, sources)
        for el in chapter.body.iter():
            ident = el.get("id") if isinstance(el.tag, str) else None
            if ident and "pagebreak" not in (el.get("class") or ""):
                if ident in anchors:
                    diags.append(Diagnostic(name, _find(text, "#" + ident), 0, "S003",
                                            f"anchor '#{ident}' is used twice (also in {anchors[ident]})"))
                anchors[ident] = name
        for section in chapter.sections:
            if not section.number:
                continue
            line = _find(text, section.title)
            if section.number in numbers:
                diags.append(Diagnostic(name, line, 0, "S004", f"document {section.number} appears twice "
                                        f"(also in {numbers[section.number]})"))
            numbers[section.number] = name
            value = int(re.match(r"\d+", section.number)[0])
            if value < last_number:
                diags.append(Diagnostic(name, line, 0, "S005", f"document {section.number} comes after "
                                        f"document {last_number}: documents are out of order", "warning"))
            last_number = max(last_number, value)
    known = set(book.anchors())
    for chapter in book.chapters:
        name = str(chapter.path)
        text = _source(chapter.path, sources)
        for el in _all_elements(chapter):
            href = el.get("href") if el.tag == "a" else None
            if href and href.startswith("#") and unquote(href[1:]) not in known:
                diags.append(Diagnostic(name, _find(text, href), 0, "S006",
                                        f"link to '{href}', which no heading or marker in the book defines"))
            if href and urlsplit(href).scheme.lower() not in ("", "http", "https", "mailto"):
                diags.append(Diagnostic(name, _find(text, href), 0, "R002", f"refused link '{href}'"))
            if el.tag == "img":
                diags += _check_image(book, name, text, el.get("src") or "")
    return diags


def _check_image(book: Book, name: str, text: str, src: str) -> list[Diagnostic]:
    line = _find(text, src)
    if urlsplit(src).scheme:
        return [Diagnostic(name, line, 0, "R003", f"refused image '{src}': images must be files in the "
                           "manuscript folder, linked by a relative path")]
    path = book.folder / unquote(src)
    if not inside(path, [book.folder]):
        return [Diagnostic(name, line, 0, "R003", f"refused image '{src}': it lies outside the manuscript folder")]
    if not path.is_file():
        return [Diagnostic(name, line, 0, "S007", f"image '{src}' does not exist")]
    return []


def _check_pages(book: Book) -> list[Diagnostic]:
    """Check each sequence of labels (arabic, roman; unnumbered ones in theirs) in reading order."""
    diags = []
    seen: dict[str, object] = {}
    last: dict[str, object] = {}
    for pb in book.page_breaks:
        if pb.label in seen:
            first = seen[pb.label]
            diags.append(Diagnostic(pb.path, pb.line, pb.column, "P002", f"page {pb.label} is marked twice "
                                    f"(first at {first.path}:{first.line})"))
            continue
        seen[pb.label] = pb
        before = last.get(pb.sequence)
        if before is not None and pb.number is not None and before.number is not None:
            if pb.number < before.number:
                diags.append(Diagnostic(pb.path, pb.line, pb.column, "P003", f"page {pb.label} comes after "
                                        f"page {before.label}: page labels go backwards"))
            elif pb.number > before.number + 1:
                diags.append(Diagnostic(pb.path, pb.line, pb.column, "P004", f"page {pb.label} follows page "
                                        f"{before.label}: pages in between are missing", "warning"))
        last[pb.sequence] = pb
    return diags


def _all_elements(chapter):
    yield from (el for el in chapter.body.iter() if isinstance(el.tag, str))
    for note in chapter.notes.values():
        for block in note.blocks:
            yield from (el for el in block.iter() if isinstance(el.tag, str))


def _source(path: Path, cache: dict) -> str:
    if cache.get(str(path)) is None:
        try:
            cache[str(path)] = path.read_text(encoding="utf-8-sig")
        except OSError:
            cache[str(path)] = ""
    return cache[str(path)]


def _find(text: str, needle: str) -> int:
    """Return the line on which needle first occurs in text, or 0."""
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 0
