"""Short fixture names for this repository's own tests.

The conformance kit (omegacore-testing) names its fixtures ``omega_store`` and
``omega_store_factory`` so they cannot collide with fixtures of a plugin author's
test session; the project's tests use these shorter aliases.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from omegacore import OmegaStore


@pytest.fixture
def store_factory(omega_store_factory: Callable[..., OmegaStore]) -> Callable[..., OmegaStore]:
    """``omega_store_factory`` of the conformance kit."""
    return omega_store_factory


@pytest.fixture
def store(omega_store: OmegaStore) -> OmegaStore:
    """``omega_store`` of the conformance kit."""
    return omega_store
