"""Manuscript checks: every problem found in one pass, each with its file, line and code.

Codes: M metadata (config.py), P page markers, S structure, N notes, T text, R refused (unsafe) input
(safety.py). docs/checks-and-safety.md lists them all.
"""
from __future__ import annotations

import bisect
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from ..book.config import CONTROL, Metadata
from ..book.errors import Diagnostic, Places
from ..book.markup import GENERATED_ID, NOTEREF, PAGEBREAK
from ..book.model import Book
from ..book.pages import FACS, MARKER, NEAR_MARKER, gap_name, gaps, is_label
from ..system import interrupt
from .chunks import blocks, computed
from .safety import MAX_DEPTH, elements
from .safety import problems as safety_problems

NOTE_REF = re.compile(r"\[\^([^\]\s]+)\](?!:)")
# pandoc takes a note's definition in a block quote or list item too.
NOTE_DEF = re.compile(r"^(?: {0,3}(?:>[ \t]?|(?:[-*+]|\d+[.)])[ \t]+))* {0,3}\[\^([^\]\s]+)\]:")
# "2#" for "2½", "1#000" or "1|000" for "1,000": OCR and keying slips inside numbers; U+FFFD is
# what a wrongly decoded character leaves behind.
BAD_NUMBER = re.compile(r"\d#|#\d|\d\|\d|\ufffd")
BAD_NUMBER_IN_TABLE = re.compile(r"\d#|#\d|\ufffd")  # a pipe table's cells may be "1|2"
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*$")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)+\|?\s*$|^\s*\|\s*:?-+:?\s*\|\s*$")
# Spans whose text is not prose: code, link targets, tags and autolinks, attribute blocks, entities.
# An HTML comment opens at "<!--" that no backslash escapes (an even run of them is escaped backslashes).
COMMENT_OPEN = re.compile(r"(?<!\\)(?:\\\\)*<!--")
NOT_PROSE = re.compile(r"`[^`]*`|\]\([^)]*\)|<[^>\n]*>|\{[^}\n]*\}|&#?\w+;")
CURLY = re.compile("[“”]")
# Characters that show nothing (joiners, zero-width spaces, direction marks, soft hyphens): inside a
# page marker one makes it no marker, though it reads as one.
INVISIBLE = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
BRACKETED = re.compile(r"\[[^\]\n]{1,40}\]?")


def clean(text: str) -> str:
    """Return a source's text without the control characters T002 reports."""
    return CONTROL.sub("", text)


def check_sources(meta: Metadata, folder: Path, sources: dict[Path, str], remember=computed) -> list[Diagnostic]:
    """Check the Markdown text of every file."""
    diags: list[Diagnostic] = []
    for path, text in sources.items():
        diags += _check_text(str(path), text, remember)
    return diags


def _check_text(name: str, text: str, remember=computed) -> list[Diagnostic]:
    """Check a file's text, block by block (chunks.blocks) where each block reads as it does in the whole."""
    # That is where each block after the first begins with a heading and each before the last ends outside
    # code and comments: no table, document, fence or comment then runs from one into the next. Each
    # block's findings are remembered by its text, their lines counted from its start.
    parts = [(a, remember(_findings, block)) for a, block in blocks(text)]
    if not all(clean for _, (*_, clean, _) in parts[:-1]) or not all(heading for _, (*_, heading) in parts[1:]):
        parts = [(0, _findings(text))]
    diags, quotes = [], []
    refs, defs = {}, {}
    for a, (found, block_refs, block_quotes, _, _) in parts:
        for kind, number, *rest in found:
            if kind == "def":
                label = rest[0]
                if label in defs:
                    diags.append(Diagnostic(name, a + number, 1, "N003", f"footnote [^{label}] is defined twice "
                                            f"(first on line {defs[label][0]})"))
                defs.setdefault(label, (a + number, 1))
            else:
                diags.append(Diagnostic(name, a + number, *rest))
        for label, (number, col) in block_refs.items():
            refs.setdefault(label, (a + number, col))
        for number, col, start in block_quotes:
            quotes.append(Diagnostic(name, a + number, col, "T003", "straight and curly double quotes mixed in "
                                     f"one document (from line {a + start}); use one kind", "warning"))
    # Pandoc prints an undefined reference as text and drops an unused definition.
    for label, (number, col) in refs.items():
        if label not in defs:
            diags.append(Diagnostic(name, number, col, "N001", f"footnote [^{label}] is used but not defined"))
    for label, (number, col) in defs.items():
        if label not in refs:
            diags.append(Diagnostic(name, number, col, "N002", f"footnote [^{label}] is defined but not used",
                                    "warning"))
    return diags + quotes


