"""A file's Markdown in chunks that pandoc reads alone exactly as it reads them in the whole file.

pandoc's time grows with its input, so after a one-word edit only the chunk holding it is read again.
A chunk begins with an ATX heading at the line's start after a blank line, where no block can still
be open: no raw HTML element, fenced div, metadata block or multiline table. The rules are simple and
err one way only, so that a cut is made only where it is provably safe: an open is counted wherever
one may be, a close only where it surely is one. Past Markdown whose reach is hard to bound (a code
fence, an HTML comment, declaration or processing instruction, a tag not whole on its line, a TeX
command) the file is not cut at all, nor anywhere if its meaning is document-wide in other ways
(example lists). A label (a note's
``[^x]``, a reference link's ``[x]: url``, a heading's own text, which pandoc's
implicit_header_references makes a link target) may not have uses or definitions on both sides: every
bracketed text is taken for a use, and for a definition where a colon follows it or it is a heading's,
in whatever block quote or list it stands. Of the valid points, those whose heading line hashes to a
multiple of CHUNK_EVERY become cuts (like rsync's chunks), so a clean build and one after an edit
elsewhere cut at the same places. The file is cut as written, before its page markers become pandoc
spans holding source lines, which prepare() counts from the chunk's start: a chunk's text, and so
its cached HTML, stays the same when lines are added above it. The file is scanned in blocks (each
heading after a blank line begins one), each remembered by its text, so that a warm process (publish
watch) scans again only the blocks an edit changed.
"""
from __future__ import annotations

import hashlib
import re

# One valid heading in this many begins a chunk: in a FRUS chapter (a document of about 2 KB under
# each `##` heading) chunks of some 8 KB, which pandoc reads in about 0.03 s past its start (a clean
# build reads them in runs, RUN_BYTES, so it starts pandoc no more often for smaller chunks).
CHUNK_EVERY = 4

HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
BLANK = re.compile(r"^[ \t]*$")
# A blank line before a heading (HEADING, BLANK): the line break after it is where a block ends.
BLOCK_END = re.compile(r"^[ \t]*\n(?=#{1,6}(?:[ \t]|$))", re.M)
# A whole tag on one line (attribute values quoted or not), or an autolink.
TAG_BODY = (r"""(?:[A-Za-z][\w-]*(?:[ \t]+[^\s"'<>/=]+(?:[ \t]*=[ \t]*(?:"[^"\n]*"|'[^'\n]*'|[^\s"'=<>`]+))?)*"""
            r"[ \t]*/?>|/[A-Za-z][\w-]*[ \t]*>|[A-Za-z][\w+.-]*:[^\s<>]*>|[^\s<>@]+@[^\s<>]+>)")
# Where the file stops being cut: a code fence (also one that is none, indented or inside a comment),
# an HTML comment, CDATA, declaration or processing instruction, a tag that is not whole on its line
# (pandoc may read its attributes over many), a TeX command or environment, whose raw text may run over
# blank lines and headings, and hide or fake any other mark.
STOP = re.compile(rf"`{{3}}|~{{3}}|<[!?]|<(?=[A-Za-z/])(?!{TAG_BODY})|\\[A-Za-z]")
# Markdown whose meaning spans the whole file: example lists number across it.
WHOLE = re.compile(r"\(@[\w-]*\)")
# A fenced div's opening (at most three spaces in, some attribute after the colons) and its closing,
# which pandoc takes only at a line's start.
DIV_OPEN = re.compile(r"^ {0,3}:{3,}(?!:*[ \t]*$)")
DIV_CLOSE = re.compile(r"^:{3,}[ \t]*$")
# A line of dashes (and spaces) opening or closing a metadata block or a multiline table, whose
# columns may be one dash wide.
DASHES = re.compile(r"^ *-[- ]*$")
# The tags that open a raw HTML block in pandoc's Markdown, read up to their closing tag whatever blank
# lines and headings they hold (void ones too: they close at the file's end).
HTML_BLOCKS = ("address|applet|area|article|aside|audio|blockquote|body|button|canvas|caption|center|col|"
               "colgroup|dd|del|details|dialog|dir|div|dl|dt|embed|fieldset|figcaption|figure|footer|form|"
               "frameset|h[1-6]|head|header|hgroup|hr|html|iframe|ins|isindex|li|main|map|math|menu|meta|nav|"
               "noframes|noscript|object|ol|output|p|pre|progress|script|section|source|style|summary|svg|"
               "table|tbody|td|textarea|tfoot|th|thead|tr|ul|video")
