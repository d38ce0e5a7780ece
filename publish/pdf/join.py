"""Join the laid-out parts into one PDF: pages, named destinations, links across parts, outline, metadata.

Every part is checked before it is joined, whether just laid out or read from a cache that may come
from elsewhere: a part holds its structure tree, and may hold pages, fonts, images, links to anchors
and to the web, and nothing that acts (scripts, launch or form actions, embedded files, page actions).
"""
from __future__ import annotations

import bisect
import hashlib
import io
import itertools
import re
import uuid
import warnings
import zlib

import pikepdf
from lxml import etree

from .. import __version__
from ..book.markup import cite_pages
from ..book.model import Book, Chapter, Division, divide, every_division
from ..book.pages import roman
from .html import OTHER_PART
from .laid import Laid
from .tagging import KEY, Merger, identify, kids_of, role_of

# The outline's branch leading to the print edition's pages, and how many pages each of its entries holds.
ORIGINAL_PAGES = "Original pages"
GROUP = 10
# Link targets a part may hold: the web, mail, and anchors in other parts (made destinations here).
SAFE_URI = ("http://", "https://", "mailto:", OTHER_PART)
# What a link annotation the writer makes may hold (an action only as /A: a link to a safe address).
LINK_KEYS = {"/Type", "/Subtype", "/Rect", "/BS", "/Border", "/A", "/Dest", "/F", "/StructParent", "/Contents",
             "/P", "/NM", "/M", "/C", "/H", "/QuadPoints"}
# Names that make an object act, wherever they are: keys (additional actions, scripts, forms, files)
# and every kind of action but a link's (ISO 32000-1 12.6.4).
ACTING = {name.encode() for name in (
    "AA", "OpenAction", "JS", "JavaScript", "AcroForm", "EmbeddedFiles", "EF", "Launch", "SubmitForm",
    "ResetForm", "ImportData", "GoToR", "GoToE", "Rendition", "Movie", "Sound", "Hide", "Named", "SetOCGState",
    "Trans", "GoTo3DView", "RichMediaExecute", "Thread", "ECMAScript")}
_NAME = re.compile(rb"/([^\s/\[\]<>(){}%]*)")
_STRING = re.compile(rb"\((?:[^\\()]|\\.)*\)", re.S)
# What the book's features need (tagged PDF, output intents); PDF/A-2 allows at most this.
PDF_VERSION = "1.7"
# The digests of the parts this process has found sound or joined: a warm process (publish watch) checks each piece
# it reads from the cache once at most, not on every build (80 pieces of a long chapter: half a second).
_SOUND: set[bytes] = set()
# The parts the last join read, open, by digest: the next join in this process opens only those that changed.
_OPEN: dict[bytes, pikepdf.Pdf] = {}
# What the join read of each part it opened (_Piece), by the same digest: read once while the part is open.
_READ: dict[bytes, _Piece] = {}


def part_problem(pdf: bytes) -> str:
    """Return why a laid-out part may not be joined into a book, or '' if it may."""
    digest = hashlib.sha256(pdf).digest()
    if digest in _SOUND:
        return ""
    try:
        with pikepdf.open(io.BytesIO(pdf)) as part:
            problem = _problem(part)
    except (pikepdf.PdfError, ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as exc:
        return f"not a PDF as this tool writes one ({type(exc).__name__}: {exc})"
    if not problem:
        _SOUND.add(digest)
    return problem


def _problem(part: pikepdf.Pdf) -> str:
    """Return why an open part may not be joined, or ''; a value not of the type the join reads may raise."""
    root = part.Root
    for key in ("/OpenAction", "/AA", "/AcroForm", "/JavaScript"):
        if key in root:
            return f"its catalog has {key}"
    # The book is tagged: a part without its structure (an old cache entry, say) cannot join it.
    if "/StructTreeRoot" not in root:
        return "it is not tagged"
    names = root.get("/Names", {})
    if any(key != "/Dests" for key in names.keys()):
        return "its name tree holds more than destinations"
    pages = {page.objgen for page in part.pages}
    if "/Dests" in names:
        for name, dest in pikepdf.NameTree(names.Dests).items():
            if not isinstance(dest, pikepdf.Array) or not len(dest) or dest[0].objgen not in pages:
                return f"its destination {name} is on no page of it"
    # The join renumbers the structure's keys: each must be a number (read as one, or it raises).
    if any(key < 0 for key, _ in _number_tree(root.StructTreeRoot.get("/ParentTree", {}))):
        return "its structure has a negative key"
    for number, page in enumerate(part.pages, 1):
        if not isinstance(page.obj.get("/StructParents", 0), int):
            return f"page {number} has no number in its structure"
        for annot in page.get("/Annots", []):
            if not isinstance(annot.get("/StructParent", 0), int):
                return f"page {number} has a link with no number in its structure"
            if annot.get("/Subtype") != pikepdf.Name.Link:
                return f"page {number} has a {annot.get('/Subtype')} annotation"
            if not set(annot.keys()) <= LINK_KEYS:
                return f"page {number} has a link with {sorted(set(annot.keys()) - LINK_KEYS)}"
            action = annot.get("/A")
            if action is None:
                continue
            uri = str(action.get("/URI", ""))
            if action.get("/S") != pikepdf.Name.URI or not uri.startswith(SAFE_URI) or "/Next" in action:
                return f"page {number} has a link that acts ({action.get('/S')} {uri[:40]})"
    return _acting(part)


def _acting(part: pikepdf.Pdf) -> str:
    """Return the first name, anywhere in the part, that makes something act ('' if none)."""
    # Every object is looked at, not only where a viewer looks: the join copies the structure tree whole,
    # and a script hung anywhere in it would be in the book. Read as qpdf writes each object out (names
    # decoded, parentheses in strings escaped): some 20 times faster than walking the objects.
    for obj in part.objects:
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Array)):
            text = _STRING.sub(b"", obj.unparse(resolved=True))
            if found := ACTING & set(_NAME.findall(text)):
                return f"it holds /{min(found).decode()}"
    return ""


