"""List the upright pages before turned tables that are more than a fifth empty, and what stands around them.

    python bench/turned.py MANUSCRIPT PDF [MANUSCRIPT PDF ...]

Read back from each built PDF (tests/readers.py): for each page before a run of turned pages whose
text block is more than a fifth empty, the share empty, and what decides whether text could fill it
(publish/pdf/floats.py): the first line of the turned pages (the table's heading, if it turns with it)
and the first line after them, their type size, and the original page beginning at either.
"""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pikepdf

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from publish.book.config import load_metadata  # noqa: E402
from publish.pdf.floats import SHORT  # noqa: E402

from readers import PrintedBook, short_before_turned  # noqa: E402


def first_line(printed: PrintedBook, page: int) -> tuple[str, float, str | None]:
    """Return the text of a page's first line in the text block, its type size and the original page number
    printed level with it, if one is."""
    body = printed.in_zone("body", page)
    if not body:
        return "", 0.0, None
    top = min(w.bottom for w in body)
    line = sorted((w for w in body if abs(w.bottom - top) < 3), key=lambda w: w.x0)
    number = [w.text for w in printed.in_zone("margin", page) if abs(w.bottom - top) < 4]
    return " ".join(w.text for w in line), max(w.size for w in line), " ".join(number) or None


def report(folder: Path, pdf: Path) -> list[str]:
    meta, _ = load_metadata(folder)
    with pikepdf.open(pdf) as document:
        turned = [page.mediabox[2] - page.mediabox[0] > page.mediabox[3] - page.mediabox[1] for page in document.pages]
    # Only the pages around turned tables are read: a volume's every word takes minutes.
    near = {p + d for p, t in enumerate(turned) if t for d in (-1, 0, 1)}
    printed = PrintedBook(pdf, SimpleNamespace(meta=meta), near)
    short = short_before_turned(printed, SHORT)
    out = [f"{pdf.stem}: {sum(turned)} turned pages; {len(short)} page(s) before a turned table more than "
           f"{SHORT:.0%} empty"]
    for before, last, empty in short:
        facts = [f"PDF p. {before + 1} {empty:.0%} empty, turned pp. {before + 2}-{last + 1}"]
        for where, page in (("turned page begins", before + 1), ("then", last + 1)):
            if page >= printed.page_count:
                continue
            text, size, number = first_line(printed, page)
            facts.append(f"{where} {text[:50]!r} ({size}pt{'; original p. ' + number if number else ''})")
        out.append("  " + "; ".join(facts))
    return out


def main(argv: list[str]) -> int:
    if not argv or len(argv) % 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for folder, pdf in zip(argv[::2], argv[1::2]):
        print("\n".join(report(Path(folder), Path(pdf))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
