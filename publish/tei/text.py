"""FRUS TEI elements rendered as our Markdown: blocks, inline text, notes and page markers."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..book.config import CONTROL
from ..book.errors import Diagnostic
from ..book.markup import (
    ALIGNMENTS,
    BLOCK_CLASSES,
    CELL_CLASSES,
    GAP,
    GENERATED_ID,
    MAX_SPAN,
    NOTE_MARK,
    RESERVED_CLASS,
)
from ..book.numbers import whole
from ..book.pages import LABEL, PageBreak

HSG = "https://history.state.gov/historicaldocuments/"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
# What the importer writes into Markdown attributes and links, and nothing else: an id or class a TEI
# attribute gives only when it is a plain name, a web link only to history.state.gov. Anything else
# could close the attribute block and add an event handler, or send a reader anywhere.
SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
SAFE_VALUE = re.compile(r"[\w .-]*")  # an attribute's value: no quote or brace to end it early
SAFE_WEB = re.compile(r"https?://history\.state\.gov(?:/[A-Za-z0-9_.~/%-]*)?(?:#[A-Za-z0-9_.-]*)?")
SPACE = re.compile(r"[ \t\r\n]+")  # XML whitespace only: a no-break space is text
# Spaces and whatever ends a line for pandoc, Python or YAML: an attribute's value holding a line break
# would begin a heading, a div or a key of its own.
BREAKS = re.compile(r"[ \t\n\r\v\f\x1c-\x1f\x85\u2028\u2029]+")
# Characters pandoc would read as markup anywhere in a line.
SPECIAL = re.compile(r"([\\`*_\[\]<$~^|@{}])|&(?=#?\w+;)")
# What pandoc would read as the start of a list, heading, quote, table or definition at a line start.
LINE_START = [
    (re.compile(r"^(\d+|[A-Za-z]|[ivxlcdmIVXLCDM]+)([.)])(?=\s|$)"), r"\1\\\2"),
    (re.compile(r"^\(((?:\d+|[A-Za-z]+|@)\))"), r"\\(\1"),
    (re.compile(r"^([-+#>:=%])"), r"\\\1"),
]
HI = {"italic": ("*", "*"), "bold": ("**", "**"), "strong": ("**", "**"), "underline": ("[", "]{.underline}"),
      "smallcaps": ("[", "]{.smallcaps}"), "sc": ("[", "]{.smallcaps}"), "superscript": ("^", "^"),
      "subscript": ("~", "~"), "strikethrough": ("~~", "~~")}
# Elements whose text is printed as it stands; their meaning (a name, a date) is not typeset.
PLAIN = {"persName", "placeName", "orgName", "name", "gloss", "term", "date", "time", "affiliation", "unclear",
         "title", "seg", "foreign", "abbr", "num", "rs", "emph", "q", "said", "docDate", "pubPlace", "publisher",
         "byline", "titlePart", "idno", "add", "corr", "sic", "orig", "reg", "expan", "measure", "address",
         "addrLine"}
BLOCKS = {"p", "list", "table", "quote", "figure", "div", "head", "label", "item", "note", "lg", "l",
          *BLOCK_CLASSES}
# Blocks that, within a paragraph-like element (a closer, a dateline), run on in its line.
PHRASES = {"signed", "label", "head"}
# Elements holding blocks, where a page break between blocks stands on a line of its own.
CONTAINERS = {"div", "attachment", "quote", "note", "postscript", "figure", "front", "body", "back", "text"}
# A name or an abbreviation that points to its entry in the volume's list of persons or of terms (a modern
# volume's front matter: <persName corresp="#p_KJF1">, <gloss target="#t_NATO1">), by the attribute it points with.
POINTERS = {"persName": "corresp", "gloss": "target"}
POINTER_TAGS = [tag for name in POINTERS for tag in (f"{{*}}{name}", name)]
# Where a pointer or an entry stays text: in a heading, a title (the title page's docTitle prints its titleParts
# only), or a link's own text (links do not nest).
UNLINKED = {"head", "docTitle", "titlePart", "ref"}
FIRST_USE = "-first"  # the id of the first link to an entry: the entry's id, then this
MARKER_END = re.compile(rf"(?<!\\)\[Page (?:{LABEL})\](?:\{{facs=[^{{}}\n]*\}})?$")
TITLED = {"toc": "Contents", "index": "Index"}  # kinds of division that need no head to be named
# What the Office of the Historian's encoders wrote as the head of a document the print gave no title.
UNTITLED = "[untitled]"
FENCE = re.compile(r"^:{3,}")
# An item's own number as the print set it: "Rule 1.", "Art. 2.", "No. IV.", "First,", "Secondly.", "2d.", "(a)".
# A capital letter alone is a name's initial as often ("A. Lincoln."): only a small letter numbers an item.
_NUMBER = r"(?:\d+(?:st|nd|rd|th|d)?|[IVXLC]+|[ivxlc]+|[a-z])"
_ORDINAL = r"(?:First|Second|Third|Fourth|Fifth|Sixth|Seventh|Eighth|Ninth|Tenth|Eleventh|Twelfth)(?:ly)?"
NUMBERED = re.compile(rf"[“‘\"']?(?:(?:Rule|Article|Art\.|No\.|Section|Sec\.|Paragraph|Par\.)\s*{_NUMBER}[.:;,)]"
                      rf"|{_NUMBER}[.:)]|{_ORDINAL}[.:;,]|\(\w{{1,4}}\))(?=\s|$)")
ITEM = "-   "  # a list item's marker: its content and continuation lines start at column 4
BLOCK_START = (":::", ">", ITEM, "<")  # what opens a block no text may run into: a div, quote, list, HTML table
IGNORED = {"graphic", "facsimile", "anchor", "milestone", "cb", "fw"}  # carry no text
# Elements TEI defines as empty: text inside one (invalid TEI) would be left out, so it is warned of.
EMPTY = {"lb", "pb", "gap", "space", "graphic", "anchor", "milestone", "cb"}


def local(el) -> str:
    """Return an element's name without its namespace."""
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def escape(text: str) -> str:
    """Escape what pandoc would read as markup, so it reads back exactly these characters."""
    return SPECIAL.sub(lambda m: "\\" + m[0], text)


