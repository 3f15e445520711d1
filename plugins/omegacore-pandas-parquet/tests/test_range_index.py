"""A RangeIndex is stored as no column: its values follow from each row group's start."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegacore import OmegaStore


def _frame(rows: int, start: int = 0, step: int = 1, name: str | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(rows)
    return pd.DataFrame({"x": np.arange(rows, dtype="int64"), "y": rng.normal(size=rows)},
                        index=pd.RangeIndex(start, start + step * rows, step, name=name))


def _stored_columns(store: OmegaStore, name: str) -> list[str]:
    from omegacore_pandas_parquet import read

    part = store.metadata(name).kind_meta["parts"][0]
    return read.ChunkedFile(store, part["file"]).metadata().schema.names


def test_a_range_index_costs_no_column_and_comes_back_as_a_range(store: OmegaStore) -> None:
    df = _frame(5_000, start=10, step=3, name="i")
    store.put(df, "ranged", as_parquet=True, row_group_size=1_000)
    assert _stored_columns(store, "ranged") == ["x", "y"]
    got = store.get("ranged")
    assert isinstance(got.index, pd.RangeIndex)
    assert (got.index.start, got.index.step, got.index.name) == (10, 3, "i")
    pd.testing.assert_frame_equal(got, df, check_index_type=True)
    # row groups read on their own, by columns, filters or chunks, know their index
    pd.testing.assert_frame_equal(store.get("ranged", columns=["y"], x__gte=2_990,
                                            x__lt=3_010), df[["y"]].iloc[2_990:3_010])
    chunks = list(store.getl("ranged").iterchunks())
    assert [c.index[0] for c in chunks] == [10 + 3 * 1_000 * k for k in range(5)]
    # a filter on the named index reads only the row groups that can hold it
    assert store.getl("ranged").query(i__gte=10 + 3 * 4_500).explain()["row_groups"] == \
        [(0, 4)]
    pd.testing.assert_frame_equal(store.get("ranged", i__gte=10 + 3 * 4_500),
                                  df.iloc[4_500:], check_index_type=False)


def test_other_indexes_are_stored_as_columns(store: OmegaStore) -> None:
    df = _frame(100).set_axis(pd.Index(np.arange(100) ** 2, name="sq"))
    store.put(df, "squares", as_parquet=True)
    assert "sq" in _stored_columns(store, "squares")
    pd.testing.assert_frame_equal(store.get("squares"), df)
    series = pd.Series([1.5, 2.5], index=pd.RangeIndex(5, 7), name="s")
    store.put(series, "series", as_parquet=True)
    pd.testing.assert_series_equal(store.get("series"), series, check_index_type=True)


def test_appends_continue_the_range(store: OmegaStore) -> None:
    df = _frame(1_000)
    store.put(df, "grow", as_parquet=True)
    more = _frame(200).set_axis(pd.Index(np.arange(1_000, 1_200)))  # evenly spaced ints
    store.put(more, "grow", as_parquet=True, append=True)
    one = _frame(1).set_axis(pd.Index([1_200]))
    store.put(one, "grow", as_parquet=True, append=True)
    got = store.get("grow")
    assert isinstance(got.index, pd.RangeIndex) and got.index.stop == 1_201
    pd.testing.assert_frame_equal(got, pd.concat([df, more, one]), check_index_type=False)
    uneven = _frame(3).set_axis(pd.Index([5, 9, 10]))
    with pytest.raises(ValueError, match="RangeIndex.*evenly spaced"):
        store.put(uneven, "grow", as_parquet=True, append=True)
    assert len(store.get("grow")) == 1_201, "the refused append changed nothing"


def test_a_shared_row_group_keeps_the_sharing_objects_index(store: OmegaStore) -> None:
    """The same rows under another RangeIndex step share their bytes, not their index."""
    df = _frame(2_000, name="i")
    store.put(df, "step1", as_parquet=True, row_group_size=1_000)
    wider = _frame(2_000, step=2, name="i")  # the same values, index 0, 2, 4, ...
    store.put(wider, "step2", as_parquet=True, row_group_size=1_000, share_with="step1")
    groups = [p["groups"] for p in store.metadata("step2").kind_meta["parts"]]
    assert [len(g) for g in groups] == [1, 1], "the first row group is step1's"
    assert groups[0][0]["stats"]["i"] == [0, 1_998, 0]  # min, max, nulls
    pd.testing.assert_frame_equal(store.get("step2", i__gte=1_500), wider.iloc[750:],
                                  check_index_type=False)
    pd.testing.assert_frame_equal(store.get("step2"), wider, check_index_type=True)