HTML_TAG = re.compile(rf"(\\?)<(/?)({HTML_BLOCKS})(?![\w-])", re.I)
# What may carry raw text over a line, hiding a closing there: inline code, math, an attribute list
# left open, unless escaped (a backslash itself escaped leaves the mark unescaped); and a tag left open.
SPANNING = re.compile(r"`|(?<!(?<!\\)\\)(?:\$|\{[^{}]*$)|<[A-Za-z/][^<>]*$")
MAY_SPAN = set("`${<")
WHOLE_TAG = re.compile(f"<{TAG_BODY}")
# A line in a block quote, a list item or an indented code block.
CONTAINED = re.compile(r"^(?: {0,3}(?:>|(?:[-*+]|\d+[.)]|#[.)])(?:[ \t]|$))| {4}| {0,3}\t)")
# Headings in any block: an ATX heading after block quote and list marks, a setext underline.
PREFIX = re.compile(r"^(?:[ \t]*(?:>|(?:[-*+]|\d+[.)]|#[.)])(?=[ \t]|$)))*[ \t]*")
ATX_TEXT = re.compile(r"^#{1,6}(?:[ \t]+(.*?))?[ \t]*$")
SETEXT = re.compile(r"^(?:=+|-+)[ \t]*$")
ATTRIBUTES = re.compile(r"[ \t]*(?:#+[ \t]*)?(?:\{[^{}]*\}[ \t]*)?$")
# A bracket, not escaped (after an even number of backslashes).
SQUARE = re.compile(r"(?<!\\)(?:\\\\)*([\[\]])")
# Brackets in code, math or a tag's attribute are not a label's: where they may be, any label may be.
UNSURE = re.compile(r"`|(?<!\\)(?:\\\\)*\$|<[^<>\n]*[\[\]][^<>\n]*>")
ANY = "\0"  # a label no text can have
# Labels longer than this are not looked for: a file with one is not cut.
LABEL_CHARS = 1000


def computed(compute, *args):
    """Return compute(*args): the remember of a build that keeps nothing (see convert.PandocCache.remember)."""
    return compute(*args)


def blocks(markdown: str) -> list[tuple[int, str]]:
    """Return a file's Markdown in blocks, each with the count of lines before it: a block begins with each
    heading after a blank line, and so ends with a blank line (but the last)."""
    bounds = [0] + [m.end() for m in BLOCK_END.finditer(markdown)]
    found, line = [], 0
    for a, b in zip(bounds, bounds[1:] + [len(markdown)]):
        found.append((line, markdown[a:b - 1] if b < len(markdown) else markdown[a:]))
        line += markdown.count("\n", a, b)
    return found


def starts(markdown: str, remember=computed) -> list[int]:
    """Return the lines (counted from 0) where the chunks of a file's Markdown begin, the first 0."""
    # The file is scanned in blocks: no paragraph, and no look at the next line, runs from one into the
    # next. Each block is scanned alone and remembered by its text (with the state its lines begin in,
    # where that matters): after an edit, only the edited block, and those whose state it changed, are
    # scanned again.
    parts = blocks(markdown)
    marks = [(a, remember(_marks, block)) for a, block in parts]
    if any(whole for _, (whole, _) in marks):
        return [0]
    lines = markdown.split("\n")
    # Past Markdown whose reach is hard to bound, the file is not cut.
    end = next((a + stop for a, (_, stop) in marks if stop is not None), len(lines))
    return [0] + [i for i in _valid(parts, len(lines), end, remember) if _chosen(lines[i])]


