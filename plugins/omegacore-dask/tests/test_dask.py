"""omegacore-dask on the real server, with a two-process LocalCluster where it matters.

Results are compared with the stored frame read by ``store.get`` and with pandas on the
same data. Dask turns text columns into its own string dtype unless its setting
``dataframe.convert-string`` is off; comparisons of whole frames turn it off.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from omegacore import OmegaStore, settings
from omegacore.errors import StaleRead
from omegacore_pandas.layout import FrameLayout
from omegacore_pandas.rows import prepare_rows, write_rows
from omegacore_testing import LazyMixinConformance

from omegacore_dask import read_store, to_store
from omegacore_dask.mixin import DaskMixin
from omegacore_dask.partitions import row_bounds
from omegacore_dask.write import PartitionWriteError


class TestDaskMixin(LazyMixinConformance):
    mixin = DaskMixin
    distribution = "omegacore-dask"


@pytest.fixture(scope="module")
def cluster_client() -> Iterator[Client]:
    """Two worker processes, one thread each: partitions really move between processes."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


@pytest.fixture
def exact_strings() -> Iterator[None]:
    with dask.config.set({"dataframe.convert-string": False}):
        yield


def _frame(rows: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "x": np.arange(rows, dtype="int64"),
        "y": rng.normal(size=rows),
        "k": np.array([f"k{i % 5}" for i in range(rows)], dtype=object),
        "t": pd.date_range("2024-01-01", periods=rows, freq="h", tz="UTC"),
    }, index=pd.Index(np.arange(rows) * 10, name="pos"))


def _collections(store: OmegaStore) -> set[str]:
    return set(store.mongodb.list_collection_names())


def test_store_pickles_as_its_settings(store: OmegaStore) -> None:
    store.put({"a": 1}, "settings_probe")
    copy = pickle.loads(pickle.dumps(store))
    assert (copy.mongo_url, copy.bucket, copy.prefix) == (store.mongo_url, store.bucket,
                                                          store.prefix)
    assert copy.get("settings_probe") == [{"a": 1}]
    assert [c.__name__ for c in type(copy).__mro__] == [c.__name__ for c in type(store).__mro__]


def test_read_store_equals_get(store: OmegaStore, exact_strings: None) -> None:
    df = _frame()
    store.put(df, "frame")
    ddf = read_store("frame", store, chunksize=300)
    assert ddf.npartitions == 4
    pd.testing.assert_frame_equal(ddf.compute(), store.get("frame"))
    pd.testing.assert_frame_equal(ddf.compute().reset_index(drop=True)[["x", "y"]],
                                  df.reset_index(drop=True)[["x", "y"]])
    assert read_store("frame", store, npartitions=3).npartitions == 3


def test_filters_and_columns_go_into_each_read(store: OmegaStore, exact_strings: None) -> None:
    df = _frame()
    store.put(df, "frame")
    got = read_store("frame", store, chunksize=100, columns=["x", "k"], x__gte=950,
                     k="k1").compute()
    want = store.get("frame", columns=["x", "k"], x__gte=950, k="k1")
    pd.testing.assert_frame_equal(got, want)
    assert got.x.tolist() == [951, 956, 961, 966, 971, 976, 981, 986, 991, 996]
    projected = read_store("frame", store, chunksize=250)[["y"]]
    optimized = projected.optimize()
    assert list(optimized.columns) == ["y"]
    reads = [e for e in optimized.expr.walk() if type(e).__name__ == "FromMapProjectable"]
    assert reads and list(reads[0].columns) == ["y"], "the projection reaches the reads"
    pd.testing.assert_series_equal(projected.compute()["y"], df["y"])


def test_on_a_two_process_cluster(store: OmegaStore, cluster_client: Client,
                                  exact_strings: None) -> None:
    df = _frame(5000)
    store.put(df, "frame")
    ddf = read_store("frame", store, chunksize=1000)
    means = ddf.groupby("k").y.mean().compute().sort_index()
    pd.testing.assert_series_equal(means, df.groupby("k").y.mean().sort_index(),
                                   check_index_type=False)
    assert ddf.x.sum().compute() == df.x.sum()


