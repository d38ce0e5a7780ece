"""Read the outputs back as a reader's software would: PDF words and positions, outline, EPUB files."""
from __future__ import annotations

import copy
import functools
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pikepdf
from lxml import etree

from publish.book.model import Book

PT_PER = {"in": 72.0, "mm": 72 / 25.4, "cm": 72 / 2.54, "pt": 1.0, "px": 0.75}
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "ncx": "http://www.daisy.org/z3986/2005/ncx/"}


def length(text: str) -> float:
    """Return a CSS length in points."""
    m = re.fullmatch(r"([\d.]+)(in|mm|cm|pt|px)", text.strip())
    return float(m[1]) * PT_PER[m[2]]


@dataclass
class Word:
    text: str
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 0.0


class PrintedBook:
    """A built PDF: words sorted into body, margin and running heads by the book's geometry."""

    def __init__(self, path: Path, book: Book, pages: set[int] | None = None):
        """Read the words of every page, or of those pages only (a volume's every word takes minutes)."""
        self.path = path
        meta = book.meta
        self.width, self.height = (length(v) for v in meta.page_size.split())
        top, outer, bottom, inner = (length(v) for v in meta.margins.split())
        self.top, self.bottom, self.outer, self.inner = top, self.height - bottom, outer, inner
        self.words: list[Word] = []
        self.lines_by_page: list[list[str]] = []
        self.sizes: list[tuple[float, float]] = []  # each page's own: a table may turn one landscape
        with pdfplumber.open(path) as pdf:
            self.page_count = len(pdf.pages)
            for index, page in enumerate(pdf.pages):
                self.sizes.append((float(page.width), float(page.height)))
                if pages is not None and index not in pages:
                    continue
                for w in page.extract_words(use_text_flow=False, keep_blank_chars=False, extra_attrs=["size"]):
                    self.words.append(Word(w["text"], index, w["x0"], w["x1"], w["top"], w["bottom"],
                                           round(w["size"], 1)))

    def block(self, page: int) -> tuple[float, float]:
        """Return the left and right edges of the text block (the first page is a recto)."""
        width = self.sizes[page][0]
        if page % 2 == 0:
            return self.inner, width - self.outer
        return self.outer, width - self.inner

    def zone(self, word: Word) -> str:
        """Say where a word stands: 'head', 'foot', 'margin' or 'body'."""
        left, right = self.block(word.page)
        if word.bottom <= self.top + 1:
            return "head"
        if word.top >= self.bottom + self.sizes[word.page][1] - self.height - 1:
            return "foot"
        if word.x1 <= left + 0.5 or word.x0 >= right - 0.5:
            return "margin"
        return "body"

    def in_zone(self, zone: str, page: int | None = None) -> list[Word]:
        return [w for w in self.words if self.zone(w) == zone and (page is None or w.page == page)]

    def _stream(self, text_size: bool):
        """Return the body's text folded for matching and the index of the body word owning each character.

        With text_size, only words in the text's type size: the notes at the foot of a page do not
        come between the last words of a page and the first of the next.
        """
        stream, owners = [], []
        for i, word in enumerate(self.in_zone("body")):
            if text_size and abs(word.size - self.text_size) > 0.5:
                continue
            for ch in normalize(word.text):
                stream.append(ch)
                owners.append(i)
        return "".join(stream), owners

    def find(self, phrase: str, after: int = 0) -> Word | None:
        """Return the body word where phrase begins, searching from the body word at index after."""
        body = self.in_zone("body")
        target = normalize(phrase)
        for text_size in (True, False):
            text, owners = self._stream(text_size)
            begin = next((c for c, owner in enumerate(owners) if owner >= after), len(text))
            start = text.find(target, begin)
            if start < 0:
                start = text.find(target)
            if start >= 0:
                return body[owners[start]]
        return None

    def locate(self, book: Book) -> dict[str, Word]:
        """Find the first word after each page break, in reading order."""
        found, after = {}, 0
        body = self.in_zone("body")
        for pb in book.page_breaks:
            # Eight words tell most places apart; fewer where those run past the page's last line, and
            # the page's list bullets or notes come between them in the PDF's text.
            word = next((w for n in (8, 4) if (w := self.find(following_text(book, pb.anchor, n), after))), None)
            if word is not None:
                found[pb.anchor] = word
                after = body.index(word)
        return found

    def foot_text(self, page: int) -> str:
        return " ".join(w.text for w in self.in_zone("foot", page))

    def turned(self, page: int) -> bool:
        """Say whether a page is set turned: wider than tall (pdfplumber gives a page its /Rotate's size)."""
        width, height = self.sizes[page]
        return width > height

    def empty_share(self, page: int) -> float:
        """Return the share of the text block left empty between the page's last line and its notes (or the
        block's foot): the room a printer would fill."""
        body = self.in_zone("body", page)
        if not body:
            return 1.0
        size = self.text_size
        text_foot = max((w.bottom for w in body if w.size >= size - 0.5), default=self.top)
        # Notes at the foot, in their type size (print.css: 0.82rem), below the last line of the text.
        notes = [w for w in body if abs(w.size - NOTE_SIZE * size) < 0.1 and w.top > text_foot]
        limit = min((w.top for w in notes), default=self.bottom)
        last = max((w.bottom for w in body if w not in notes), default=self.top)
        return max(0.0, limit - last) / (self.bottom - self.top)

    @functools.cached_property
    def text_size(self) -> float:
        """The type size of the text: the size most of the body's words have."""
        sizes = [w.size for w in self.in_zone("body")]
        return max(set(sizes), key=sizes.count)


