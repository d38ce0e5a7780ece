"""Markdown to the book model: page markers become page-break elements, pandoc does the rest."""
from __future__ import annotations

import bisect
import copy
import functools
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from ..book.config import Metadata, not_utf8
from ..book.errors import Diagnostic, ManuscriptError, PublishError, ToolError
from ..book.markup import (
    BOUNDARY,
    CHAPTER,
    DOCUMENT,
    DOCUMENT_NUMBER,
    FACSIMILE,
    FRONT,
    GENERATED_ID,
    HEADING_PAGE,
    NOTE_MARK,
    NOTEREF,
    NOTES,
    PAGE_LABEL,
    PAGEBREAK,
    PANDOC_NOTE_BACK,
    PANDOC_NOTE_REF,
    SOURCE_COLUMN,
    SOURCE_LINE,
    SOURCE_PATH,
    note_id,
    pandoc_key,
    ref_id,
)
from ..book.model import Book, Chapter, Note, Section
from ..book.pages import FACS, MARKER, PageBreak, find_markers
from ..system import interrupt
from ..system.cache import Store, digest
from ..system.progress import QUIET, Progress
from . import safety
from .chunks import computed, starts

# Pandoc's Markdown, but ids only where the author writes them and the text's quotes and dashes
# exactly as the source has them.
PANDOC_FORMAT = "markdown-auto_identifiers-smart"
# --columns: pipe tables get fixed column widths when a source line is longer than --columns, and a
# page marker lengthens its line, so the limit is set out of reach. --sandbox: pandoc reads no file
# and no URL, whatever the Markdown asks for; --quiet: its warnings (unused notes, duplicate ids) are
# reported by check.py with our codes.
# No syntax highlighting: a historical edition's code (a cable's groups, a telegram's cipher) is set as
# typed, and a marker pandoc reads as code stays one text that _unread() can give back.
PANDOC_ARGS = ["--wrap=none", "--columns=100000", "--sandbox", "--quiet", "--syntax-highlighting=none"]
# The pandoc to run; None: the one pypandoc finds (_found).
PANDOC: str | None = None
# pandoc takes some 30 ms to start and end: the chunks a build has no HTML for are read in runs of
# about this many bytes, enough runs to keep every core busy, each split back into its chunks.
RUN_BYTES = 150_000
# ASCII digits, at most six: a document number is printed so (no volume holds a million documents).
DOC_HEADING = re.compile(r"^(?P<number>[0-9]{1,6}[A-Za-z]?)\.\s+(?P<title>.+)$", re.S)
HEADING_ATTRS = re.compile(r"^(#{1,6}\s.*\{)([^{}]*)\}\s*$")
BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "dt", "dd", "pre"}
# How pandoc begins and ends the list of a document's notes.
NOTES_START = '\n<section id="footnotes" class="footnotes footnotes-end-of-document" role="doc-endnotes">\n'
NOTES_END = "</ol>\n</section>\n"
# A span prepare() wrote that pandoc read as literal text (in code, math or raw HTML): a marker quoted, no break.
UNREAD = re.compile(rf'\[\]\{{\.{PAGEBREAK} {pandoc_key(PAGE_LABEL)}="(?P<label>[^"]*)" '
                    rf'{pandoc_key(SOURCE_LINE)}=[0-9]+ {pandoc_key(SOURCE_COLUMN)}=[0-9]+'
                    rf'(?: {pandoc_key(FACSIMILE)}="(?P<facs>[^"]*)")?\}}')
CONTAINERS = {"div", "blockquote", "ul", "ol", "table", "thead", "tbody", "tr", "dl", "section", "figure"}
# lxml.html's parser finds each element's class by a call into Python each time the element is reached
# (some 250,000 times in reading and checking FRUS 1936 vol. III); this one finds the same class in C.
# lxml.html gives other classes only to form elements, <label> and <input> among them, which no book
# holds (safety.py refuses them).
PARSER = etree.HTMLParser()
PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment, pi=lxml_html.HtmlProcessingInstruction,
    entity=lxml_html.HtmlEntity))


def parse(html: str):
    """Return lxml.html.fragment_fromstring(html, create_parent="div"), its elements of PARSER's document."""
    root = PARSER.makeelement("div")
    found = lxml_html.fragments_fromstring(html, parser=PARSER)
    if found and isinstance(found[0], str):
        root.text = found.pop(0)
    root.extend(found)
    return root


