"""The PDF writer: the book laid out in parts by WeasyPrint, in parallel where it can, then joined.

The prelims and each chapter are separate documents. Chapters open on a recto, so a part's page
sides never depend on the parts before it; what does (its folios, the original page it starts on)
is filled in after layout, so every part can be laid out at once. A laid-out part is kept in a
content-addressed cache: after an edit, only the parts whose text or position changed are redone.
"""
from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import traceback
import uuid
import warnings
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

import pikepdf
import weasyprint
from weasyprint import CSS, HTML
from weasyprint.formatting_structure.boxes import FootnoteAreaBox
from weasyprint.text.fonts import FontConfiguration

from . import __version__
from .errors import PublishError
from .fetch import MANUSCRIPT_URL, RefusedURL, SafeFetcher, refused
from .fsutil import atomic_output
from .layout import arrange_pages
from .model import Book
from .pages import roman
from .printhtml import OTHER_PART, chapter_html, page_css, prelims_html

STYLESHEET = "print.css"
# Gap between the text block and a margin number, in CSS px (WeasyPrint's unit: 1/96 in).
MARGIN_GAP = 9


@dataclass
class _Laid:
    """One part, laid out and drawn."""

    pdf: bytes
    pages: int


class _Typesetter:
    """Lay out and draw parts; one per process."""

    def __init__(self, styles: Path, folder: Path, page_style: str):
        self.fonts = FontConfiguration()
        self.fetcher = SafeFetcher([folder, styles], manuscript=folder)
        try:
            self.sheets = [CSS(filename=str(styles / STYLESHEET), font_config=self.fonts, url_fetcher=self.fetcher),
                           CSS(string=page_style, font_config=self.fonts)]
        except RefusedURL as exc:
            raise refused(exc) from None

    def layout(self, html: str):
        try:
            return HTML(string=html, base_url=MANUSCRIPT_URL, url_fetcher=self.fetcher).render(
                stylesheets=self.sheets, font_config=self.fonts)
        except RefusedURL as exc:
            raise refused(exc) from None

    def draw(self, document, carried: str | None, first_folio: int, lower_roman: bool) -> _Laid:
        arrange_pages(document, MARGIN_GAP, carried,
                      lambda i: roman(first_folio + i).lower() if lower_roman else str(first_folio + i))
        return _Laid(document.write_pdf(), len(document.pages))


def _lost_notes(document, anchors: set[str]) -> set[str]:
    """Return the footnotes that are on no page, or run past the foot of theirs."""
    # WeasyPrint cannot split a footnote across pages and silently drops one taller than a page.
    placed = set()
    for page in document.pages:
        box = page._page_box
        bottom = box.content_box_y() + box.height
        for area in box.children:
            if isinstance(area, FootnoteAreaBox):
                fits = area.position_y + area.margin_height() <= bottom + 1
                placed |= {c.element.get("id") for c in area.children if fits and c.element is not None}
    return anchors - placed


@dataclass
class _Part:
    """A chapter to lay out, and what its position in the book decides."""

    index: int
    html: str
    notes: set[str]
    carried: str | None  # the original page the text is on where the chapter begins
    front: bool
    start: int | None = None  # its first page in the book, once the parts before it are counted
    pages: int | None = None
    result: _Laid | None = None


def write_pdf(book: Book, target: Path, styles: Path, jobs: int | None = None, cache: Path | None = None,
              progress=None) -> None:
    """Lay the book out and write it to target, in `jobs` processes, reusing `cache` where it can."""
    progress = progress or (lambda message: None)
    style = page_css(book)
    parts = _parts(book)
    store = _Cache(cache, styles, style) if cache else None
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(parts)))
    # The workers are forked before this process sets up fonts and Pango of its own.
    with _Workers(jobs if jobs > 1 else 0, styles, book.folder, style) as workers:
        setter = _Typesetter(styles, book.folder, style)
        # The prelims' length places the chapters; their contents need the chapters' folios, so they
        # are laid out once to be counted and once more, at the end, with the folios filled in.
        prelims_pages = len(setter.layout(prelims_html(book, {})).pages)
        _Scheduler(book, parts, setter, workers, store, progress, prelims_pages).run()
    first_main = next((p.start for p in parts if not p.front), 0)
    folios = {book.chapters[p.index].anchor: _folio(p.start, first_main) for p in parts}
    prelims = setter.layout(prelims_html(book, folios))
    if len(prelims.pages) != prelims_pages:
        raise RuntimeError("the contents changed length once its page numbers were filled in")
    laid = [setter.draw(prelims, None, 1, True)] + [p.result for p in parts]
    progress("PDF: joining the parts")
    with atomic_output(target) as tmp:
        _join(laid, book, first_main, tmp)
    if store:
        store.prune()
    progress("")


