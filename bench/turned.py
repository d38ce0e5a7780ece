"""List the upright pages before turned tables that are more than a fifth empty, and what stands around them.

    python bench/turned.py MANUSCRIPT PDF [MANUSCRIPT PDF ...]

Read back from each built PDF (tests/readers.py): for each page before a run of turned pages whose
text block is more than a fifth empty, the share empty, and what decides whether text could fill it
(publish/pdf/floats.py): whether the table's heading turns with it, an original page begins at the
table or right after it, and the first line after the turned pages.
"""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from publish.book.config import load_metadata  # noqa: E402
from publish.pdf.floats import SHORT  # noqa: E402

from readers import PrintedBook, short_before_turned, text_lines  # noqa: E402


def margin_number(printed: PrintedBook, page: int, baseline: float) -> str | None:
    """Return the original page number printed level with a line, if one is."""
    words = [w.text for w in printed.in_zone("margin", page) if abs(w.bottom - baseline) < 4]
    return " ".join(words) or None


def report(folder: Path, pdf: Path) -> list[str]:
    meta, _ = load_metadata(folder)
    printed = PrintedBook(pdf, SimpleNamespace(meta=meta))
    short = short_before_turned(printed, SHORT)
    if not short:
        return [f"{folder.name}: no page before a turned table is more than {SHORT:.0%} empty"]
    lines = text_lines(pdf)
    out = [f"{folder.name}: {len(short)} page(s) before a turned table more than {SHORT:.0%} empty"]
    for before, last, empty in short:
        first = next(line for line in lines if line.page == before + 1)
        after = next((line for line in lines if line.page > last), None)
        facts = [f"PDF p. {before + 1} {empty:.0%} empty, turned pp. {before + 2}-{last + 1}:",
                 f"turned page begins with a {first.kind} {first.text[:40]!r}"]
        if number := margin_number(printed, first.page, first.y):
            facts.append(f"original p. {number} begins there")
        if after is None:
            facts.append("nothing after")
        else:
            facts.append(f"then a {after.kind} {after.text[:50]!r}")
            if number := margin_number(printed, after.page, after.y):
                facts.append(f"where original p. {number} begins")
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