def prepare(text: str, path: str, cuts: list[int] | tuple[int, ...] = (0,)) -> str:
    """Turn page markers into pandoc spans and tag heading attributes with their source line in their chunk."""
    # cuts: the lines (from 0) where chunks begin; a line is counted from its chunk's start.
    def line(number: int) -> int:
        return number - cuts[bisect.bisect_right(cuts, number - 1) - 1]

    out, last = [], 0
    for match, pb in find_markers(text, path):
        out.append(text[last:match.start()])
        # A facs that is no plain name is left out here; check.py reports it (P006).
        facs = f' {pandoc_key(FACSIMILE)}="{pb.facs}"' if FACS.fullmatch(pb.facs) else ""
        out.append(f'[]{{.{PAGEBREAK} {pandoc_key(PAGE_LABEL)}="{pb.label}" {pandoc_key(SOURCE_LINE)}={line(pb.line)} '
                   f'{pandoc_key(SOURCE_COLUMN)}={pb.column}{facs}}}')  # UNREAD reads it back
        last = match.end()
    out.append(text[last:])
    lines = "".join(out).split("\n")
    for i, text_line in enumerate(lines):
        m = HEADING_ATTRS.match(text_line)
        if m and f"{pandoc_key(HEADING_PAGE)}=" in m[2]:
            lines[i] = f"{m[1]}{m[2]} {pandoc_key(SOURCE_LINE)}={line(i + 1)}}}"
    return "\n".join(lines)


def chunked(text: str, path: str, whole: bool = False, remember=computed) -> list[tuple[int, str]]:
    """Return a file's prepared Markdown in chunks (one if whole), each with the count of lines before it."""
    # Markers become spans on one line: the prepared text has the source's lines.
    cuts = [0] if whole else starts(text, remember)
    lines = prepare(text, path, cuts).split("\n")
    return [(a, "\n".join(lines[a:b])) for a, b in zip(cuts, cuts[1:] + [len(lines)])]


def to_html(markdown: str) -> str:
    """Convert a chunk of a file's prepared Markdown to an HTML fragment with pandoc."""
    # pandoc is run directly: pypandoc.convert_text runs it twice more per call to list its formats.
    command = [PANDOC or _found()[0], "+RTS", f"-M{safety.PANDOC_MEGABYTES}m", "-RTS", "-f", PANDOC_FORMAT, "-t",
               "html5", *PANDOC_ARGS]
    try:
        run = interrupt.run(command, markdown.encode("utf-8"), timeout=safety.PANDOC_SECONDS)
    except subprocess.TimeoutExpired:
        raise PublishError(f"pandoc took more than {safety.PANDOC_SECONDS} s to read one file: "
                           "simplify or split it") from None
    except OSError as exc:
        raise ToolError(f"cannot run pandoc ({command[0]}): {exc.strerror or exc}") from None
    if run.returncode:
        text = run.stderr.decode(errors="replace").strip()
        if "Heap exhausted" in text or "heap overflow" in text:
            raise PublishError(f"pandoc needed more than {safety.PANDOC_MEGABYTES} MB of memory to read one "
                               "file: simplify or split it")
        raise ToolError(f"pandoc failed (exit {run.returncode}): {text}")
    return run.stdout.decode("utf-8")


