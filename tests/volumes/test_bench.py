"""The benchmark keeps working: run on the sample and the smallest shared volume (the suite is no place for timings)."""
import json
import subprocess
import sys

from conftest import ROOT


def test_benchmark_runs_on_the_sample(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "bench.py"), "--workloads", "sample",
                          "--volumes", "frus1961-63v05_d270", "--repeat", "1", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    results = report["workloads"]["sample"]["results"]
    assert set(results) == {"publish pdf", "publish pdf, one chapter edited", "publish epub",
                            "publish epub, one chapter edited", "publish pdf, one process", "publish check",
                            "pandoc epub", "pandoc --pdf-engine=weasyprint",
                            "publish pdf, one word mid longest chapter", "publish pdf, one paragraph inserted"}
    for measured in results.values():
        assert measured["wall"] > 0 and measured["cpu"] > 0 and measured["rss_mb"] > 10
    assert set(report["workloads"]["sample"]["ratios"]) == {
        "pdf cold / pandoc+weasyprint", "pdf edit / pandoc+weasyprint", "epub cold / pandoc epub",
        "epub edit / pandoc epub", "pdf one process / pandoc+weasyprint", "check / pandoc epub",
        "pdf one word mid longest chapter / pandoc+weasyprint", "pdf one paragraph inserted / pandoc+weasyprint"}
    assert "publish pdf, one chapter edited" in run.stdout
    # The watch loop, save to PDF, against the pandoc pass of the same run: by wall and, for a shared machine, by CPU.
    watch = report["workloads"]["sample"]["watch"]
    edit = watch["publish watch, one word mid longest chapter, save to PDF"]
    pandoc = results["pandoc --pdf-engine=weasyprint"]
    assert edit["cpu"] > 0 and edit["load"] >= 0
    assert watch["CPU ratio to pandoc --pdf-engine=weasyprint"] == edit["cpu"] / pandoc["cpu"]
    assert watch["ratio to pandoc --pdf-engine=weasyprint"] == edit["wall"] / pandoc["wall"]
    # The cold row of a shared volume: its pages, our build and pandoc's in the same run, and their ratio.
    volume = report["volumes"]["frus1961-63v05_d270"]
    assert volume["pages"] > 1 and volume["pandoc pages"] > 0
    ours, theirs = volume["publish pdf"], volume["pandoc --pdf-engine=weasyprint"]
    assert ours["cpu"] > 0 and theirs["cpu"] > 0 and ours["rss_mb"] > 10
    # Memory as the tree's PSS: a page shared by a worker and its forked copy counts once, so never more than RSS.
    assert 10 < ours["pss_mb"] <= ours["rss_mb"]
    assert volume["ratio"] == ours["wall"] / theirs["wall"]
    assert volume["cpu per page"] == ours["cpu"] / volume["pages"]
    assert "| frus1961-63v05_d270 | " in run.stdout