def one_line(value: str | None) -> str:
    """Return a value with its line breaks and runs of spaces as single spaces, trimmed."""
    return BREAKS.sub(" ", value or "").strip(" ")


def attribute_text(value: str | None) -> str:
    """Return an attribute's value as Markdown text that stays within its line."""
    return escape(one_line(value))


def safe_id(ident: str | None) -> bool:
    """Tell whether an id may be written: a plain name, not one the build gives pages and notes."""
    return bool(ident and SAFE_NAME.fullmatch(ident) and not GENERATED_ID.fullmatch(ident))


def safe_class(name: str | None) -> bool:
    """Tell whether a class may be written: a plain name, not one the build gives page breaks and notes."""
    return bool(name and SAFE_NAME.fullmatch(name) and not RESERVED_CLASS.fullmatch(name))


def attributes(ident: str | None = None, classes=(), pairs=()) -> str:
    """Return a Markdown attribute block ('' if empty) of what may be written: safe id and classes, plain values."""
    parts = [f"#{ident}"] if safe_id(ident) else []
    parts += [f".{name}" for name in classes if safe_class(name)]
    # Whitespace collapsed, as XML's tokenized values have it: pandoc reads no value that begins with a space.
    values = [(key, " ".join(value.split())) for key, value in pairs]
    parts += [f'{key}="{value}"' for key, value in values if value and SAFE_VALUE.fullmatch(value)]
    return "{" + " ".join(parts) + "}" if parts else ""


def heading(level: int, title: str, ident: str | None = None) -> str:
    """Return an ATX heading line of Markdown text; a '#' ending it stays text (pandoc would drop it)."""
    title = re.sub(r"#+$", lambda m: "\\#" * len(m[0]), title)
    attrs = attributes(ident)
    return f"{'#' * min(level, 6)} {title}" + (f" {attrs}" if attrs else "")


def escape_line_start(line: str) -> str:
    """Escape a line start pandoc would read as a block marker (list, heading, quote...)."""
    for pattern, repl in LINE_START:
        line = pattern.sub(repl, line, count=1)
    return line