def join(parts: list[Laid], book: Book, first_main: int) -> bytes:
    """Return the parts joined (a blank verso after any that ends on a recto) as the finished PDF."""
    out, sources, dests = _gather([part.pdfs for part in parts], book.chapters)
    titles = {point.anchor: point.title for point in _points(book.outline)}
    for page in out.pages:
        for annot in page.get("/Annots", []):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(OTHER_PART):
                del annot["/A"]
                annot.Dest = pikepdf.String(uri[len(OTHER_PART):])
            if "/Dest" in annot:
                name = str(annot.Dest)
                target = titles.get(name) or (f"page {_label(dests[name][0], first_main)}" if name in dests else name)
                annot.Contents = pikepdf.String(f"Go to {target}")
    _unique_subsets(out)
    _unambiguous_ends(out)
    _finish(out, book, first_main)
    saved = _save(out)
    # Open until saved (qpdf reads a copied stream's data from its source then); then kept for the next join,
    # and those it did not read closed.
    for digest, source in _OPEN.items():
        if digest not in sources:
            source.close()
    _OPEN.clear()
    _OPEN.update(sources)
    for digest in [digest for digest in _READ if digest not in sources]:
        del _READ[digest]
    return saved


def _gather(parts: list[tuple[bytes, ...]], chapters: list[Chapter]) -> tuple[pikepdf.Pdf, dict[bytes, pikepdf.Pdf],
                                                                          dict]:
    """Return a PDF of the parts' pages in order (a blank verso after a part ending on a recto), its sources (by
    digest) and destinations.

    A part is one PDF or several, its pieces: the prelims', then each chapter's. The PDF has their named
    destinations and one structure tree made of theirs, each chapter's documents a section of its own. A
    source the last join opened (_OPEN) is taken as it is: copied into a new PDF, its objects are those a
    source opened anew gives.
    """
    out = pikepdf.new()
    sources: dict[bytes, pikepdf.Pdf] = {}
    first = None
    dests = {}
    structure = _Structure(out)
    digests = [[hashlib.sha256(pdf).digest() for pdf in part] for part in parts]
    wanted = {digest for part in digests for digest in part}
    # Checked as they were read from the cache, or laid out by this build: read back, they are not checked again.
    _SOUND.update(wanted)
    # The last join's sources this one does not read are closed first, not held while it joins (another book's:
    # a series builds its volumes in one process).
    for digest in [digest for digest in _OPEN if digest[:32] not in wanted]:
        _OPEN.pop(digest).close()
        _READ.pop(digest, None)
    for number, part in enumerate(parts):
        for index, pdf in enumerate(part):
            digest = digests[number][index]
            while digest in sources:
                # The same bytes twice (two identical parts): copied from two sources, or their pages would be one.
                digest += b"+"
            source = _OPEN.get(digest)
            source = sources[digest] = pikepdf.open(io.BytesIO(pdf)) if source is None else source
            read = _READ.get(digest)
            read = _READ[digest] = _Piece(source) if read is None or read.source is not source else read
            first = source if first is None else first
            base = len(out.pages)
            for name, page, top in read.dests:
                dests[name] = (base + page, top)
            with warnings.catch_warnings():
                # pikepdf warns that named destinations are not copied with the pages: they are rebuilt below.
                warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
                out.pages.extend(source.pages)
            # Taken in here, not once every page is copied: qpdf puts objects in object streams by their numbers,
            # the order they were made in, so the file would change.
            structure.add(source, out.pages[base:], number, continued=index > 0, read=read)
        if len(out.pages) % 2 and number < len(parts) - 1:
            box = out.pages[-1].MediaBox
            out.add_blank_page(page_size=(float(box[2]), float(box[3])))
    # The pages listed once: out.pages[n] lists every page to find one (a tenth of a second for a long book's
    # thousands of destinations).
    pages = list(out.pages)
    tree = pikepdf.NameTree.new(out)
    for name in sorted(dests):
        page, top = dests[name]
        # Left and zoom null: the viewer keeps its horizontal position and zoom, so a zoomed reader sent
        # to a break in mid-line still sees the line's start and its margin number (ISO 32000-1 12.3.2.2).
        tree[name] = pikepdf.Array([pages[page].obj, pikepdf.Name.XYZ, None, top, None])
    out.Root.Names = pikepdf.Dictionary(Dests=tree.obj)
    for number, chapter in enumerate(chapters, 1):
        structure.divide(number, chapter)
    structure.finish(first)
    return out, sources, dests