def _findings(text: str) -> tuple[list, dict, list, bool, bool]:
    """Return what a text's lines show, each line counted from its start: its findings in order (a problem
    as ("diag", line, column, code, message, severity), a note's definition as ("def", line, label)), the
    first reference to each note, the documents that mix quotes (line, column, first line), whether it ends
    outside code and comments, and whether it begins with a heading."""
    found: list[tuple] = []
    end: list = []
    rows = list(_lines(text, end))
    tables = _table_lines(rows)
    refs: dict[str, tuple[int, int]] = {}
    for number, line in rows:
        interrupt.check()
        markers = list(MARKER.finditer(line))
        real = [m.span() for m in markers]  # in order: found by bisection, in linear time overall
        for m in markers:
            if m["facs"] is not None and not FACS.fullmatch(m["facs"]):
                shown = CONTROL.sub("?", m["facs"][:80])
                found.append(("diag", number, m.start("facs") + 1, "P006", f"'{shown}' cannot name a page's "
                              "scanned image (facs): write letters, digits, '.', '_' and '-', such as "
                              "[Page 588]{facs=0616}", "error"))
        for m in BRACKETED.finditer(line):
            if INVISIBLE.search(m[0]) and NEAR_MARKER.match(INVISIBLE.sub("", m[0])):
                char = INVISIBLE.search(m[0])[0]
                found.append(("diag", number, m.start() + 1, "P005", f"'{INVISIBLE.sub('', m[0])}' holds an "
                              f"invisible character (U+{ord(char):04X}), so it is not read as a page "
                              "marker: delete the character", "warning"))
        for m in NEAR_MARKER.finditer(line):
            inside = real[bisect.bisect_right(real, (m.start(), len(line))) - 1] if real else (0, 0)
            if not _literal(line, m.start()) and not inside[0] <= m.start() < inside[1]:
                found.append(("diag", number, m.start() + 1, "P001", f"malformed page marker '{m[0]}': "
                              "write it as [Page 588], [Page XII] or [Page [I]]", "error"))
        defined = NOTE_DEF.match(line)
        if defined:
            found.append(("def", number, defined[1]))
        for m in NOTE_REF.finditer(line, defined.end() if defined else 0):
            refs.setdefault(m[1], (number, m.start() + 1))
        prose = _prose(line)
        for m in (BAD_NUMBER_IN_TABLE if number in tables else BAD_NUMBER).finditer(prose):
            found.append(("diag", number, m.start() + 1, "T001", f"'{line[m.start():m.end()]}' looks "
                          "like a bad transcription (e.g. '2#' for '2½'); check the print edition", "warning"))
        for m in CONTROL.finditer(line):
            found.append(("diag", number, m.start() + 1, "T002", f"control character U+{ord(m[0]):04X} "
                          "in the text (left out of the book); delete it", "warning"))
    heading = bool(rows) and rows[0][0] == 1 and bool(HEADING.match(rows[0][1]))
    return found, refs, _check_quotes(rows), end == ["", False], heading


def _literal(line: str, start: int) -> bool:
    """Tell whether the bracket at start is escaped ('\\[Page 12]') or opens a link's text ('[p. 2](#page-2)')."""
    if line[start - 1:start] == "\\":
        return True
    depth = 0
    for i in range(start, len(line)):
        if line[i - 1] == "\\":
            continue
        depth += {"[": 1, "]": -1}.get(line[i], 0)
        if depth == 0:
            # [Page 58 8]{facs=0616} is a marker mistyped, not a span.
            return line[i + 1:i + 2] in ("(", "{") and not line.startswith("{facs=", i + 1)
    return False