@dataclass
class Volume:
    """What rendering needs to know about the whole TEI file."""

    path: str
    pages: dict[str, PageBreak]  # pb xml:id -> its break, for refs to pages
    markers: dict  # pb element -> its marker; a pb left out (a bad or repeated label) has none
    targets: set[str]  # ids that some ref points to
    anchors: set[str]  # ids the Markdown defines (headings, marked spans)
    warnings: list[Diagnostic]
    missing: set[str] = field(default_factory=set)  # ref targets found nowhere, warned about once
    # Each name or abbreviation linked to its entry in the list of persons or of terms (element -> the entry's
    # id), and each entry's way back: the id given to the first name or abbreviation linked to it.
    linked: dict = field(default_factory=dict)
    first_uses: dict[str, str] = field(default_factory=dict)

    def warn(self, el, code: str, message: str) -> None:
        # A value quoted in the message can neither begin a line of its own nor drive the terminal.
        message = CONTROL.sub("\ufffd", one_line(message))
        self.warnings.append(Diagnostic(self.path, el.sourceline or 0, 0, code, message, "warning"))


def pointed(el) -> str:
    """Return the id of the entry a name or an abbreviation points to ('' if it points to none by a plain id)."""
    target = (el.get(POINTERS.get(local(el), "")) or "").strip()
    return target[1:] if target.startswith("#") and safe_id(target[1:]) else ""


def pointers(text, anchors: set[str]) -> tuple[dict, dict[str, str]]:
    """Return the names and abbreviations linked to their entries (element -> (entry id, its own id or None)),
    and each entry's first link's id, which the entry links back to."""
    linked, first = {}, {}
    for el in text.iter(*POINTER_TAGS):
        entry = pointed(el)
        if entry in anchors and _linkable(el) and not any(a in linked for a in el.iterancestors()):
            use = entry + FIRST_USE if entry not in first and entry + FIRST_USE not in anchors else None
            first.setdefault(entry, use)
            linked[el] = (entry, use)
    return linked, {entry: use for entry, use in first.items() if use}


def _linkable(el) -> bool:
    """Tell whether an element's text may be a link: it shows text, holds no link and stands where a link may
    (not in a heading, a title, a link's text or what is left out)."""
    return (_shows_text(el) and not any(local(d) == "ref" for d in el.iterdescendants())
            and not any(local(a) in UNLINKED or local(a) in IGNORED for a in el.iterancestors()))


def _shows_text(el) -> bool:
    """Tell whether an element is rendered with text: its own, or a child's (not a note's, nor one left out)."""
    if (el.text or "").strip() or any((child.tail or "").strip() for child in el):
        return True
    return any(local(child) not in IGNORED and local(child) != "note" and _shows_text(child) for child in el)


