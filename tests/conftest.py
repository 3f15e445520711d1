"""Fixtures of the core tests: stores with the test kinds registered as a plugin."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support_kinds import SupportKindsPlugin  # noqa: E402

from omegacore import OmegaStore  # noqa: E402


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