def _folio(index: int, first_main: int) -> str:
    """Return the folio printed on the page at index: roman before the first chapter, then arabic."""
    return str(index - first_main + 1) if index >= first_main else roman(index + 1).lower()


def _parts(book: Book) -> list[_Part]:
    parts, current = [], None
    for index, chapter in enumerate(book.chapters):
        parts.append(_Part(index, chapter_html(book, index), set(chapter.notes), current, chapter.front))
        if chapter.page_breaks:
            last = chapter.page_breaks[-1]
            current = last.label if last.labelled else ""
    return parts


class _Scheduler:
    """Count, place, draw: each part is drawn once the parts before it are counted."""

    def __init__(self, book, parts, setter, workers, store, progress, prelims_pages):
        self.book, self.parts, self.setter, self.workers = book, parts, setter, workers
        self.store, self.progress = store, progress
        self.first_start = prelims_pages + prelims_pages % 2  # chapters open on a recto
        self.order = _longest_first(parts, max(1, len(workers)))

    def run(self) -> None:
        held = {}  # part index -> the worker holding it laid out, waiting to learn where it goes
        while True:
            self._place()
            for index, worker in list(held.items()):
                part = self.parts[index]
                if part.result is not None:  # placed at last, it was in the cache after all
                    worker.tell(("skip", index))
                    del held[index]
                elif part.start is not None:
                    worker.ask(("draw", index, part.carried, *self._first_folio(part)))
                    del held[index]
            if all(p.result is not None for p in self.parts):
                return
            if not self.workers:
                self._here(next(p for p in self.parts if p.result is None))
                continue
            laying = {w.laying for w in self.workers}
            waiting = [p for p in self.order if p.result is None and p.pages is None and p.index not in laying]
            for worker, part in zip(self.workers.idle(), waiting):
                worker.start(part)
            for worker, message in self.workers.messages():
                part = self.parts[message[1]]
                if message[0] == "laid" and message[3]:
                    worker.ask(("relayout", part.index, chapter_html(self.book, part.index, message[3])))
                elif message[0] == "laid":
                    part.pages = message[2]
                    held[part.index] = worker
                    worker.laying = None
                else:
                    part.result = message[2]
                    self._keep(part)
            self.progress(self._status())

    def _here(self, part: _Part) -> None:
        """Lay out and draw a part in this process (its place is known: parts are done in order)."""
        document = self.setter.layout(part.html)
        lost = _lost_notes(document, part.notes)
        if lost:
            document = self.setter.layout(chapter_html(self.book, part.index, lost))
        part.pages = len(document.pages)
        part.result = self.setter.draw(document, part.carried, *self._first_folio(part))
        self._keep(part)
        self.progress(self._status())

    def _place(self) -> None:
        """Give each part whose predecessors are counted its first page; take it from the cache if there."""
        start = self.first_start
        for part in self.parts:
            part.start = start
            if start is not None and part.result is None and self.store:
                part.result = self.store.get(self._key(part))
                if part.result is not None:
                    part.pages = part.result.pages
            if start is not None and part.pages is not None:
                start += part.pages + part.pages % 2
            else:
                start = None

    def _first_folio(self, part: _Part) -> tuple[int, bool]:
        """Return the folio of the part's first page, and whether folios there are roman."""
        if part.front:
            return part.start + 1, True
        return part.start - next(p.start for p in self.parts if not p.front) + 1, False

    def _key(self, part: _Part) -> str:
        return self.store.key(part.html, part.carried, *self._first_folio(part))

    def _keep(self, part: _Part) -> None:
        if self.store:
            self.store.put(self._key(part), part.result)

    def _status(self) -> str:
        done = sum(p.result is not None for p in self.parts)
        pages = sum(p.pages or 0 for p in self.parts)
        return f"PDF: {done}/{len(self.parts)} chapters drawn, {pages} pages laid out"