NOTE_SIZE = 0.82  # a footnote's type size, in the text's (print.css .footnote)


def short_before_turned(printed: PrintedBook, share: float = 0.2) -> list[tuple[int, int, float]]:
    """Return (the page before, the last turned page, its empty share) for each run of turned pages whose
    upright page before is more than share empty."""
    found = []
    for page in range(printed.page_count - 1):
        if printed.turned(page) or not printed.turned(page + 1):
            continue
        last = page + 1
        while last + 1 < printed.page_count and printed.turned(last + 1):
            last += 1
        empty = printed.empty_share(page)
        if empty > share:
            found.append((page, last, empty))
    return found


def normalize(text: str) -> str:
    """Fold text for matching: NFKC, no hyphens or spaces, no quotes' style."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\-\u00ad\u2010\u2011]", "", text)


def following_text(book: Book, anchor: str, words: int = 5) -> str:
    """Return the first words after a page break, as the model has them."""
    for chapter in book.chapters:
        roots = [chapter.body] + [b for n in chapter.notes.values() for b in n.blocks]
        for root in roots:
            found = root.xpath(f".//*[@id='{anchor}']")
            if not found:
                continue
            clone = copy.deepcopy(root)
            span = clone.xpath(f".//*[@id='{anchor}']")[0]
            span.text = "\ue000"
            for other in clone.xpath(".//span[@class='pagebreak']"):
                if other is not span:
                    other.text = ""
            for ref in clone.xpath(".//a[@class='noteref']"):
                ref.text = ""
            after = clone.text_content().split("\ue000", 1)[1]
            return " ".join(after.split()[:words])
    raise KeyError(anchor)


def outline(path: Path) -> list[tuple[int, str, str]]:
    """Return the PDF bookmarks as (level, title, named destination)."""
    items = []
    with pikepdf.open(path) as pdf, pdf.open_outline() as tree:
        def walk(nodes, level):
            for node in nodes:
                dest = node.destination
                items.append((level, node.title, str(dest) if isinstance(dest, (str, pikepdf.String)) else dest))
                walk(node.children, level + 1)
        walk(tree.root, 1)
    return items


def named_destinations(path: Path) -> dict[str, int]:
    """Return every named destination with the index of its page."""
    with pikepdf.open(path) as pdf:
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        tree = pikepdf.NameTree(pdf.Root.Names.Dests)
        return {str(k): pages[v[0].objgen] for k, v in tree.items()}


@dataclass
class PrintedNote:
    """Where a note's call and the note itself stand in the PDF, and the mark printed before the note."""

    anchor: str
    call: tuple[int, float] | None  # (page, top) of the call
    note: tuple[int, float] | None  # (page, top) of the note's first line
    marker: str  # the first word of the note as printed: "1.", "*"

    @property
    def at_its_foot(self) -> bool:
        """Tell whether the note stands on its call's page, below it."""
        return bool(self.call and self.note and self.call[0] == self.note[0] and self.note[1] > self.call[1])


