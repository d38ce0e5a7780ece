"""The safety model, enforced in one place: what a manuscript may reference, what is refused, the limits.

A manuscript may link to anchors in the book and to http(s) and mailto addresses, and show images
(``![](map.png)``, ``<img src>``) that are files inside its folder and pass images.py; nothing else it
writes may load, fetch or run anything. Judged on the HTML pandoc makes, so raw HTML, pandoc attributes
(``{onclick=…}``) and Markdown links are judged alike. Each image is resolved here, once, to its real
file; both writers use only that (Book.resources). The fetcher (fetch.py) enforces the folder again
while the PDF is laid out. The limits on the sources are checked before pandoc runs.
"""
from __future__ import annotations

import functools
import html
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from ..book.config import CONTROL, did_you_mean
from ..book.errors import Diagnostic, Places
from ..book.images import image_problem
from ..book.markup import MAX_SPAN, RESERVED_CLASS, RESERVED_DATA, RUNNING_TITLE, pandoc_key
from ..book.model import Book, Resource
from ..book.pages import MARKER
from ..system import interrupt
from .chunks import blocks, computed

# Elements that run code, load other documents, take input or change how the page is read.
ACTIVE_TAGS = {"script", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
               "form", "input", "button", "select", "textarea", "meta", "link", "style", "template", "portal"}
# Elements that load media or draw inline graphics: an edition of printed pages has only still images.
MEDIA_TAGS = {"video", "audio", "source", "track", "picture", "svg", "canvas", "map"}
LINK_SCHEMES = {"http", "https", "mailto"}
# Attributes whose value a renderer or a reading system would fetch; only <img src> may, once vetted.
RESOURCE_ATTRS = {"src", "srcset", "poster", "background", "data", "action", "formaction", "lowsrc",
                  "dynsrc", "longdesc", "usemap", "codebase", "archive", "manifest", "ping", "profile"}
# What a style attribute may say: keywords for the few properties a transcription needs, and sizes
# below 1000 units (pandoc writes ![](map.png){width=50%} as one). Nothing else: CSS can fetch
# (url(), @import, spelt with escapes too) and huge values break the layout (font-size: 1e9px).
STYLE_DECLARATION = re.compile(r"\s*(?:(?:text-align|font-style|font-weight|font-variant|text-decoration|"
                               r"text-transform|vertical-align|white-space)\s*:\s*[a-z][a-z -]*|"
                               r"(?:max-)?(?:width|height)\s*:\s*(?:auto|\d{1,3}(?:\.\d+)?(?:%|in|cm|mm|pt|px|r?em)?))"
                               r"\s*", re.I)
# A table's span (at most MAX_SPAN) is read as HTML reads an integer (WeasyPrint too): spaces, a sign,
# digits, and whatever follows ignored.
HTML_INTEGER = re.compile(r"[\t\n\f\r ]*([+-]?)([0-9]+)")
# The work of laying out a table grows with its cells (WeasyPrint takes seconds a thousand, and a
# table is laid out up to four times to fit it): no printed table comes near these.
MAX_COLUMNS = 100  # in one row, spans counted
MAX_CELLS = 10_000  # in one table
# Where a Markdown table begins: a pipe table's header and rule, or a grid table's top line.
PIPE_TABLE = r"^.*\|.*\n[ \t]*\|?[ \t]*:?-+:?[ \t]*\|"
GRID_TABLE = r"^[ \t]*\+[-=:+]+\+[ \t]*$"
# The elements of HTML a manuscript may write (and pandoc writes): the rest are not HTML (<o:p>,
# <svg:rect>, <foo>), obsolete (<font>, <center>, <plaintext>, which swallows the rest of the file) or
# active (ACTIVE_TAGS, MEDIA_TAGS); an EPUB reading system would refuse them.
ELEMENTS = {"a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite",
            "code", "col", "colgroup", "data", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption",
            "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "i", "img", "ins",
            "kbd", "li", "main", "mark", "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section",
            "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
            "time", "tr", "u", "ul", "var", "wbr"}