def _longest_first(parts: list[_Part], jobs: int) -> list[_Part]:
    """Return the order to lay parts out in: any part long enough to decide the build's length first."""
    # A part with more than a quarter of one worker's share, started late, would finish long after
    # the rest (a real volume can hold half its pages in one chapter). The others go in book order,
    # so few laid-out parts wait in memory for the ones before them to be counted.
    share = sum(len(p.html) for p in parts) / jobs
    long = sorted((p for p in parts if len(p.html) > share / 4), key=lambda p: -len(p.html))
    return long + [p for p in parts if all(p.index != q.index for q in long)]


class _Worker:
    """A process laying out and drawing parts, talking over a pipe; it may hold several laid out."""

    def __init__(self, context, styles, folder, style):
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=_work, args=(theirs, styles, folder, style), daemon=True)
        self.process.start()
        theirs.close()
        self.laying: int | None = None  # the part it is laying out
        self.replies = 0  # answers owed

    def start(self, part: _Part) -> None:
        self.laying = part.index
        self.ask(("layout", part.index, part.html, part.notes))

    def ask(self, message) -> None:
        self.replies += 1
        self.tell(message)

    def tell(self, message) -> None:
        self.conn.send(message)


class _Workers(list):
    """The worker processes of one build."""

    def __init__(self, count: int, styles: Path, folder: Path, style: str):
        super().__init__()
        if count:
            context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                                  else "spawn")
            self.extend(_Worker(context, styles, folder, style) for _ in range(count))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for worker in self:
            try:
                worker.tell(None)
            except (OSError, ValueError):
                pass  # the worker is gone already
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.terminate()

    def idle(self) -> list[_Worker]:
        """Return the workers laying nothing out (they may still have parts to draw)."""
        return [w for w in self if w.laying is None]

    def messages(self):
        waiting = {w.conn: w for w in self if w.replies}
        for conn in wait(list(waiting)):
            try:
                message = conn.recv()
            except EOFError:
                raise RuntimeError("a PDF worker process died") from None
            if message[0] == "error":
                raise message[2]
            if message[0] == "crash":
                raise RuntimeError(f"a PDF worker failed:\n{message[2]}")
            waiting[conn].replies -= 1
            yield waiting[conn], message


def _work(conn, styles: Path, folder: Path, style: str) -> None:
    """Serve one worker's pipe: lay parts out and report their length, draw them when told where they go."""
    index = None
    held = {}  # laid-out parts by index, until drawn or found in the cache
    try:
        setter = _Typesetter(styles, folder, style)
        while (message := conn.recv()) is not None:
            order, index = message[0], message[1]
            if order == "layout":
                held[index] = setter.layout(message[2])
                conn.send(("laid", index, len(held[index].pages), _lost_notes(held[index], message[3])))
            elif order == "relayout":
                held[index] = setter.layout(message[2])
                conn.send(("laid", index, len(held[index].pages), set()))
            elif order == "draw":
                conn.send(("done", index, setter.draw(held.pop(index), *message[2:])))
            else:
                del held[index]
    except PublishError as exc:
        conn.send(("error", index, exc))
    except Exception:
        conn.send(("crash", index, traceback.format_exc()))


