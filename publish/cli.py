"""The command line: ``publish pdf|epub|all|check|watch|release|cite|import-tei|series``."""
from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from . import __version__
from .book.errors import (
    EXIT_CODES,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SERIES,
    EXIT_SERIES_MAX,
    ManuscriptError,
    PublishError,
)
from .book.numbers import whole
from .series import OPTIONAL
from .system import fsutil, interrupt
from .system.progress import for_stream

# More processes than any machine has cores only costs memory.
MAX_JOBS = 1024
# `publish cite`'s formats (publish/cite.py, imported only when it runs: it loads pandoc's wrapper).
CITE_FORMATS = ("text", "csl-json", "bibtex", "biblatex", "ris")
# Seconds `publish watch` waits for the sources to stay still before it builds: an editor's save is often
# several writes.
DEBOUNCE = 0.3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="publish", formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="exit codes:\n" + "\n".join(f"  {code:>3}  {text}"
                                                                         for code, text in EXIT_CODES.items()))
    parser.description = "Typeset a FRUS manuscript as a PDF and an EPUB that keep the original page numbers."
    parser.add_argument("--version", action="version", version=f"publish {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    helps = {"pdf": "build the PDF", "epub": "build the EPUB", "all": "build the PDF and the EPUB",
             "check": "check the manuscript and report every problem",
             "watch": "build the PDF and the EPUB, then again on every save (Ctrl-C stops)"}
    for name, text in helps.items():
        sub = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        sub.add_argument("manuscript", nargs="?", default="manuscript", type=Path,
                         help="the manuscript folder, holding book.yaml (default: manuscript)")
        if name != "check":
            sub.add_argument("--out", default="build", type=Path, help="output folder (default: build)")
        if name in ("pdf", "all", "watch"):
            sub.add_argument("--jobs", type=_positive, metavar="N", help="processes laying out the PDF "
                             "(default: one per core)")
        if name == "watch":
            sub.add_argument("--debounce", type=_seconds, default=DEBOUNCE, metavar="S", help="seconds the sources "
                             "(book.yaml, its Markdown, its images, the styles) must stay unchanged before a build "
                             f"starts (default: {DEBOUNCE})")
        sub.add_argument("--strict", action="store_true", help="treat warnings as errors")
    rel = commands.add_parser("release", help="build both formats as a release of one edition, with SHA256SUMS",
                              description="Build the PDF and the EPUB as <id>-<edition>.pdf and .epub, "
                                          "with their SHA256SUMS, reproducibly.")
    rel.add_argument("manuscript", nargs="?", default="manuscript", type=Path,
                     help="the manuscript folder, holding book.yaml (default: manuscript)")
    rel.add_argument("--dist", default="dist", type=Path, help="release folder (default: dist)")
    rel.add_argument("--edition", metavar="E", help="the edition released, e.g. 1.2.0; the v<edition> tag "
                     "at HEAD and book.yaml's edition, where present, must agree with it")
    # The old name, still read: `publish --version` is the tool's own version, this is the book's.
    rel.add_argument("--version", dest="edition", help=argparse.SUPPRESS)
    rel.add_argument("--strict", action="store_true", help="treat warnings as errors")
    cit = commands.add_parser("cite", help="print or export each document's citation, with its original pages",
                              description="Print or export the citation of each document (or of those named), "
                                          "with the original pages it spans, as the page markers give them.")
    cit.add_argument("manuscript", type=Path, help="the manuscript folder, holding book.yaml")
    cit.add_argument("ids", nargs="*", metavar="ID", help="a document's anchor, e.g. d270 (default: every document)")
    cit.add_argument("--format", default="text", choices=CITE_FORMATS, help="text (Chicago full note), csl-json, "
                     "bibtex, biblatex or ris (default: text)")
    cit.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (default: print)")
    tei = commands.add_parser("import-tei", help="make a manuscript from a FRUS TEI volume",
                              description="Make a manuscript from a FRUS volume in the Office of the "
                                          "Historian's TEI XML.")
    tei.add_argument("volume", type=Path, help="the TEI file, e.g. frus1936v03.xml")
    tei.add_argument("manuscript", nargs="?", default="manuscript", type=Path,
                     help="the manuscript folder to write (default: manuscript)")
    tei.add_argument("--force", action="store_true", help="replace a manuscript an earlier import wrote, if no "
                     "file of it was changed since (it refuses, naming them, otherwise)")
    ser = commands.add_parser("series", help="build, check and index every volume a catalogue lists",
                              description="Build every volume of series.yaml (a list 'volumes' of id and source: "
                                          "a TEI file or a manuscript folder) into DIR/<id>/, validate and record "
                                          "each, then write the index: an OPDS feed, index.html and SHA256SUMS. "
                                          "A volume unchanged since its last build is skipped. See docs/series.md.")
    ser.add_argument("catalogue", type=Path, help="the catalogue, e.g. series.yaml")
    ser.add_argument("--out", default="series", type=Path, metavar="DIR", help="output folder (default: series)")
    what = ser.add_mutually_exclusive_group()
    what.add_argument("--shard", metavar="K/N", help="build share K (from 1) of N, and no index; without it, the "
                      "share is read from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID where set")
    what.add_argument("--index", action="store_true", help="only gather the records in DIR into the index")
    what.add_argument("--plan", type=_positive, metavar="N", help="print the GitHub Actions matrix of N shares, "
                      "as JSON, and build nothing")
    ser.add_argument("--shards", type=_positive, metavar="N", help="how many shares a job array's index counts "
                     "(Kubernetes gives no count; Slurm's SLURM_ARRAY_TASK_COUNT is read otherwise)")
    ser.add_argument("--skip", action="append", default=[], choices=OPTIONAL, metavar="VALIDATOR",
                     help=f"do not run this validator ({', '.join(OPTIONAL)}; repeat for more); the record says so")
    ser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    return parser