def printed_notes(path: Path, book: Book) -> list[PrintedNote]:
    """Return every note of the book, in reading order, as the PDF's destinations and words place it."""
    with pikepdf.open(path) as pdf:
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        # /XYZ destinations: [page /XYZ left top zoom], top measured up from the page's foot.
        dests = {str(k): (pages[v[0].objgen], float(v[3]))
                 for k, v in pikepdf.NameTree(pdf.Root.Names.Dests).items()}
    order = book.reading_order()  # a note's place is its call's
    notes = sorted((n for ch in book.chapters for n in ch.notes.values()), key=lambda n: order[n.anchor + "ref"])
    found, words = [], {}
    with pdfplumber.open(path) as pdf:
        height = float(pdf.pages[0].height)

        def place(anchor):
            return (dests[anchor][0], height - dests[anchor][1]) if anchor in dests else None

        for note in notes:
            at, marker = place(note.anchor), ""
            if at:
                page = words.setdefault(at[0], pdf.pages[at[0]].extract_words())
                # The marker opens the first line: the leftmost word within a line below the note's top.
                line = [w for w in page if at[1] - 1 <= w["top"] <= at[1] + 12]
                if line:
                    top = min(w["top"] for w in line)
                    marker = min((w for w in line if w["top"] - top < 3), key=lambda w: w["x0"])["text"]
            found.append(PrintedNote(note.anchor, place(note.anchor + "ref"), at, marker))
    return found


def page_labels(path: Path) -> list[str]:
    with pikepdf.open(path) as pdf:
        return [p.label for p in pdf.pages]


class Ebook:
    """A built EPUB, parsed."""

    def __init__(self, path: Path):
        self.path = path
        with zipfile.ZipFile(path) as z:
            self.names = z.namelist()
            self.infos = z.infolist()
            self.files = {n: z.read(n) for n in self.names}
        container = etree.fromstring(self.files["META-INF/container.xml"])
        self.opf_path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        self.base = self.opf_path.rsplit("/", 1)[0] + "/"
        self.opf = etree.fromstring(self.files[self.opf_path])
        manifest = {i.get("id"): i for i in self.opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
        self.spine = [manifest[r.get("idref")].get("href") for r in self.opf.xpath("//opf:spine/opf:itemref",
                                                                                    namespaces=NS)]
        nav_href = self.opf.xpath("//opf:item[contains(@properties, 'nav')]/@href", namespaces=NS)[0]
        self.nav = self.xhtml(nav_href)
        ncx_href = self.opf.xpath("//opf:item[@media-type='application/x-dtbncx+xml']/@href", namespaces=NS)[0]
        self.ncx = etree.fromstring(self.files[self.base + ncx_href])

    def xhtml(self, href: str):
        return etree.fromstring(self.files[self.base + href.split("#")[0]])

    def meta(self, prop: str) -> list[str]:
        return [m.text for m in self.opf.xpath(f"//opf:meta[@property='{prop}']", namespaces=NS)]

    def dc(self, name: str) -> list[str]:
        return [e.text for e in self.opf.xpath(f"//dc:{name}", namespaces=NS)]

    def toc(self) -> list[tuple[int, str, str]]:
        """Return the nav toc as (level, title, href)."""
        entries = []
        for a in self.nav.xpath("//x:nav[@epub:type='toc']//x:a", namespaces=NS):
            level = len(a.xpath("ancestor::x:ol", namespaces=NS))
            entries.append((level, " ".join(a.itertext()), a.get("href")))
        return entries

    def page_list(self) -> list[tuple[str, str]]:
        return [(" ".join(a.itertext()), a.get("href"))
                for a in self.nav.xpath("//x:nav[@epub:type='page-list']//x:a", namespaces=NS)]

    def target(self, href: str):
        """Return the element an href points at."""
        doc = self.xhtml(href)
        found = doc.xpath(f"//*[@id='{href.split('#')[1]}']")
        return found[0] if found else None

    def content_documents(self) -> list[str]:
        return [h for h in self.spine if h.startswith("chapter-")]

    def ids(self) -> set[str]:
        found = set()
        for href in self.spine:
            found |= set(self.xhtml(href).xpath("//@id"))
        return found


def structure_elements(pdf: pikepdf.Pdf):
    """Yield every structure element reachable from the structure tree's root, in order."""
    def walk(node):
        kids = node.get("/K", [])
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                yield kid
                yield from walk(kid)
    yield from walk(pdf.Root.StructTreeRoot)


class TaggedText:
    """A tagged PDF's structure elements and their text, read in structure order as assistive technology reads it."""

    def __init__(self, path: Path):
        self.pdf = pikepdf.open(path)
        self._page = {page.objgen: i for i, page in enumerate(self.pdf.pages)}
        self._marked: dict[tuple[int, int], str] = {}
        with pdfplumber.open(path) as pdf:
            for i, page in enumerate(pdf.pages):
                for char in page.chars:
                    if char.get("mcid") is not None:
                        key = (i, char["mcid"])
                        self._marked[key] = self._marked.get(key, "") + char["text"]

    def elements(self, role: str) -> list:
        return [e for e in structure_elements(self.pdf) if e.S == role]

    def _content(self, element, page=None):
        """Yield (page index, MCID) of each marked content under element, in structure order."""
        page = element.get("/Pg", page)
        kids = element.get("/K", [])
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, int):
                yield self._page[page.objgen], kid
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                yield self._page[kid.get("/Pg", page).objgen], int(kid.MCID)
            elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                yield from self._content(kid, page)

    def pages(self, element) -> set[int]:
        """Return the pages an element's content is drawn on."""
        return {page for page, _ in self._content(element)}

    def text(self, element) -> str:
        """Return an element's text, its pieces of content in structure order; a line-end hyphen joins its word."""
        text = " ".join(self._marked.get(key, "") for key in self._content(element))
        return re.sub(r"\s+", " ", text.replace("\u2010 ", ""))