def _chosen(line: str) -> bool:
    """Say whether a valid point becomes a cut, by its heading line alone."""
    return int(hashlib.sha256(line.encode()).hexdigest()[:12], 16) % CHUNK_EVERY == 0


def _marks(block: str) -> tuple[bool, int | None]:
    """Say whether a block holds Markdown whose meaning is document-wide, and on which line Markdown whose
    reach is hard to bound first stands (None: nowhere); neither runs over a line."""
    stop = STOP.search(block)
    return bool(WHOLE.search(block)), None if stop is None else block.count("\n", 0, stop.start())


def _valid(parts: list[tuple[int, str]], count: int, end: int, remember=computed) -> list[int]:
    """Return the lines (after the first, before end) before which a file of count lines, in blocks each
    after the line it begins on, may be cut."""
    crossed = _crossed(count, [(a, remember(_labels, block)) for a, block in parts])
    if crossed is None:
        return []
    points: list[int] = []
    state: tuple = ((), False)
    for a, block in parts:
        if a >= end:
            break
        found, state = remember(_scan, block, *state)
        points += [a + i for i in found if 0 < a + i < end and not crossed[a + i]]
    return points


def _scan(block: str, opened: tuple[str, ...], dashes: bool) -> tuple[list[int], tuple]:
    """Return the lines of a block before which no raw HTML element, fenced div or dashed block is open, and
    the state its end leaves: the elements and divs open (innermost last), and whether a dashed block is."""
    # The raw HTML elements and fenced divs open, innermost last, each with the line it opens on: a
    # closing counts only if it matches the innermost (else pandoc may read it as text, or as the
    # closing of something inside), and, past that line, only at a line's start (else it may stand in
    # a list item or a paragraph that pandoc reads apart). Those opened in earlier blocks opened on no
    # line of this one.
    lines = block.split("\n")
    open_: list[tuple[str, int]] = [(name, -1) for name in opened]
    points: list[int] = []
    spanning = False  # whether something in the paragraph so far may run on over a line
    contained = False  # whether the line is in a block quote or list item, lazily too
    for i, line in enumerate(lines):
        if BLANK.match(line):
            spanning = contained = False
            continue
        # A block begins after a blank line.
        if not open_ and not dashes and HEADING.match(line) and (i == 0 or BLANK.match(lines[i - 1])):
            points.append(i)
        if dashes:
            dashes = not (line == "..." or DASHES.match(line) and _blank_after(lines, i))
        elif DASHES.match(line) and not _blank_after(lines, i):
            dashes = True
        # What a block quote or list item opens, pandoc closes at its end, and HTML that is not well
        # nested comes of it: it may be closed only inside.
        contained = contained or bool(CONTAINED.match(line))
        where = "in" if contained else ""
        closing = not dashes and not spanning
        hidden, start = not closing, 0  # whether something before a tag on the line may hide it
        for m in HTML_TAG.finditer(line):
            whole = WHOLE_TAG.match(line, m.start() + len(m[1]))  # after the backslash escaping it
            # A tag inside an earlier one's attribute, or after something that may hide it, is not one.
            hidden = hidden or bool(m[1]) or m.start() < start or bool(SPANNING.search(line, start, m.start()))
            if not m[2]:
                open_.append((m[3].lower() + where, i))
            elif (whole and not hidden and open_ and open_[-1][0] == m[3].lower() + where
                  and (m.start() == 0 or open_[-1][1] == i)):
                open_.pop()
            hidden = hidden or whole is None
            start = max(start, whole.end() if whole else len(line))
        if DIV_OPEN.match(line):
            open_.append((":::", i))
        elif DIV_CLOSE.match(line) and closing and not contained and open_ and open_[-1][0] == ":::":
            open_.pop()
        spanning = spanning or bool(MAY_SPAN.intersection(line) and SPANNING.search(line))
    return points, (tuple(name for name, _ in open_), dashes)


def _blank_after(lines: list[str], i: int) -> bool:
    return i + 1 >= len(lines) or bool(BLANK.match(lines[i + 1]))


