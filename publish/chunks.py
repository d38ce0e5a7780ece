"""A file's Markdown in chunks that pandoc reads alone exactly as it reads them in the whole file.

pandoc's time grows with its input, so after a one-word edit only the chunk holding it is read again.
A chunk begins with an ATX heading after a blank line, where every block before it has ended: no
fenced code, fenced div, raw HTML or LaTeX block, HTML comment, display math, metadata block or
multiline table is still open. A label (a note's ``[^x]``, a reference link's ``[x]: url``, a
heading's own text, which pandoc's implicit_header_references makes a link target) may not have
uses or definitions on both sides. Markdown whose meaning is document-wide in other ways (example
lists, LaTeX macros) is not cut at all. Of the valid points, those whose heading line hashes to a
multiple of CHUNK_EVERY become cuts (like rsync's chunks), so a clean build and one after an edit
elsewhere cut at the same places. The file is cut as written, before its page markers become pandoc
spans holding source lines, which prepare() counts from the chunk's start: a chunk's text, and so
its cached HTML, stays the same when lines are added above it.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict

# One valid heading in this many begins a chunk: in a FRUS chapter (a document of about 2 KB under
# each `##` heading) chunks of some 30 KB, which pandoc reads in about 0.1 s.
CHUNK_EVERY = 16

HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
# Fences also inside block quotes and list items: a fence taken wrongly only bars cuts.
FENCE = re.compile(r"^[ \t>]*(?:(?:[-*+]|\d+[.)])[ \t]+)?(`{3,}|~{3,})")
DIV_FENCE = re.compile(r"^ {0,3}(:{3,})\s*(\S*)")
BLANK = re.compile(r"^[ \t]*$")
# A line of dashes (and spaces) opening or closing a metadata block or a multiline table.
DASHES = re.compile(r"^-{3,}[- ]*$")
# Blocks pandoc reads as raw HTML up to their closing tag, whatever blank lines and headings they hold.
HTML_BLOCKS = ("address|article|aside|blockquote|body|center|details|dialog|dir|div|dl|fieldset|figcaption|figure|"
               "footer|form|frameset|header|hgroup|html|iframe|main|map|menu|nav|noscript|object|ol|pre|script|"
               "section|style|summary|table|tbody|td|textarea|tfoot|th|thead|tr|ul|video|audio|canvas|math|svg")
# A tag may run on to the next line: it counts from its name.
HTML_TAG = re.compile(rf"<(/?)({HTML_BLOCKS})\b([^<>]*)(>?)", re.I)
INLINE_CODE = re.compile(r"(`+).*?\1")
LATEX = re.compile(r"\\(begin|end)\{")
# Markdown whose meaning spans the whole file: example lists number across it, LaTeX macros apply after
# their definition.
WHOLE = re.compile(r"\(@[\w-]*\)|\\(?:re)?newcommand|\\providecommand|\\(?:re)?newenvironment|"
                   r"\\def\b|\\let\b", re.M)
# Footnote and reference-link definitions, and the text of ATX and setext headings: the labels.
DEFINITION = re.compile(r"^ {0,3}\[((?:[^\[\]]|\[[^\[\]]*\])+)\]:")
ATX_TEXT = re.compile(r"^#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?(?:[ \t]*\{[^{}]*\})?[ \t]*$")
SETEXT = re.compile(r"^(?:=+|-+)[ \t]*$")
BRACKETS = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]")


def starts(markdown: str) -> list[int]:
    """Return the lines (counted from 0) where the chunks of a file's Markdown begin, the first 0."""
    if WHOLE.search(markdown):
        return [0]
    lines = markdown.split("\n")
    return [0] + [i for i in _valid(lines) if _chosen(lines[i])]


def _chosen(line: str) -> bool:
    """Say whether a valid point becomes a cut, by its heading line alone."""
    return int(hashlib.sha256(line.encode()).hexdigest()[:12], 16) % CHUNK_EVERY == 0