class Renderer:
    """Turn one top-level division (or title page) into Markdown lines, its notes collected on the way."""

    def __init__(self, volume: Volume):
        self.volume = volume
        self.notes: list[list[str]] = []  # footnote definitions, written after each section
        self.used_labels: set[str] = set()
        self.italic = 0

    # ---- inline ----
    def inline(self, el, heading: bool = False) -> str:
        """Return an element's content as one Markdown line (line breaks as pandoc hard breaks)."""
        return self._inline_run(el.text, list(el), heading)

    def _inline_run(self, text: str | None, children: list, heading: bool) -> str:
        out = escape(_space(text))
        i = 0
        while i < len(children):
            run = [children[i]]
            # Italic runs written back to back would read '*a**b*': render them as one.
            while (local(run[-1]) == "hi" and not run[-1].tail and i + len(run) < len(children)
                   and _same_hi(run[0], children[i + len(run)])):
                run.append(children[i + len(run)])
            tail = escape(_space(run[-1].tail))
            if local(run[0]) == "note":
                called = _before_call(out, run[0])
                # The space the call no longer follows still parts the words on either side of it.
                if out.endswith(" ") and not called.endswith(" ") and tail[:1].isalnum():
                    tail = " " + tail
                out = called
            out = _follow(out, self._inline_child(run, heading))
            out = _follow(out, tail)
            i += len(run)
        return out

    def _inline_child(self, run: list, heading: bool) -> str:
        child = run[0]
        name = local(child)
        if not name or name in IGNORED:
            return ""
        if name == "hi":
            return self._hi(run, heading)
        if name == "lb":
            return "" if child.get("break") == "no" else (" " if heading else "\\\n")
        if name == "pb":
            return self.marker(child)
        if name == "note":
            return self.note_ref(child)
        if name == "ref":
            return self._ref(child, heading)
        if name == "space":
            return " "
        if name == "gap":  # an omission: kept for the editor, printed as nothing
            kept = [(k, v) for k, v in child.attrib.items() if k in ("reason", "quantity", "unit")]
            return "[]" + attributes(classes=[GAP], pairs=kept)
        if name == "del":
            return _wrap("~~", self.inline(child, heading), "~~")
        if name not in BLOCKS and name not in PLAIN:
            self._unknown(child)
        if child in self.volume.linked and not heading:
            entry, use = self.volume.linked[child]
            return _link(self._anchor(child) + self.inline(child, heading), f"#{entry}", use)
        back = self.volume.first_uses.get(child.get(XML_ID) or "")
        if back and not heading and _linkable(child):
            return _link(self.inline(child, heading), f"#{back}", child.get(XML_ID))
        return self._anchor(child) + self.inline(child, heading)

    def _hi(self, run: list, heading: bool) -> str:
        rend = (run[0].get("rend") or "").strip()
        if rend == "italic" and self.italic:
            rend = ""  # italic within italic: pandoc cannot nest '*'
        self.italic += rend == "italic"
        try:
            inner = "".join(self.inline(h, heading) for h in run)
        finally:
            self.italic -= rend == "italic"
        if rend not in HI:
            if rend:
                self.volume.warn(run[0], "I002", f"hi rend='{rend}' is not known: its text is kept plain")
            return inner
        left, right = HI[rend]
        if rend in ("superscript", "subscript"):
            inner = inner.replace(" ", "\\ ")
        return _wrap(left, inner, right)

    def marker(self, pb) -> str:
        """Return a pb as the page marker our format prints."""
        return self.volume.markers.get(pb, "")

    def note_ref(self, note) -> str:
        """Return a footnote reference and keep the note's text for its definition."""
        base = re.sub(r"[^A-Za-z0-9_-]", "", note.get(XML_ID, "")) or "n"
        label, n = base, 1
        while label in self.used_labels:
            n += 1
            label = f"{base}-{n}"
        self.used_labels.add(label)
        body = self.blocks(note) or [""]
        mark = attribute_text(note.get("n"))
        if mark:
            # The mark the print edition gave the note; a block (a table, a list) starts on a line of its own.
            mark = f"[{mark}]" + attributes(classes=[NOTE_MARK])
            body[:1] = [mark, "", body[0]] if body[0].startswith(BLOCK_START) else [f"{mark} {body[0]}"]
        body[0] = f"[^{label}]: " + self._anchor(note) + body[0]
        self.notes.append([body[0]] + [("    " + line if line else "") for line in body[1:]])
        return f"[^{label}]"

    def _ref(self, ref, heading: bool) -> str:
        text = self.inline(ref, heading)
        target = (ref.get("target") or "").strip()
        href = self._href(target)
        if href is None or heading or not text.strip():
            if href is None and target and target not in self.volume.missing:
                self.volume.missing.add(target)
                self.volume.warn(ref, "I003", f"ref target '{target[:80]}' is not in this volume or on "
                                              "history.state.gov: this ref and any later one to it are kept as text")
            return text
        return _link(text, href)

    def _href(self, target: str) -> str | None:
        """Return where a ref may link: an anchor in the volume or a page of history.state.gov; else None."""
        if target.startswith(("http://", "https://")):
            return target if SAFE_WEB.fullmatch(target) else None
        volume, _, ident = target.partition("#")
        if ident and not SAFE_NAME.fullmatch(ident):
            return None
        if volume:
            if not re.fullmatch(r"frus[A-Za-z0-9-]+", volume):
                return None
            return HSG + volume + (f"/{ident}" if ident else "")
        if ident in self.volume.pages:
            return "#" + self.volume.pages[ident].anchor
        return f"#{ident}" if ident in self.volume.anchors else None

    def _anchor(self, el) -> str:
        """Return an empty span carrying the element's id when a ref points to it and no heading does."""
        ident = el.get(XML_ID)
        if ident in self.volume.targets and local(el) != "div" and safe_id(ident):
            return "[]" + attributes(ident)
        return ""

    def _unknown(self, el) -> None:
        self.volume.warn(el, "I001", f"element <{local(el)}> is not known to the importer: its text is kept "
                                     "as plain text")

    # ---- blocks ----
    def blocks(self, el, level: int = 3) -> list[str]:
        """Return an element's content as Markdown lines: blocks separated by blank lines."""
        return self._blocks(el.text, list(el), level, local(el) in CONTAINERS)

    def _blocks(self, text: str | None, children: list, level: int, container: bool) -> list[str]:
        out: list[str] = []
        # A footnote among a division's blocks refers to the block before it.
        divisional = bool(children) and local(children[0].getparent()) in ("div", "attachment")
        start = 0

        def flush(end: int, lead: str | None) -> None:
            line = self._inline_run(lead, children[start:end], False).strip(" ")
            if line.replace("\\\n", "").strip():
                _add(out, _paragraph(line))

        lead = text
        for i, child in enumerate(children):
            name = local(child)
            footnote = name == "note" and not printed_in_place(child)
            if footnote and divisional:
                flush(i, lead)
                _append_ref(out, self.note_ref(child), child)
                start, lead = i + 1, child.tail
                continue
            lone_pb = name == "pb" and container and not self._inline_run(lead, children[start:i], False).strip()
            block = name in BLOCKS and (container or name not in PHRASES) and not footnote
            if block or lone_pb or (name in PHRASES and _holds_blocks(child)):
                flush(i, lead)
                _add(out, [self.marker(child)] if lone_pb else self.block(child, level))
                start, lead = i + 1, child.tail
        flush(len(children), lead)
        return out

    def block(self, el, level: int = 3) -> list[str]:
        """Return one block-level element as Markdown lines."""
        name = local(el)
        if name == "div":
            return self.division(el, level)
        if name == "p":
            lines = self.blocks(el, level)
            rend = el.get("rend")
            return _fenced([rend], lines) if rend in ALIGNMENTS else lines
        if name == "head":  # a head that does not open a division
            return _paragraph(self._anchor(el) + self.inline(el).strip())
        if name == "list":
            return self.list_(el)
        if name == "table":
            return self.table(el)
        if name == "quote":
            return [("> " + line if line else ">") for line in _trimmed(self.blocks(el, level))]
        if name == "note":  # a note printed in place: old volumes' source notes, captions, "By the President:"
            rend = el.get("rend")
            kind = el.get("type") if safe_class(el.get("type")) else "note"
            return _fenced([kind, rend] if rend in ALIGNMENTS else [kind], self.blocks(el, level))
        if name == "figure":
            for graphic in el.iter("{*}graphic"):
                self.volume.warn(graphic, "I004", f"image '{graphic.get('url')}' is not imported: "
                                                  "add the file to the manuscript and link it by hand")
            return self.blocks(el, level)
        if name == "attachment":
            return _fenced([BLOCK_CLASSES[name]], self._with_heads(el, level))
        if name in BLOCK_CLASSES:
            return _fenced([BLOCK_CLASSES[name]], self.blocks(el, level))
        if name not in BLOCKS:
            self._unknown(el)
        return self.blocks(el, level)

    def _with_heads(self, el, level: int) -> list[str]:
        """Render content whose heads are third-level headings in place (attachments)."""
        out: list[str] = []
        children = list(el)
        heads = [i for i, c in enumerate(children) if local(c) == "head"]
        bounds = [-1] + heads + [len(children)]
        for a, b in zip(bounds, bounds[1:]):
            if a >= 0:
                _add(out, [heading(3, self.inline(children[a], heading=True).strip())])
            lead = el.text if a < 0 else children[a].tail
            _add(out, self._blocks(lead, children[a + 1:b], level, True))
        return out

    def division(self, div, level: int) -> list[str]:
        """Return a division: its heading first (as every edition prints it), then its content."""
        children = list(div)
        head = next((c for c in children if local(c) == "head"), None)
        document = div.get("type") == "document"
        title = self._inline_run(head_text(head), list(head), True).strip() if head is not None else ""
        number = one_line(div.get("n")) if document else ""
        if number and not re.match(rf"^(No\.\s*)?{re.escape(number)}\b", _plain(title)):
            title = f"{escape(number)}. {title}".strip()
        out: list[str] = []
        if level == 1 and not title:  # a file needs a heading: the kind (contents, index) or id, warned of
            title = attribute_text(fallback_title(div))
            self.volume.warn(div, "I005", f"division without a head: titled '{title}' in the manuscript")
        elif not title and div.get(XML_ID) in self.volume.targets and safe_id(div.get(XML_ID)):
            out += ["[]" + attributes(div.get(XML_ID)), ""]  # what links to it still finds it
        if title:
            out += [heading(level, title, div.get(XML_ID)), ""]
        body = [c for c in children if c is not head]
        # What precedes the head (an old volume's source note) follows it; the head's tail is space.
        lead = head.tail if head is not None and children.index(head) == 0 else div.text
        _add(out, self._blocks(lead, body, 3 if document or level >= 3 else 2, True))
        if level <= 2:
            _add(out, self.take_notes())
        return out

    def list_(self, el) -> list[str]:
        """Return a list as printed: a signature's names line by line, the items of a list printed without
        bullets as paragraphs (led by their labels), others as a bullet list; page markers lead their items."""
        signature = local(el.getparent()) == "signed"
        labelled = any(local(c) == "label" for c in el)
        bullets = bulleted(el)
        items: list[list[str]] = []
        heads: list[str] = []
        lead = ""
        for child in el:
            name = local(child)
            if name == "head":
                heads += _paragraph(self.inline(child).strip())
            elif name == "label":
                lead = _follow(lead, self.inline(child).strip() + " ")
            elif name == "pb":
                lead += self.marker(child)
            elif name == "item":
                lines = _trimmed(self.blocks(child)) or [""]
                if lead and lines[0] and not lines[0].startswith(BLOCK_START):
                    lines[0] = escape_line_start(_follow(lead, lines[0]))
                elif lead:
                    lines = [escape_line_start(lead.strip()), ""] + lines
                lead = ""
                items.append([self._anchor(child) + lines[0]] + lines[1:])
            elif isinstance(child.tag, str):
                self._unknown(child)
                items.append(_paragraph(self.inline(child).strip()) or [""])
        if lead.strip():
            items.append([escape_line_start(lead.strip())])
        if signature:  # one name (and title) under another
            names = [line.removesuffix("\\") for lines in items for line in lines if line]
            out = [name + "\\" for name in names[:-1]] + names[-1:]
        elif not bullets:
            out = _joined(*items)
        else:
            out = []
            for lines in items:
                out.append((ITEM + lines[0]).rstrip())
                out += [("    " + line if line else "") for line in lines[1:]]
        kind = el.get("type") if safe_class(el.get("type")) else "list" if labelled or not (signature or bullets) \
            else ""
        return _fenced([kind], _joined(heads, out)) if kind else _joined(heads, out)

    def table(self, el) -> list[str]:
        """Return a table as an HTML table, a row to a line: pipe tables can hold neither spans nor blocks."""
        head = next((h for h in el if local(h) == "head"), None)
        caption = []
        if head is not None:  # its lines (a head broken by <lb/>) are safe from being read as block markers
            caption = ["<caption>" + "\n".join(_paragraph(self.inline(head))) + "</caption>"]
        header: list[str] = []  # the leading label rows: a page break inside the table repeats them
        body: list[str] = []
        lead = ""  # page markers between rows or cells: the page begins with the next cell
        for row in el:
            if local(row) == "pb":
                lead += self.marker(row)
            if local(row) != "row":
                continue
            label = row.get("role") == "label"
            cells: list[str] = []
            for cell in row:
                if local(cell) == "pb":
                    lead += self.marker(cell)
                elif local(cell) == "cell":
                    cells += self._cell(cell, label, lead)
                    lead = ""
            # A row of one-line cells is one line, as a pipe table's; one holding blocks has a cell to a line.
            lines = ["<tr>" + "".join(cells) + "</tr>"] if all(c.startswith("<t") for c in cells) else \
                ["<tr>", *cells, "</tr>"]
            (header if label and not body else body).extend(lines)
        out = ["<table>", *caption]
        if header:  # a body is told from its header only when there is one
            out += ["<thead>", *header, "</thead>"]
            body = ["<tbody>", *body, "</tbody>"] if body else []
        out += [*body, "</table>"]
        return _joined(out, [lead]) if lead else out

    def _cell(self, cell, label_row: bool, lead: str) -> list[str]:
        """Return a cell as HTML lines: a header cell (role="label") as th, its spans, a number aligned."""
        role = cell.get("role")
        tag = "th" if label_row or role == "label" else "td"
        attrs = f' scope="{"col" if label_row else "row"}"' if tag == "th" else ""
        for tei, html in (("rows", "rowspan"), ("cols", "colspan")):
            value = cell.get(tei)
            span = 1 if value is None else whole(value, MAX_SPAN)
            if not span:
                self.volume.warn(cell, "I010", f"{tei}='{value}' is not a whole number from 1 to {MAX_SPAN}: "
                                               "the cell spans one; correct the TEI or the table by hand")
                span = 1
            attrs += f' {html}="{span}"' if span > 1 else ""
        if role in CELL_CLASSES:
            attrs += f' class="{CELL_CLASSES[role]}"'
        lines = _trimmed(self.blocks(cell))
        if lead and lines and not lines[0].startswith(("<", ":::")):
            lines[0] = _follow(lead, lines[0])
        elif lead:
            lines = [lead, ""] + lines
        if len(lines) <= 1:
            return [f"<{tag}{attrs}>{''.join(lines)}</{tag}>"]
        # Blocks in a cell (paragraphs, a table) are Markdown between blank lines, as pandoc reads them.
        return [f"<{tag}{attrs}>", "", *lines, "", f"</{tag}>"]

    def take_notes(self) -> list[str]:
        """Return the footnote definitions collected so far, and forget them."""
        out: list[str] = []
        for lines in self.notes:
            _add(out, lines)
        self.notes = []
        return out


