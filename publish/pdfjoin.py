"""Join the laid-out parts into one PDF: pages, named destinations, links across parts, outline, metadata.

Every part is checked before it is joined, whether just laid out or read from a cache that may come
from elsewhere: a part may hold pages, fonts, images, links to anchors and to the web, and nothing
that acts (scripts, launch or form actions, embedded files, page actions).
"""
from __future__ import annotations

import io
import uuid
import warnings

import pikepdf

from . import __version__
from .model import Book
from .printhtml import OTHER_PART
from .typeset import Laid

# The outline's branch leading to the print edition's pages, and how many pages each of its entries holds.
ORIGINAL_PAGES = "Original pages"
GROUP = 10
# Link targets a part may hold: the web, mail, and anchors in other parts (made destinations here).
SAFE_URI = ("http://", "https://", "mailto:", OTHER_PART)


def part_problem(pdf: bytes) -> str:
    """Return why a laid-out part may not be joined into a book, or '' if it may."""
    try:
        part = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PdfError as exc:
        return f"not a readable PDF ({exc})"
    with part:
        root = part.Root
        for key in ("/OpenAction", "/AA", "/AcroForm", "/JavaScript"):
            if key in root:
                return f"its catalog has {key}"
        names = root.get("/Names", {})
        if any(key != "/Dests" for key in names.keys()):
            return "its name tree holds more than destinations"
        for number, page in enumerate(part.pages, 1):
            if "/AA" in page.obj:
                return f"page {number} has actions"
            for annot in page.get("/Annots", []):
                action = annot.get("/A")
                if annot.get("/Subtype") != pikepdf.Name.Link:
                    return f"page {number} has a {annot.get('/Subtype')} annotation"
                if action is None:
                    continue
                uri = str(action.get("/URI", ""))
                if action.get("/S") != pikepdf.Name.URI or not uri.startswith(SAFE_URI) or "/Next" in action:
                    return f"page {number} has a link that acts ({action.get('/S')} {uri[:40]})"
    return ""


def join(parts: list[Laid], book: Book, first_main: int) -> bytes:
    """Return the parts joined (a blank verso after any that ends on a recto) as the finished PDF."""
    out, sources = _gather([part.pdf for part in parts], pad=True)
    for page in out.pages:
        for annot in page.get("/Annots", []):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(OTHER_PART):
                del annot["/A"]
                annot.Dest = pikepdf.String(uri[len(OTHER_PART):])
    _finish(out, book, first_main)
    return _save(out, sources)


def join_pieces(pdfs: list[bytes]) -> bytes:
    """Return the pieces of one part joined page after page into the part, their destinations kept."""
    return _save(*_gather(pdfs, pad=False))


def _gather(pdfs: list[bytes], pad: bool) -> tuple[pikepdf.Pdf, list[pikepdf.Pdf]]:
    """Return a PDF of the pages of pdfs in order (padded to end each on a verso) with their named destinations."""
    out = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(pdf)) for pdf in pdfs]
    dests = {}
    for number, source in enumerate(sources):
        base = len(out.pages)
        local = {page.objgen: i for i, page in enumerate(source.pages)}
        if "/Names" in source.Root and "/Dests" in source.Root.Names:
            for name, dest in pikepdf.NameTree(source.Root.Names.Dests).items():
                dests[str(name)] = (base + local[dest[0].objgen], list(dest[1:]))
        with warnings.catch_warnings():
            # pikepdf warns that named destinations are not copied with the pages: they are rebuilt below.
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            out.pages.extend(source.pages)
        if pad and len(source.pages) % 2 and number < len(sources) - 1:
            box = source.pages[-1].MediaBox
            out.add_blank_page(page_size=(float(box[2]), float(box[3])))
    tree = pikepdf.NameTree.new(out)
    for name in sorted(dests):
        page, rest = dests[name]
        tree[name] = pikepdf.Array([out.pages[page].obj, *rest])
    out.Root.Names = pikepdf.Dictionary(Dests=tree.obj)
    return out, sources


def _save(out: pikepdf.Pdf, sources: list[pikepdf.Pdf]) -> bytes:
    # Saved in memory, then written by the caller: qpdf aborts the process when a disk fills up.
    saved = io.BytesIO()
    out.save(saved, deterministic_id=True)
    for source in sources:
        source.close()
    return saved.getvalue()


def _original_pages(book: Book) -> pikepdf.OutlineItem:
    """Return the outline's way to the original pages (the EPUB's page list), grouped by tens."""
    # A viewer's page box goes to this edition's folios (the page labels); a reader given "p. 150"
    # of the print edition opens this branch instead. Closed, so that it does not crowd the contents.
    pages = book.page_breaks
    branch = pikepdf.OutlineItem(ORIGINAL_PAGES, pages[0].anchor)
    for start in range(0, len(pages), GROUP):
        group = pages[start:start + GROUP]
        span = f"p. {group[0].label}" if len(group) == 1 else f"pp. {group[0].label}–{group[-1].label}"
        item = pikepdf.OutlineItem(span, group[0].anchor)
        item.children.extend(pikepdf.OutlineItem(f"p. {pb.label}", pb.anchor) for pb in group)
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