def _top(dest: pikepdf.Array):
    """Return the top a destination shows ([page /XYZ left top zoom], as WeasyPrint makes it), or None."""
    return dest[3] if len(dest) > 3 and dest[1] == pikepdf.Name.XYZ else None


def _save(out: pikepdf.Pdf) -> bytes:
    """Return out's bytes."""
    # Object streams: the structure tree's many small objects, compressed, halve the file (PDF/A-2 allows
    # them). qpdf writes them, so their data cannot be given a line feed as a page's content is (see
    # _unambiguous_ends). About one in 256 ends in a carriage return, so a book of 70,000 objects (700
    # streams) has one such nearly always: it is mended in the saved bytes (_mended), not by writing the
    # book again; a file not as _mended knows qpdf to write it is written without object streams.
    saved = _write(out, pikepdf.ObjectStreamMode.generate)
    if b"\r\nendstream" in saved:  # none in most small books: found at once
        try:
            mended = _mended(saved)
        except (ValueError, IndexError, zlib.error):
            mended = None
        saved = mended or _write(out, pikepdf.ObjectStreamMode.disable)
    return saved


def _write(pdf: pikepdf.Pdf, mode: pikepdf.ObjectStreamMode) -> bytes:
    """Return the bytes of pdf as saved with its object streams made or left out (mode)."""
    # Saved in memory, then written by the caller: qpdf aborts the process when a disk fills up.
    saved = io.BytesIO()
    pdf.save(saved, deterministic_id=True, min_version=PDF_VERSION, object_stream_mode=mode)
    return saved.getvalue()


# A stream object as qpdf writes it: number, dictionary (on one line), then its data.
_STREAM_HEAD = re.compile(rb"(\d+) 0 obj\n(<<[^\n]*>>)\nstream\n")
_LENGTH = re.compile(rb"/Length (\d+)")
_XREF_WIDTHS = re.compile(rb"/W \[ 1 (\d+) (\d+) \]")
_AMBIGUOUS_END = re.compile(rb"\r\nendstream")


def _mended(pdf: bytes) -> bytes | None:
    """Return the saved file with its object streams and cross-reference stream ending in a carriage return
    ending otherwise, or None if the file is not as qpdf writes one.

    An object stream gets line feeds after its last object, which say nothing; the cross-reference stream
    (qpdf's, rows predicted from the row above) has its first rows written as they are, which decode the
    same. The objects after a longer stream move, and the cross-reference stream says where they are.
    """
    xref_at = int(pdf[pdf.rindex(b"startxref") + len(b"startxref"):].split()[0])
    xref, xref_end = _STREAM_HEAD.match(pdf, xref_at), pdf.rindex(b"endstream") - 1
    if xref is None or b"/Type /XRef" not in xref[2] or _length(xref) != xref_end - xref.end() \
            or not pdf.endswith(b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at):
        return None
    found = _xref_table(pdf[xref.end():xref_end], xref[2])
    if found is None:
        return None
    table, columns, width = found
    located = [row * columns + 1 for row in (m.start() for m in re.finditer(b"\x01", table[::columns]))]
    offsets = sorted(int.from_bytes(table[at:at + width], "big") for at in located)
    changes = []  # (start, end, new bytes) of each stream object written again, in file order
    for end in (match.start() + 1 for match in _AMBIGUOUS_END.finditer(pdf, 0, xref_at)):
        head = _STREAM_HEAD.match(pdf, offsets[bisect.bisect_left(offsets, end) - 1])
        if head is None or _length(head) != end - head.end():
            continue  # within a stream's data, not at its end
        if b"/Type /ObjStm" not in head[2] or b"/DecodeParms" in head[2] or b"/Filter /FlateDecode" not in head[2]:
            continue  # a page's content, a form or a font is ended right before joining (_unambiguous_ends)
        content = zlib.decompress(pdf[head.end():end])
        while zlib.adler32(content) & 0xFF == ord("\r"):  # a zlib stream ends in its data's Adler-32
            content += b"\n"
        changes.append((head.start(), end, _stream(head, zlib.compress(content))))
    if not changes and not pdf[:xref_end].endswith(b"\r"):
        return pdf  # the carriage returns found end other streams' data, or are inside it
    starts = [start for start, _, _ in changes]
    moved = list(itertools.accumulate(len(new) - (end - start) for start, end, new in changes))
    for at in located:
        offset = int.from_bytes(table[at:at + width], "big")
        if before := bisect.bisect_left(starts, offset):
            offset += moved[before - 1]
            if offset >= 256 ** width:
                return None
            table[at:at + width] = offset.to_bytes(width, "big")
    new_xref = _xref_stream(table, columns, xref)
    if new_xref is None:
        return None
    out, last = [], 0
    for start, end, new in changes:
        out += [pdf[last:start], new]
        last = end
    out += [pdf[last:xref.start()], new_xref, b"\nendstream\nendobj\nstartxref\n",
            b"%d" % (xref.start() + (moved[-1] if moved else 0)), b"\n%%EOF\n"]
    return b"".join(out)