def bulleted(el) -> bool:
    """Tell whether a list was printed with bullets: none of its own form (a type, labels), nor items that
    open with their own numbers ("Rule 1.", "First.", "Art. 2."; most do, an encoder's typo aside)."""
    items = [" ".join("".join(item.itertext()).split()) for item in el if local(item) == "item"]
    numbered = sum(bool(NUMBERED.match(text)) for text in items)
    return not (el.get("type") or "").strip() and not any(local(c) == "label" for c in el) and \
        not (items and 2 * numbered > len(items))


def printed_in_place(note) -> bool:
    """Tell whether a note is printed where it stands, not as a footnote.

    So it is when marked inline or aligned (a centred caption), or when, standing among a division's
    blocks, it has no mark (@n) for a reference in the text to carry.
    """
    rend = note.get("rend")
    among_blocks = local(note.getparent()) in ("div", "attachment")
    return rend == "inline" or rend in ALIGNMENTS or (among_blocks and not (note.get("n") or "").strip())


def label_of(pb) -> str:
    """Return a pb's page label as printed: words apart in a bracketed one ("[Map 1]"), else as one."""
    label = " ".join(SPACE.split(pb.get("n") or "")).strip()
    return label if label.startswith("[") else label.replace(" ", "")


def _link(text: str, href: str, ident: str | None = None) -> str:
    """Return Markdown text as a link, its spaces outside it; with an id when one is given."""
    lead, core, trail = _split_space(text)
    return f"{lead}[{core}]({href}){attributes(ident)}{trail}" if core else text


