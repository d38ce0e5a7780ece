"""Time reading and checking a manuscript again after a one-word edit, in one warm process, as `publish watch` does.

    python bench/reading.py MANUSCRIPT [--repeat N] [--profile FILE] [--pdf]

The manuscript is copied and read once (its chunks and pandoc's HTML kept in memory and in a cache
folder, as the watch process keeps them); then, N times, one word mid its longest chapter is changed
(bench.py's edit) and the book read and checked again (build.load), and the CPU seconds of that load
printed: this process's and pandoc's, which it waits for. The one-minute load average is printed beside.
With --pdf, each edit is followed by what `publish watch` does next up to the PDF written (the pages'
text compared, then the PDF writer, into the output folder, with the memory it keeps from one write to the
next), timed with it.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench import BUILD_DATE, edit_longest_chapter  # noqa: E402
from publish.build import STYLES, load, write  # noqa: E402
from publish.system import cache  # noqa: E402
from publish.system.fsutil import atomic_output  # noqa: E402
from publish.watch import changed_pages, page_texts  # noqa: E402


def cpu() -> tuple[float, float]:
    """Return the CPU seconds of this process and of the children it waited for (pandoc)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def rebuild(folder: Path, out: Path, memory: dict, written: dict, pdf: bool, pages: dict | None) -> dict:
    """Read the book as `publish watch` does and, with pdf, write its PDF; return its pages' text."""
    book, _ = load(folder, out=out, memory=memory)
    if not pdf:
        return pages
    texts = page_texts(book)
    changed_pages(pages, texts, book)
    with atomic_output(out / f"{book.meta.id}.pdf") as tmp:
        write("pdf", book, tmp, STYLES, cache=cache.folder(out, book.meta.id), memory=written)
    return texts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manuscript", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", type=Path, help="write cProfile's statistics of the edited loads here")
    parser.add_argument("--pdf", action="store_true", help="write the PDF after each load, as publish watch does")
    args = parser.parse_args(argv)
    os.environ.setdefault("SOURCE_DATE_EPOCH", BUILD_DATE)  # the copy is outside git: one date, as bench.py's builds
    with tempfile.TemporaryDirectory(prefix="bench-reading-") as tmp:
        folder, out = Path(tmp) / "copy", Path(tmp) / "out"
        shutil.copytree(args.manuscript, folder)
        memory: dict = {}
        written: dict = {}
        pages = rebuild(folder, out, memory, written, args.pdf, None)
        profile = cProfile.Profile(time.process_time) if args.profile else None
        runs = []
        for _ in range(args.repeat):
            edit_longest_chapter(folder)
            before, load_avg = cpu(), os.getloadavg()[0]
            if profile:
                profile.enable()
            pages = rebuild(folder, out, memory, written, args.pdf, pages)
            if profile:
                profile.disable()
            own, pandoc = (after - start for after, start in zip(cpu(), before))
            runs.append((own + pandoc, own))
            print(f"{'reading, checking and the PDF' if args.pdf else 'reading and checking'} after a one-word edit: {own + pandoc:.3f} s CPU, {own:.3f} s of it this "
                  f"process's, {pandoc:.3f} s pandoc's (load {max(load_avg, os.getloadavg()[0]):.1f})", flush=True)
        print(f"median {statistics.median(r[0] for r in runs):.3f} s CPU, this process's "
              f"{statistics.median(r[1] for r in runs):.3f}")
        if profile:
            profile.dump_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
