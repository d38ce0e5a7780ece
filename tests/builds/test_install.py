"""The release path as a new user meets it: a wheel that works from anywhere, pinned dependencies, CI."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from importlib import metadata

import pikepdf
import yaml

from conftest import ROOT, SAMPLE

# The oldest major version of each action that runs on Node 24 (Node 20 is gone from GitHub's runners).
CURRENT_ACTIONS = {"actions/checkout": 7, "actions/setup-python": 7, "actions/setup-java": 6,
                   "actions/upload-artifact": 7, "actions/download-artifact": 8, "softprops/action-gh-release": 3,
                   "actions/cache": 5}
# pip and the new venv run without the caller's PYTHONPATH: one naming the source tree makes pip take
# `publish` for installed already and skip the wheel, so the test would not be of the wheel.
WITHOUT_PYTHONPATH = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_the_wheel_carries_its_styles_and_fonts_and_builds_from_any_folder(tmp_path):
    wheels = tmp_path / "wheels"
    # Offline: the build backend comes from this environment (constraints.txt pins it), not from PyPI.
    made = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                           str(wheels), str(ROOT)], capture_output=True, text=True, cwd=tmp_path, env=WITHOUT_PYTHONPATH)
    assert made.returncode == 0, made.stderr
    assert not re.search(r"deprecat", made.stdout + made.stderr, re.I), made.stdout + made.stderr
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                                "--no-index", *map(str, wheels.glob("*.whl"))], capture_output=True, text=True,
                               env=WITHOUT_PYTHONPATH)
    assert installed.returncode == 0, installed.stderr
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True, env=WITHOUT_PYTHONPATH).stdout.strip()
    # The dependencies, from this environment; a path in a .pth file does not run the editable
    # install's finder, so `publish` can only come from the wheel.
    (venv / site.split(str(venv) + "/", 1)[1] / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    elsewhere = tmp_path / "elsewhere"
    subprocess.run(["cp", "-r", str(SAMPLE), str(elsewhere)], check=True)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "SOURCE_DATE_EPOCH": "1700000000"}
    where = subprocess.run([str(python), "-c", "import publish; print(publish.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, env=env)
    assert where.stdout.startswith(site), where.stdout + where.stderr
    run = subprocess.run([str(venv / "bin" / "publish"), "all", ".", "--out", "out"], cwd=elsewhere,
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    with pikepdf.open(next((elsewhere / "out").glob("*.pdf"))) as pdf:
        fonts = {str(font.get("/BaseFont")) for page in pdf.pages
                 for font in page.Resources.get("/Font", {}).values()}
    assert fonts and all("Libertine" in name for name in fonts), fonts
    # The citation style is package data too: the Chicago note comes from the installed wheel.
    cited = subprocess.run([str(venv / "bin" / "publish"), "cite", "."], cwd=elsewhere, capture_output=True,
                           text=True, env=env, timeout=300)
    assert cited.returncode == 0 and "eds., “Document 270,” in Soviet Union, vol. V" in cited.stdout, cited.stderr


def test_every_installed_package_is_the_pinned_one():
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    wanted = {"frus-publish": None} | {name: None for name in ("weasyprint", "pikepdf", "ebooklib", "pytest")}
    installed = {dist.metadata["Name"].lower().replace("_", "-"): dist.version for dist in metadata.distributions()}
    pins = {name.lower().replace("_", "-"): version for name, version in pins.items()}
    assert set(wanted) - {"frus-publish"} <= set(pins)
    differ = {name: (version, pins[name]) for name, version in installed.items() if name in pins
              and version != pins[name]}
    assert not differ, f"installed (left) differs from constraints.txt (right): {differ}"
    makefile = (ROOT / "Makefile").read_text()
    assert "-c constraints.txt -e '.[test]'" in makefile


def _workflows():
    return {path.name: yaml.safe_load(path.read_text()) for path in (ROOT / ".github" / "workflows").glob("*.yml")}


def test_a_workflow_runs_the_tests_on_every_push_and_pull_request():
    flows = _workflows()
    # PyYAML reads the key `on` as True.
    triggered = [name for name, flow in flows.items() if {"push", "pull_request"} <= set(flow[True])
                 and "tags" not in (flow[True]["push"] or {})]
    assert triggered, "no workflow runs on every push and pull request"
    steps = [step.get("run", "") for name in triggered for job in flows[name]["jobs"].values() for step in job["steps"]]
    assert any("bash .ci/run" in run for run in steps)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    release = flows["release.yml"][True]
    # A release is made from a tag, or by hand with the manuscript and edition named (workflow_dispatch).
    assert set(release) == {"push", "workflow_dispatch"} and release["push"] == {"tags": ["v*"]}


def test_every_action_is_at_its_current_major_version():
    used = [step["uses"] for flow in _workflows().values() for job in flow["jobs"].values()
            for step in job["steps"] if "uses" in step]
    assert used
    for action in used:
        name, version = action.split("@")
        assert name in CURRENT_ACTIONS, f"{name}: add it to CURRENT_ACTIONS with its current major version"
        assert int(version.lstrip("v").split(".")[0]) >= CURRENT_ACTIONS[name], action


def test_the_repository_has_a_license_and_a_changelog_for_the_version():
    from publish import __version__
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'license = "MIT"' in pyproject