def assert_accessible_and_archival(path: Path) -> None:
    """Assert that page-validation finds no failed rule of PDF/UA-1 or PDF/A-2u."""
    import page
    # A volume's chapter may hold hundreds of documents: its outline entries are one /Next chain,
    # longer than the checker's default bound on reference chains (256).
    limits = page.SafetyLimits(max_reference_depth=65536)
    for profile in ("ua1", "2u"):
        report = page.validate_pdf(path, profile=profile, limits=limits)
        failed = sorted({f"{f.rule_id}: {f.message}" for f in report.failures})
        assert report.is_compliant and not failed, f"{profile}: {failed}"
    # What the validators do not ask: every element the parent tree names (the owner of each piece of content
    # and each link) is in the tree, where assistive technology reads it.
    with pikepdf.open(path) as pdf:
        in_tree = {e.objgen for e in structure_elements(pdf)}
        named = []
        for nums in _number_trees(pdf.Root.StructTreeRoot.ParentTree):
            for value in nums[1::2]:
                named += [v for v in (value if isinstance(value, pikepdf.Array) else [value])
                          if isinstance(v, pikepdf.Dictionary)]
        lost = [str(v.S) for v in named if v.objgen not in in_tree]
        assert not lost, f"{len(lost)} of {len(named)} elements owning content are not in the tree: {lost[:5]}"
        # A link stands in the text it belongs to: one at the top, between chapters, also cuts a chapter's section.
        top = pdf.Root.StructTreeRoot.K
        document = top[0] if isinstance(top, pikepdf.Array) else top
        stray = [str(k.get("/Alt", "")) for k in document.K
                 if isinstance(k, pikepdf.Dictionary) and k.get("/S") == "/Link"]
        assert not stray, f"links at the top of the structure tree, outside any text: {stray[:5]}"


def _number_trees(tree):
    """Yield each /Nums array of a number tree, flat or not."""
    if "/Nums" in tree:
        yield tree.Nums
    for kid in tree.get("/Kids", []):
        yield from _number_trees(kid)


# ---- Headings and what follows them, as the PDF's structure tree and its text place them ----
HEADING_TAGS = {"H", "H1", "H2", "H3", "H4", "H5", "H6"}
# Elements that hold the text of one block: a heading, a paragraph, a table cell, a list item's body.
BLOCK_TAGS = HEADING_TAGS | {"P", "TD", "TH", "LBody", "Caption"}
# A heading's head (a source note, a dateline, a salutation, "[Translation]") is a block or two of a line
# or two each: a longer block after a heading is its text.
HEAD_LINES = 4


@dataclass
class Line:
    """One printed line of the text block (notes at the foot left out), and what kind of block it is in."""

    page: int
    y: float  # baseline, from the page's top
    kind: str  # "heading"; "head" for a paragraph alone in its block (Div), as a source note or a
    # dateline is; "text" for the rest
    text: str
    block: int  # which block of the book it is in, counted in reading order
    level: int = 0  # a heading's: 1 for a chapter's title


