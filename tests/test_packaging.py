"""Every distribution of the repository is complete and carries the release's version."""

from __future__ import annotations

from pathlib import Path

import pytest

import omegacore

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = [ROOT, *sorted(ROOT.glob("plugins/*/")), *sorted(ROOT.glob("examples/*/"))]
PROJECTS = [p for p in PROJECTS if (p / "pyproject.toml").exists()]


def _pyproject(path: Path) -> dict:
    return tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))


def test_all_distributions_are_found() -> None:
    names = {_pyproject(p)["project"]["name"] for p in PROJECTS}
    assert {"omegacore", "omegacore-testing", "omegacore-pandas-dfrows",
            "omegacore-polars"} <= names and len(names) == len(PROJECTS) >= 12


@pytest.mark.parametrize("path", PROJECTS, ids=lambda p: p.name)
def test_distribution_builds_and_shares_the_version(path: Path) -> None:
    data = _pyproject(path)
    project = data["project"]
    assert project["version"] == omegacore.__version__, "release versions differ"
    assert data["build-system"]["build-backend"] == "setuptools.build_meta"
    assert project["readme"] == "README.md" and (path / "README.md").exists()
    assert (path / "CHANGELOG.md").exists() or path == ROOT
    if path != ROOT:
        assert any(d.startswith("omegacore>=") for d in project["dependencies"])
        groups = project.get("entry-points", {})
        plugins = groups.get("omegacore.plugins", {})
        if plugins:  # libraries (omegacore-pandas) and the kit declare none
            assert list(plugins) == [project["name"]], "name the entry point after the dist"
