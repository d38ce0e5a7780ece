"""One table of writers: each format's writer loaded only when that format is written, all called alike."""
from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys

from publish.build import FORMATS, WRITERS, write

from conftest import ROOT


def test_no_writer_is_loaded_until_its_format_is_written():
    """The command line, the build and the release start without WeasyPrint (half a second) or ebooklib."""
    loaded = subprocess.run(
        [sys.executable, "-c", ("import sys, publish.cli, publish.build, publish.release; "
                                "print(sorted({'weasyprint', 'ebooklib'} & set(sys.modules)))")],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"


def test_every_format_has_a_writer_called_the_one_way():
    """Each writer takes what write() passes it, by the same names, and nothing it does not pass."""
    called = list(inspect.signature(write).parameters)[1:]
    assert FORMATS == tuple(WRITERS) == ("pdf", "epub")
    for fmt in FORMATS:
        module, name = WRITERS[fmt]
        writer = getattr(importlib.import_module(module, "publish"), name)
        assert list(inspect.signature(writer).parameters) == called, fmt