def _follow(left: str, right: str) -> str:
    """Join two pieces of a line; a "(" or "{" just after a page marker would make it a link's text."""
    if right[:1] in ("(", "{") and MARKER_END.search(left):
        return left + "\\" + right
    return left + right


def _before_call(line: str, note) -> str:
    """Return a Markdown line without what print never sets before a note's call: a space, or the call's
    own symbol written out in the text (the call prints it: 'only.* *')."""
    if MARKER_END.search(line.rstrip(" ")):
        return line  # a page marker run into a call would be read as a reference link's text
    line = _unspaced(line)
    mark = escape(one_line(note.get("n")))
    if mark and not any(c.isalnum() for c in mark) and line.endswith(mark) \
            and _unescaped(line[:-len(mark)]):
        line = _unspaced(line[:-len(mark)])
    return line


def _unspaced(line: str) -> str:
    """Return a Markdown line without its trailing spaces, keeping an escaped one ('\\ ')."""
    core = line.rstrip(" ")
    return core if _unescaped(core) else core + " "


def _unescaped(text: str) -> bool:
    """Tell whether text ends outside an escape: an even run of backslashes."""
    return (len(text) - len(text.rstrip("\\"))) % 2 == 0


def _space(text: str | None) -> str:
    return SPACE.sub(" ", text) if text else ""