class _Cache:
    """Laid-out parts by the hash of everything that decides them, in build/.cache/pdf."""

    def __init__(self, folder: Path, styles: Path, style: str):
        self.folder = folder / "pdf"
        digest = hashlib.sha256(f"{__version__} {weasyprint.__version__}\n{style}".encode())
        for path in sorted(p for p in styles.rglob("*") if p.is_file()):
            digest.update(path.name.encode() + path.read_bytes())
        self.base = digest.hexdigest()
        self.used: set[str] = set()

    def key(self, html: str, carried: str | None, first_folio: int, lower_roman: bool) -> str:
        text = json.dumps([self.base, html, carried, first_folio, lower_roman])
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> _Laid | None:
        pdf, info = self.folder / f"{key}.pdf", self.folder / f"{key}.json"
        if not (pdf.is_file() and info.is_file()):
            return None
        self.used.add(key)
        try:
            return _Laid(pdf.read_bytes(), int(json.loads(info.read_text(encoding="utf-8"))["pages"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # an entry this version cannot read is laid out again

    def put(self, key: str, laid: _Laid) -> None:
        """Keep a part; a cache that cannot be written is no error."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_output(self.folder / f"{key}.pdf") as tmp:
                tmp.write_bytes(laid.pdf)
            with atomic_output(self.folder / f"{key}.json") as tmp:
                tmp.write_text(json.dumps({"pages": laid.pages}), encoding="utf-8")
        except (OSError, PublishError):
            return
        self.used.add(key)

    def prune(self) -> None:
        """Forget parts this build did not use, so the cache never outgrows the book."""
        for path in self.folder.glob("*.*"):
            if path.stem not in self.used:
                path.unlink(missing_ok=True)


def _join(parts: list[_Laid], book: Book, first_main: int, target: Path) -> None:
    """Join the parts (a blank verso after any that ends on a recto) and save the finished PDF."""
    out = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(part.pdf)) for part in parts]
    dests = {}
    for number, (part, source) in enumerate(zip(parts, sources)):
        base = len(out.pages)
        local = {page.objgen: i for i, page in enumerate(source.pages)}
        if "/Names" in source.Root and "/Dests" in source.Root.Names:
            for name, dest in pikepdf.NameTree(source.Root.Names.Dests).items():
                dests[str(name)] = (base + local[dest[0].objgen], list(dest[1:]))
        with warnings.catch_warnings():
            # pikepdf warns that named destinations are not copied with the pages: they are rebuilt below.
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            out.pages.extend(source.pages)
        if len(source.pages) % 2 and number < len(parts) - 1:
            box = source.pages[-1].MediaBox
            out.add_blank_page(page_size=(float(box[2]), float(box[3])))
    tree = pikepdf.NameTree.new(out)
    for name in sorted(dests):
        page, rest = dests[name]
        tree[name] = pikepdf.Array([out.pages[page].obj, *rest])
    out.Root.Names = pikepdf.Dictionary(Dests=tree.obj)
    for page in out.pages:
        for annot in page.get("/Annots", []):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(OTHER_PART):
                del annot["/A"]
                annot.Dest = pikepdf.String(uri[len(OTHER_PART):])
    _finish(out, book, first_main)
    out.save(target, deterministic_id=True)
    for source in sources:
        source.close()


def _finish(pdf: pikepdf.Pdf, book: Book, first_main: int) -> None:
    """Add the outline, page labels and metadata: one structure feeds them and the EPUB's navigation."""
    with pdf.open_outline() as outline:
        outline.root.clear()
        for point in book.outline:
            item = pikepdf.OutlineItem(point.title, point.anchor)
            item.children.extend(pikepdf.OutlineItem(c.title, c.anchor) for c in point.children)
            outline.root.append(item)
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
        xmp["dc:rights"] = meta.rights
        xmp["dc:identifier"] = meta.urn
        xmp["dc:source"] = meta.source_edition
        xmp["pdf:Keywords"] = ", ".join(meta.keywords)
        xmp["pdf:Producer"] = f"publish {__version__} (WeasyPrint, pikepdf)"
        if book.date:
            # pikepdf rebuilds /CreationDate and /ModDate from these, and drops them without.
            for key in ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"):
                xmp[key] = book.date
        # Derived, not random: the same sources give the same IDs on every build.
        xmp["xmpMM:DocumentID"] = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, meta.urn)}"
        instance = f"{meta.urn}#{meta.version}@{book.date}"
        xmp["xmpMM:InstanceID"] = f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, instance)}"