def _lines(text: str, state: list | None = None):
    """Yield (line number, line) outside fenced code blocks; HTML comments are blanked, keeping columns.

    Begins in state, if given, the fence and whether a comment is open, and leaves there those at the end."""
    fence, commented = state or ("", False)
    for number, line in enumerate(text.split("\n"), 1):
        opened = FENCE.match(line)
        if fence:
            if opened and opened[1][0] == fence[0] and len(opened[1]) >= len(fence) and not line.strip(" `~"):
                fence = ""
            continue
        if opened and not commented:
            fence = opened[1]
            continue
        line, commented = _uncomment(line, commented)
        yield number, line
    if state is not None:
        state[:] = [fence, commented]


def _uncomment(line: str, commented: bool) -> tuple[str, bool]:
    """Blank the parts of a line inside HTML comments; return it and whether a comment stays open."""
    out, pos = [], 0
    while pos < len(line):
        if commented:
            mark = line.find("-->", pos)
        else:  # "\<!--" is the text "<!--", as pandoc reads it
            found = COMMENT_OPEN.search(line, pos)
            mark = found.end() - 4 if found else -1
        end = len(line) if mark < 0 else mark + (3 if commented else 0)
        piece = line[pos:end]
        out.append(" " * len(piece) if commented else piece)
        if mark < 0:
            break
        pos, commented = end, not commented
    return "".join(out), commented


def _prose(line: str) -> str:
    """Blank what is not prose in a line (code, link targets, tags, attributes), keeping columns."""
    return NOT_PROSE.sub(lambda m: " " * len(m[0]), line)


def _table_lines(rows: list[tuple[int, str]]) -> set[int]:
    """Return the numbers of the lines that belong to pipe tables."""
    found, block = set(), []
    for number, line in rows + [(0, "")]:
        if line.strip():
            block.append((number, line))
            continue
        if any(TABLE_RULE.match(text) for _, text in block):
            found.update(n for n, _ in block)
        block = []
    return found


def _check_quotes(rows: list[tuple[int, str]]) -> list[tuple[int, int, int]]:
    """Return (line, column, first line) of the first straight quote of each document that mixes straight and
    curly double quotes."""
    found, start, straight, curly = [], 1, None, False
    for number, line in rows + [(0, "## ")]:
        if HEADING.match(line):
            if straight and curly:
                found.append((*straight, start))
            start, straight, curly = number, None, False
            continue
        prose = _prose(line)
        if '"' in prose and straight is None:
            straight = (number, prose.index('"') + 1)
        curly = curly or bool(CURLY.search(prose))
    return found


def check_book(book: Book, sources: dict[Path, str], remember=computed) -> list[Diagnostic]:
    """Check the converted book: page sequence, anchors, documents, links, and what is refused."""
    finder = Finder({str(path): text for path, text in sources.items()})
    diags = _check_pages(book)
    diags += _check_documents(book, finder, remember)
    diags += _check_links(book, finder)
    diags += _check_depth(book, finder)
    for path, needles, code, message in safety_problems(book):
        diags.append(Diagnostic(path, *finder.next_of(path, needles), code, message))
    return diags


