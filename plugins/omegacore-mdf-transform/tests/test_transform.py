"""omegacore-mdf-transform on the real server, compared with pandas on the same chunks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegacore import OmegaStore
from omegacore_testing import LazyMixinConformance

from omegacore_mdf_transform.mixin import TransformMixin


class TestTransformMixin(LazyMixinConformance):
    mixin = TransformMixin
    distribution = "omegacore-mdf-transform"


@pytest.fixture
def frame(store: OmegaStore) -> pd.DataFrame:
    df = pd.DataFrame({"x": np.arange(23, dtype="int64"), "y": np.linspace(0, 1, 23)})
    store.put(df, "numbers")
    return df


def _scaled(chunk: pd.DataFrame) -> pd.DataFrame:
    return chunk.assign(z=chunk.x * 2 + chunk.y)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_transform_equals_pandas(store: OmegaStore, frame: pd.DataFrame, n_jobs: int) -> None:
    got = store.getl("numbers").transform(_scaled, n_jobs=n_jobs, chunksize=5).value
    pd.testing.assert_frame_equal(got, _scaled(frame))


def test_in_place_functions_numbers_and_names(store: OmegaStore, frame: pd.DataFrame) -> None:
    def mark(chunk: pd.DataFrame, number: int) -> None:
        chunk["chunk"] = number

    got = store.getl("numbers").transform(mark, n_jobs=1, chunksize=10).value
    assert got["chunk"].tolist() == [0] * 10 + [1] * 10 + [2] * 3
    copied = store.getl("numbers").transform("copy:deepcopy", n_jobs=2, chunksize=7).value
    pd.testing.assert_frame_equal(copied, frame)
    limited = store.getl("numbers").transform(n_jobs=1, chunksize=4, maxobs=6).value
    pd.testing.assert_frame_equal(limited, frame.head(6))
    filtered = store.getl("numbers", x__gte=20).transform(_scaled, n_jobs=1).value
    pd.testing.assert_frame_equal(filtered, _scaled(frame[frame.x >= 20]))


def test_custom_chunks(store: OmegaStore, frame: pd.DataFrame) -> None:
    def below_ten_then_the_rest(mdf: Any, chunksize: int, maxobs: Any) -> Any:
        yield mdf.query(x__lt=10)
        yield mdf.query(x__gte=10)

    got = store.getl("numbers").transform(_scaled, chunkfn=below_ten_then_the_rest,
                                          n_jobs=2).value
    pd.testing.assert_frame_equal(got, _scaled(frame))


def test_persist_stores_all_or_nothing(store: OmegaStore, frame: pd.DataFrame) -> None:
    meta = store.getl("numbers").transform(_scaled, n_jobs=2, chunksize=6).persist(
        "scaled", store=store)
    assert meta.name == "scaled"
    pd.testing.assert_frame_equal(store.get("scaled"), _scaled(frame))

    def fails_on_the_second(chunk: pd.DataFrame) -> None:
        if chunk.x.iloc[0] >= 6:
            raise ValueError("bad chunk")

    with pytest.raises(RuntimeError, match=r"chunk 1 \(6 rows\): ValueError: bad chunk"):
        store.getl("numbers").transform(fails_on_the_second, n_jobs=2,
                                        chunksize=6).persist("broken", store=store)
    assert store.metadata("broken") is None


def test_bad_arguments(store: OmegaStore, frame: pd.DataFrame) -> None:
    mdf = store.getl("numbers")
    with pytest.raises(ValueError, match="chunksize must be a positive int"):
        mdf.transform(_scaled, chunksize=0)
    with pytest.raises(ValueError, match="names no function"):
        mdf.transform("copy:nothing_here")
    with pytest.raises(TypeError, match="'module:function' string"):
        mdf.transform(42)
    with pytest.raises(TypeError, match="persist needs the store"):
        mdf.transform(_scaled).persist("x")
