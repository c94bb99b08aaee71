"""The package's facts are written once and every place that repeats them agrees.

(Building the wheel and running it in a fresh environment is ``scripts/check_package.py``,
which CI runs; it needs the network and a minute, so it is not a unit test.)
"""

import re
import subprocess
import sys

import pytest
from conftest import ROOT

import microgradnet as mg

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_is_written_in_one_place():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    module, _, name = attr.rpartition(".")
    assert getattr(__import__(module, fromlist=[name]), name) == mg.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", mg.__version__)
    # nowhere else in the package is a version number written
    for path in (ROOT / "microgradnet").rglob("*.py"):
        if path.name != "_version.py":
            assert not re.search(r"__version__\s*=", path.read_text(encoding="utf-8")), path


def test_the_command_line_reports_that_version():
    proc = subprocess.run(
        [sys.executable, "-m", "microgradnet", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"microgradnet {mg.__version__}"


def test_the_changelog_has_an_entry_for_this_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[0] == "Unreleased"
    assert any(h.startswith(f"{mg.__version__} - ") for h in headings[1:]), "no entry for this version"
    for heading in headings[1:]:  # "0.1.0 - 2026-11-26"
        assert re.fullmatch(r"\d+\.\d+\.\d+ - \d{4}-\d{2}-\d{2}", heading), heading


def test_type_information_is_shipped():
    assert (ROOT / "microgradnet" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["microgradnet"]


def test_pre_commit_runs_the_checks_ci_runs_at_the_same_versions():
    pins = dict(
        re.fullmatch(r"([a-z-]+)==(.+)", spec).groups()
        for spec in PYPROJECT["project"]["optional-dependencies"]["lint"]
    )
    config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    ruff_rev = re.search(r"ruff-pre-commit\s*\n\s*rev:\s*v?(\S+)", config)
    assert ruff_rev and ruff_rev.group(1) == pins["ruff"]
    hooks = re.findall(r"^\s*- id:\s*(\S+)", config, flags=re.M)
    assert {"ruff-check", "ruff-format", "mypy"} <= set(hooks)
    assert "entry: mypy" in config and "language: system" in config  # the lint extra's mypy
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r'pip install [^\n]*-e "\.\[[^\]]*\blint\b', ci), "CI must install the lint extra"
    for check in ["ruff check .", "ruff format --check .", "mypy"]:
        assert re.search(rf"^{re.escape(check)}$", ci, flags=re.M), f"CI does not run {check!r}"


def test_project_urls_name_only_places_the_project_publishes_to():
    # The Sphinx site is built by CI but uploaded nowhere; a Documentation URL would point at
    # a page no one makes. Add one together with what publishes there.
    urls = PYPROJECT["project"].get("urls", {})
    assert "Documentation" not in urls or (ROOT / ".readthedocs.yaml").is_file()