def _labels(block: str) -> tuple | None:
    """Return the labels a block's paragraphs define, those they use, the first and last paragraph each is
    found in, the block's first and last paragraph (None: it has none), and whether some paragraph's labels
    are unsure; a paragraph by its first line; None where a label is too long."""
    # Cuts come only between paragraphs: each label is placed at its paragraph's first line. A heading
    # defines its text; every bracketed text is a use, and a definition where a colon follows it.
    defined: set[str] = set()
    used: set[str] = set()
    spans: dict[str, tuple[int, int]] = {}
    firsts: list[int] = []
    unsure = False  # whether some paragraph's labels are not known for sure
    defs: set[str] = set()
    text: list[str] = []  # the paragraph so far, without block quote and list marks
    first = 0
    for i, line in enumerate(block.split("\n") + [""]):
        if BLANK.match(line):
            if text:
                paragraph = "\n".join(text)
                brackets = _brackets(paragraph)
                if brackets is None:
                    return None
                uses = {_key(label) for label, _ in brackets}
                defs |= {_key(label) for label, colon in brackets if colon}
                defined |= defs
                used |= uses
                for key in defs | uses:
                    spans[key] = (spans.get(key, (first, first))[0], first)
                firsts.append(first)
                unsure = unsure or bool(brackets and UNSURE.search(paragraph))
            defs, text, first = set(), [], i + 1
            continue
        content = line[PREFIX.match(line).end():]
        if m := ATX_TEXT.match(content):
            defs |= _heading_keys(m[1] or "")
        if SETEXT.match(content) and text:
            defs |= _heading_keys(text[-1]) | _heading_keys(" ".join(text))
        text.append(content)
    return defined, used, spans, (firsts[0], firsts[-1]) if firsts else None, unsure


def _crossed(count: int, labels_of: list[tuple[int, tuple | None]]) -> list[bool] | None:
    """Say for each of a file's lines whether a cut before it would part a label's uses and definitions,
    from the labels of its blocks, each after the line it begins on (None: a label too long)."""
    # A label matters where it is both defined and used: all its paragraphs, definitions too (pandoc
    # takes the first of two), must then be in one chunk.
    if any(found is None for _, found in labels_of):
        return None
    labels = set().union(*(found[0] for _, found in labels_of)) & set().union(*(found[1] for _, found in labels_of))
    spans: dict[str, tuple[int, int]] = {}
    for a, (_, _, found, _, _) in labels_of:
        for key in found.keys() & labels:
            first, last = found[key]
            spans[key] = (spans.get(key, (a + first,))[0], a + last)
    # Where a bracket may be in code, math or a tag, which the label is is not known: it may be any, and
    # every paragraph uses it.
    if any(found[4] for _, found in labels_of):
        paragraphs = [(a + firsts[0], a + firsts[1]) for a, (*_, firsts, _) in labels_of if firsts]
        spans[ANY] = (paragraphs[0][0], paragraphs[-1][1])
    # Each label bars the cuts after its first line up to its last: marked by a running count.
    change = [0] * (count + 1)
    for start, last in spans.values():
        change[start + 1] += 1
        change[last + 1] -= 1
    crossed, depth = [], 0
    for step in change[:-1]:
        depth += step
        crossed.append(depth > 0)
    return crossed


def _brackets(text: str) -> list[tuple[str, bool]] | None:
    """Return the text in every pair of brackets, nested ones too, and whether a colon follows (None: one too long)."""
    found, opened = [], []
    for bracket in SQUARE.finditer(text):
        i = bracket.start(1)
        if bracket[1] == "[":
            opened.append(i)
        elif opened:
            start = opened.pop()
            if i - start > LABEL_CHARS:
                return None
            found.append((text[start + 1:i], text[i + 1:i + 2] == ":"))
    return found


def _heading_keys(text: str) -> set[str]:
    """Return the keys a heading's text may define, with and without what may be its attributes."""
    return {_key(text), _key(ATTRIBUTES.sub("", text))}


def _key(label: str) -> str:
    """Return a label as pandoc matches it: case and runs of white space do not count."""
    return " ".join(label.split()).casefold()