def _length(head: re.Match) -> int | None:
    """Return the length a stream's dictionary gives its data (None if it gives none)."""
    length = _LENGTH.search(head[2])
    return int(length[1]) if length else None


def _stream(head: re.Match, data: bytes) -> bytes:
    """Return a stream object's number, dictionary and new data, up to the line feed before endstream."""
    dictionary = _LENGTH.sub(b"/Length %d" % len(data), head[2], count=1)
    return b"%s 0 obj\n%s\nstream\n%s" % (head[1], dictionary, data)


def _xref_table(data: bytes, dictionary: bytes) -> tuple[bytearray, int, int] | None:
    """Return a cross-reference stream's rows (qpdf's form) as one run of bytes, its row's width and its offsets'."""
    widths = _XREF_WIDTHS.search(dictionary)
    if widths is None or b"/Filter /FlateDecode" not in dictionary or b"/Index" in dictionary:
        return None
    width, columns = int(widths[1]), 1 + int(widths[1]) + int(widths[2])
    if b"/DecodeParms << /Columns %d /Predictor 12 >>" % columns not in dictionary:
        return None
    predicted = zlib.decompress(data)
    if len(predicted) % (columns + 1) or predicted[::columns + 1].strip(b"\x02"):
        return None  # not every row predicted from the one above (PNG's Up)
    # Each byte the sum of those above it: qpdf undoes the prediction, as it does reading a file (a loop here
    # over every byte of the table took a tenth of a second on a 700-page book).
    with pikepdf.new() as scratch:
        stream = pikepdf.Stream(scratch, data, Filter=pikepdf.Name.FlateDecode,
                                DecodeParms=pikepdf.Dictionary(Columns=columns, Predictor=12))
        return bytearray(stream.read_bytes()), columns, width