@dataclass
class Stranded:
    """A heading whose lines, or the first lines of what follows it, are not on one page."""

    page: int  # the heading's page, from 0
    heading: str

    def __str__(self) -> str:
        return f"PDF p. {self.page + 1}: {self.heading!r}"


def text_lines(path: Path) -> list[Line]:
    """Return every line of the book's text in reading order, each with its block's kind.

    The structure tree says which block each marked run of text belongs to and what the block is;
    pdfium says where the run is printed.
    """
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: index for index, page in enumerate(pdf.pages)}
        blocks = list(_blocks(pdf.Root.StructTreeRoot, None, None, pages, 0))
    runs = _marked_runs(path)
    placed: list[tuple[int, int, float, str]] = []  # (block, page, baseline, text)
    for index, (_, mcids, _, _) in enumerate(blocks):
        for page, y, text in _block_lines([r for key in mcids for r in runs.get(key, ())]):
            # A table row's cells stand side by side: their lines are the row's.
            if not any(p == page and abs(b - y) < 2 for _, p, b, _ in placed[-40:]):
                placed.append((index, page, y, text))
    kinds = [kind for kind, _, _, _ in blocks]
    # A block split between pages is tagged on each: a head block ending a page whose next begins in a
    # block of several paragraphs as deep is the first part of that block (a list's first item), text.
    for (block, page, _, _), (after, next_page, _, _) in zip(placed, placed[1:]):
        here, there = blocks[block][2], blocks[after][2]
        if next_page != page and kinds[block] == "head" and there and there[1] > 1 and there[0] == here[0]:
            kinds[block] = "text"
    return [Line(page, y, kinds[block], text, block, blocks[block][3]) for block, page, y, text in placed]


def _marked_runs(path: Path) -> dict[tuple[int, int], list[tuple[int, float, float, str]]]:
    """Return the text objects of each marked-content sequence, (page, id): (page, baseline, size, text)."""
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    runs: dict[tuple[int, int], list[tuple[int, float, float, str]]] = {}
    pdf = pypdfium2.PdfDocument(path)
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            height = page.get_height()
            textpage = page.get_textpage()
            for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_TEXT,), textpage=textpage):
                mcid = pdfium_c.FPDFPageObj_GetMarkedContentID(obj.raw)
                if mcid < 0:  # an artifact: running heads, folios, margin numbers
                    continue
                matrix = obj.get_matrix().get()  # its vertical scale [3] and baseline [5], from the foot
                runs.setdefault((index, mcid), []).append(
                    (index, height - matrix[5], obj.get_font_size() * abs(matrix[3]), obj.extract()))
    finally:
        pdf.close()
    return runs


def _blocks(element, parent, page, pages, depth):
    """Yield (kind, [(page, marked-content id)], (depth, blocks in its Div) if in a Div, heading level) for
    each block of text under element, in reading order."""
    kids = element.get("/K")
    kids = list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
    page = pages.get(element.Pg.objgen, page) if "/Pg" in element else page
    tag = str(element.get("/S", ""))[1:]
    children = [k for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k]
    div = (depth, len(_structure_kids(parent))) if parent is not None and str(parent.get("/S")) == "/Div" else None
    if tag in BLOCK_TAGS and not any(str(d.S)[1:] in BLOCK_TAGS for d in _structure_below(element)):
        if tag in HEADING_TAGS:
            kind = "heading"
        elif tag == "P" and div and div[1] == 1:
            kind = "head"
        else:
            kind = "text"
        yield kind, list(_mcids(element, page, pages)), div, int(tag[1:] or 0) if kind == "heading" else 0
        return
    own = [k for k in kids if not (isinstance(k, pikepdf.Dictionary) and "/S" in k)]
    if own and tag not in ("", "StructTreeRoot"):
        yield "text", list(_mcids(element, page, pages, nested=False)), div, 0
    for child in children:
        if str(child.S) != "/Note":  # set at the foot of the page
            yield from _blocks(child, element, page, pages, depth + 1)


def _structure_kids(element):
    kids = element.get("/K")
    kids = list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
    return [k for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k]


def _structure_below(element):
    for child in _structure_kids(element):
        yield child
        yield from _structure_below(child)


def _mcids(element, page, pages, nested=True):
    """Yield (page, marked-content id) of the text an element marks, its notes left out."""
    page = pages.get(element.Pg.objgen, page) if "/Pg" in element else page
    kids = element.get("/K")
    for kid in list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]:
        if isinstance(kid, int):
            yield page, int(kid)
        elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            if nested and str(kid.S) != "/Note":
                yield from _mcids(kid, page, pages)
        elif isinstance(kid, pikepdf.Dictionary) and "/MCID" in kid:
            yield pages.get(kid.Pg.objgen, page) if "/Pg" in kid else page, int(kid.MCID)


