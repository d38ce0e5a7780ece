"""What a manuscript may not hold or reach: active content, the network, files outside its folder.

Checked on the HTML pandoc makes, so raw HTML, pandoc attributes (``{onclick=…}``) and Markdown
links are judged alike. The fetcher (fetch.py) enforces the same rule again while the PDF is laid out.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from .fsutil import inside
from .model import Book

# Elements that run code, load other documents or change how the page is read.
ACTIVE_TAGS = {"script", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
               "form", "meta", "link", "style", "template", "portal"}
LINK_SCHEMES = {"http", "https", "mailto"}
# Attributes whose value the PDF renderer or a reading system would fetch.
RESOURCE_ATTRS = {"src", "srcset", "poster", "background", "data", "action", "formaction"}
# What a style attribute may say: keywords for the few properties a transcription needs, and sizes
# below 1000 units (pandoc writes ![](map.png){width=50%} as one). Nothing else: CSS can fetch
# (url(), @import, spelt with escapes too) and huge values break the layout (font-size: 1e9px).
STYLE_DECLARATION = re.compile(r"\s*(?:(?:text-align|font-style|font-weight|font-variant|text-decoration|"
                               r"text-transform|vertical-align|white-space)\s*:\s*[a-z][a-z -]*|"
                               r"(?:max-)?(?:width|height)\s*:\s*(?:auto|\d{1,3}(?:\.\d+)?(?:%|in|cm|mm|pt|px|r?em)?))"
                               r"\s*", re.I)
# Table spans as HTML caps them; WeasyPrint does not, and lays out every spanned column.
MAX_SPAN = 1000
SVG_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp)[;,]", re.I)


def problems(book: Book):
    """Yield (path, needle, code, message) for each refused or missing resource: all are errors.

    The needle is a regular expression that finds the problem in the file's Markdown.
    """
    for chapter in book.chapters:
        path = str(chapter.path)
        for el in elements(chapter):
            for needle, code, message in _element_problems(book, el):
                yield path, needle, code, message


def _element_problems(book: Book, el):
    tag = el.tag.lower()
    if tag in ACTIVE_TAGS:
        yield rf"<\s*{tag}\b", "R001", f"refused raw HTML <{tag}>: scripts, frames, forms and active " \
                                       "content are not allowed in a manuscript"
    for name, value in el.attrib.items():
        lname = name.lower().split(":")[-1]
        if lname.startswith("on"):
            yield rf"\b{re.escape(name)}\s*=", "R001", f"refused event handler '{name}' on <{tag}>: " \
                                                      "a manuscript may not run code"
        elif lname == "style" and (bad := [d for d in value.split(";") if d.strip()
                                           and not STYLE_DECLARATION.fullmatch(d)]):
            # Pandoc writes {width=50%} as style="width:50%": look for the value, which both share.
            yield re.escape(bad[0].split(":", 1)[-1].strip()[:40]), "R004", \
                f"refused style '{value}': a style attribute may set only text alignment, font style and " \
                "sizes below 1000 units"
        elif lname in ("colspan", "rowspan", "span") and int(re.match(r"\s*(\d*)", value)[1] or 0) > MAX_SPAN:
            yield rf"\b{lname}\s*=\s*['\"]?\s*{re.escape(value.strip())}", "R004", \
                f"refused {lname}=\"{value}\" on <{tag}>: a table cell spans at most {MAX_SPAN}"
        elif lname == "href" and tag in ("a", "area"):
            yield from _link_problems(value)
        elif lname == "href" or lname in RESOURCE_ATTRS:
            urls = [u.split()[0] for u in value.split(",") if u.strip()] if lname == "srcset" else [value]
            for url in urls:
                yield from _resource_problems(book, url)


def _link_problems(href: str):
    scheme = urlsplit(href.strip()).scheme.lower()
    if scheme == "javascript":
        yield re.escape(href[:40]), "R001", f"refused link '{href}': a manuscript may not run code"
    elif scheme and scheme not in LINK_SCHEMES:
        yield re.escape(href[:40]), "R002", f"refused link '{href}': links may be '#anchor', http(s) or mailto"


def _resource_problems(book: Book, url: str):
    """Check an image or other fetched resource: a relative path to a file inside the folder."""
    needle = re.escape(url[:60])
    parts = urlsplit(url.strip())
    if parts.scheme or parts.netloc:
        yield needle, "R003", f"refused '{url}': a build fetches nothing from the network or by URL; copy " \
                              "the file into the manuscript folder and link it by a relative path"
        return
    path = book.folder / unquote(parts.path)
    if not inside(path, [book.folder]):
        yield needle, "R003", f"refused '{url}': it lies outside the manuscript folder"
    elif not path.is_file():
        yield needle, "S007", f"image '{url}' does not exist"
    elif path.suffix.lower() == ".svg" and (reason := svg_problem(path)):
        yield needle, "R003", f"refused image '{url}': {reason}"


def svg_problem(path: Path) -> str:
    """Return why an SVG file may not be used (scripts, external references, entities), or ''."""
    data = path.read_bytes()
    if b"<!ENTITY" in data:
        return "it declares XML entities"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return f"it is not well-formed XML ({exc.msg})"
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname.lower()
        if local in ACTIVE_TAGS - {"style"} or local == "foreignobject":
            return f"it holds a <{local}> element"
        if local == "style" and re.search(r"url\s*\((?!\s*['\"]?#)|@import", el.text or "", re.I):
            return "its stylesheet loads resources"
        for name, value in el.attrib.items():
            attr = etree.QName(name).localname.lower()
            if attr.startswith("on"):
                return f"it has an event handler ({attr})"
            if attr == "href" and not value.startswith("#") and not SVG_DATA.match(value):
                return f"it references '{value[:60]}'"
            if re.search(r"url\s*\((?!\s*['\"]?#)", value, re.I):
                return f"it references a resource in '{value[:60]}'"
    return ""


def elements(chapter):
    """Yield the chapter's elements, then its notes' elements."""
    yield from (el for el in chapter.body.iter() if isinstance(el.tag, str))
    for note in chapter.notes.values():
        for block in note.blocks:
            yield from (el for el in block.iter() if isinstance(el.tag, str))