def test_uncommitted_rows_are_not_read(store: OmegaStore, exact_strings: None) -> None:
    df = _frame(100)
    store.put(df, "frame")
    extra = _frame(100).assign(x=lambda f: f.x + 1000)
    with store.stage("frame", kind="pandas.dfrows") as staged:
        collection = staged.append_target()
        assert collection is not None
        layout = FrameLayout.from_frame(extra)
        encoder = prepare_rows(extra, layout, start_rowid=staged.reserve_rows(len(extra)))
        write_rows(collection, encoder, progress=False)
        during = read_store("frame", store, chunksize=30).compute()
        assert during.x.max() == 99 and len(during) == 100
        staged.meta.kind_meta = store.metadata("frame").kind_meta
        staged.meta.kind_meta["omegacore"]["rows"] = staged.row_count()
    after = read_store("frame", store, chunksize=30).compute()
    assert len(after) == 200 and after.x.max() == 1099


def test_a_replace_during_the_read_raises_stale_read(store: OmegaStore) -> None:
    store.put(_frame(100), "frame")
    ddf = read_store("frame", store, chunksize=10)
    store.put(_frame(50), "frame", append=False)
    with pytest.raises(StaleRead, match="replaced or dropped"):
        ddf.compute()


def test_getl_to_dask(store: OmegaStore, exact_strings: None) -> None:
    df = _frame()
    store.put(df, "frame")
    lazy = store.getl("frame", x__lt=500)
    got = lazy[lazy["y"] > 0][["x", "y"]].to_dask(chunksize=100).compute()
    stored = store.get("frame")
    want = stored[(stored.x < 500) & (stored.y > 0)][["x", "y"]]
    pd.testing.assert_frame_equal(got, want)
    series = store.getl("frame")["y"].to_dask(npartitions=2)
    assert isinstance(series, dd.Series)
    pd.testing.assert_series_equal(series.compute(), stored["y"])
    with pytest.raises(ValueError, match="filters and columns only"):
        store.getl("frame").sort_values("y").to_dask()


def test_series_and_other_kinds(store: OmegaStore, exact_strings: None) -> None:
    series = pd.Series(np.arange(10.0), name="v")
    store.put(series, "series")
    got = read_store("series", store, chunksize=4)
    assert isinstance(got, dd.Series) and got.npartitions == 3
    pd.testing.assert_series_equal(got.compute(), series)
    df = _frame(20)[["x", "y"]]
    store.put(df, "hdf", as_hdf=True)
    hdf = read_store("hdf", store)
    assert hdf.npartitions == 1
    pd.testing.assert_frame_equal(hdf.compute(), df)
    store.put([1, 2, 3], "numbers")
    with pytest.raises(TypeError, match="Dask reads frames only"):
        read_store("numbers", store)
    with pytest.raises(KeyError, match="is not stored"):
        read_store("missing", store)
    with pytest.raises(ValueError, match="not both"):
        read_store("series", store, chunksize=2, npartitions=2)


def test_data_without_row_ranges(store: OmegaStore, exact_strings: None) -> None:
    """Rows written without committed ranges (as omegaml writes them) are split by row id."""
    df = _frame(90)
    store.put(df, "frame")
    meta = store.metadata("frame")
    store.mongodb[settings.METADATA_COLLECTION].update_one(
        {"_id": meta.id}, {"$unset": {"storage.rows": 1}})
    meta = store.metadata("frame")
    assert row_bounds(store, meta, chunksize=40) == [
        (((0, 40),), True), (((40, 80),), False), (((80, 90),), False)]
    pd.testing.assert_frame_equal(read_store("frame", store, chunksize=40).compute(),
                                  store.get("frame"))


