"""Base test for lazy-frame mixins (the ``omega_mdf_mixins`` hook).

A plugin that adds methods to lazy frames subclasses it::

    class TestMyLazyMixin(LazyMixinConformance):
        mixin = MyLazyMixin
        distribution = "my-distribution"

It checks that the installed distribution declares the mixin, that ``store.getl`` gives
lazy frames and lazy Series with it composed in, that every lazy frame derived from one
keeps it, and that it leaves what a lazy frame reads unchanged. ``make_frame`` gives the
stored frame (override it when the mixin needs other columns).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
import pytest

from omegacore import OmegaStore

HOOK = "omega_mdf_mixins"


class LazyMixinConformance:
    """The contract of a lazy-frame mixin, checked against a real server."""

    #: the mixin class under test
    mixin: ClassVar[type | None] = None
    #: the distribution whose ``omegacore.plugins`` entry point declares the mixin
    distribution: ClassVar[str] = ""
    prefix: ClassVar[str] = "data/"

    def make_frame(self) -> pd.DataFrame:
        """The frame stored and read lazily by the checks."""
        return pd.DataFrame({"x": [3, 1, 2, 5], "y": [0.5, 1.5, 2.5, 3.5],
                             "k": ["a", "b", "a", "b"]})

    @pytest.fixture
    def lazy_store(self, omega_store_factory: Any) -> OmegaStore:
        store: OmegaStore = omega_store_factory(prefix=self.prefix)
        store.put(self.make_frame(), "lazy_frame")
        return store

    def _mixin(self) -> type:
        assert self.mixin is not None, "set mixin = <the mixin class> on the test class"
        return self.mixin

    def test_declared_by_the_distribution(self, lazy_store: OmegaStore) -> None:
        mixin = self._mixin()
        path = f"{mixin.__module__}:{mixin.__qualname__}"
        declared = {spec.path(): spec for spec in lazy_store.plugins.mixins(hook=HOOK)}
        assert path in declared, f"no omega_mdf_mixins record declares {path}"
        if self.distribution:
            assert declared[path].distribution == self.distribution

    def test_getl_composes_it(self, lazy_store: OmegaStore) -> None:
        mixin = self._mixin()
        mdf: Any = lazy_store.getl("lazy_frame")
        assert issubclass(type(mdf), mixin)
        column = self.make_frame().columns[0]
        assert isinstance(mdf[column], mixin), "lazy Series get the mixin too"

    def test_derived_frames_keep_it(self, lazy_store: OmegaStore) -> None:
        mixin = self._mixin()
        mdf: Any = lazy_store.getl("lazy_frame")
        first = self.make_frame().columns[0]
        derived = [mdf.head(2), mdf.iloc[1:3], mdf[[first]], mdf.sort(first),
                   mdf[mdf[first].notnull()], mdf.query(**{f"{first}__ne": None})]
        for lazy in derived:
            assert isinstance(lazy, mixin), f"{lazy!r} lost the mixin"

    def test_reads_are_unchanged(self, lazy_store: OmegaStore) -> None:
        pd.testing.assert_frame_equal(lazy_store.getl("lazy_frame").value,
                                      lazy_store.get("lazy_frame"))