class PandocCache:
    """Pandoc's HTML of each chunk by the chunk's hash; what pandoc made is kept only once the build goes on."""

    def __init__(self, root: Path | None, memory: dict | None = None):
        self.store = Store(root, "pandoc", ".html")
        self.fresh: dict[str, str] = {}
        # A process that builds again and again (publish watch) keeps in memory too, by their keys, each
        # chunk's HTML as read and each file's chunks: an unchanged file is neither cut nor read again.
        self.memory = memory
        self.remembered: set[str] = set()  # the keys in memory this build used

    def chunked(self, text: str, path: str, whole: bool = False) -> list[tuple[int, str]]:
        """Return chunked(text, path, whole), from memory where this process cut the same file before."""
        if self.memory is None:
            return chunked(text, path, whole)
        key = digest("chunked", path, whole, text)
        if key not in self.memory:
            self.memory[key] = chunked(text, path, whole, self.remember)
        self.remembered.add(key)
        return self.memory[key]

    def remember(self, compute, *args):
        """Return compute(*args), from memory where this process computed it from the same arguments before."""
        # The function and every argument are the key: a result is a pure function of them, and memory
        # lives only as long as the process (and so the code) that made it. The arguments themselves, not
        # a digest: Python compares a text equal to the last far faster than it can encode it to hash.
        if self.memory is None:
            return compute(*args)
        key = (compute.__module__, compute.__qualname__, *args)
        if key not in self.memory:
            self.memory[key] = compute(*args)
        self.remembered.add(key)
        return self.memory[key]

    def kept(self, chunk: str) -> str | None:
        """Return pandoc's HTML for a chunk of prepared Markdown kept by an earlier build, or None."""
        key = self.remember(_key, chunk)
        if self.memory is not None and key in self.memory:
            self.store.used.add(key)  # still on disk for the next build in a process of its own
            self.remembered.add(key)
            return self.memory[key]
        kept = self.store.get(key)
        html = None if kept is None else kept[0].decode("utf-8", errors="replace")
        if html is not None and self.memory is not None:
            self.memory[key] = html
            self.remembered.add(key)
        return html

    def convert(self, chunks: list[str]) -> list[str]:
        """Convert chunks in one pandoc run and return the HTML of each."""
        html = [to_html(chunks[0])] if len(chunks) == 1 else _read_together(chunks)
        for chunk, fragment in zip(chunks, html):
            self.fresh[_key(chunk)] = fragment
        return html

    def save(self) -> None:
        """Keep this build's conversions and forget the manuscript's others."""
        for key, html in self.fresh.items():
            self.store.put(key, html.encode("utf-8"))
        self.store.prune()
        if self.memory is not None:
            self.memory.update(self.fresh)
            for key in self.memory.keys() - self.remembered - self.fresh.keys():
                del self.memory[key]


def _key(chunk: str) -> str:
    # "chunk": an entry of the scheme that cached whole files is not looked for.
    return digest(_found()[1], PANDOC_FORMAT, PANDOC_ARGS, "chunk", chunk)


@functools.cache
def _found() -> tuple[str, str]:
    """Return the path and version of the pandoc pypandoc finds, on first use rather than as this module loads.

    pypandoc runs every pandoc it might use with --version to choose one: some 50 ms of waiting, which the
    build spends loading its writers (build.py) rather than before it can start them.
    """
    import pypandoc  # here too: it loads urllib, which the build's first moments need not wait for

    return pypandoc.get_pandoc_path(), pypandoc.get_pandoc_version()


def _runs(chunks: list[str], html: list[str | None]) -> list[list[int]]:
    """Group the chunks without HTML, in order, into runs of about RUN_BYTES."""
    runs: list[list[int]] = []
    size = 0
    for i, chunk in enumerate(chunks):
        if html[i] is not None:
            continue
        if not runs or size + len(chunk) > RUN_BYTES:  # the first chunk may be empty (an empty file is one)
            runs.append([])
            size = 0
        runs[-1].append(i)
        size += len(chunk)
    return runs


def _read_together(chunks: list[str]) -> list[str]:
    """Return each chunk's HTML from one pandoc run over them all, split at a comment put between them."""
    # The HTML is cut as pandoc wrote it, not parsed and written again: where raw HTML in the Markdown is
    # not well nested, lxml's repair of it would not be the repair of the chunk read alone.
    mark = f"<!--publish-chunk-{digest(*chunks)[:16]}-->"
    out = to_html(f"\n\n{mark}\n\n".join(chunks))
    body, _, section = out.rpartition(NOTES_START) if out.endswith(NOTES_END) else (out, "", "")
    items = re.split(r"\n(?=<li id=\"fn\d+\">)", section.removesuffix(NOTES_END).partition("<ol>\n")[2].strip())
    notes = {f"fn{n}": item for n, item in enumerate(filter(None, items), 1)}
    # (pandoc ends each chunk read alone with a line break)
    parts = [part if part.endswith("\n") else part + "\n"
             for part in (cut.removeprefix("\n") for cut in body.split(f"\n{mark}"))]
    # A mark pandoc did not write as a block of its own, outside any element (never where the cuts are
    # sound), or a note's text that looks like the start of another: each chunk is read alone.
    top = parse(out)
    marks = sum(node.tag is etree.Comment and f"<!--{node.text}-->" == mark for node in top)
    if (len(parts) != len(chunks) or marks != len(chunks) - 1
            or not all(v.startswith(f'<li id="{k}">') for k, v in notes.items())):
        return [to_html(chunk) for chunk in chunks]
    html = []
    for part in parts:
        # Each chunk's notes, as pandoc lists them at the end of a chunk read alone (numbered otherwise).
        root = parse(part)
        refs = root.xpath(f".//a[contains(@class, '{PANDOC_NOTE_REF}')]")
        called = dict.fromkeys((a.get("href") or "#")[1:] for a in refs)
        listed = "".join(f"{notes[c]}\n" for c in called if c in notes)
        html.append(part + (f"{NOTES_START[1:]}<hr />\n<ol>\n{listed}{NOTES_END}" if listed else ""))
    return html