def test_to_store_from_the_workers(store: OmegaStore, cluster_client: Client) -> None:
    df = _frame(3000)
    ddf = dd.from_pandas(df, npartitions=6)
    meta = to_store(ddf, store, "written", attributes={"source": "dask"})
    assert meta.kind == "pandas.dfrows" and meta.attributes["source"] == "dask"
    pd.testing.assert_frame_equal(store.get("written"), ddf.compute())
    assert store.get("written", x__lt=3).x.tolist() == [0, 1, 2]
    # appends afterwards continue the row ids
    store.put(ddf.compute().head(2), "written", append=True)
    assert len(store.get("written")) == 3002


def test_a_failed_partition_stores_nothing(store: OmegaStore, cluster_client: Client,
                                           exact_strings: None) -> None:
    before = _frame(10)
    store.put(before, "target")
    collections = _collections(store)
    files = len(list(store.fs.find()))
    bad = _frame(400).assign(o=np.array([1] * 400, dtype=object))
    bad.loc[bad.index[350], "o"] = {1, 2}  # a set cannot be stored: only partition 3 fails
    with pytest.raises(PartitionWriteError, match="1 of 4 partitions .* partition 3"):
        to_store(dd.from_pandas(bad, npartitions=4), store, "target")
    pd.testing.assert_frame_equal(store.get("target"), before)
    assert store.get("target").x.tolist() == list(range(10))
    assert _collections(store) == collections, "no collection left behind"
    assert len(list(store.fs.find())) == files


def test_to_store_refuses_what_it_cannot_do(store: OmegaStore) -> None:
    with pytest.raises(TypeError, match="Dask DataFrames"):
        to_store(_frame(3), store, "x")  # type: ignore[arg-type]
    store.put(_frame(3), "versioned", versions=True)
    with pytest.raises(ValueError, match="has versions"):
        to_store(dd.from_pandas(_frame(3), npartitions=1), store, "versioned")




def test_rows_of_an_append_that_never_committed_are_skipped(store: OmegaStore,
                                                           exact_strings: None) -> None:
    """A gap in the committed ranges (a killed append) is left out of every partition."""
    df = _frame(30)
    store.put(df, "frame")
    meta = store.metadata("frame")
    store.mongodb[settings.METADATA_COLLECTION].update_one(
        {"_id": meta.id}, {"$set": {"storage.rows": [[0, 10], [20, 30]]}})
    meta = store.metadata("frame")
    assert row_bounds(store, meta, chunksize=15) == [
        (((0, 10), (20, 25)), False), (((25, 30),), False)]
    got = read_store("frame", store, chunksize=15).compute()
    assert got.x.tolist() == [*range(10), *range(20, 30)]
    pd.testing.assert_frame_equal(got, store.get("frame"))


def test_parquet_objects_read_one_row_group_per_partition(store: OmegaStore,
                                                        cluster_client: Client,
                                                        exact_strings: None) -> None:
    df = _frame(4_000)
    store.put(df, "columnar", as_parquet=True, row_group_size=1_000)
    ddf = read_store("columnar", store)
    assert ddf.npartitions == 4
    pd.testing.assert_frame_equal(ddf.compute(), store.get("columnar"))
    pd.testing.assert_frame_equal(ddf.compute(), df)
    late = read_store("columnar", store, x__gte=3_500, columns=["x", "k"])
    assert late.npartitions == 1, "row groups that cannot match are not partitions"
    pd.testing.assert_frame_equal(late.compute(), df[df.x >= 3_500][["x", "k"]])
    means = ddf.groupby("k").y.mean().compute().sort_index()
    pd.testing.assert_series_equal(means, df.groupby("k").y.mean().sort_index())
    assert list(ddf[["y"]].compute().columns) == ["y"]
    none = read_store("columnar", store, x__gt=10**9).compute()
    assert none.empty and list(none.columns) == list(df.columns)