def _valid(lines: list[str]) -> list[int]:
    """Return the lines (after the first) before which the file may be cut."""
    crossed = _crossed(lines)
    points, fence, divs, html, latex, comment, math, dashes = [], "", 0, 0, 0, False, False, False
    for i, line in enumerate(lines):
        if (i and not fence and not divs and not html and not latex and not comment and not math and not dashes
                and HEADING.match(line) and BLANK.match(lines[i - 1]) and not crossed[i]):
            points.append(i)
        if fence:
            m = FENCE.match(line)
            if m and m[1][0] == fence[0] and len(m[1]) >= len(fence) and not line[m.end():].strip():
                fence = ""
            continue
        if (m := FENCE.match(line)) and not (m[1][0] == "`" and "`" in line[m.end():]):
            fence = m[1]  # (backticks after backticks: inline code, not a fence)
            continue
        if m := DIV_FENCE.match(line):
            # A fence with words after it opens a div; a bare one closes the innermost.
            divs = divs + 1 if m[2] else max(divs - 1, 0)
        if dashes:
            dashes = not (line.strip() == "..." or DASHES.match(line) and _blank_after(lines, i))
        elif DASHES.match(line) and (i == 0 or BLANK.match(lines[i - 1])) and not _blank_after(lines, i):
            dashes = True
        code = INLINE_CODE.sub("", line) if "`" in line else line
        if "<" in code or comment:
            comment = _comment_open(code, comment)
            for close, _, attrs, end in HTML_TAG.findall(code):
                if not (end and attrs.endswith("/")):
                    html = max(html - 1, 0) if close else html + 1
        if "\\" in code:
            for kind in LATEX.findall(code):
                latex = max(latex - 1, 0) if kind == "end" else latex + 1
        if code.count("$$") % 2:
            math = not math
    return points


def _blank_after(lines: list[str], i: int) -> bool:
    return i + 1 >= len(lines) or bool(BLANK.match(lines[i + 1]))


def _comment_open(line: str, open_: bool) -> bool:
    """Say whether an HTML comment is still open after the line."""
    pos = 0
    while True:
        if open_:
            end = line.find("-->", pos)
            if end < 0:
                return True
            open_, pos = False, end + 3
        else:
            start = line.find("<!--", pos)
            if start < 0:
                return False
            open_, pos = True, start + 4


def _crossed(lines: list[str]) -> list[bool]:
    """Say for each line whether a cut before it would part a label's uses and definitions."""
    # A label matters where it is both defined and used: all its lines, definitions too (pandoc takes
    # the first of two), must then be in one chunk.
    defs: dict[int, set[str]] = defaultdict(set)  # by line
    uses: dict[int, set[str]] = defaultdict(set)
    text, first = [], 0  # the paragraph so far (a label may run over a line break) and its first line
    for i, line in enumerate(lines + [""]):
        if BLANK.match(line):
            # Cuts come only between paragraphs: a use is placed at its paragraph's first line.
            if keys := {_key(m[1]) for m in BRACKETS.finditer("\n".join(text))}:
                uses[first] |= keys
            text, first = [], i + 1
            continue
        rest = line
        if m := DEFINITION.match(line):
            defs[i].add(_key(m[1]))
            rest = line[m.end():]
        elif m := ATX_TEXT.match(line):
            defs[i].add(_key(m[1]))
        if i + 1 < len(lines) and SETEXT.match(lines[i + 1]):
            defs[i].add(_key(line))
        text.append(rest)
    labels = set().union(*defs.values()) & set().union(*uses.values())
    spans: dict[str, tuple[int, int]] = {}
    for i in sorted(defs.keys() | uses.keys()):
        for key in (defs.get(i, set()) | uses.get(i, set())) & labels:
            spans[key] = (spans.get(key, (i, i))[0], i)
    # Each label bars the cuts after its first line up to its last: marked by a running count.
    change = [0] * (len(lines) + 1)
    for first, last in spans.values():
        change[first + 1] += 1
        change[last + 1] -= 1
    crossed, depth = [], 0
    for step in change[:-1]:
        depth += step
        crossed.append(depth > 0)
    return crossed


def _key(label: str) -> str:
    """Return a label as pandoc matches it: case and runs of white space do not count."""
    return " ".join(label.split()).casefold()