# Elements that hold only phrasing content (text and inline elements): a block inside one is moved
# out by an HTML parser and refused by an XHTML one.
PHRASING = {"a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "i", "img", "ins",
            "kbd", "mark", "q", "ruby", "rp", "rt", "s", "samp", "small", "span", "strong", "sub", "sup", "time",
            "u", "var", "wbr"}
INLINE_ONLY = (PHRASING - {"a", "del", "ins"}) | {"p", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
# What tables and lists may hold directly, and where their parts may stand; text directly inside
# them is moved elsewhere by an HTML parser too.
CHILDREN = {"table": {"caption", "colgroup", "thead", "tbody", "tfoot", "tr"}, "thead": {"tr"}, "tbody": {"tr"},
            "tfoot": {"tr"}, "tr": {"td", "th"}, "colgroup": {"col"}, "ul": {"li"}, "ol": {"li"},
            "dl": {"dt", "dd", "div"}}
PARENTS = {"tr": {"table", "thead", "tbody", "tfoot"}, "td": {"tr"}, "th": {"tr"}, "caption": {"table"},
           "colgroup": {"table"}, "thead": {"table"}, "tbody": {"table"}, "tfoot": {"table"}, "col": {"colgroup"},
           "li": {"ul", "ol"}, "dt": {"dl", "div"}, "dd": {"dl", "div"}, "figcaption": {"figure"},
           "summary": {"details"}, "rt": {"ruby"}, "rp": {"ruby"}}
# Spaces and control characters anywhere in a link: a browser ignores some of them ("java\tscript:",
# " javascript:"), so a link's scheme is judged without any of them.
URL_IGNORED = re.compile(r"[\x00-\x20]+")

# Limits on each source file, checked before pandoc reads it: beyond them pandoc or the layout would
# take minutes and gigabytes, and no real volume comes near them.
MAX_SOURCE_BYTES = 16 * 1024 * 1024
# Footnote references in one file: pandoc's time grows faster than the notes (6,000 take it 10 s, 20,000
# nearly two minutes); a real volume's longest chapter has a few hundred.
MAX_NOTES = 5_000
MAX_CONTROL = 1000  # control characters in one file: more is a binary file, not a transcription
# Bounds on one pandoc run: beyond them the file is refused, not waited for.
PANDOC_SECONDS = 180
PANDOC_MEGABYTES = 2048  # GHC's heap limit, +RTS -M: pandoc stops with "Heap exhausted" instead of swapping
# Deeper nesting than any real text has: the PDF's layout recurses once per level and would fail.
MAX_DEPTH = 48
NESTING_MARKS = re.compile(r"[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))")
LIST_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
FENCED_DIV = re.compile(r"^ {0,3}(:{3,})\s*(\S?)")
NESTED_TAG = re.compile(r"<(/?)(div|blockquote|section|ul|ol|dl|table|span)\b[^>]*?(/?)>", re.I)
NOTE_REF = re.compile(r"\[\^")
# pandoc's Markdown reader takes time exponential in the brackets open at once in a paragraph (twelve
# nested take 30 s) and quadratic in unclosed parentheses and long backtick runs; transcriptions nest
# brackets two or three deep ("[Page [I]]").
MAX_BRACKETS = 6
MAX_PARENTHESES = 32
MAX_BACKTICKS = 32
INLINE_TOKEN = re.compile(r"\\.|\n[ \t]*(?=\n)|[\[\]()]|`{%d,}" % (MAX_BACKTICKS + 1))
ATTRIBUTES = re.compile(r"<[A-Za-z][^<>]*>|\{[^{}\n]*\}")  # a raw HTML tag, or pandoc's attributes
# A class attribute's value (entities decoded and split at spaces as HTML does), or pandoc's .class.
CLASS_VALUE = re.compile(r"""(?<![\w-])class\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`{}]+))""", re.I)
PANDOC_CLASS = re.compile(r"(?<=[{\s])\.([^\s{}]+)")
# A fenced div or code block of one bare class: "::: name", "```name" (pandoc reads the word as a class).
FENCE_CLASS = re.compile(r"^ {0,3}(?::{3,}|`{3,}|~{3,})[ \t]*([^\s{}:`~]+)", re.M)
HTML_SPACE = re.compile(r"[ \t\n\f\r]+")
# The build's own data- attributes (markup.RESERVED_DATA, and the running head's title), as raw HTML
# and as pandoc's {key=value} write them; {title=...} is an element's title, not data-title.
RESERVED_ATTRIBUTE = {"<": re.compile(rf"(?<![\w-])(data-(?:{RESERVED_DATA}|{pandoc_key(RUNNING_TITLE)}))\s*=", re.I),
                      "{": re.compile(rf"(?<![\w-])((?:data-)?(?:{RESERVED_DATA})|{RUNNING_TITLE})\s*=", re.I)}
FACS_BLOCK = re.compile(r"\{facs=[^{}\n]*\}")
# Page markers in one file: a volume has under 2,000 pages; each is laid out and checked.
MAX_MARKERS = 20_000


def before_pandoc(sources: dict[Path, str], remember=computed) -> list[Diagnostic]:
    """Check every source against the limits (size, notes, control characters, nesting) and reserved classes."""
    diags = []
    for path, text in sources.items():
        interrupt.check()
        name = str(path)
        size = len(text.encode("utf-8"))
        if size > MAX_SOURCE_BYTES:
            diags.append(Diagnostic(name, 0, 0, "L001", f"the file has {size:,} bytes; a file may have at most "
                                    f"{MAX_SOURCE_BYTES:,}: split it into chapters"))
            continue
        if "\x00" in text or len(CONTROL.findall(text)) > MAX_CONTROL:
            line = text.count("\n", 0, CONTROL.search(text).start()) + 1  # NUL is a control character too
            diags.append(Diagnostic(name, line, 0, "L002", "the file holds NUL bytes or more than "
                                    f"{MAX_CONTROL} control characters: it is not a text file"))
            continue
        notes = len(NOTE_REF.findall(text))
        if notes > 2 * MAX_NOTES:  # a reference and its definition each begin with "[^"
            diags.append(Diagnostic(name, 0, 0, "L003", f"the file has about {notes // 2:,} footnotes; a file may "
                                    f"have at most {MAX_NOTES:,}: split it into chapters"))
        markers = sum(1 for _ in MARKER.finditer(text))
        if markers > MAX_MARKERS:
            diags.append(Diagnostic(name, 0, 0, "L003", f"the file has {markers:,} page markers; a file may "
                                    f"have at most {MAX_MARKERS:,}: split it into chapters"))
        diags += remember(_reserved, name, text)
        if (tangle := _tangled_line(text, remember)):
            diags.append(Diagnostic(name, *tangle))
        if (deep := _deepest_line(text, remember)):
            line, depth = deep
            diags.append(Diagnostic(name, line, 1, "S008", f"blocks nested {depth} deep (lists, quotes or divs "
                                    f"within each other); at most {MAX_DEPTH} can be typeset"))
    return diags


def _reserved(name: str, text: str) -> list[Diagnostic]:
    """Return an S010 for each class or data- attribute of the build's own that the text sets."""
    diags, places = [], None
    for fence in FENCE_CLASS.finditer(text):
        if RESERVED_CLASS.fullmatch(fence[1]):
            places = places or Places(text)
            diags.append(_reserved_diagnostic(name, places.at(fence.start(1)), f"class '{fence[1]}'"))
    for tag in ATTRIBUTES.finditer(text):
        # A page marker's {facs=...} is its own, no attribute of the text; after a marker mistyped, check.py
        # reports the marker (P001).
        if text[tag.start() - 1:tag.start()] == "]" and FACS_BLOCK.fullmatch(tag[0]):
            continue
        for start, what in _reserved_in(tag[0]):
            places = places or Places(text)
            diags.append(_reserved_diagnostic(name, places.at(tag.start() + start), what))
    return diags


# A file has thousands of tags and attribute blocks, most of them the same after an edit as before.
@functools.lru_cache(maxsize=1 << 16)
def _reserved_in(tag: str) -> tuple[tuple[int, str], ...]:
    """Return (offset, what) for each class or data- attribute of the build's own a tag or attribute block sets."""
    classes = [(m.start(), name) for m in CLASS_VALUE.finditer(tag)
               for name in HTML_SPACE.split(html.unescape(m[1] or m[2] or m[3] or ""))]
    if tag[0] == "{":
        classes += [(m.start(), m[1]) for m in PANDOC_CLASS.finditer(tag)]
    found = [(start, f"class '{name}'") for start, name in classes if RESERVED_CLASS.fullmatch(name)]
    found += [(m.start(), f"attribute '{m[1]}'") for m in RESERVED_ATTRIBUTE[tag[0]].finditer(tag)]
    return tuple(sorted(found))


def _reserved_diagnostic(name: str, place: tuple[int, int], what: str) -> Diagnostic:
    return Diagnostic(name, *place, "S010", f"{what} is the build's own (page breaks, notes, their numbers): "
                      "write a page marker as [Page 588] and a note as [^1], and choose another name")


def _tangled_line(text: str, remember=computed) -> tuple[int, int, str, str] | None:
    """Return _tangled's finding in the first of a file's blocks (chunks.blocks) that has one, its line the file's."""
    # A paragraph ends at the blank line that ends each block but the last: each block is read alone.
    for a, block in blocks(text):
        if (tangle := remember(_tangled, block)):
            return a + tangle[0], *tangle[1:]
    return None


def _tangled(text: str) -> tuple[int, int, str, str] | None:
    """Return (line, column, code, message) where brackets, parentheses or backticks pass their limit."""
    brackets = parens = 0
    for m in INLINE_TOKEN.finditer(text):
        token = m[0]
        if token[0] == "\n":  # a blank line ends the paragraph
            brackets = parens = 0
            continue
        brackets += {"[": 1, "]": -1}.get(token, 0)
        parens += {"(": 1, ")": -1}.get(token, 0)
        brackets, parens = max(brackets, 0), max(parens, 0)
        what = (f"a run of more than {MAX_BACKTICKS} backticks" if token[0] == "`" else
                f"more than {MAX_BRACKETS} brackets open at once" if brackets > MAX_BRACKETS else
                f"more than {MAX_PARENTHESES} parentheses open at once" if parens > MAX_PARENTHESES else "")
        if what:
            line = text.count("\n", 0, m.start()) + 1
            return line, m.start() - text.rfind("\n", 0, m.start()), "L004", \
                f"{what} in one paragraph: pandoc cannot read it in bounded time; close them, or escape " \
                "literal ones (\\[, \\(, \\`)"
    return None


def _deepest_line(text: str, remember=computed) -> tuple[int, int] | None:
    """Return (line, depth) where quotes, list items, fenced divs and block tags first nest past MAX_DEPTH."""
    # Block by block (chunks.blocks), each remembered by its text and the nesting its lines begin in.
    state: tuple = (0, 0, ())
    for a, block in blocks(text):
        deep, state = remember(_deepest_in, block, *state)
        if deep:
            return a + deep[0], deep[1]
    return None


def _deepest_in(text: str, divs: int, tags: int, items: tuple[int, ...]) -> tuple[tuple[int, int] | None, tuple]:
    """Return (line, depth) where a text's lines first nest past MAX_DEPTH, from the divs and tags open and the
    indents of the list items open above it (None: nowhere), and those open at its end."""
    items = list(items)  # the indents of the list items open above this line
    for number, line in enumerate(text.split("\n"), 1):
        interrupt.check()
        prefix = pos = 0
        while (m := NESTING_MARKS.match(line, pos)) and m.end() > pos:
            prefix, pos = prefix + 1, m.end()
        stripped = line.lstrip(" \t")
        indent = len(line[:len(line) - len(stripped)].expandtabs(4))
        item = LIST_ITEM.match(stripped)
        if item or (stripped and not indent):  # an item ends those indented as far, an unindented line all
            while items and items[-1] >= indent:
                items.pop()
        depth = len(items) + prefix
        if item:
            items.append(indent)
        fence = FENCED_DIV.match(line)
        if fence:
            divs = divs + 1 if fence[2] else max(divs - 1, 0)
        deepest = tags
        for m in NESTED_TAG.finditer(line):
            tags = max(tags - 1, 0) if m[1] else tags + (not m[3])
            deepest = max(deepest, tags)
        depth += divs + deepest
        if depth > MAX_DEPTH:
            return (number, depth), (divs, tags, tuple(items))
    return None, (divs, tags, tuple(items))


def problems(book: Book):
    """Yield (path, needles, code, message) for each refused or missing resource: all are errors.

    Binds each image to its one real file on the way: its src becomes the file's path inside the
    folder and Book.resources holds the file. The needles are regular expressions that find the
    problem in the file's Markdown, the first that is found.
    """
    book.resources = {}
    for chapter in book.chapters:
        path = str(chapter.path)
        for el in elements(chapter):
            interrupt.check()
            for needles, code, message in _element_problems(book, el):
                yield path, needles, code, message


def _element_problems(book: Book, el):
    tag = el.tag.lower()
    here = _tag_needles(tag)
    if tag in ACTIVE_TAGS:
        yield here, "R001", f"refused raw HTML <{tag}>: scripts, frames, forms and active " \
                            "content are not allowed in a manuscript"
    elif tag in MEDIA_TAGS:
        yield here, "R003", f"refused raw HTML <{tag}>: a manuscript shows only still images, as ![text](file.png)"
    elif tag not in ELEMENTS:
        yield here, "S011", f"raw HTML <{tag}> is not an HTML element a book can hold (obsolete, or a name " \
                            "from another vocabulary): write it in Markdown, or as [text]{.name}"
    else:
        yield from _structure_problems(el, tag, here)
    for name, value in el.attrib.items():
        lname = name.lower().split(":")[-1]
        where = _attribute_needles(name)
        if lname.startswith("on"):
            yield where, "R001", f"refused event handler '{name}' on <{tag}>: a manuscript may not run code"
        elif lname == "style" and (bad := [d for d in value.split(";") if d.strip()
                                           and not STYLE_DECLARATION.fullmatch(d)]):
            # Pandoc writes {width=50%} as style="width:50%": look for the value, which both share.
            yield (re.escape(bad[0].split(":", 1)[-1].strip()[:40]), *where), "R004", \
                f"refused style '{value}': a style attribute may set only text alignment, font style and " \
                "sizes below 1000 units"
        elif lname in ("colspan", "rowspan", "span") and html_integer(value, MAX_SPAN) > MAX_SPAN:
            yield (rf"\b{lname}\s*=\s*['\"]?\s*{re.escape(value.strip())}", *where), "R004", \
                f"refused {lname}=\"{value}\" on <{tag}>: a table cell spans at most {MAX_SPAN}"
        elif lname == "rel" and "attachment" in value.lower().split():
            yield where, "R003", f"refused rel=\"{value}\" on <{tag}>: an attachment would embed the file it " \
                                 "links to in the PDF"
        elif lname == "href" and tag in ("a", "area") and name.lower() == "href":
            yield from _link_problems(value)
        elif lname == "src" and tag == "img":
            yield from _bind_image(book, el, value)
        elif lname == "href" or lname in RESOURCE_ATTRS:
            yield (re.escape(value[:40]), *where), "R003", \
                f"refused attribute {name}=\"{value[:60]}\" on <{tag}>: only an image's src may load a file"


# A book has a few dozen names of elements and attributes, each met thousands of times.
@functools.lru_cache(maxsize=1024)
def _tag_needles(tag: str) -> tuple[str, ...]:
    return (rf"<\s*{re.escape(tag)}\b",)


@functools.lru_cache(maxsize=1024)
def _attribute_needles(name: str) -> tuple[str, ...]:
    return (rf"\b{re.escape(name)}\s*=",)


def html_integer(value: str, limit: int) -> int:
    """Return an attribute's integer as HTML and WeasyPrint read it, more than limit if larger; 1 if none."""
    found = HTML_INTEGER.match(value)
    if not found:
        return 1
    digits = found[2].lstrip("0") or "0"
    number = limit + 1 if len(digits) > len(str(limit)) else int(digits)  # int() of 5,000 digits would fail
    return -number if found[1] == "-" else number


def _structure_problems(el, tag: str, here: tuple[str, ...]):
    """Yield what an element's place breaks: a part of a table or list outside it, a block in a line, the limits."""
    parent = el.getparent()
    above = parent.tag.lower() if parent is not None and isinstance(parent.tag, str) else ""
    if parent is not None and (tag not in CHILDREN.get(above, (tag,)) or above not in PARENTS.get(tag, (above,))
                               or (above in INLINE_ONLY and tag not in PHRASING)):
        yield here, "S011", f"raw HTML <{tag}> cannot stand directly inside <{above}>: an HTML parser would " \
                            "move it elsewhere; write the table or list in Markdown, or close the element first"
    if tag in CHILDREN and ((el.text or "").strip() or any((child.tail or "").strip() for child in el)):
        yield here, "S011", f"text directly inside <{tag}>: an HTML parser would move it out; put it in a cell " \
                            "or an item"
    if tag == "table":
        # A span past MAX_SPAN is counted as one: it is refused (R004) on its own.
        rows = [[html_integer(cell.get("colspan", ""), MAX_SPAN) for cell in row if isinstance(cell.tag, str)]
                for row in el.xpath("./tr|./*/tr")]
        columns = max((sum(span if 1 <= span <= MAX_SPAN else 1 for span in row) for row in rows), default=0)
        cells = sum(len(row) for row in rows)
        if columns > MAX_COLUMNS or cells > MAX_CELLS:
            yield (*here, PIPE_TABLE, GRID_TABLE), "L005", \
                f"a table of {cells:,} cells, {columns:,} columns wide (spans counted); a table may have at most " \
                f"{MAX_CELLS:,} cells and {MAX_COLUMNS} columns: split it"


def _link_problems(href: str):
    needles = (re.escape(href[:40]), r"\bhref\s*=")
    try:
        scheme = urlsplit(URL_IGNORED.sub("", href)).scheme.lower()
    except ValueError:  # a malformed host, e.g. "http://["
        yield needles, "R002", f"refused link '{href[:60]}': it is not a valid URL"
        return
    if scheme == "javascript":
        yield needles, "R001", f"refused link '{href[:60]}': a manuscript may not run code"
    elif scheme and scheme not in LINK_SCHEMES:
        yield needles, "R002", f"refused link '{href[:60]}': links may be '#anchor', http(s) or mailto"


def _bind_image(book: Book, el, url: str):
    """Resolve an image to one real file inside the folder, judge it, and point the element at it."""
    needles = (re.escape(url[:60]), re.escape(url.strip()[:60]), r"\bsrc\s*=")
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme or parts.netloc:
        yield needles, "R003", f"refused '{url[:60]}': a build fetches nothing from the network or by URL; " \
                               "copy the file into the manuscript folder and link it by a relative path"
        return
    if parts.query or parts.fragment or "?" in url or "#" in url:
        yield needles, "R003", f"refused image '{url[:60]}': an image is a file, named without '?' or '#'"
        return
    folder = book.folder.resolve()
    try:
        real = (folder / unquote(parts.path)).resolve()
        found = real.is_file()
    except (OSError, RuntimeError, ValueError) as exc:  # a name too long, a symlink loop, a NUL
        yield needles, "S007", f"image '{url[:60]}' cannot be read: {exc}"
        return
    if not real.is_relative_to(folder) or real == folder:
        yield needles, "R003", f"refused '{url[:60]}': it lies outside the manuscript folder"
        return
    if not found:
        try:  # a name spelled or cased unlike the file's: say which file is there
            near = [p.name for p in real.parent.iterdir()] if real.parent.is_dir() else []
        except OSError:
            near = []
        yield needles, "S007", f"image '{url[:60]}' does not exist{did_you_mean(real.name, near)}"
        return
    media_type, why = image_problem(real)
    if why:
        yield needles, "R003", f"refused image '{url[:60]}': {why}"
        return
    name = real.relative_to(folder).as_posix()
    book.resources[name] = Resource(real, media_type)
    el.set("src", quote(name))


def elements(chapter, tag: str | None = None):
    """Yield the chapter's elements (those of one tag, if given), then its notes' elements."""
    yield from (el for el in chapter.body.iter(tag) if isinstance(el.tag, str))
    for note in chapter.notes.values():
        for block in note.blocks:
            yield from (el for el in block.iter(tag) if isinstance(el.tag, str))