def _check_pages(book: Book) -> list[Diagnostic]:
    """Check each run of labels (arabic, roman; an unnumbered [4] in the arabic one) in reading order."""
    diags = []
    seen, last = {}, {}
    for pb in book.page_breaks:
        interrupt.check()
        if not is_label(pb.label):
            diags.append(Diagnostic(pb.path, pb.line, pb.column, "P001", f"'{pb.label}' is not a page label: "
                                    "write 588, XII or [I]"))
            continue
        # [4] and 4 are one page to a reader going to page 4 (PageBreak.name).
        if pb.name in seen:
            first = seen[pb.name]
            diags.append(Diagnostic(pb.path, pb.line, pb.column, "P002", f"page {pb.name} is marked twice "
                                    f"(first at {first.path}:{first.line})"))
            continue
        seen[pb.name] = pb
        before = last.get(pb.sequence)
        if before is None or pb.number is None or before.number is None:
            pass  # the first of its run, or an unnumbered label such as [A]: no order to check
        elif pb.number < before.number:
            diags.append(Diagnostic(pb.path, pb.line, pb.column, "P003", f"page {pb.label} comes after "
                                    f"page {before.label}: page labels go backwards"))
        last[pb.sequence] = pb
    recorded = {re.sub(r"\s*[-–]\s*", "–", gap) for gap in book.meta.page_gaps}
    for before, pb in gaps(book.boundaries):
        if gap_name(before, pb) not in recorded:
            diags.append(Diagnostic(pb.path, pb.line, pb.column, "P004", f"page {pb.label} follows page "
                                    f"{before.label}: pages in between are missing (if the print edition "
                                    f"has this gap, list '{gap_name(before, pb)}' in book.yaml's page_gaps)",
                                    "warning"))
    return diags


def _check_documents(book: Book, finder: Finder, remember=computed) -> list[Diagnostic]:
    """Check document numbers (once each, rising) and that no anchor is given twice."""
    diags = []
    numbers: dict[str, tuple[str, int]] = {}
    doubled = set()  # anchors of documents already reported as doubled
    last = None
    cursors: dict[str, int] = {}
    for chapter in book.chapters:
        name = str(chapter.path)
        headings = _document_headings(finder.texts.get(name, ""), remember)
        for section in chapter.sections:
            line = _next_heading(headings, f"{section.number}." if section.number else section.title,
                                 cursors, name)
            if not section.number:
                continue
            if section.number in numbers:
                where, first = numbers[section.number]
                diags.append(Diagnostic(name, line, 1, "S004", f"document {section.number} appears twice "
                                        f"(first at {where}:{first})"))
                doubled.add(section.anchor)
                continue
            numbers[section.number] = (name, line)
            value = _document_order(section.number)
            if last and value < last[0]:
                diags.append(Diagnostic(name, line, 1, "S005", f"document {section.number} comes after "
                                        f"document {last[1]}: documents are out of order"))
            elif not last or value > last[0]:
                last = (value, section.number)
    anchors: dict[str, str] = {}
    for chapter in book.chapters:
        name = str(chapter.path)
        for el in elements(chapter):
            interrupt.check()
            ident = el.get("id")
            if not ident or el.get("class") in (PAGEBREAK, NOTEREF):
                continue  # generated: page labels are checked above
            if GENERATED_ID.fullmatch(ident):
                diags.append(Diagnostic(name, *finder.next(name, re.escape("#" + ident) + r"\b"), "S009",
                                        f"anchor '#{ident}' has the form of an original page's or a footnote's "
                                        "anchor, which the build makes itself: choose another"))
                continue
            if ident in anchors and ident not in doubled:
                needle = re.escape("#" + ident) + r"\b"
                first = anchors[ident]
                line, _ = finder.first(first, needle)
                diags.append(Diagnostic(name, *finder.next(name, needle, skip=first == name), "S003",
                                        f"anchor '#{ident}' is given twice (first at {first}:{line})"))
            anchors.setdefault(ident, name)
    return diags


def _check_depth(book: Book, finder: Finder) -> list[Diagnostic]:
    """Refuse blocks nested deeper than MAX_DEPTH (quotes in quotes, lists in lists)."""
    diags = []
    for chapter in book.chapters:
        roots = [chapter.body] + [b for note in chapter.notes.values() for b in note.blocks]
        deepest = max(_depth(root) for root in roots)
        if deepest > MAX_DEPTH:
            name = str(chapter.path)
            where = finder.next(name, r"^(?:[ \t]*(?:>|[-*+]|\d+[.)])[ \t]*){8,}|^[ \t]{16,}[-*+>]")
            diags.append(Diagnostic(name, *where, "S008", f"blocks nested {deepest} deep (lists or quotes "
                                    f"within each other); at most {MAX_DEPTH} can be typeset"))
    return diags


def _depth(root) -> int:
    """Return how deep elements are nested under root."""
    depth = deepest = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return deepest - 1


