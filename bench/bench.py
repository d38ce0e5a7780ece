"""Benchmark our builds against the tools a user would reach for instead: `make bench`.

First, every shared TEI volume (tests/data/*.xml) imported and built cold, beside one
`pandoc --pdf-engine=weasyprint` pass over the same Markdown in the same run: a table of one row a
volume (pages, both times, their ratio, CPU seconds a page, peak memory).

Each workload is built cold (empty output and cache folders) and again after a one-word edit in
one chapter, with `publish pdf` and `publish epub`, and the PDF after a one-word edit in the middle
of the longest chapter and after a paragraph inserted there (which moves every later page); beside
them, in the same run, pandoc's own EPUB writer and `pandoc --pdf-engine=weasyprint` over the same
Markdown joined into one file. Every
measurement is repeated and the median reported: wall time, CPU time and the peak memory of the
whole process tree (pandoc and worker processes included).
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pikepdf
import psutil

ROOT = Path(__file__).resolve().parent.parent
# The package, and the generator of synthetic volumes the tests share (tests/synthetic.py).
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from publish.book.config import load_metadata  # noqa: E402

from synthetic import generate  # noqa: E402

VOLUMES = ROOT / "tests" / "data"
TEI_VOLUME = VOLUMES / "frus1936v03.xml"
SCALES = (100, 300, 1000)
# The date every build carries where SOURCE_DATE_EPOCH is not set: the manuscripts measured are copies outside
# git, whose date would be the clock's, and a run past midnight would lay the prelims out again.
BUILD_DATE = "1700000000"


def measure(command: list[str], env: dict | None = None) -> dict:
    """Run a command; return its wall time, CPU time (children included) and the load around it."""
    # The machine's load average over the minute before: a figure taken beside other work is marked so.
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # Its messages go to a file: a pipe nobody reads while it runs would fill and stop it. Nothing looks at
    # it while it runs (peak_memory does, in a run of its own): reading a process's memory map takes a core.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env)
    proc.wait()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _check(proc, command, log)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "load": max(load, os.getloadavg()[0])}


def peak_memory(command: list[str], env: dict | None = None) -> dict:
    """Run a command, looking at its process tree's memory every 50 ms; return the peak RSS and PSS, in MB.

    Not a timed run: the PSS of a process is read from its memory map (/proc/PID/smaps_rollup), some 5 ms
    of a core per process of a build each time (12 s of CPU over a 40 s build of FRUS 1901 China, on a
    machine of two cores, which took 42 s watched so and 34 s not).
    """
    log = tempfile.TemporaryFile()
    proc = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env)
    peak = peak_pss = 0
    while proc.poll() is None:
        rss = pss = 0
        try:
            for p in [proc] + proc.children(recursive=True):
                # RSS counts a page shared by a worker and its forked copy (system/fork.py) in both; PSS
                # shares it between them, so the PSS of the tree is the memory the build takes.
                info = p.memory_full_info()
                # psutil reads the RSS before the memory map: a process growing in between (a build starting)
                # shows more PSS than RSS, which it had by the time the map was read.
                rss, pss = rss + max(info.rss, info.pss), pss + info.pss
        except psutil.Error:
            pass
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        time.sleep(0.05)
    _check(proc, command, log)
    return {"rss_mb": peak / 2**20, "pss_mb": peak_pss / 2**20}


def _check(proc, command: list[str], log) -> None:
    """Stop the benchmark with the command's own messages if it failed."""
    if proc.returncode != 0:
        log.seek(0)
        raise SystemExit(f"failed: {' '.join(command)}\n{log.read().decode()[-2000:]}")