def _xref_stream(table: bytearray, columns: int, head: re.Match) -> bytes | None:
    """Return the cross-reference stream object holding table's rows, its data not ending in a carriage return."""
    # Each row predicted from the one above (PNG's Up), all rows at once: bytewise differences without borrows.
    size = len(table)
    high, low = int.from_bytes(b"\x80" * size, "big"), int.from_bytes(b"\x7f" * size, "big")
    this, above = int.from_bytes(table, "big"), int.from_bytes(bytes(columns) + table[:-columns], "big")
    up = (((this | high) - (above & low)) ^ ((this ^ above ^ high) & high)).to_bytes(size, "big")
    data = bytearray(size // columns * (columns + 1))
    data[::columns + 1] = b"\x02" * (size // columns)
    for column in range(columns):
        data[column + 1::columns + 1] = up[column::columns]
    for row in range(size // columns):
        compressed = zlib.compress(data)
        if compressed[-1] != ord("\r"):
            return _stream(head, compressed)
        # A row written as it is (PNG's None) decodes the same, and changes the checksum.
        data[row * (columns + 1):(row + 1) * (columns + 1)] = b"\x00" + table[row * columns:(row + 1) * columns]
    return None


def _points(points):
    """Yield the outline's points, each before its children."""
    for point in points:
        yield point
        yield from _points(point.children)


def _label(index: int, first_main: int) -> str:
    """Return the page label of the page at index, as the viewer shows it (see _finish)."""
    return str(index - first_main + 1) if first_main and index >= first_main else roman(index + 1).lower()


class _Structure:
    """One structure tree for the joined book, grown part by part (ISO 32000-1 14.7)."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.document = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem,
                                                             S=pikepdf.Name.Document, K=pikepdf.Array()))
        self.parents = []  # the joined parent tree: [key, value, ...], keys ascending
        self.next_key = 0  # the first parent-tree key no part has taken
        self.roles = pikepdf.Dictionary()
        self.ids = {}
        self.merger = _Merger()  # a chapter's pieces continue its section
        self.tops: dict[int, list] = {}  # each part's top elements, by its number
        self.moving = []  # (start, end) of each run of parents that may hold an element joined to another

    def add(self, source: pikepdf.Pdf, pages, part: int, continued: bool = False, read: _Piece | None = None) -> None:
        """Take a part's structure in, after its pages; its parent-tree keys move past those taken so far.

        continued: the part is a piece of the chapter before, and continues the element it ended in.
        read: what earlier joins read of the part (its blocks' shapes), kept for the next.
        """
        root = source.Root.get("/StructTreeRoot")
        if root is None:
            return
        offset, start, moved = self.next_key, len(self.parents), len(self.merger.moved)
        for page in pages:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annot in page.get("/Annots", []):
                if "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + offset
        # Copied whole, in one step: entry by entry, the copying took longer than the rest of the join.
        for key, value in sorted(_number_tree(_copy(self.pdf, source, root.ParentTree)), key=lambda entry: entry[0]):
            self.parents += [key + offset, value]
            self.next_key = max(self.next_key, key + offset + 1)
        for role, standard in root.get("/RoleMap", {}).items():
            self.roles[role] = standard
        for top in root.K if isinstance(root.K, pikepdf.Array) else [root.K]:
            top = self.pdf.copy_foreign(top)
            kids = top.K if top.S == pikepdf.Name.Document else [top]
            for kid in kids:
                last = self.document.K[-1] if len(self.document.K) else None
                if continued and _continues(kid, last):
                    # Pieces are cut between the section's blocks (pieces.py): only the section continues.
                    if read is not None:
                        self.merger.expect(kids_of(kid), read.shapes(root))
                    self.merger.join(kid, last)
                    continued = False
                    continue
                continued = False
                if isinstance(kid, pikepdf.Dictionary):
                    kid.P = self.document
                self.document.K.append(kid)
                self.tops.setdefault(part, []).append(kid)
        # A part's parent tree points at its own elements only, and an element joined to another stands for the
        # same HTML element (identity): a part none of whose entries stands for one joined needs no repointing.
        joined = {(int(into[KEY]), str(into.S)) for into in itertools.islice(self.merger.moved.values(), moved, None)}
        if joined and (read is None or not read.owners(root).isdisjoint(joined)):
            self.moving.append((start, len(self.parents)))
        if "/IDTree" in root:
            # Each part's IDs are its own (tagging.settle); two parts may still hold one an author repeated.
            for element in pikepdf.NameTree(_copy(self.pdf, source, root.IDTree)).values():
                identify(self.ids, element)

    def divide(self, part: int, chapter: Chapter) -> None:
        """Make each document of a chapter's part a Sect in the chapter's, titled as the book names it.

        A document's Sect holds its heading, then what it heads (book.model.divide: up to the next heading of
        its level or higher, a lower heading's Sect nested), its notes beside their calls as before. Grouped
        once the part's pieces are joined, a document is one Sect wherever its pages and pieces end, and the
        pages stay as they were drawn.
        """
        for section in self.tops.get(part, []):
            kids = kids_of(section)
            # A section holding content of its own (text set straight in it, which no manuscript gives: WeasyPrint
            # tags text in its blocks' elements) is left as it is: moved, the content's owner in the parent tree
            # would change.
            if section.get("/S") != pikepdf.Name.Sect or not all(role_of(kid) for kid in kids):
                continue
            divided = divide(kids, _heading_level)
            tree, model = list(every_division(divided)), list(every_division(chapter.divisions()))
            # The tree's divisions are the chapter's HTML's, heading for heading (unless a heading drew nothing).
            titles = {s.anchor: s.title for s in chapter.sections}
            names = {id(t): titles.get(m.content[0].get("id")) for t, m in zip(tree, model)} \
                if [d.level for d in tree] == [d.level for d in model] else {}
            section.K = pikepdf.Array(self._sections(section, divided, names))

    def _sections(self, parent, items: list, names: dict) -> list:
        """Return the kids of a structure element, each Division a Sect of its own under it, titled as names has it."""
        kids = []
        for item in items:
            if isinstance(item, Division):
                sect = self.pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Sect,
                                                                 P=parent))
                if names.get(id(item)):
                    sect.T = pikepdf.String(names[id(item)])
                sect.K = pikepdf.Array(self._sections(sect, item.content, names))
                item = sect
            else:
                item.P = parent
            kids.append(item)
        return kids

    def finish(self, first: pikepdf.Pdf) -> None:
        """Hang the tree on the catalog, with what a tagged PDF/A and PDF/UA file declares beside it."""
        pdf = self.pdf
        for start, end in self.moving:
            nums = self.parents[start:end]
            self.merger.repoint_nums(nums)
            self.parents[start:end] = nums
        for kid in self.document.K:
            if isinstance(kid, pikepdf.Dictionary) and KEY in kid:
                del kid[KEY]
        root = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructTreeRoot, K=pikepdf.Array([self.document]),
            ParentTree=pdf.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(self.parents))),
            ParentTreeNextKey=self.next_key))
        self.document.P = root
        if self.roles:
            root.RoleMap = self.roles
        if self.ids:
            tree = pikepdf.NameTree.new(pdf)
            for name in sorted(self.ids):
                tree[name] = self.ids[name]
            root.IDTree = tree.obj
        pdf.Root.StructTreeRoot = root
        pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
        pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
        if "/OutputIntents" in first.Root:
            pdf.Root.OutputIntents = _copy(pdf, first, first.Root.OutputIntents)
        for page in pdf.pages:
            page.obj.Tabs = pikepdf.Name.S  # the blank versos too: PDF/UA asks it of every page


class _Piece:
    """What the join reads of a part, kept while the part is open: its destinations, and its blocks' shapes."""

    def __init__(self, source: pikepdf.Pdf):
        self.source = source
        local = {page.objgen: i for i, page in enumerate(source.pages)}
        names = source.Root.get("/Names", {})
        self.dests = [(str(name), local[dest[0].objgen], _top(dest))
                      for name, dest in pikepdf.NameTree(names.Dests).items()] if "/Dests" in names else []
        self._shapes = None
        self._owners = None

    def owners(self, root) -> set:
        """Return the identity (tagging.Merger's) of each element the part's parent tree points at."""
        if self._owners is None:
            self._owners = set()
            for _, value in _number_tree(root.ParentTree):
                for owner in value if isinstance(value, pikepdf.Array) else [value]:
                    if isinstance(owner, pikepdf.Dictionary) and KEY in owner:
                        self._owners.add((int(owner[KEY]), str(owner.S)))
        return self._owners

    def shapes(self, root) -> list:
        """Return the shape of each block of the part's first top element (root: the part's structure tree root)."""
        if self._shapes is None:
            top = next(iter(kids_of(root)))
            section = next(iter(kids_of(top))) if top.S == pikepdf.Name.Document else top
            self._shapes = [_shape(block) if role_of(block) else None for block in kids_of(section)]
        return self._shapes


def _shape(block) -> tuple[dict, list] | None:
    """Return what a merge's walk reads of a block: each element's identity (tagging.Merger's, by its path of kid
    indexes from the block), and the paths of those whose kids it writes again; None if two elements share one."""
    ids, rewritten = {}, []
    stack = [(block, ())]
    while stack:
        element, path = stack.pop()
        if KEY in element:
            identity = (int(element[KEY]), element.S)
            if identity in ids:
                return None
            ids[identity] = path
        kids = element.get("/K")
        # As Merger.walk: kids not held in a direct array are written in one.
        if not isinstance(kids, pikepdf.Array) or kids.is_indirect:
            rewritten.append(path)
            kids = kids_of(element)
        stack += [(kid, (*path, i)) for i, kid in enumerate(kids) if role_of(kid)]
    return ids, rewritten


class _Merger(Merger):
    """tagging.Merger, told the shape of a piece's blocks: a block none of whose elements stands for an HTML element
    met before is taken as it is, not walked (a piece is cut between blocks: nearly every block is such a one).

    Its elements are entered in `first` only when a block walked after it might join one of them.
    """

    def __init__(self):
        super().__init__()
        self.shaped = {}  # objgen of a block about to be joined -> its shape
        self.unread = {}  # identity -> (block, path) of an element taken unwalked, not yet in first

    def expect(self, blocks: list, shapes: list) -> None:
        """Say the shapes of the blocks of the element about to be joined."""
        if len(blocks) == len(shapes):
            self.shaped = {block.objgen: shape for block, shape in zip(blocks, shapes)
                           if shape is not None and block.is_indirect}

    def _stays(self, kid) -> bool:
        if not role_of(kid):
            return super()._stays(kid)
        shape = self.shaped.pop(kid.objgen, None)
        if shape is not None:
            ids, rewritten = shape
            if self.first.keys().isdisjoint(ids) and self.unread.keys().isdisjoint(ids):
                for path in rewritten:
                    element = _at(kid, path)
                    element.K = pikepdf.Array(kids_of(element))
                self.unread.update((identity, (kid, path)) for identity, path in ids.items())
                return True
        # Walked as Merger walks it, every element taken unwalked entered first.
        for identity, (block, path) in self.unread.items():
            self.first[identity] = _at(block, path)
        self.unread = {}
        return super()._stays(kid)


def _at(element, path: tuple):
    """Return the structure element reached from element by a path of kid indexes."""
    for index in path:
        element = kids_of(element)[index]
    return element


def _heading_level(element) -> int | None:
    """Return a structure element's heading level (2 for an H2), None if it is no heading."""
    role = str(element.S)
    return int(role[2]) if len(role) == 3 and role.startswith("/H") and role[2] in "123456" else None


def _continues(kid, last) -> bool:
    """Say whether a piece's first top element stands for the same HTML element as the element before it."""
    return all(isinstance(e, pikepdf.Dictionary) and KEY in e for e in (kid, last)) and \
        kid[KEY] == last[KEY] and kid.S == last.S


def _copy(pdf: pikepdf.Pdf, source: pikepdf.Pdf, value):
    """Copy an object of source into pdf, with all it refers to (pikepdf copies only indirect ones)."""
    return pdf.copy_foreign(value if value.is_indirect else source.make_indirect(value))


def _number_tree(tree):
    """Yield the (key, value) pairs of a number tree, flat or not."""
    nums = tree.get("/Nums", [])
    for i in range(0, len(nums), 2):
        yield int(nums[i]), nums[i + 1]
    for kid in tree.get("/Kids", []):
        yield from _number_tree(kid)


def _unique_subsets(pdf: pikepdf.Pdf) -> None:
    """Name each font subset after its own program: parts subset a font each in their own way.

    A subset's name is a tag of six capitals and the font's name (ISO 32000-1 9.6.4); two different
    programs may not share one, and WeasyPrint, laying parts out apart, gives them the same.
    """
    for group, descriptors, program in _fonts(pdf):
        tag = _subset_tag(program.read_raw_bytes())
        for holder, key in [*((f, "/BaseFont") for f in group), *((d, "/FontName") for d in descriptors)]:
            name = str(holder.get(key, ""))
            if len(name) > 8 and name[7] == "+":  # "/ABCDEF+Name"
                holder[key] = pikepdf.Name(f"/{tag}{name[7:]}")


def _text_streams(pdf: pikepdf.Pdf):
    """Yield each stream of text once: the pages' contents, the forms they draw, the fonts' ToUnicode maps."""
    seen = set()

    def once(stream) -> bool:
        new = isinstance(stream, pikepdf.Stream) and stream.objgen not in seen
        seen.add(stream.objgen if isinstance(stream, pikepdf.Stream) else None)
        return new

    def resources(holder):
        for xobject in holder.get("/Resources", {}).get("/XObject", {}).values():
            if xobject.get("/Subtype") == pikepdf.Name.Form and once(xobject):
                yield xobject
                yield from resources(xobject)

    for page in pdf.pages:
        contents = page.obj.get("/Contents")
        yield from (s for s in (contents if isinstance(contents, pikepdf.Array) else [contents]) if once(s))
        yield from resources(page.obj)
    for group, _, _ in _fonts(pdf):
        yield from (font.ToUnicode for font in group if "/ToUnicode" in font and once(font.ToUnicode))


def _fonts(pdf: pikepdf.Pdf):
    """Yield each embedded font once: (the font and its descendants, their descriptors, its program)."""
    seen = set()
    for page in pdf.pages:
        for font in page.obj.get("/Resources", {}).get("/Font", {}).values():
            if font.objgen in seen:
                continue
            seen.add(font.objgen)
            group = [font, *font.get("/DescendantFonts", [])]
            descriptors = [f.FontDescriptor for f in group if "/FontDescriptor" in f]
            program = next((d[k] for d in descriptors for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in d),
                           None)
            if program is not None:
                yield group, descriptors, program


def _unambiguous_ends(pdf: pikepdf.Pdf) -> None:
    """Give a line feed more to any text stream (a page's content, a form, a font's ToUnicode map) whose
    compressed data would end in a carriage return, and a byte of padding to any font's program.

    Before "endstream" the writer puts a line feed; a reader (a PDF/A validator among them) takes a
    carriage return before it for part of that end of line, and finds the stream a byte short. A zlib
    stream ends in the Adler-32 checksum of its data, whatever the compression: the data must change,
    and white space at the end of a content stream or a CMap changes nothing.
    """
    for stream in _text_streams(pdf):
        if not stream.read_raw_bytes().endswith(b"\r"):
            continue
        data = stream.read_bytes()
        while zlib.adler32(data) & 0xFF == ord("\r"):
            data += b"\n"
        stream.write(data)  # compressed again when saved
    # So with a font's program (an OpenType or TrueType file), whose tables its directory finds by their
    # offsets: a byte after the last changes no glyph. (Not a zero byte: it leaves the checksum's end.)
    for _, _, program in _fonts(pdf):
        if "/Length2" in program or not program.read_raw_bytes().endswith(b"\r"):
            continue  # a Type 1 program's parts are counted (/Length2): none is written here
        data = program.read_bytes()
        while zlib.adler32(data) & 0xFF == ord("\r"):
            data += b"\x01"
        program.write(data)
        if "/Length1" in program:
            program.Length1 = len(data)


def _subset_tag(program: bytes) -> str:
    """Return six capitals drawn from the font program's digest."""
    digest = hashlib.sha256(program).digest()
    return "".join(chr(ord("A") + b % 26) for b in digest[:6])


def _original_pages(book: Book) -> pikepdf.OutlineItem:
    """Return the outline's way to the original pages (the EPUB's page list), grouped by tens."""
    # A viewer's page box goes to this edition's folios (the page labels); a reader given "p. 150"
    # of the print edition opens this branch instead. Closed, so that it does not crowd the contents.
    pages = book.page_breaks
    branch = pikepdf.OutlineItem(ORIGINAL_PAGES, pages[0].anchor)
    for start in range(0, len(pages), GROUP):
        group = pages[start:start + GROUP]
        # Each page is named once (check.py, P002): a group's first and last differ unless it is one page.
        item = pikepdf.OutlineItem(cite_pages(group[0].name, group[-1].name), group[0].anchor)
        item.children.extend(pikepdf.OutlineItem(cite_pages(pb.name), pb.anchor) for pb in group)
        item.is_closed = True
        branch.children.append(item)
    branch.is_closed = True
    return branch


def _finish(pdf: pikepdf.Pdf, book: Book, first_main: int) -> None:
    """Add the outline, page labels and metadata: one structure feeds them and the EPUB's navigation."""
    with pdf.open_outline() as outline:
        outline.root.clear()
        for point in book.outline:
            item = pikepdf.OutlineItem(point.title, point.anchor)
            item.children.extend(pikepdf.OutlineItem(c.title, c.anchor) for c in point.children)
            outline.root.append(item)
        if book.page_breaks:
            outline.root.append(_original_pages(book))
    nums = [0, pikepdf.Dictionary(S=pikepdf.Name.r)]
    if first_main:
        nums += [first_main, pikepdf.Dictionary(S=pikepdf.Name.D)]
    pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(nums))
    pdf.Root.PageMode = pikepdf.Name.UseOutlines
    pdf.Root.Lang = pikepdf.String(book.meta.language)
    meta = book.meta
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:title"] = meta.title
        xmp["dc:creator"] = list(meta.editors)
        xmp["dc:description"] = meta.description or meta.title
        xmp["dc:subject"] = list(meta.keywords)
        xmp["dc:language"] = [meta.language]
        if meta.rights:
            xmp["dc:rights"] = meta.rights
        xmp["dc:identifier"] = meta.urn
        xmp["dc:source"] = meta.source_edition
        xmp["pdf:Keywords"] = ", ".join(meta.keywords)
        xmp["pdf:Producer"] = f"publish {__version__} (WeasyPrint, pikepdf)"
        # Archival and accessible at once (the PDF Association's advice for archived accessible files).
        xmp["pdfaid:part"] = "2"
        xmp["pdfaid:conformance"] = "U"
        xmp["pdfuaid:part"] = "1"
        if book.date:
            # pikepdf rebuilds /CreationDate and /ModDate from these, and drops them without.
            for key in ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"):
                xmp[key] = book.date
        # Derived, not random: the same sources give the same IDs on every build.
        xmp["xmpMM:DocumentID"] = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, meta.urn)}"
        instance = f"{meta.urn}#{meta.edition}@{book.date}"
        xmp["xmpMM:InstanceID"] = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, instance)}"
    _declare_pdfuaid(pdf)


# PDF/A admits in the XMP only the schemas it predefines and those the file describes: PDF/UA's is
# described thus (ISO 19005-2 6.6.2.3.3; ISO 14289-1 5).
_PDFUA_SCHEMA = """<rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" rdf:about=""
 xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
 xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"><pdfaExtension:schemas><rdf:Bag>
<rdf:li rdf:parseType="Resource"><pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix><pdfaSchema:schema>PDF/UA identification schema</pdfaSchema:schema>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource"><pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType><pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>PDF/UA version identifier</pdfaProperty:description></rdf:li></rdf:Seq>
</pdfaSchema:property></rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"""


def _declare_pdfuaid(pdf: pikepdf.Pdf) -> None:
    """Describe the PDF/UA identification schema in the XMP, as PDF/A asks of any schema it does not know."""
    stream = pdf.Root.Metadata
    xmp = etree.fromstring(stream.read_bytes())
    xmp.find(".//{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF").append(etree.fromstring(_PDFUA_SCHEMA))
    stream.write(etree.tostring(xmp, encoding="utf-8"))
