"""What an image file holds, judged by its content: a raster Pillow can read, or a static SVG of a safe subset.

Nothing is copied or drawn before it passes here (safety.py calls it for every image a manuscript uses).
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

from lxml import etree
from PIL import Image

# Limits an image may not pass (docs/checks-and-safety.md, "Safety model", states them): a decompression bomb of a
# few megabytes can ask for gigabytes, and nested <use> for 10^8 shapes.
MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 600 dpi scan of a 9 × 12 in map is 39 million
MAX_SVG_ELEMENTS = 100_000  # after every <use> is expanded
# Raster formats both EPUB reading systems and WeasyPrint show, by Pillow's name: media type, file suffixes.
RASTER = {"PNG": ("image/png", (".png",)), "JPEG": ("image/jpeg", (".jpg", ".jpeg")),
          "GIF": ("image/gif", (".gif",)), "WEBP": ("image/webp", (".webp",))}
SVG_TYPE = "image/svg+xml"
SUFFIX = {media_type: suffixes[0] for media_type, suffixes in RASTER.values()} | {SVG_TYPE: ".svg"}
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
# Static SVG: shapes, text, paint servers, clipping, masks and filters that take no input from outside.
# Not allowed: script, foreignObject, animation (<set>/<animate> can rewrite a link), feImage, cursor,
# and every element of another namespace.
SVG_ELEMENTS = {
    "svg", "g", "defs", "symbol", "use", "title", "desc", "metadata", "switch", "a", "image", "style",
    "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "textPath",
    "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker", "filter",
    "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix", "feDiffuseLighting",
    "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG",
    "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset", "fePointLight",
    "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
}
# A reference to something outside the file, in CSS (url() other than #id, @import) or spelt with a
# CSS escape (\75rl), which a check of the plain spelling would miss.
CSS_REACHES_OUT = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)|@import|\\", re.I)
RASTER_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp)[;,]", re.I)


def image_problem(path: Path) -> tuple[str, str]:
    """Return (media type, '') for a usable image, or ('', why it may not be used)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return "", f"it cannot be read ({exc.strerror})"
    if size > MAX_IMAGE_BYTES:
        return "", f"it is {size // 1024 // 1024} MB; an image may have at most {MAX_IMAGE_BYTES // 1024 // 1024} MB"
    if path.suffix.lower() == ".svg":
        why = svg_problem(path.read_bytes())
        return ("", why) if why else (SVG_TYPE, "")
    return _raster(path)


def _raster(path: Path) -> tuple[str, str]:
    """Judge a raster image by its header and data, never decoding more than MAX_PIXELS."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                kind, (width, height) = img.format, img.size
                if width * height > MAX_PIXELS:
                    return "", f"it is {width} × {height} pixels; an image may have at most {MAX_PIXELS:,}"
                img.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "", f"it has more than {MAX_PIXELS:,} pixels"
    except Exception as exc:  # Pillow raises many kinds for a damaged or foreign file
        return "", f"it is not an image Pillow can read ({type(exc).__name__}): use PNG, JPEG, GIF, WebP or SVG"
    if kind not in RASTER:
        return "", f"it is a {kind} image: use PNG, JPEG, GIF, WebP or SVG"
    media_type, suffixes = RASTER[kind]
    if path.suffix.lower() not in suffixes:
        return "", f"it holds a {kind} image but is named '{path.suffix}': name it '{suffixes[0]}'"
    return media_type, ""


def svg_problem(data: bytes) -> str:
    """Return why an SVG may not be used (anything outside the static subset, too much work), or ''."""
    if b"<!ENTITY" in data:
        return "it declares XML entities"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return f"it is not well-formed XML ({exc.msg})"
    doc = root.getroottree().docinfo
    if doc.system_url or doc.public_id or doc.internalDTD is not None:
        return "it has a document type declaration (a DTD can load other files)"
    if any(isinstance(node, etree._ProcessingInstruction) for node in root.itersiblings(preceding=True)) or \
            root.xpath("//processing-instruction()"):
        return "it holds a processing instruction (<?xml-stylesheet?> loads a stylesheet)"
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        why = _svg_element_problem(el)
        if why:
            return why
    if _expanded_size(root) > MAX_SVG_ELEMENTS:
        return f"it draws more than {MAX_SVG_ELEMENTS:,} elements once every <use> is expanded"
    return ""


def _svg_element_problem(el) -> str:
    name = etree.QName(el)
    if name.namespace != SVG_NS or name.localname not in SVG_ELEMENTS:
        return f"it holds a <{name.localname}> element, which is not static SVG"
    if name.localname == "style" and CSS_REACHES_OUT.search(el.text or ""):
        return "its stylesheet loads resources (url(), @import or a CSS escape)"
    for attr, value in el.attrib.items():
        local = etree.QName(attr).localname.lower()
        if local.startswith("on"):
            return f"it has an event handler ({local})"
        if local == "href":
            if value.startswith("#") or (name.localname == "image" and RASTER_DATA.match(value)):
                continue
            if name.localname == "a" and re.match(r"https?://", value):
                continue
            return f"it references '{value[:60]}'"
        if CSS_REACHES_OUT.search(value):
            return f"it references a resource in '{value[:60]}'"
    return ""


def _expanded_size(root) -> int:
    """Count the elements an SVG draws with every <use> replaced by what it points to."""
    alive = [el for el in root.iter() if isinstance(el.tag, str)]  # so that id() names one element throughout
    by_id = {el.get("id"): el for el in alive if el.get("id")}
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(el) -> int:
        key = id(el)
        if key in sizes:
            return sizes[key]
        if key in busy:  # a <use> that points to itself or an ancestor: count it as too much
            return MAX_SVG_ELEMENTS + 1
        busy.add(key)
        total = 1 + sum(size(child) for child in el if isinstance(child.tag, str))
        target = el.get("href") or el.get(f"{{{XLINK_NS}}}href") or ""
        if etree.QName(el).localname == "use" and target[1:] in by_id:
            total += size(by_id[target[1:]])
        busy.discard(key)
        sizes[key] = total = min(total, MAX_SVG_ELEMENTS + 1)
        return total
    try:
        return size(root)
    except RecursionError:  # a chain of <use> too long to follow
        return MAX_SVG_ELEMENTS + 1
