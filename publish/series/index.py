"""The series index: an OPDS 1.2 acquisition feed, a static HTML page and SHA256SUMS, from the volumes' records.

Made from the records alone (never from timings.json, never from the clock): the same records give the
same bytes. The feed's date is SOURCE_DATE_EPOCH where set, else the latest of the volumes' own dates.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import uuid
from itertools import groupby
from pathlib import Path

from lxml import etree
from lxml.builder import ElementMaker
from lxml.html import builder as H

from ..build import environment_epoch
from ..system.fsutil import atomic_output
from .catalogue import Catalogue
from .volume import RECORD, sha256

FEED, PAGE, SUMS = "catalog.xml", "index.html", "SHA256SUMS"
ATOM_NS, DC_NS, OPDS_NS = "http://www.w3.org/2005/Atom", "http://purl.org/dc/terms/", "http://opds-spec.org/2010/catalog"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
MEDIA = {"epub": "application/epub+zip", "pdf": "application/pdf"}
A = ElementMaker(namespace=ATOM_NS, nsmap={None: ATOM_NS, "dc": DC_NS, "opds": OPDS_NS})
DC = ElementMaker(namespace=DC_NS)
# The feed of a series none of whose volumes has a date, and no SOURCE_DATE_EPOCH: the epoch itself.
NO_DATE = "1970-01-01T00:00:00Z"
STYLE = ("body{font-family:serif;max-width:60em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;"
         "width:100%}th,td{text-align:left;vertical-align:top;padding:.3em .5em;border-bottom:1px solid #ccc}"
         "td.n{text-align:right}.fail{color:#a00}")


def gather(catalogue: Catalogue, out: Path) -> dict[str, dict | None]:
    """Return each volume's record in DIR, by id in catalogue order; None for a volume not built yet."""
    records = {}
    for volume in catalogue.volumes:
        try:
            record = json.loads((out / volume.id / RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            records[volume.id] = None
            continue
        # A share's files that did not arrive (an artifact lost): the volume is not in the series.
        lost = [f["name"] for f in record.get("files", {}).values() if not (out / volume.id / f["name"]).is_file()]
        if lost:
            record |= {"status": "failed", "files": {}, "error": {"exit_code": None, "diagnostics": [
                f"{volume.id}/{lost[0]} is missing, though its record lists it: build the volume again"]}}
        records[volume.id] = record
    return records


def write_index(catalogue: Catalogue, out: Path, records: dict[str, dict | None]) -> list[Path]:
    """Write the feed, the page and SHA256SUMS into out, all or none; return their paths."""
    feed = etree.tostring(opds_feed(catalogue.title, records), xml_declaration=True, encoding="utf-8",
                          pretty_print=True)
    page = etree.tostring(html_page(catalogue.title, records), doctype="<!DOCTYPE html>", encoding="utf-8",
                          method="html", pretty_print=True)
    listed = sorted({f"{vid}/{entry['name']}" for vid, record in records.items() if record
                     for entry in record.get("files", {}).values() if (out / vid / entry["name"]).is_file()}
                    | {f"{vid}/{RECORD}" for vid, record in records.items() if record})
    with contextlib.ExitStack() as stack:
        # Entered first, so replaced last: the sums never name an index not yet in place.
        sums = stack.enter_context(atomic_output(out / SUMS))
        for name, data in ((FEED, feed), (PAGE, page)):
            stack.enter_context(atomic_output(out / name)).write_bytes(data)
        digests = {name: sha256(out / name) for name in listed}
        digests |= {FEED: _sha256(feed), PAGE: _sha256(page)}
        sums.write_text("".join(f"{digests[name]}  {name}\n" for name in sorted(digests)), encoding="utf-8")
    return [out / FEED, out / PAGE, out / SUMS]


def opds_feed(title: str, records: dict[str, dict | None]) -> etree._Element:
    """Return the OPDS 1.2 acquisition feed: one entry per volume built, with its EPUB and its PDF."""
    built = [r for r in records.values() if r and r.get("status") == "ok"]
    feed = A.feed(A.id(f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'frus-publish-series:' + title)}"),
                  A.title(title), A.updated(feed_date(built)), A.author(A.name(title)),
                  A.link(rel="self", href=FEED, type=ACQUISITION), A.link(rel="start", href=FEED, type=ACQUISITION),
                  A.link(rel="alternate", href=PAGE, type="text/html"))
    for record in sorted(built, key=_order):
        entry = A.entry(A.title(record["title"]), A.id(record["identifier"]), A.updated(record["date"]))
        entry.extend(A.author(A.name(name)) for name in record["editors"])
        if record.get("language"):
            entry.append(DC.language(record["language"]))
        if record.get("year"):
            entry.append(DC.issued(record["year"]))
        entry.append(A.summary(_summary(record), type="text"))
        for fmt in ("epub", "pdf"):
            file = record["files"][fmt]
            entry.append(A.link(rel="http://opds-spec.org/acquisition", href=f"{record['id']}/{file['name']}",
                                type=MEDIA[fmt], length=str(file["bytes"])))
        feed.append(entry)
    return feed


def feed_date(records: list[dict]) -> str:
    """Return the feed's date: SOURCE_DATE_EPOCH, else the latest volume's date (never the clock)."""
    epoch = environment_epoch()
    if epoch is not None:
        return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return max((r["date"] for r in records if r.get("date")), default=NO_DATE)


def html_page(title: str, records: dict[str, dict | None]) -> etree._Element:
    """Return the index page: the volumes by year and title, with pages, sizes, links and verdicts."""
    built = sorted((r for r in records.values() if r and r.get("files")), key=_order)
    failed = sum(1 for r in records.values() if not r or r.get("status") != "ok")
    body = H.BODY(H.H1(title), H.P(f"{len(records)} volume(s), {len(records) - failed} built and valid, "
                                   f"{failed} failed or not built. ", H.A("OPDS catalogue", href=FEED,
                                   type=ACQUISITION), " · ", H.A("SHA256SUMS", href=SUMS)))
    for year, group in groupby(built, key=lambda r: r.get("year") or ""):
        body.append(H.H2(year or "Year not given"))
        body.append(_table([_row(r) for r in group]))
    missing = [(vid, r) for vid, r in records.items() if not r or not r.get("files")]
    if missing:
        body.append(H.H2("Not built"))
        body.append(H.UL(*[H.LI(H.CODE(vid), ": ", cause(r), H.CLASS("fail"), id=vid) for vid, r in missing]))
    head = H.HEAD(H.META(charset="utf-8"), H.TITLE(title),
                  H.LINK(rel="alternate", type=ACQUISITION, href=FEED, title="OPDS catalogue"), H.STYLE(STYLE))
    return H.HTML(head, body, lang="en")


def _table(rows: list) -> etree._Element:
    return H.TABLE(H.THEAD(H.TR(*[H.TH(name) for name in ("Volume", "PDF pages", "Original pages", "Files",
                                                          "Validators")])), H.TBODY(*rows))


def _row(record: dict) -> etree._Element:
    links = H.TD()
    for fmt in ("pdf", "epub"):
        file = record["files"][fmt]
        links.append(H.A(fmt.upper(), href=f"{record['id']}/{file['name']}", type=MEDIA[fmt]))
        links.append(H.SPAN(f" ({_size(file['bytes'])}) "))
    verdicts = H.UL(*[H.LI(f"{name}: {v['verdict']}", *([H.CLASS("fail")] if v["verdict"] == "fail" else []))
                      for name, v in record["validators"].items()])
    cells = [H.TD(record["title"], H.BR(), H.CODE(record["id"])), H.TD(str(record["pdf_pages"]), H.CLASS("n")),
             H.TD(str(record["original_pages"]), H.CLASS("n")), links, H.TD(verdicts)]
    return H.TR(*cells, id=record["id"])


def cause(record: dict | None) -> str:
    """Return why a volume is not in the series: its first error, or that it was not built."""
    if not record:
        return "not built yet"
    diags = record.get("error", {}).get("diagnostics") or ["failed"]
    return diags[0]


def _order(record: dict) -> tuple:
    return (record.get("year") or "\uffff", record.get("title") or "", record["id"])


def _summary(record: dict) -> str:
    return f"{record['pdf_pages']} PDF pages; {record['original_pages']} original pages."


def _size(n: int) -> str:
    """Return a size as a reader reads it: 812 KB, 14.2 MB."""
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{max(1, round(n / 1000))} KB"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