def _wrap(left: str, inner: str, right: str) -> str:
    lead, core, trail = _split_space(inner)
    return f"{lead}{left}{core}{right}{trail}" if core else inner


def _split_space(text: str) -> tuple[str, str, str]:
    core = text.strip(" ")
    if not core:
        return text, "", ""
    start = text.index(core)
    return text[:start], core, text[start + len(core):]


def _same_hi(a, b) -> bool:
    return isinstance(b.tag, str) and local(b) == "hi" and a.get("rend") == b.get("rend")


def _paragraph(text: str) -> list[str]:
    """Return a paragraph's lines, each safe from being read as a block marker."""
    lines = [re.sub(r"(?<!\\) {2,}", " ", line.strip(" ")) for line in text.split("\n")]
    return [escape_line_start(line) for line in lines if line.strip()] or []


def _fenced(classes: list[str], inner: list[str]) -> list[str]:
    """Return the lines in a fenced div of the classes that may be written; without one, as they are."""
    inner = _trimmed(inner)
    names = [name for name in classes if safe_class(name)]
    if not inner or not names:
        return inner
    fence = ":::" + ":" * _depth(inner)
    # After a quote, list or table the fence would be read as a lazy continuation of its last line.
    gap = [""] if inner[-1].startswith((">", "-", "<", " ")) else []
    return [f"{fence} {names[0] if len(names) == 1 else attributes(classes=names)}", *inner, *gap, fence]