def read_sources(meta: Metadata, folder: Path) -> dict[Path, str]:
    """Read every listed Markdown file."""
    sources, diags = {}, []
    for name in meta.files:
        path = folder / name
        try:
            sources[path] = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            diags.append(Diagnostic(str(path), 0, 0, "M002", not_utf8(path.read_bytes(), exc)))
        except OSError as exc:
            diags.append(Diagnostic(str(path), 0, 0, "M010", f"cannot read: {exc.strerror}"))
    if diags:
        raise ManuscriptError(diags)
    return sources


def convert(meta: Metadata, folder: Path, sources: dict[Path, str], cache: PandocCache | None = None,
            progress: Progress = QUIET, whole: bool = False) -> Book:
    """Build the book model from the manuscript's sources, each file read by pandoc in chunks (or whole)."""
    paths = list(sources)
    cache = cache or PandocCache(None)
    front = {folder / n for n in meta.front_matter}
    builder = _Builder(meta, sources, cache.remember if cache.memory is not None else None)
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    try:
        # The longest files go to pandoc first, so that none is left to finish alone; each is taken
        # apart, in book order, as soon as pandoc returns its chunks, while pandoc works on the others.
        jobs = {}
        for p in sorted(paths, key=lambda p: -len(sources[p])):
            chunks = cache.chunked(sources[p], str(p), whole)
            html = [cache.kept(chunk) for _, chunk in chunks]
            jobs[p] = chunks, html, [(run, pool.submit(cache.convert, [chunks[i][1] for i in run]))
                                     for run in _runs([chunk for _, chunk in chunks], html)]
        for done, path in enumerate(paths, 1):
            chunks, html, runs = jobs[path]
            for run, job in runs:
                for i, fragment in zip(run, job.result()):
                    html[i] = fragment
            builder.add_file(path, [(offset, fragment) for (offset, _), fragment in zip(chunks, html)], path in front)
            progress.update(done)
    except BaseException:
        # An interrupt, or a file pandoc could not read: the others are neither begun nor waited for.
        pool.shutdown(wait=False, cancel_futures=True)
        interrupt.stop_children()
        raise
    pool.shutdown()
    builder.finish()
    if builder.diagnostics:
        raise ManuscriptError(builder.diagnostics)
    return Book(meta, folder, builder.chapters)


NO_HEADING = "no chapter heading in this file: begin it with one, a line such as '# Title'"


