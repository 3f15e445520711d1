"""Opt-in conformance suite for kinds that store frames with named columns.

A kind whose objects have columns (``BaseBackend.column_names`` returns them) adds it
beside ``KindConformance``::

    class TestMyFrames(KindConformance, ColumnsConformance):
        kind = "mykind.frames"
        put_kwargs = {"as_mine": True}

It checks what the store and the column mixins rely on: ``get(name, columns=[...])``
returns exactly those columns in that order, an unknown column is a ``KeyError`` naming
it, and ``column_names(meta)`` lists the stored columns in order. ``make_frame`` gives the
frame (override it when the kind needs other columns, e.g. a group key).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
import pytest

from omegacore import OmegaStore


class ColumnsConformance:
    """Column selection and listing, the same for every kind that has columns."""

    kind: ClassVar[str]
    prefix: ClassVar[str] = "data/"
    put_kwargs: ClassVar[dict[str, Any]] = {}

    def make_frame(self) -> pd.DataFrame:
        """A frame of a few typed columns (the first is ``g``, usable as a group key)."""
        return pd.DataFrame({"g": ["a", "b", "a"], "x": [1, 2, 3], "y": [0.5, 1.5, 2.5],
                             "z": [True, False, True]})

    def assert_same_frame(self, expected: pd.DataFrame, actual: Any) -> None:
        """Values, dtypes and column order equal (override for kinds that reorder rows)."""
        pd.testing.assert_frame_equal(actual, expected)

    @pytest.fixture
    def columns_store(self, omega_store_factory: Any) -> OmegaStore:
        store: OmegaStore = omega_store_factory(prefix=self.prefix)
        return store

    def _put(self, store: OmegaStore, frame: pd.DataFrame, name: str) -> Any:
        return store.put(frame, name, kind=self.kind, **self.put_kwargs)

    def test_get_columns_in_the_order_asked(self, columns_store: OmegaStore) -> None:
        frame = self.make_frame()
        self._put(columns_store, frame, "cols")
        wanted = [frame.columns[-1], frame.columns[0]]
        self.assert_same_frame(frame[wanted], columns_store.get("cols", columns=wanted))

    def test_unknown_column_is_a_key_error(self, columns_store: OmegaStore) -> None:
        self._put(columns_store, self.make_frame(), "cols")
        with pytest.raises(KeyError, match="no_such_column"):
            columns_store.get("cols", columns=["no_such_column"])

    def test_column_names_lists_the_stored_columns(self, columns_store: OmegaStore) -> None:
        frame = self.make_frame()
        meta = self._put(columns_store, frame, "cols")
        backend = columns_store.get_backend_bykind(self.kind)
        assert backend.column_names(meta) == list(frame.columns)
