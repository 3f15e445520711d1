"""Fixtures of the core tests: stores with the test kinds registered as a plugin."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from omegacore import OmegaStore  # noqa: E402
from omegacore.plugins import refresh_entry_points  # noqa: E402
from support_kinds import SupportKindsPlugin  # noqa: E402

Installer = Callable[..., None]


@pytest.fixture
def core_store_factory(store_factory: Callable[..., OmegaStore]) -> Callable[..., OmegaStore]:
    """Stores with the ``test.bytes`` and ``test.lines`` kinds."""

    def make(**kwargs: Any) -> OmegaStore:
        store = store_factory(**kwargs)
        store.plugins.register(SupportKindsPlugin(), name="test-kinds", distribution="test-kinds")
        return store

    return make


@pytest.fixture
def core_store(core_store_factory: Callable[..., OmegaStore]) -> OmegaStore:
    return core_store_factory()


@pytest.fixture
def install_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    """Install a real distribution (dist-info + module) on sys.path for one test."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))

    def install(dist: str, module: str, source: str, version: str = "1.0",
                entry_point: str | None = None) -> None:
        """Install ``module`` with ``source`` as distribution ``dist`` (entry point named
        ``entry_point``, by default like the distribution)."""
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(
            f"[omegacore.plugins]\n{entry_point or dist} = {module}\n")
        refresh_entry_points()

    yield install
    monkeypatch.undo()
    for name in [m for m in sys.modules if m.startswith("acme_")]:
        del sys.modules[name]
    refresh_entry_points()