class _Builder:
    """Split pandoc's HTML into chapters and documents, number notes, and place page breaks."""

    def __init__(self, meta: Metadata, sources: dict[Path, str], remember=None):
        self.sources = sources  # for the line of text that pandoc's HTML does not give
        self.remember = remember
        self.chapters: list[Chapter] = []
        self.diagnostics: list[Diagnostic] = []
        self.current: str | None = None  # the label of the original page the text is on
        self.pending: list = []  # page-break elements waiting for the next block
        self.start_page = meta.start_page
        self.count = 0  # chapters so far, for default anchors
        self.known: dict = {}  # page breaks already recorded, by anchor

    def add_file(self, path: Path, fragments: list[tuple[int, str]], front: bool) -> None:
        root, notes = self._join(fragments)
        chapters: list[Chapter] = []
        for el in list(root):
            if not isinstance(el.tag, str):
                continue  # a comment
            if el.tag == "h1":
                chapters.append(self._new_chapter(el, path, front))
            elif chapters:
                chapters[-1].body.append(el)
            elif el.tag == "p" and _only_breaks(el):
                self.pending.extend(el)  # pages that begin with the file's first heading
            elif not _is_blank(el):
                line = _line_of(el) or _first_text_line(self.sources[path])
                if root.find("h1") is None:
                    self.diagnostics.append(Diagnostic(str(path), line, 0, "S002", NO_HEADING))
                else:
                    self.diagnostics.append(Diagnostic(str(path), line, 0, "S001",
                                                       "text before the first chapter heading ('# Title')"))
                return
        if not chapters:
            self.diagnostics.append(Diagnostic(str(path), 1, 0, "S002", NO_HEADING))
        for chapter in chapters:
            self._number_notes(chapter, notes)
            self._place_breaks(chapter)
            self.chapters.append(chapter)

    def _new_chapter(self, h1, path: Path, front: bool) -> Chapter:
        body = PARSER.makeelement("section")
        body.set("class", f"{CHAPTER} {FRONT}" if front else CHAPTER)
        self.count += 1
        anchor = h1.get("id") or f"ch{self.count}"
        h1.set("id", anchor)
        body.append(h1)
        return Chapter(_heading_text(h1), anchor, path, body, front)

    def _join(self, fragments: list[tuple[int, str]]):
        """Parse a file's chunks (after their count of lines before them) as one element; return it and the notes."""
        root, notes = None, {}
        for n, (offset, fragment) in enumerate([f for f in fragments if f[1]] or [(0, "<p></p>")]):
            # A copy of the tree remembered, which the next build that has this chunk reads again; a build
            # that keeps nothing reads each chunk once.
            part = _read(fragment) if self.remember is None else copy.deepcopy(self.remember(_read, fragment))
            # The source lines prepare() gave page breaks and headings, from the chunk's start to the file's.
            for el in part.xpath(f"//*[@{SOURCE_LINE}][@class='{PAGEBREAK}' or @{HEADING_PAGE}]"):
                el.set(SOURCE_LINE, str(int(el.get(SOURCE_LINE)) + offset))
            # pandoc numbers each chunk's notes from fn1: a chunk's number tells them apart.
            notes.update((f"{n}-{ident}", li) for ident, li in self._take_notes(part).items())
            for ref in part.xpath(f".//a[contains(@class, '{PANDOC_NOTE_REF}')]"):
                ref.set("href", f"#{n}-{(ref.get('href') or '#')[1:]}")
            if root is None:
                root = part
                continue
            if len(root):
                root[-1].tail = (root[-1].tail or "") + (part.text or "")
            else:
                root.text = (root.text or "") + (part.text or "")
            root.extend(part)
        return root, notes

    def _take_notes(self, root) -> dict[str, object]:
        """Remove pandoc's endnote list and return its items by id."""
        found = {}
        for section in root.xpath(f".//section[contains(@class, '{NOTES}')]"):
            for li in section.xpath("./ol/li"):
                for back in li.xpath(f".//a[contains(@class, '{PANDOC_NOTE_BACK}')]"):
                    _drop(back)
                found[li.get("id")] = li
            section.getparent().remove(section)
        return found

    def _number_notes(self, chapter: Chapter, notes: dict) -> None:
        """Replace pandoc's note references by ours, numbered per document."""
        prefix, counter = chapter.anchor, 0
        used_ids = set()
        for el in list(chapter.body.iter()):
            if el.tag == "h2":
                counter = 0
                prefix = self._new_section(chapter, el, used_ids)
            elif el.tag == "a" and PANDOC_NOTE_REF in (el.get("class") or ""):
                counter += 1
                li = notes.get((el.get("href") or "#")[1:])
                anchor = note_id(prefix, counter)
                blocks = [copy.deepcopy(b) for b in li] if li is not None else []
                # The id counts the document's notes, so it stays unique however the marks repeat.
                mark = _take_mark(blocks) or str(counter)
                chapter.notes[anchor] = Note(anchor, mark, blocks)
                ref = PARSER.makeelement("a")
                ref.set("class", NOTEREF)
                ref.set("href", f"#{anchor}")
                ref.set("id", ref_id(anchor))
                ref.text = mark
                ref.tail = el.tail
                el.getparent().replace(el, ref)

    def _new_section(self, chapter: Chapter, h2, used_ids: set) -> str:
        text = _heading_text(h2)
        m = DOC_HEADING.match(text)
        number = m["number"] if m else ""
        anchor = h2.get("id") or (f"d{number}" if number else _slug(text, used_ids))
        used_ids.add(anchor)
        h2.set("id", anchor)
        if number:
            h2.set("class", ((h2.get("class") or "") + f" {DOCUMENT}").strip())
            h2.set(DOCUMENT_NUMBER, number)
        chapter.sections.append(Section(text, anchor, number))
        return anchor

    def _place_breaks(self, chapter: Chapter) -> None:
        """Record every page break in reading order and put lone ones at the start of the next block."""
        heading = chapter.body[0]
        carried, self.pending = self.pending, []
        for span in reversed(carried):
            _prepend(heading, span)
        if self.current is None and self.start_page and not self.chapters and not _starts_with_break(chapter):
            _prepend(heading, _break_span(PageBreak(self.start_page, "book.yaml")))
        for el in list(chapter.walk()):
            label = el.get(HEADING_PAGE)
            if el.tag in ("h1", "h2") and label:
                line = int(el.attrib.pop(SOURCE_LINE, 0))
                del el.attrib[HEADING_PAGE]
                if label != self.current:
                    span = _break_span(PageBreak(label, str(chapter.path), line))
                    _prepend(el, span)
                    self._record(chapter, span)
            elif el.get("class") == PAGEBREAK:
                self._record(chapter, el)
            elif el.get("class") == NOTEREF and el.get("href")[1:] in chapter.notes:
                chapter.notes[el.get("href")[1:]].page = self.current or ""
        # Last first: the breaks of a run of lone paragraphs are moved once each, not once per paragraph.
        ending = []  # the breaks of lone paragraphs that end the chapter, last paragraph first
        for para in reversed(chapter.body.xpath(".//p")):
            if _only_breaks(para) and para.getparent() is not None:
                ending.append(self._move_forward(para, chapter.body))
        moved = {id(self.known[s.get("id")]) for spans in ending for s in spans}
        if moved:  # the pages begin with the next chapter
            chapter.page_breaks = [pb for pb in chapter.page_breaks if id(pb) not in moved]
            self.pending.extend(s for spans in reversed(ending) for s in spans)

    def _record(self, chapter: Chapter, span) -> None:
        pb = self.known.get(span.get("id"))
        if pb is None:
            pb = PageBreak(span.get(PAGE_LABEL), span.attrib.pop(SOURCE_PATH, str(chapter.path)),
                           int(span.attrib.pop(SOURCE_LINE, 0)), int(span.attrib.pop(SOURCE_COLUMN, 0)),
                           span.attrib.pop(FACSIMILE, ""))
            # Pages without a label share no anchor; each is told apart until finish() unmarks it.
            key = pb.anchor if pb.labelled else f"{BOUNDARY}-{len(self.known)}"
            span.set("id", key)
            self.known[key] = pb
        chapter.page_breaks.append(pb)
        self.current = pb.label

    @staticmethod
    def _move_forward(para, body) -> list:
        """Move a paragraph holding only page breaks to the start of the next block; return them if there is none."""
        target = _next_block(para, body)
        breaks = [s for s in para if s.get("class") == PAGEBREAK]
        para.getparent().remove(para)
        if target is None:
            return breaks
        for span in reversed(breaks):
            _prepend(target, span)
        return []

    def finish(self) -> None:
        """Keep page breaks that end the book in the last chapter; unmark pages without a label."""
        if self.pending and self.chapters:
            last = self.chapters[-1]
            para = PARSER.makeelement("p")
            para.extend(self.pending)
            last.body.append(para)
            last.page_breaks.extend(self.known[s.get("id")] for s in self.pending)
            self.pending = []
        for chapter in self.chapters:
            roots = [chapter.body] + [b for n in chapter.notes.values() for b in n.blocks]
            for span in (s for root in roots for s in root.xpath(f".//span[starts-with(@id, '{BOUNDARY}-')]")):
                # A boundary for the PDF's page ranges, not a page break a reader can go to.
                span.attrib.clear()
                span.set("class", BOUNDARY)