def _block_lines(runs: list[tuple[int, float, float, str]]) -> list[tuple[int, float, str]]:
    """Return the lines of a block's text runs as (page, baseline, text): a note's call is of its line."""
    if not runs:
        return []
    size = max(r[2] for r in runs)
    found: list[tuple[int, float, list[str]]] = []
    for page, y, _, text in sorted((r for r in runs if r[2] > 0.8 * size), key=lambda r: (r[0], r[1])):
        if found and found[-1][0] == page and y - found[-1][1] < 0.5 * size:
            found[-1][2].append(text)
        else:
            found.append((page, y, [text]))
    return [(page, y, "".join(texts)) for page, y, texts in found]


def stranded_headings(lines: list[Line], keep: int = 2) -> list[Stranded]:
    """Return the headings that do not stand on one page with their head and `keep` lines of text after it.

    A heading's run is the heading with the headings and head blocks of at most HEAD_LINES lines after
    it (a source note, a dateline, a salutation): a heading after a head block, or a chapter's title,
    begins a run of its own.
    The run and the first `keep` lines of text after it (as many as there are before the next heading)
    share a page.
    """
    found = []
    i = 0
    while i < len(lines):
        if lines[i].kind != "heading":
            i += 1
            continue
        start = i
        # A chapter's title opens a page of its own: it begins a run.
        while i < len(lines) and lines[i].kind == "heading" and (i == start or lines[i].level != 1):
            i += 1
        while i < len(lines) and lines[i].kind == "head":
            block = [line for line in lines[i:i + HEAD_LINES + 1] if line.block == lines[i].block]
            if len(block) > HEAD_LINES:
                break
            i += len(block)
        end = i
        while i < len(lines) and lines[i].kind != "heading" and i - end < keep:
            i += 1
        if any(line.page != lines[start].page for line in lines[start:i]):
            heading = " ".join(line.text for line in lines[start:end] if line.kind == "heading")
            found.append(Stranded(lines[start].page, heading))
        i = end
    return found


# ---- Tables' cells, as the PDF's structure tree and its text place them ----
HYPHENS = "-\u2010\u00ad\x02"  # pdfium reads a hyphen set at a line's end as \x02


def broken_cell_words(path: Path, words: set[str]) -> list[tuple[int, str]]:
    """Return (page, "piece/rest") for each word a table cell breaks between two of its lines.

    words are the tables' words as written: a line's last word and the next line's first, each no word
    of them, that joined (a hyphen at the break dropped) make one, are a word broken.
    """
    def fold(word: str) -> str:
        return word.strip(".,;:()[]\"'‘’“”*")

    known = {fold(w) for w in words}
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: index for index, page in enumerate(pdf.pages)}
        cells = list(_cells(pdf.Root.StructTreeRoot, None, pages))
    runs = _marked_runs(path)
    found = []
    for mcids in cells:
        lines = [(page, text.strip()) for page, _, text in _block_lines([r for key in mcids for r in runs.get(key, ())])]
        for (page, line), (_, following) in zip(lines, lines[1:]):
            if not line or not following:
                continue
            piece, rest = line.split()[-1], following.split()[0]
            if piece.endswith(("—", "–")) or rest.startswith(("—", "–")):  # a line may break at a dash
                continue
            if piece[-1] in HYPHENS:  # hyphenated, unless the word is written with its hyphen ("Austria-Hungary")
                broken = fold(piece[:-1] + rest) in known and fold(piece[:-1] + "-" + rest) not in known
            else:
                broken = fold(piece + rest) in known and not (fold(piece) in known and fold(rest) in known)
            if broken:
                found.append((page, f"{piece.replace(chr(2), '-')}/{rest}"))
    return found


def _cells(element, page, pages):
    """Yield the (page, marked-content id) of each table cell's text under element, its notes left out."""
    page = pages.get(element.Pg.objgen, page) if "/Pg" in element else page
    for kid in _structure_kids(element):
        if str(kid.S) in ("/TD", "/TH"):
            yield list(_mcids(kid, page, pages))
        elif str(kid.S) != "/Note":
            yield from _cells(kid, page, pages)
