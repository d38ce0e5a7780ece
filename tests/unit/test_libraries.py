"""WeasyPrint's C libraries: the PDF writer loads the same ones WeasyPrint finds alone, without running a program."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Prints the programs run while the import ran, and the C libraries of WeasyPrint's the process then has mapped.
PROBE = """
import json, re, sys
runs = []
sys.addaudithook(lambda event, args: runs.append(str(args[0])) if event == "subprocess.Popen" else None)
import {module}
maps = open("/proc/self/maps").read()
found = re.findall(r"/\\S*/(lib(?:gobject|pango|pangoft2|harfbuzz|harfbuzz-subset|fontconfig)-?[0-9.]*\\.so[.0-9]*)", maps)
print(json.dumps({{"runs": runs, "libraries": sorted(set(found))}}))
"""


def _probe(module: str) -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True,
                         cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True)
    return json.loads(run.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the programs are run on Linux only")
def test_the_pdf_writer_loads_weasyprints_libraries_without_running_a_program():
    alone, ours = _probe("weasyprint"), _probe("publish.pdf")
    assert alone["runs"], "WeasyPrint alone no longer runs ldconfig, the compiler or the linker: the patch can go"
    assert ours["runs"] == []
    assert ours["libraries"] == alone["libraries"]
    assert any(name.startswith("libpango-1.0.so") for name in ours["libraries"])