def _read(fragment: str):
    """Return a chunk's HTML as an element, without comments and with the page markers pandoc read as text."""
    part = parse(fragment)
    # An HTML comment is not in the book: what the author commented out may not be published, "--" in
    # one would make the EPUB's XHTML ill-formed, and a page marker in one counts its source line from
    # the chunk's start, not the file's.
    etree.strip_tags(part, etree.Comment, etree.ProcessingInstruction)
    _unread(part)
    return part


def _unread(root) -> None:
    """Give back, as written, each page marker pandoc read as literal text: "`[Page 588]`" shows so."""
    for el in root.iter():
        for name in ("text", "tail"):
            value = getattr(el, name)
            if value and "[]{." in value:
                setattr(el, name, UNREAD.sub(_as_written, value))
        for name, value in el.attrib.items():
            if "[]{." in value:
                el.set(name, UNREAD.sub(_as_written, value))


def _as_written(match: re.Match) -> str:
    """Return the marker a prepared span was made from."""
    return f"[Page {match['label']}]" + (f"{{facs={match['facs']}}}" if match["facs"] else "")


def _take_mark(blocks: list) -> str:
    """Remove the span opening a note with its printed mark and return the mark ('' if there is none)."""
    if not blocks or (blocks[0].text or "").strip():
        return ""
    first = blocks[0]
    span = next(iter(first), None)
    if span is None or span.tag != "span" or span.get("class") != NOTE_MARK:
        return ""
    mark = " ".join(span.text_content().split())
    span.tail = (span.tail or "").lstrip()
    _drop(span)
    if not len(first) and not (first.text or "").strip():
        blocks.pop(0)  # the mark stood alone, before a table or list
    return mark