def _document_order(number: str) -> tuple[int, str]:
    """Return the sort key of a document number: 270 < 270A < 271."""
    digits = re.match(r"[0-9]+", number)[0]  # at most six (convert.DOC_HEADING)
    return int(digits), number[len(digits):].upper()


def _document_headings(text: str, remember=computed) -> list[tuple[int, str]]:
    """Return the level-2 ATX headings of a Markdown text as (line, text)."""
    found, state = [], ("", False)
    for a, block in blocks(text):
        headings, state = remember(_headings_in, block, *state)
        found += [(a + n, title) for n, title in headings]
    return found


def _headings_in(text: str, fence: str, commented: bool) -> tuple[list[tuple[int, str]], tuple[str, bool]]:
    """Return the level-2 ATX headings of a Markdown text that begins in a fence and comment (or not), and
    the fence and comment it ends in."""
    state = [fence, commented]
    return [(n, m[2]) for n, line in _lines(text, state) if (m := HEADING.match(line)) and len(m[1]) == 2], tuple(state)


def _next_heading(headings, start: str, cursors: dict[str, int], name: str) -> int:
    """Return the line of the file's next level-2 heading that begins like start, or 0."""
    for index in range(cursors.get(name, 0), len(headings)):
        if headings[index][1].startswith(start.split(" ")[0]):
            cursors[name] = index + 1
            return headings[index][0]
    return 0


def _check_links(book: Book, finder: Finder) -> list[Diagnostic]:
    """Check that every cross-reference leads to an anchor in the book."""
    diags = []
    known = set(book.anchors())
    for chapter in book.chapters:
        name = str(chapter.path)
        for el in elements(chapter, "a"):
            interrupt.check()
            href = el.get("href")
            if href is None:
                continue
            try:
                parts = urlsplit(href.strip())
            except ValueError:
                continue  # not a URL: see safety.py
            if parts.scheme or el.get("class") == NOTEREF:
                continue  # other schemes: see safety.py
            # Raw HTML may spell the link with entities or tabs pandoc rewrites: then its attribute is found.
            needles = (re.escape(href), r"\bhref\s*=")
            if parts.netloc or parts.path:
                diags.append(Diagnostic(name, *finder.next_of(name, needles), "S006", f"link to '{href}', which "
                                        "is not in the book: write a cross-reference as '#d270' and a web link as "
                                        "'https://…'"))
            elif unquote(parts.fragment) not in known:
                diags.append(Diagnostic(name, *finder.next_of(name, needles), "S006", f"link to '{href}', "
                                        "which no heading, anchor or page marker in the book defines"))
    return diags


class Finder:
    """Find problems in the Markdown sources: each time a needle is asked for, its next occurrence."""

    def __init__(self, texts: dict[str, str]):
        self.texts = texts
        self.done: dict[tuple[str, str], int] = {}  # where the last search for a needle ended
        self.places: dict[str, Places] = {}

    def first(self, path: str, needle: str) -> tuple[int, int]:
        """Return the (line, column) of the needle's first occurrence in a file, or (0, 0)."""
        return self._at(path, needle, 0)

    def next(self, path: str, needle: str, skip: bool = False) -> tuple[int, int]:
        """Return the (line, column) of the needle's next occurrence (after the first, if skip)."""
        key = (path, needle)
        if skip and key not in self.done:
            self._at(path, needle, 0)
        return self._at(path, needle, self.done.get(key, 0))

    def next_of(self, path: str, needles: tuple[str, ...]) -> tuple[int, int]:
        """Return the (line, column) of the next occurrence of the first needle found, or (0, 0)."""
        for needle in needles:
            found = self.next(path, needle)
            if found != (0, 0):
                return found
        return 0, 0

    def _at(self, path: str, needle: str, start: int) -> tuple[int, int]:
        text = self.texts.get(path, "")
        found = re.compile(needle, re.IGNORECASE | re.MULTILINE).search(text, start)
        if not found:
            return 0, 0
        self.done[(path, needle)] = found.end()
        if path not in self.places:
            self.places[path] = Places(text)
        return self.places[path].at(found.start())