def median(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def joined_markdown(folder: Path, target: Path) -> Path:
    """Join a manuscript's files into one Markdown file, as a pandoc user would."""
    meta, _ = load_metadata(folder)
    text = "\n\n".join((folder / name).read_text(encoding="utf-8") for name in meta.files)
    target.write_text(f"---\ntitle: \"{meta.title}\"\nlang: {meta.language}\n---\n\n{text}", encoding="utf-8")
    return target


def edit_one_chapter(folder: Path) -> None:
    """Change one word of the middle chapter, as an editor fixing a typo would."""
    meta, _ = load_metadata(folder)
    path = folder / meta.chapters[len(meta.chapters) // 2]
    text = path.read_text(encoding="utf-8")
    match = re.search(r"\b(the|The)\b", text[len(text) // 2:])
    at = len(text) // 2 + match.start()
    path.write_text(text[:at] + ("thE" if match[0] == "the" else "THE") + text[at + 3:], encoding="utf-8")


def _longest_chapter(folder: Path) -> Path:
    meta, _ = load_metadata(folder)
    return max((folder / name for name in meta.chapters), key=lambda path: path.stat().st_size)


def edit_longest_chapter(folder: Path) -> None:
    """Change one word in the middle of the longest chapter (its pages stay where they were, mostly)."""
    path = _longest_chapter(folder)
    text = path.read_text(encoding="utf-8")
    match = re.search(r"\b(the|The)\b", text[len(text) // 2:])
    at = len(text) // 2 + match.start()
    path.write_text(text[:at] + ("thE" if match[0] == "the" else "THE") + text[at + 3:], encoding="utf-8")


def insert_paragraph(folder: Path) -> None:
    """Add a paragraph of some eighty words in the middle of the longest chapter: every later page moves."""
    path = _longest_chapter(folder)
    text = path.read_text(encoding="utf-8")
    at = text.index("\n\n", len(text) // 2) + 2
    added = " ".join(["An inserted paragraph of the kind an editor adds on reading the proofs again."] * 6)
    path.write_text(text[:at] + added + "\n\n" + text[at:], encoding="utf-8")


def workloads(names: list[str], scratch: Path) -> dict[str, Path]:
    """Prepare the manuscripts to measure."""
    found = {}
    for name in names:
        if name == "sample":
            found[name] = ROOT / "manuscript"
        elif name == "frus1936v03":
            target = scratch / "frus1936v03"
            run = subprocess.run([sys.executable, "-m", "publish", "import-tei", str(TEI_VOLUME), str(target)],
                                 capture_output=True, text=True, cwd=ROOT)
            if run.returncode != 0:
                print(f"skipping frus1936v03: import failed: {run.stderr.strip()[-300:]}", file=sys.stderr)
                continue
            found[name] = target
        elif name.startswith("synthetic-"):
            found[name] = generate(scratch / name, int(name.split("-")[1]))
        else:
            raise SystemExit(f"unknown workload {name}")
    return found


def _env() -> dict:
    """Return the environment the builds run in: this Python's tools first on PATH (pandoc's WeasyPrint), one date."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
                SOURCE_DATE_EPOCH=os.environ.get("SOURCE_DATE_EPOCH", BUILD_DATE))


def pdf_pages(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def cold_volume(name: str, scratch: Path, repeat: int) -> dict | None:
    """Import one shared volume, then measure a cold `publish pdf` and one pandoc + WeasyPrint pass over it."""
    folder = scratch / "src"
    run = subprocess.run([sys.executable, "-m", "publish", "import-tei", str(VOLUMES / f"{name}.xml"), str(folder)],
                         capture_output=True, text=True, cwd=ROOT)
    if run.returncode != 0:
        print(f"skipping {name}: import failed: {run.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    env, out = _env(), scratch / "out"
    joined = joined_markdown(folder, scratch / "joined.md")
    pandoc = [__import__("pypandoc").get_pandoc_path(), str(joined), "-o", str(scratch / "pandoc.pdf"),
              "--pdf-engine=weasyprint"]
    build = [sys.executable, "-m", "publish", "pdf", str(folder), "--out", str(out)]
    ours, theirs = [], []
    for _ in range(repeat):
        theirs.append(measure(pandoc, env))
        shutil.rmtree(out, ignore_errors=True)  # the cache is in it: cold
        ours.append(measure(build, env))
    shutil.rmtree(out, ignore_errors=True)
    ours, theirs = median(ours) | peak_memory(build, env), median(theirs)
    pages = pdf_pages(next(out.glob("*.pdf")))
    return {"pages": pages, "pandoc pages": pdf_pages(scratch / "pandoc.pdf"), "publish pdf": ours,
            "pandoc --pdf-engine=weasyprint": theirs, "ratio": ours["wall"] / theirs["wall"],
            "cpu ratio": ours["cpu"] / theirs["cpu"], "cpu per page": ours["cpu"] / pages}


def bench(folder: Path, scratch: Path, repeat: int, alternatives: bool) -> dict:
    """Measure one workload."""
    env = _env()
    publish = [sys.executable, "-m", "publish"]
    pandoc = __import__("pypandoc").get_pandoc_path()
    results: dict[str, list[dict]] = {}

    def record(key: str, command: list[str], prepare=None):
        def run(how):
            if prepare:
                prepare()
            return how(command, env)
        # The times from runs nothing looks at, the memory from one more of its own.
        results[key] = median([run(measure) for _ in range(repeat)]) | run(peak_memory)

    work = scratch / f"work-{folder.name}"
    for fmt in ("pdf", "epub"):
        out = scratch / f"out-{fmt}"
        copy = scratch / f"copy-{fmt}"

        def cold(out=out, copy=copy):
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(folder, copy)
        record(f"publish {fmt}", publish + [fmt, str(copy), "--out", str(out)], cold)

        def warm_edit(out=out, copy=copy, fmt=fmt):
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(folder, copy)
            subprocess.run(publish + [fmt, str(copy), "--out", str(out)], check=True, capture_output=True)
            edit_one_chapter(copy)
        record(f"publish {fmt}, one chapter edited", publish + [fmt, str(copy), "--out", str(out)], warm_edit)
    # The edit loop in a long chapter (a third or half of a real volume): laid out again only in part.
    out, copy = scratch / "out-pdf", scratch / "copy-pdf"
    for key, edit in (("one word mid longest chapter", edit_longest_chapter),
                      ("one paragraph inserted", insert_paragraph)):
        def warm(edit=edit):
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(folder, copy)
            subprocess.run(publish + ["pdf", str(copy), "--out", str(out)], check=True, capture_output=True)
            edit(copy)
        record(f"publish pdf, {key}", publish + ["pdf", str(copy), "--out", str(out)], warm)
    # Where the time goes: the same PDF typeset by one process (the cost parallelism divides), and
    # the reading and checking every format shares (pandoc's conversion of each chapter among it).
    out, copy = scratch / "out-one", scratch / "copy-one"

    def cold_one():
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(folder, copy)
    record("publish pdf, one process", publish + ["pdf", str(copy), "--out", str(out), "--jobs", "1"], cold_one)
    record("publish check", publish + ["check", str(copy)])
    if alternatives:
        work.mkdir(parents=True, exist_ok=True)
        joined = joined_markdown(folder, work / "joined.md")
        record("pandoc epub", [pandoc, str(joined), "-o", str(work / "pandoc.epub")])
        record("pandoc --pdf-engine=weasyprint",
               [pandoc, str(joined), "-o", str(work / "pandoc.pdf"), "--pdf-engine=weasyprint"])
    return results


def ratios(results: dict) -> dict:
    out = {}
    pdf, epub = results.get("pandoc --pdf-engine=weasyprint"), results.get("pandoc epub")
    if pdf:
        out["pdf cold / pandoc+weasyprint"] = results["publish pdf"]["wall"] / pdf["wall"]
        out["pdf edit / pandoc+weasyprint"] = results["publish pdf, one chapter edited"]["wall"] / pdf["wall"]
        for key in ("one word mid longest chapter", "one paragraph inserted"):
            out[f"pdf {key} / pandoc+weasyprint"] = results[f"publish pdf, {key}"]["wall"] / pdf["wall"]
    if pdf and "publish pdf, one process" in results:
        out["pdf one process / pandoc+weasyprint"] = results["publish pdf, one process"]["wall"] / pdf["wall"]
    if epub:
        out["epub cold / pandoc epub"] = results["publish epub"]["wall"] / epub["wall"]
        out["epub edit / pandoc epub"] = results["publish epub, one chapter edited"]["wall"] / epub["wall"]
        out["check / pandoc epub"] = results["publish check"]["wall"] / epub["wall"]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    shared = sorted(path.stem for path in VOLUMES.glob("*.xml"))
    parser.add_argument("--volumes", nargs="*", default=shared, choices=shared, metavar="VOLUME",
                        help="shared volumes to build cold beside pandoc (default: all; none with no name)")
    parser.add_argument("--workloads", nargs="*",
                        default=["sample", "frus1936v03"] + [f"synthetic-{n}" for n in SCALES])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--no-alternatives", action="store_true", help="measure only our own builds")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench", help="where results.json goes")
    args = parser.parse_args(argv)
    report = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "repeat": args.repeat,
              "volumes": {}, "workloads": {}}
    args.out.mkdir(parents=True, exist_ok=True)
    # Our modules are read from bytecode, as an installed copy's are, a checkout's after its first run, and
    # WeasyPrint's in pandoc's pass: not compiled again in every process where PYTHONDONTWRITEBYTECODE is set.
    compileall.compile_dir(ROOT / "publish", quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        scratch = Path(tmp)
        for name in args.volumes:
            print(f"measuring {name} cold …", file=sys.stderr)
            measured = cold_volume(name, scratch / "volumes" / name, args.repeat)
            if measured is not None:
                report["volumes"][name] = measured
                # A long run keeps what it measured so far.
                (args.out / "results.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
                print(volume_table(report).splitlines()[-1], file=sys.stderr)
        for name, folder in workloads(args.workloads, scratch).items():
            print(f"measuring {name} …", file=sys.stderr)
            results = bench(folder, scratch / name, args.repeat, not args.no_alternatives)
            report["workloads"][name] = {"results": results, "ratios": ratios(results)}
            report["workloads"][name]["watch"] = watch_edit(folder, scratch / name, args.repeat,
                                                            results.get("pandoc --pdf-engine=weasyprint"))
    (args.out / "results.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(volume_table(report))
    print(table(report))
    return 0


def volume_table(report: dict) -> str:
    """Return the cold builds of the shared volumes as a Markdown table (docs/performance.md shows it)."""
    lines = [("| volume | pages (pandoc's) | pandoc + WeasyPrint s | `publish pdf` cold s | ratio | CPU s: ours / "
              "pandoc's (ratio) | CPU s a page | peak MB: PSS (RSS) | load |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for name, v in report["volumes"].items():
        ours, theirs = v["publish pdf"], v["pandoc --pdf-engine=weasyprint"]
        lines.append(f"| {name} | {v['pages']} ({v['pandoc pages']}) | {theirs['wall']:.1f} | {ours['wall']:.1f} | "
                     f"{v['ratio']:.2f} | {ours['cpu']:.1f} / {theirs['cpu']:.1f} ({v['cpu ratio']:.2f}) | "
                     f"{v['cpu per page']:.3f} | {ours['pss_mb']:.0f} ({ours['rss_mb']:.0f}) | {max(ours['load'], theirs['load']):.1f} |")
    return "\n".join(lines)


def table(report: dict) -> str:
    lines = [f"{'workload':<16} {'measurement':<48} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}"]
    for name, data in report["workloads"].items():
        for key, r in data["results"].items():
            lines.append(f"{name:<16} {key:<48} {r['wall']:>8.2f} {r['cpu']:>8.2f} {r['rss_mb']:>8.0f}")
        for key, value in data["ratios"].items():
            lines.append(f"{name:<16} {'ratio ' + key:<48} {value:>8.2f}")
    return "\n".join(lines)


def watch_edit(folder: Path, scratch: Path, repeat: int, pandoc_pass: dict | None) -> dict:
    """Time `publish watch` from the save of a one-word edit mid longest chapter to the new PDF, warm.

    The process has built the book once (from the cache the cold runs left, where there is one) and
    waits, Python, WeasyPrint and the book loaded; each run saves an edit and waits for its line saying
    the PDF was written. The wall time includes the debounce and the look at the sources (up to 0.5 s).
    CPU is the whole process tree's (the watch process and any pandoc or worker process it ran).
    """
    copy, out = scratch / "copy-watch", scratch / "out-pdf"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(folder, copy)
    meta, _ = load_metadata(copy)
    pdf = f"wrote {out / meta.id}.pdf "
    env = _env()
    log = tempfile.TemporaryFile()
    proc = psutil.Popen([sys.executable, "-m", "publish", "watch", str(copy), "--out", str(out)],
                        stdout=subprocess.PIPE, stderr=log, text=True, env=env)

    def wait_for(start: str) -> None:
        for line in proc.stdout:
            if line.startswith(start):
                return
        log.seek(0)
        raise SystemExit(f"publish watch stopped: {log.read().decode()[-2000:]}")

    def cpu() -> float:
        tree = [proc] + proc.children(recursive=True)
        return sum(t.user + t.system + getattr(t, "children_user", 0) + getattr(t, "children_system", 0)
                   for t in (p.cpu_times() for p in tree))

    runs = []
    try:
        wait_for(f"wrote {out / meta.id}.epub ")  # the first build, both formats
        for _ in range(repeat):
            before, start, load = cpu(), time.perf_counter(), os.getloadavg()[0]
            edit_longest_chapter(copy)
            wait_for(pdf)
            runs.append({"wall": time.perf_counter() - start, "cpu": cpu() - before,
                         "rss_mb": sum(p.memory_info().rss for p in [proc] + proc.children(recursive=True)) / 2**20,
                         "load": max(load, os.getloadavg()[0])})
            wait_for(f"wrote {out / meta.id}.epub ")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    result = {"publish watch, one word mid longest chapter, save to PDF": median(runs)}
    if pandoc_pass:
        # By CPU too: on a shared machine (load above the cores) the wall times, and their ratio, are disturbed.
        edit = result["publish watch, one word mid longest chapter, save to PDF"]
        result["ratio to pandoc --pdf-engine=weasyprint"] = edit["wall"] / pandoc_pass["wall"]
        result["CPU ratio to pandoc --pdf-engine=weasyprint"] = edit["cpu"] / pandoc_pass["cpu"]
    for key, r in result.items():
        print(f"{scratch.name:<16} {key:<48} " + (f"{r['wall']:>8.2f} {r['cpu']:>8.2f} {r['rss_mb']:>8.0f}"
                                                    if isinstance(r, dict) else f"{r:>8.2f}"))
    return result


if __name__ == "__main__":
    sys.exit(main())


# ---- The whole series (`publish series`): the volumes in ../shared/frus-tei/, or those given ----
SERIES_TEI = ROOT.parent / "shared" / "frus-tei"


def series_bench(tei: Path = SERIES_TEI, shares: tuple[int, ...] = (2, 4), skip: tuple[str, ...] = ()) -> dict:
    """Build the series of every TEI volume in tei in one process; report its wall and CPU time, the cost per
    volume, and each share's time for N shares, as the volumes' measured times add up on the share's machine."""
    from publish.series.catalogue import read_catalogue
    from publish.series.plan import divide
    with tempfile.TemporaryDirectory(prefix="bench-series-") as tmp:
        folder = Path(tmp)
        volumes = sorted(tei.glob("*.xml"))
        listing = "".join(f"  - id: {p.stem}\n    source: {p}\n" for p in volumes)
        (folder / "series.yaml").write_text(f"volumes:\n{listing}", encoding="utf-8")
        command = [sys.executable, "-m", "publish", "series", str(folder / "series.yaml"), "--out", str(folder / "out")]
        for name in skip:
            command += ["--skip", name]
        # A volume that fails is part of the series' cost: its record says why, and the run goes on.
        run = _measure_series(command)
        catalogue = read_catalogue(folder / "series.yaml")
        times = {v.id: json.loads((folder / "out" / v.id / "timings.json").read_text()) for v in catalogue.volumes}
        records = {v.id: json.loads((folder / "out" / v.id / "record.json").read_text()) for v in catalogue.volumes}
        report = {"volumes": len(volumes), "failed": sorted(k for k, r in records.items() if r["status"] != "ok"),
                  "one machine": run,
                  "cpu per volume": statistics.mean(t["cpu"] for t in times.values()),
                  "timings per volume": times}
        for n in shares:
            report[f"shares of {n}"] = [sum(times[v.id]["total"] for v in share)
                                        for share in divide(catalogue.volumes, n)]
    return report


def _measure_series(command: list[str]) -> dict:
    """Measure a series run, whose exit code counts its failed volumes (measure() stops at any but 0)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": time.perf_counter() - start,
            "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}