def _positive(text: str) -> int:
    """Read a whole number of at least 1 (argparse type)."""
    number = whole(text, MAX_JOBS)
    if not number:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_JOBS}, not '{text}'")
    return number


def _seconds(text: str) -> float:
    """Read a number of seconds from 0 to a minute (argparse type)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 60:
        raise argparse.ArgumentTypeError(f"must be a number of seconds from 0 to 60, not '{text}'")
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    return _main(_parser().parse_args(argv))


def entry() -> int:
    """Run the command line as a process of its own (python -m publish, the publish script); return its exit code."""
    code = _main(_parser().parse_args(), own_process=True)
    # The process ends here: Python would first look through every object it made for cycles to free
    # (some 70 ms after a one-chapter build), which an ending process need not do.
    gc.freeze()
    return code


def _main(args: argparse.Namespace, own_process: bool = False) -> int:
    progress = for_stream(sys.stderr)
    try:
        # A terminated build cleans up like an interrupted one: no temporary file stays behind.
        with interrupt.handled():
            return _run(args, progress, own_process)
    except ManuscriptError as exc:
        progress.close()
        for diag in exc.diagnostics:
            print(diag, file=sys.stderr)
        errors = sum(d.is_error for d in exc.diagnostics)
        warnings = len(exc.diagnostics) - errors
        print(f"publish: {errors} error(s), {warnings} warning(s); nothing was written", file=sys.stderr)
        return exc.exit_code
    except PublishError as exc:
        progress.close()
        print(f"publish: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        progress.close()
        print("publish: interrupted; earlier outputs are untouched", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        progress.close()
        fsutil.remove_leftovers()


def _series(args, progress) -> int:
    import json

    from .series import plan, run
    skip = tuple(sorted(set(args.skip)))
    if args.plan:
        print(json.dumps(run.plan(args.catalogue, args.plan, args.strict, skip), separators=(",", ":")))
        return EXIT_OK
    if args.index:
        outcome = run.index(args.catalogue, args.out)
    else:
        share = plan.chosen_share(args.shard, args.shards)
        outcome = run.run_series(args.catalogue, args.out, share, args.strict, skip, progress,
                                 tell=lambda line: print(line, file=sys.stderr))
        progress.close()
        print(f"{len(outcome.built)} volume(s) built, {len(outcome.skipped)} unchanged, {len(outcome.failed)} "
              f"failed" + (f" (share {share[0]}/{share[1]})" if share else ""))
    for vid, cause in outcome.failed.items():
        print(f"failed: {vid}: {cause}", file=sys.stderr)
    for path in outcome.written:
        print(f"wrote {path}")
    return min(EXIT_SERIES + len(outcome.failed), EXIT_SERIES_MAX) if outcome.failed else EXIT_OK


def _run(args, progress, own_process: bool) -> int:
    from . import build
    if own_process:
        # The modules loaded so far stay to the end: out of the collector's full passes, each of which
        # would look through them all again (in a process that is all this command's, not a caller's).
        gc.freeze()
    # Before WeasyPrint loads: fontconfig reads SOURCE_DATE_EPOCH too, and complains of a bad one itself.
    build.environment_epoch()
    if args.command == "import-tei":
        from .tei.importer import import_tei
        result = import_tei(args.volume, args.manuscript, force=args.force)
        for diag in result.warnings:
            print(diag, file=sys.stderr)
        print(f"wrote {args.manuscript}/ ({len(result.files)} files)")
        return EXIT_OK
    if args.command == "cite":
        from .cite import cite, write
        text = cite(args.manuscript, args.ids, args.format)
        if not text:
            print(f"publish: {args.manuscript} has no document to cite (a '## ' section of a chapter, with text)",
                  file=sys.stderr)
        write(text, args.out)
        if args.out:
            print(f"wrote {args.out}", file=sys.stderr)
        return EXIT_OK
    if args.command == "watch":
        from .watch import watch
        progress.close()  # each build shows its own, and none shows while it waits for a save
        return watch(args.manuscript, args.out, args.debounce, strict=args.strict, jobs=args.jobs)
    if args.command == "series":
        return _series(args, progress)
    if args.command == "release":
        from .release import release
        done = release(args.manuscript, args.dist, args.edition, strict=args.strict)
        for diag in done.warnings:
            print(diag, file=sys.stderr)
        for path in (*done.outputs.values(), done.sums):
            print(f"wrote {path}")
        print(f"release of edition {done.edition} of {done.book.meta.id}, dated {done.book.date}")
        return EXIT_OK
    if args.command == "check":
        result = build.check(args.manuscript, strict=args.strict, progress=progress)
    else:
        formats = build.FORMATS if args.command == "all" else (args.command,)
        result = build.build(args.manuscript, args.out, formats, strict=args.strict,
                             jobs=getattr(args, "jobs", None), progress=progress)
    progress.close()
    for diag in result.warnings:
        print(diag, file=sys.stderr)
    book = result.book
    summary = (f"{len(book.chapters)} chapter(s), {sum(len(c.sections) for c in book.chapters)} "
               f"document(s), {len(book.page_breaks)} original page(s), {len(result.warnings)} warning(s)")
    if args.command == "check":
        print(f"{args.manuscript}: ok: {summary}")
    for path in result.outputs.values():
        print(f"wrote {path}")
    if result.outputs:
        print(summary)
    return EXIT_OK