def _next_block(el, body):
    """Return the first text-bearing block after el within the chapter's body, in document order, or None."""
    node = el
    while node is not None and node is not body:
        sib = node.getnext()
        while sib is not None:
            block = _first_block(sib)
            if block is not None:
                return block
            sib = sib.getnext()
        # Pandoc makes a section of a fenced div holding a heading (an attachment): not the chapter's end.
        node = node.getparent()
    return None


def _first_block(el):
    if el.tag in BLOCKS:
        return el
    if el.tag in CONTAINERS:
        for child in el:
            found = _first_block(child)
            if found is not None:
                return found
    return None


def _break_span(pb: PageBreak):
    span = PARSER.makeelement("span")
    span.set("class", PAGEBREAK)
    span.set(PAGE_LABEL, pb.label)
    span.set(SOURCE_PATH, pb.path)
    span.set(SOURCE_LINE, str(pb.line))
    return span


def _prepend(block, span) -> None:
    """Put an inline element at the very start of a block."""
    span.tail, block.text = block.text, None
    block.insert(0, span)


def _only_breaks(p) -> bool:
    return not (p.text or "").strip() and all(
        c.get("class") == PAGEBREAK and not (c.tail or "").strip() for c in p)


def _starts_with_break(chapter: Chapter) -> bool:
    for el in chapter.body.iter():
        if el.get("class") == PAGEBREAK:
            return True
        if (el.text or "").strip() and el.tag != "h1":
            return False
    return False


def _heading_text(h) -> str:
    """Return a heading's text without its note references."""
    clone = copy.deepcopy(h)
    for ref in clone.xpath(f".//a[contains(@class, '{PANDOC_NOTE_REF}') or @class='{NOTEREF}']"):
        _drop(ref)
    return " ".join(clone.text_content().split())


def _drop(el) -> None:
    """Remove an element but keep its tail text."""
    parent = el.getparent()
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _slug(text: str, used: set) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    if base[0].isdigit():
        base = "s-" + base
    if GENERATED_ID.fullmatch(base):
        base += "-section"
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _is_blank(el) -> bool:
    return not el.text_content().strip() and not len(el.xpath(f".//*[@class='{PAGEBREAK}']"))


def _first_text_line(text: str) -> int:
    """Return the number of the first line holding text other than page markers and comments (0: none)."""
    for number, line in enumerate(text.splitlines(), 1):
        if MARKER.sub("", line).strip() and not line.lstrip().startswith("<!--"):
            return number
    return 0


def _line_of(el) -> int:
    found = el.xpath(f".//@{SOURCE_LINE}")
    return int(found[0]) if found else 0