def _append_ref(out: list[str], ref: str, note) -> None:
    """Put a footnote reference at the end of the text of the last block, or alone where there is none."""
    inside = 0  # tables the search is in, from their end: a cell's paragraphs are not the block's text
    for i in range(len(out) - 1, -1, -1):
        line = out[i].lstrip(" >")
        inside += line.startswith("</table>") - line.startswith("<table>")
        if out[i] and not inside and not line.startswith((":::", "<")):
            out[i] = _before_call(out[i].removesuffix("\\"), note) + ref
            return
    _add(out, [ref])


def _holds_blocks(el) -> bool:
    return any(local(d) in ("p", "list", "table", "quote") for d in el.iterdescendants())


def _trimmed(lines: list[str]) -> list[str]:
    """Return lines without blank lines at either end."""
    start, end = 0, len(lines)
    while start < end and not lines[start]:
        start += 1
    while end > start and not lines[end - 1]:
        end -= 1
    return lines[start:end]


def _depth(lines: list[str]) -> int:
    """Return how many more colons an enclosing fence needs than the deepest fence inside."""
    inner = [len(m[0]) - 2 for line in lines if (m := FENCE.match(line))]
    return max(inner, default=0)


def _joined(*parts: list[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        _add(out, part)
    return out


def _add(out: list[str], block: list[str]) -> None:
    """Append a block, separated from what precedes it by one blank line."""
    if not block:
        return
    if out and out[-1] != "":
        out.append("")
    out.extend(block)
    out.append("")


def _plain(markdown: str) -> str:
    return re.sub(r"[\\*\[\]]|\{[^}]*\}", "", markdown)




def head_text(head) -> str:
    """Return the text a head begins with, without the placeholder standing for a title the print never had."""
    return "" if one_line(head.text).casefold() == UNTITLED else head.text or ""


def headed(div) -> bool:
    """Tell whether a division has a heading with text, or one its kind gives it (contents, index)."""
    head = next((c for c in div if local(c) == "head"), None)
    return div.get("type") in TITLED or (head is not None and bool(
        (head_text(head) + "".join(t for c in head for t in (*c.itertext(), c.tail or ""))).strip()))


def fallback_title(div) -> str:
    kind = div.get("type") or "section"
    return TITLED.get(kind, (div.get(XML_ID) or kind).replace("-", " ").title())
