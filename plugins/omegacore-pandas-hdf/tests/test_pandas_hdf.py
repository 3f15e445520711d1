"""Tests of the pandas.hdf kind against a real server (fixtures from omegacore-testing)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tables
from omegacore import BaseBackend, DoesNotExist, OmegaStore
from omegacore.documents import MetadataBase
from omegacore.errors import PluginHookError
from omegacore.settings import METADATA_COLLECTION
from omegacore_testing import ColumnsConformance, KindConformance, data_footprint
from omegacore_testing.crash import CrashConformance
from omegacore_testing.faults import fail_before_commit

from omegacore_pandas_hdf import hdf
from omegacore_pandas_hdf.backend import PandasHdfBackend

KIND = "pandas.hdf"

# the "strings" frame holds a column of mixed Python objects on purpose: PyTables pickles it
# and pandas says so with a PerformanceWarning
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*PyTables will pickle:pandas.errors.PerformanceWarning"
)


def assert_same(expected: Any, actual: Any) -> None:
    if isinstance(expected, pd.Series):
        pd.testing.assert_series_equal(actual, expected, check_freq=True)
    else:
        pd.testing.assert_frame_equal(actual, expected, check_freq=True)


class TestPandasHdfConformance(KindConformance, CrashConformance, ColumnsConformance):
    kind = KIND
    put_kwargs = {"as_hdf": True}

    def make_object(self, variant: int) -> Any:
        return pd.DataFrame(
            {
                "x": np.arange(5, dtype="int64") + variant,
                "y": np.linspace(0, 1, 5) * variant,
                "s": [f"v{variant}-{i}" for i in range(5)],
                "t": pd.date_range("2024-01-01", periods=5, tz="UTC") + pd.Timedelta(days=variant),
            }
        )

    def unsupported_objects(self) -> list[Any]:
        return [object(), "text", 42, np.zeros((2, 2, 2)), {1, 2}]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert_same(expected, actual)


@pytest.fixture
def hstore(store: OmegaStore) -> OmegaStore:
    return store


def tmp_entries(store: OmegaStore) -> list[str]:
    return sorted(os.listdir(store.tmppath))


def round_trip(store: OmegaStore, obj: Any, name: str = "rt", **kwargs: Any) -> Any:
    meta = store.put(obj, name, as_hdf=True, **kwargs)
    assert meta.kind == KIND
    assert tmp_entries(store) == [], "put left a temporary file behind"
    result = store.get(name)
    assert tmp_entries(store) == [], "get left a temporary file behind"
    assert_same(obj, result)
    return meta


# -- dtypes that round-trip ------------------------------------------------------------------
N = 6
FRAMES: dict[str, Any] = {
    "ints": pd.DataFrame({
        "i8": np.arange(N, dtype="int8"), "i16": np.arange(N, dtype="int16"),
        "i32": np.arange(N, dtype="int32"), "i64": np.arange(N, dtype="int64") - 2**62,
        "u8": np.arange(N, dtype="uint8"), "u64": np.full(N, 2**64 - 1, dtype="uint64"),
    }),
    "floats": pd.DataFrame({
        "f16": np.arange(N, dtype="float16"), "f32": np.linspace(0, 1, N, dtype="float32"),
        "f64": [0.1, np.nan, np.inf, -np.inf, -0.0, 1e300],
    }),
    "bool_complex": pd.DataFrame({"b": [True, False] * 3, "c": np.arange(N) + 1j}),
    "strings": pd.DataFrame({
        "default": ["a", "", "ünïcödé 名字", None, "x" * 5000, "b"],
        "object": pd.Series(["a", "b", "c", "d", "e", "f"], dtype=object),
        "object_mixed": pd.Series(["a", None, 1, 2.5, b"raw", "f"], dtype=object),
        "python": pd.array(["a", None, "c", "d", "e", "f"], dtype="string[python]"),
        "pyarrow": pd.array(["a", None, "c", "d", "e", "f"], dtype="string[pyarrow]"),
    }),
    "datetimes": pd.DataFrame({
        "ns": pd.to_datetime(["2020-01-01 00:00:00.000000001", None] * 3).astype("M8[ns]"),
        "us": pd.date_range("1900-01-01", periods=N, freq="37D").as_unit("us"),
        "ms": pd.date_range("2262-01-01", periods=N, freq="D").as_unit("ms"),
        "utc": pd.date_range("2020-03-29", periods=N, freq="h", tz="UTC"),
        "zurich": pd.date_range("2020-03-29", periods=N, freq="h", tz="Europe/Zurich"),
        "tz_nat": pd.to_datetime(["2020-01-01", None] * 3).tz_localize("US/Eastern"),
        "delta": pd.to_timedelta(np.arange(N), unit="s"),
    }),
    "index_named_str": pd.DataFrame(
        {"a": np.arange(N)}, index=pd.Index(list("abcdef"), name="rows")
    ).rename_axis(columns="cols"),
    "index_object": pd.DataFrame(
        {"a": np.arange(N)}, index=pd.Index(list("abcdef"), dtype=object)
    ),
    "columns_object": pd.DataFrame(np.ones((2, 2)), columns=pd.Index(["a", "b"], dtype=object)),
    "index_dt_tz_freq": pd.DataFrame(
        {"a": np.arange(N)}, index=pd.date_range("2024-01-01", periods=N, freq="D", tz="UTC")
    ),
    "index_dt_freq": pd.DataFrame(
        {"a": np.arange(N)}, index=pd.date_range("2024-01-01", periods=N, freq="15min")
    ),
    "index_period": pd.DataFrame({"a": np.arange(N)}, index=pd.period_range("2020", periods=N)),
    "index_multi": pd.DataFrame(
        {"a": np.arange(N)},
        index=pd.MultiIndex.from_arrays(
            [list("aabbcc"), pd.Index(list("xyxyxy"), dtype=object), np.arange(N)],
            names=["k", "o", None],
        ),
    ),
    "columns_multi": pd.DataFrame(
        np.ones((2, 3)), columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y"), ("b", "x")])
    ),
    "odd_column_names": pd.DataFrame({"a.b": [1], "$x": [2], "with space": [3], "名": [4]}),
    "int_column_names": pd.DataFrame(np.arange(6.0).reshape(2, 3)),
    "non_unique_index": pd.DataFrame({"a": [1, 2, 3]}, index=[0, 0, 1]),
    "empty": pd.DataFrame({"a": pd.Series([], dtype="float64"), "s": pd.Series([], dtype=str)}),
    "no_columns": pd.DataFrame(),
}
CATEGORICAL: dict[str, Any] = {
    "categorical": pd.DataFrame({
        "c": pd.Categorical(["a", "b", "a", None, "c", "a"]),
        "ordered": pd.Categorical(list("lmhlmh"), categories=list("lmh"), ordered=True),
        "ints": pd.Categorical([1, 2, 1, 2, 1, 2]),
        "x": np.arange(N),
    }),
    "duplicate_columns": pd.DataFrame([[1, 2, 3]], columns=["a", "a", "b"]),
    "index_multi_tz": pd.DataFrame(
        {"a": [1, 2]},
        index=pd.MultiIndex.from_arrays(
            [[1, 2], pd.DatetimeIndex(["2024-01-01", "2024-03-01"], tz="UTC")]
        ),
    ),
}
SERIES: dict[str, Any] = {
    "float": pd.Series([1.0, np.nan, 3.0], name="f"),
    "unnamed_int": pd.Series([1, 2, 3]),
    "str": pd.Series(["a", None, "c"], name="s"),
    "object": pd.Series(["a", "b"], dtype=object, name="o"),
    "tz": pd.Series(pd.date_range("2024-01-01", periods=3, tz="Asia/Tokyo"), name="t"),
}


@pytest.mark.parametrize("which", list(FRAMES))
def test_frames_round_trip_fixed(hstore: OmegaStore, which: str) -> None:
    meta = round_trip(hstore, FRAMES[which])
    assert meta.kind_meta["format"] == "fixed"


@pytest.mark.parametrize("which", [k for k in FRAMES if k not in ("empty", "no_columns")])
def test_frames_round_trip_table(hstore: OmegaStore, which: str) -> None:
    frame = FRAMES[which]
    if which == "strings":  # table format holds strings only, no pickled objects
        frame = frame.drop(columns="object_mixed")
    meta = round_trip(hstore, frame, format="table")
    assert meta.kind_meta["format"] == "table"


@pytest.mark.parametrize("fmt", ["fixed", "table"])
def test_period_columns(hstore: OmegaStore, fmt: str) -> None:
    frame = pd.DataFrame({"p": pd.period_range("2020-01", periods=N, freq="M"), "x": range(N)})
    if hdf.PANDAS_3:
        round_trip(hstore, frame, format=fmt)
    else:
        with pytest.raises(TypeError, match="cannot write the period column"):
            hstore.put(frame, "p", as_hdf=True, format=fmt)
        assert hstore.list() == [] and tmp_entries(hstore) == []


@pytest.mark.parametrize("fmt", ["fixed", "table"])
def test_categorical_index(hstore: OmegaStore, fmt: str) -> None:
    frame = pd.DataFrame({"a": range(4)}, index=pd.CategoricalIndex(list("xyzx"), name="c"))
    if hdf.PANDAS_3:
        round_trip(hstore, frame, format=fmt)
    else:
        with pytest.raises(TypeError, match="cannot write a categorical index"):
            hstore.put(frame, "c", as_hdf=True, format=fmt)
        assert hstore.list() == [] and tmp_entries(hstore) == []


def test_dates_outside_the_nanosecond_range(hstore: OmegaStore) -> None:
    frame = pd.DataFrame({"t": np.array(["1500-01-01", "2500-12-31"], dtype="M8[ms]")})
    if hdf.PANDAS_3:
        round_trip(hstore, frame)
    else:  # pandas 2 writes datetimes to HDF5 only as nanoseconds
        with pytest.raises(TypeError, match="only in nanoseconds"):
            hstore.put(frame, "t", as_hdf=True)
        assert hstore.list() == [] and tmp_entries(hstore) == []


@pytest.mark.parametrize("which", list(CATEGORICAL))
def test_table_chosen_when_fixed_cannot(hstore: OmegaStore, which: str) -> None:
    meta = round_trip(hstore, CATEGORICAL[which])
    assert meta.kind_meta["format"] == "table"


@pytest.mark.parametrize("which", list(SERIES))
def test_series_round_trip(hstore: OmegaStore, which: str) -> None:
    meta = round_trip(hstore, SERIES[which])
    assert meta.kind_meta["pytype"] == "Series"
    assert isinstance(hstore.get("rt"), pd.Series)


def test_categorical_series(hstore: OmegaStore) -> None:
    meta = round_trip(hstore, pd.Series(pd.Categorical(["x", "y", "x"]), name="c"))
    assert meta.kind_meta["format"] == "table"


def test_large_frame_round_trip(hstore: OmegaStore) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.random((200_000, 5)), columns=list("abcde"))
    frame["s"] = pd.Series(rng.integers(0, 100, len(frame))).astype(str)
    meta = round_trip(hstore, frame)
    files = hstore.mongodb[f"{hstore.fs_collection}.files"]
    assert files.find_one({"_id": meta.gridfile_id})["length"] == meta.kind_meta["nbytes"]


def test_compression(hstore: OmegaStore) -> None:
    frame = pd.DataFrame({"a": np.zeros(100_000), "b": np.arange(100_000)})
    plain = hstore.put(frame, "plain", as_hdf=True)
    packed = round_trip(hstore, frame, "packed", complevel=5, complib="blosc:lz4")
    assert packed.kind_meta["nbytes"] * 10 < plain.kind_meta["nbytes"]


def test_kind_meta(hstore: OmegaStore) -> None:
    meta = hstore.put(FRAMES["strings"], "km", as_hdf=True)
    km = meta.kind_meta
    assert (km["format"], km["key"], km["pytype"]) == ("fixed", "data", "DataFrame")
    assert km["shape"] == [N, 5]
    assert km["pandas_version"] == pd.__version__
    assert km["tables_version"] == tables.__version__
    # string and object columns are recorded, to be cast back if HDF5 reads them differently
    assert [position for position, _ in km["restore"]["columns"]] == [0, 1, 2, 3, 4]


def test_force_python_gives_the_hdf_file(hstore: OmegaStore) -> None:
    """As omegaml: force_python returns the stored HDF5 file, readable."""
    hstore.put(FRAMES["strings"], "file", as_hdf=True)
    data = hstore.get("file", force_python=True).read()
    assert data[:8] == b"\x89HDF\r\n\x1a\n"
    assert len(data) == hstore.fs.get(hstore.metadata("file").gridfile_id).length


# -- choosing the kind -----------------------------------------------------------------------
def test_chosen_only_with_as_hdf_or_kind(hstore: OmegaStore) -> None:
    frame = FRAMES["floats"]
    assert hstore.plugins.select_kind(frame, "x", {"as_hdf": True}) == KIND
    assert hstore.plugins.select_kind(frame, "x", {}) != KIND
    assert PandasHdfBackend.supports(frame, "x") is False
    assert PandasHdfBackend.supports(frame, "x", as_hdf=False) is False
    meta = hstore.put(frame, "explicit", kind=KIND)
    assert meta.kind == KIND
    assert_same(frame, hstore.get("explicit"))
    assert hstore.plugins.kind(KIND).priority == 60
    assert hstore.plugins.kind(KIND).selected_by == ("as_hdf",)
    with pytest.raises(TypeError, match="as_hdf takes True or False, got 'yes'"):
        hstore.put(frame, "explicit", as_hdf="yes")
    with pytest.raises(TypeError, match="as_hdf=True chooses kind 'pandas.hdf' .*which does "
                                        "not store numpy.ndarray"):
        hstore.put(np.zeros((2, 2, 2)), "cube", as_hdf=True)
    assert_same(frame, hstore.get("explicit"))


def test_arrays_lists_dicts_with_as_hdf(hstore: OmegaStore) -> None:
    array = np.arange(12.0).reshape(4, 3)
    hstore.put(array, "array", as_hdf=True)
    assert_same(pd.DataFrame(array), hstore.get("array"))
    hstore.put([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}], "records", as_hdf=True)
    assert_same(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), hstore.get("records"))
    hstore.put({"a": [1.5, 2.5]}, "columns", as_hdf=True)
    assert_same(pd.DataFrame({"a": [1.5, 2.5]}), hstore.get("columns"))
    assert PandasHdfBackend.supports(np.zeros((2, 2, 2)), "x", as_hdf=True) is False


def test_put_pyobj_as_hdf(hstore: OmegaStore) -> None:
    meta = hstore.put_pyobj_as_hdf(((1, "a"), (2, "b")), "tuples", attributes={"o": 1})
    assert meta.kind == KIND and meta.attributes == {"o": 1}
    expected = pd.DataFrame([[1, "a"], [2, "b"]])
    assert_same(expected, hstore.get_dataframe_hdf("tuples"))
    assert_same(expected, hstore.get("tuples"))
    hstore.put_pyobj_as_hdf({"c": pd.Categorical(["p", "q"])}, "cat", format="table")
    assert hstore.metadata("cat").kind_meta["format"] == "table"


def test_put_pyobj_as_hdf_refuses_other_objects(hstore: OmegaStore) -> None:
    with pytest.raises(TypeError, match="list, tuple or dict .* as_hdf=True"):
        hstore.put_pyobj_as_hdf(pd.DataFrame({"a": [1]}), "df")
    with pytest.raises(ValueError, match="pandas.DataFrame\\(\\) accepts it.*scalar values"):
        hstore.put_pyobj_as_hdf({"a": 1, "b": 2}, "scalars")
    assert hstore.list() == []
    assert tmp_entries(hstore) == []


class _TextBackend(BaseBackend):
    """A throwaway kind registered at run time: a str stored in GridFS."""

    KIND = "test.text"

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        return isinstance(obj, str)

    def put(self, obj: Any, name: str, attributes: Any = None, **kwargs: Any) -> MetadataBase:
        with self.stage(name, attributes) as staged:
            staged.put_file(obj.encode())
        return staged.meta


def test_get_dataframe_hdf_errors(hstore: OmegaStore) -> None:
    with pytest.raises(DoesNotExist, match="'missing' does not exist"):
        hstore.get_dataframe_hdf("missing")
    hstore.register_backend(_TextBackend.KIND, _TextBackend)
    hstore.put("hello", "text", kind=_TextBackend.KIND)
    with pytest.raises(TypeError, match="stored as kind 'test.text'.*store.get\\('text'\\)"):
        hstore.get_dataframe_hdf("text")


# -- refusing what cannot be stored, before writing anything ----------------------------------
BAD: list[tuple[Any, dict[str, Any], type[Exception], str]] = [
    (pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}), {}, TypeError,
     r"column\(s\) 'n' of dtype Int64.*astype"),
    (pd.DataFrame({"b": pd.array([True, None], dtype="boolean")}), {}, TypeError,
     "dtype boolean"),
    (pd.DataFrame({"i": pd.interval_range(0, 2)}), {}, TypeError, "interval"),
    (pd.DataFrame({"a": pd.array([1, 2], dtype="int64[pyarrow]")}), {}, TypeError,
     r"int64\[pyarrow\]"),
    (pd.DataFrame({"s": pd.arrays.SparseArray([0.0, 1.0])}), {}, TypeError, "Sparse"),
    (pd.DataFrame({"c": pd.Categorical(["a"])}), {"format": "fixed"}, TypeError,
     "format='fixed' cannot hold the categorical column"),
    (pd.DataFrame([[1, 2]], columns=["a", "a"]), {"format": "fixed"}, ValueError,
     "duplicate column names"),
    (pd.DataFrame({"a": pd.Series([], dtype="float64")}), {"format": "table"}, ValueError,
     "cannot store an empty frame"),
    (pd.DataFrame({"o": pd.Series([1, "a"], dtype=object)}), {"format": "table"}, TypeError,
     "(?s)Cannot serialize the column.*nothing was stored"),
    (pd.DataFrame({"a": [1]}), {"format": "parquet"}, ValueError, "format must be"),
    (pd.DataFrame({"a": [1]}), {"complib": "nope", "complevel": 1}, ValueError,
     "complib.*nothing was stored"),
    (pd.DataFrame({"a": [1]}), {"colour": "red"}, TypeError, "unexpected keyword.*colour"),
]


@pytest.mark.parametrize("obj, kwargs, error, match", BAD, ids=[
    "Int64", "boolean", "interval", "arrow", "sparse", "fixed-categorical", "fixed-duplicates",
    "table-empty",
    "table-mixed-object", "bad-format", "bad-complib", "unknown-kwarg",
])
def test_refused_before_writing(
    hstore: OmegaStore, obj: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    hstore.put(FRAMES["ints"], "kept", as_hdf=True)
    before = data_footprint(hstore)
    with pytest.raises(error, match=match):
        hstore.put(obj, "kept", as_hdf=True, **kwargs)
    with pytest.raises(error, match=match):
        hstore.put(obj, "new", as_hdf=True, **kwargs)
    assert data_footprint(hstore) == before
    assert hstore.list() == ["kept"]
    assert_same(FRAMES["ints"], hstore.get("kept"))
    assert tmp_entries(hstore) == []


def test_failing_put_removes_temporary_file(
    hstore: OmegaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    hstore.put(FRAMES["floats"], "kept", as_hdf=True)
    before = data_footprint(hstore)

    with fail_before_commit(hstore), pytest.raises(PluginHookError, match="injected failure"):
        hstore.put(FRAMES["datetimes"], "kept", as_hdf=True)
    assert tmp_entries(hstore) == []
    assert data_footprint(hstore) == before
    assert_same(FRAMES["floats"], hstore.get("kept"))


def test_temporary_files_only_under_tmppath(hstore: OmegaStore, tmp_path: Any) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        round_trip(hstore, FRAMES["strings"])
    finally:
        os.chdir(cwd)
    assert list(tmp_path.iterdir()) == []


def test_get_refuses_unknown_kwargs(hstore: OmegaStore) -> None:
    hstore.put(FRAMES["floats"], "f", as_hdf=True)
    with pytest.raises(TypeError, match="lazy"):
        hstore.getl("f")


def test_reads_metadata_without_key(hstore: OmegaStore) -> None:
    """Metadata written elsewhere (no kind_meta) is read: the file's only object is used,
    with strings as omegaml (pandas 2) reads them: object labels and columns."""
    hstore.put(FRAMES["floats"], "bare", as_hdf=True)
    hstore.mongodb[METADATA_COLLECTION].update_one(
        {"name": "bare", "bucket": hstore.bucket, "prefix": hstore.prefix},
        {"$set": {"kind_meta": {}}},
    )
    expected = FRAMES["floats"].copy()
    expected.columns = expected.columns.astype(object)
    assert_same(expected, hstore.get("bare"))
    hstore.put(FRAMES["strings"], "bare", as_hdf=True)
    hstore.mongodb[METADATA_COLLECTION].update_one(
        {"name": "bare", "bucket": hstore.bucket, "prefix": hstore.prefix},
        {"$set": {"kind_meta": {}}},
    )
    got = hstore.get("bare")
    assert all(got[c].dtype == object for c in got.columns if got[c].dtype.kind in "OU")
    assert not any(isinstance(dtype, pd.StringDtype) for dtype in got.dtypes)


def test_no_pandas_import_unless_needed() -> None:
    code = (
        "import sys\n"
        "from omegacore_pandas_hdf.plugin import omega_kinds, omega_mixins\n"
        f"assert [k.kind for k in omega_kinds()] == [{KIND!r}]\n"
        "assert omega_mixins()[0].load().__name__ == 'PandasHdfMixin'\n"
        "from omegacore_pandas_hdf.backend import PandasHdfBackend\n"
        "assert PandasHdfBackend.supports({'a': [1]}, 'x') is False\n"
        "assert PandasHdfBackend.supports([1, 2], 'x', as_hdf=True) is True\n"
        "heavy = sorted(m for m in ('pandas', 'tables') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_column_names(hstore: OmegaStore) -> None:
    backend = hstore.get_backend_bykind(KIND)
    cases = {
        "odd": (FRAMES["odd_column_names"], ["a.b", "$x", "with space", "名"]),
        "ints": (FRAMES["int_column_names"], [0, 1, 2]),
        "multi": (FRAMES["columns_multi"], [("a", "x"), ("a", "y"), ("b", "x")]),
        "series": (SERIES["float"], None),
    }
    for name, (obj, expected) in cases.items():
        hstore.put(obj, name, as_hdf=True)
        meta = hstore.metadata(name)
        assert backend.column_names(meta) == expected, name
    assert "column_names" not in hstore.metadata("multi").kind_meta


def test_missing_chunk_raises_and_cleans_up(hstore: OmegaStore) -> None:
    import gridfs

    frame = pd.DataFrame(np.random.default_rng(2).random((100_000, 4)))
    meta = hstore.put(frame, "torn", as_hdf=True)
    chunks = hstore.mongodb[f"{hstore.fs_collection}.chunks"]
    assert chunks.delete_one({"files_id": meta.gridfile_id, "n": 2}).deleted_count == 1
    with pytest.raises(gridfs.errors.CorruptGridFile):
        hstore.get("torn")
    assert tmp_entries(hstore) == []


def test_get_with_columns_selects_in_order(store) -> None:
    import pandas as pd
    import pytest
    from pandas.testing import assert_frame_equal

    df = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5], "c": ["x", "y"]})
    store.put(df, "cols", as_hdf=True)
    assert_frame_equal(store.get("cols", columns=["c", "a"]), df[["c", "a"]])
    with pytest.raises(KeyError, match="columns are"):
        store.get("cols", columns=["zz"])
