"""The pandas.parquet kind on the real server: exact round trips or clear refusals,
column and row-group selective reads, appends that keep the earlier files."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegacore import OmegaStore
from omegacore_testing import ColumnsConformance, KindConformance, data_footprint
from omegacore_testing.crash import CrashConformance

from omegacore_pandas_parquet.backend import PandasParquetBackend
from omegacore_pandas_parquet.codec import NotExact

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "omegacore-pandas-dfrows" / "tests"))
from test_roundtrip import FRAMES, SERIES  # noqa: E402  (the dfrows dtype zoo)

KIND = "pandas.parquet"

#: frames of the dfrows zoo that Parquet cannot hold exactly, and why (refused, not changed)
REFUSED = {
    "strings": "a python-storage string column with NaN comes back as pyarrow storage",
    "category": "integer categories with a missing value come back as floats",
    "objects": "dicts with int keys, mixed objects",
    "odd_column_names": "Parquet column names are text",
    "object_index": "an index of mixed types",
    "empty_with_dtypes": "an empty ordered categorical loses its categories",
    "datetime_columns": "datetime column labels",
}


class TestParquetConformance(KindConformance, CrashConformance, ColumnsConformance):
    kind = KIND
    put_kwargs = {"as_parquet": True}

    def make_object(self, variant: int) -> Any:
        return pd.DataFrame({
            "x": np.arange(5, dtype="int64") + variant,
            "y": np.linspace(0, 1, 5) * variant,
            "s": [f"v{variant}-{i}" for i in range(5)],
            "t": pd.date_range("2024-01-01", periods=5, tz="UTC") + pd.Timedelta(days=variant),
        })

    def unsupported_objects(self) -> list[Any]:
        return [object(), "text", 42, np.zeros((2, 2)), {1, 2}]

    def assert_same(self, expected: Any, actual: Any) -> None:
        pd.testing.assert_frame_equal(actual, expected, check_exact=True)


@pytest.mark.parametrize("name", sorted(set(FRAMES) - set(REFUSED)))
def test_zoo_round_trips_exactly(store: OmegaStore, name: str) -> None:
    frame = FRAMES[name]()
    before = copy.deepcopy(frame)
    meta = store.put(frame, name, as_parquet=True)
    assert meta.kind == KIND
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(store.get(name), frame, check_exact=True, check_freq=True)


@pytest.mark.parametrize("name", sorted(SERIES))
def test_series_round_trip(store: OmegaStore, name: str) -> None:
    series = SERIES[name]()
    store.put(series, name, as_parquet=True)
    pd.testing.assert_series_equal(store.get(name), series, check_exact=True,
                                   check_freq=True)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_parquet_cannot_hold_is_refused(store: OmegaStore, name: str) -> None:
    store.put(pd.DataFrame({"keep": [1, 2]}), name, as_parquet=True)
    with pytest.raises(ValueError, match="pandas.parquet cannot store") as info:
        store.put(FRAMES[name](), name, as_parquet=True)
    assert "pandas.dfrows" in str(info.value) or "Convert" in str(info.value)
    assert isinstance(info.value, NotExact)
    assert store.get(name).keep.tolist() == [1, 2], "the earlier object is unchanged"


def _big(rows: int = 10_000) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame({
        "x": np.arange(rows, dtype="int64"),
        "y": rng.normal(size=rows),
        "k": [f"k{i % 7}" for i in range(rows)],
        "t": pd.date_range("2024-01-01", periods=rows, freq="min", tz="UTC"),
    })


def test_row_groups_and_statistics(store: OmegaStore) -> None:
    df = _big()
    meta = store.put(df, "big", as_parquet=True, row_group_size=2_500)
    kind_meta = meta.kind_meta
    assert kind_meta["compression"] == "zstd" and kind_meta["rows"] == 10_000
    groups = kind_meta["parts"][0]["groups"]
    assert [g["rows"] for g in groups] == [2_500] * 4
    assert groups[1]["stats"]["x"] == [2_500, 4_999, 0]
    assert groups[3]["stats"]["k"][:2] == ["k0", "k6"]
    low, high, _ = groups[0]["stats"]["t"]
    assert low == pd.Timestamp("2024-01-01").to_pydatetime()
    assert high == (pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=2_499)).to_pydatetime()


@pytest.mark.parametrize("criteria", [
    {"x__gte": 9_990}, {"x__lt": 3, "k": "k1"}, {"x__between": (2_499, 2_501)},
    {"x__in": [0, 9_999]}, {"k__startswith": "k6", "x__gt": 9_900}, {"y__gt": 2.5},
    {"t__gte": "2024-01-07 22:00", "x__lte": 9_000}, {"k__regex": "^k[12]$", "x__lt": 10},
    {"x__ne": 5, "x__lt": 8}, {"k__nin": ["k0", "k1"], "x__lt": 10}, {"x": 42},
])
def test_filters_equal_pandas(store: OmegaStore, criteria: dict[str, Any]) -> None:
    df = _big()
    store.put(df, "big", as_parquet=True, row_group_size=1_000)
    expected = df
    for key, value in criteria.items():
        column, _, op = key.partition("__")
        values = expected[column]
        if op == "":
            mask = values == value
        elif op in ("in", "nin"):
            mask = values.isin(value) if op == "in" else ~values.isin(value)
        elif op == "between":
            mask = values.between(*value)
        elif op == "startswith":
            mask = values.str.startswith(value)
        elif op == "regex":
            mask = values.str.contains(value)
        else:
            mask = {"gte": values.__ge__, "lt": values.__lt__, "gt": values.__gt__,
                    "lte": values.__le__, "ne": values.__ne__}[op](value)
        expected = expected[mask]
    got = store.get("big", **criteria)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_filters_read_only_matching_row_groups(store: OmegaStore,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    read: list[list[int]] = []
    original = pq.ParquetFile.read_row_groups

    def recording(self: Any, row_groups: Any, *args: Any, **kwargs: Any) -> Any:
        read.append(list(row_groups))
        return original(self, row_groups, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", recording)
    store.put(_big(), "big", as_parquet=True, row_group_size=1_000)
    assert store.get("big", x__gte=9_500).x.min() == 9_500
    assert read == [[9]]
    assert store.get("big", x__gt=50_000).empty
    assert read == [[9]], "no row group can match: nothing read"
    got = store.get("big", columns=["y"], x__lt=10)
    assert list(got.columns) == ["y"] and len(got) == 10


def test_columns_read_only_their_bytes(store: OmegaStore,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A column read fetches the GridFS chunks of that column (and the footer) only."""
    from omegacore_pandas_parquet import read

    df = pd.DataFrame(np.random.default_rng(1).random((200_000, 10)),
                      columns=[f"c{i}" for i in range(10)])
    store.put(df, "wide", as_parquet=True)
    total = store.mongodb[f"{store.fs_collection}.chunks"].count_documents({})
    fetched: list[int] = []
    original = read.ChunkedFile.fetch

    def counting(self: Any, ranges: Any) -> None:
        original(self, ranges)
        fetched.append(len(self._have))

    monkeypatch.setattr(read.ChunkedFile, "fetch", counting)
    pd.testing.assert_frame_equal(store.get("wide", columns=["c3"]), df[["c3"]])
    one_column = fetched[-1]
    # exactly the chunks that hold c3's column chunks (with the index's), plus the footer's
    file = read.ChunkedFile(store, store.metadata("wide").kind_meta["parts"][0]["file"])
    metadata = file.metadata()
    size = file.chunk_size
    ranges = read.byte_ranges(metadata, list(range(metadata.num_row_groups)),
                              read._with_index(metadata, ["c3"]))
    wanted = {n for start, stop in ranges for n in range(start // size, (stop - 1) // size + 1)}
    wanted |= file._have
    assert one_column == len(wanted) < total * 0.3, (one_column, len(wanted), total)
    pd.testing.assert_frame_equal(store.get("wide"), df)  # 1 of 11 columns, chunk edges


def test_append_adds_a_file_and_keeps_the_earlier(store: OmegaStore) -> None:
    df = _big(3_000)
    first = store.put(df, "grow", as_parquet=True)
    file_one = first.kind_meta["parts"][0]["file"]
    more = _big(3_000).assign(x=lambda f: f.x + 3_000)
    more.index = more.index + 3_000
    second = store.put(more, "grow", as_parquet=True, append=True)
    assert [p["file"] for p in second.kind_meta["parts"]][0] == file_one
    assert second.kind_meta["rows"] == 6_000
    pd.testing.assert_frame_equal(store.get("grow"), pd.concat([df, more]))
    assert store.get("grow", x__gte=5_998).x.tolist() == [5_998, 5_999]
    with pytest.raises(ValueError, match="columns or dtypes differ"):
        store.put(df.astype({"x": "float64"}), "grow", as_parquet=True, append=True)
    store.put(df, "grow", as_parquet=True)  # a replace: one file again
    assert len(store.metadata("grow").kind_meta["parts"]) == 1
    store.drop("grow")
    assert data_footprint(store) == ([], 0)


def test_options_are_checked(store: OmegaStore) -> None:
    df = _big(10)
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        store.put(df, "o", as_parquet=True, chunksize=3)
    with pytest.raises(ValueError, match="row_group_size"):
        store.put(df, "o", as_parquet=True, row_group_size=0)
    with pytest.raises(ValueError, match="compression"):
        store.put(df, "o", as_parquet=True, compression="nope")
    meta = store.put(df, "o", kind=KIND, compression="snappy")
    assert meta.kind_meta["compression"] == "snappy"
    with pytest.raises(ValueError, match="unknown operator 'gtt'"):
        store.get("o", x__gtt=1)
    with pytest.raises(KeyError, match="not a column"):
        store.get("o", nope=1)
    with pytest.raises(ValueError, match="cannot compare"):
        store.get("o", k__gt=2)
    with pytest.raises(KeyError, match="no columns"):
        store.get("o", columns=["nope"])
    store.put(df, "rows")  # pandas.dfrows
    with pytest.raises(ValueError, match="cannot append"):
        store.put(df, "rows", as_parquet=True, append=True)
    assert not PandasParquetBackend.supports(df, "o")
    assert PandasParquetBackend.supports(df, "o", as_parquet=True)


def test_versions_of_a_parquet_object(store: OmegaStore) -> None:
    """With omegacore-versions: every version reads back, filters apply to each, and
    dropping the name removes every version's files."""
    df = _big(100)
    store.put(df, "versioned", as_parquet=True, versions=True)
    store.put(df.assign(y=df.y * 2), "versioned", as_parquet=True)
    pd.testing.assert_frame_equal(store.get("versioned", version=-2), df)
    pd.testing.assert_frame_equal(store.get("versioned"), df.assign(y=df.y * 2))
    assert store.get("versioned", version=-2, x__gte=98).x.tolist() == [98, 99]
    store.drop("versioned")
    assert data_footprint(store) == ([], 0)


def _gridfs_bytes(store: OmegaStore) -> int:
    files = store.mongodb[f"{store.fs_collection}.files"]
    return sum(doc["length"] for doc in files.find({}, {"length": 1}))


def test_appended_versions_share_the_earlier_parts(store: OmegaStore) -> None:
    """An append to a versioned name is a new version that stores only what it adds; a
    dropped version frees only what no other version uses."""
    df = _big(20_000)
    more = _big(2_000).assign(x=lambda d: d.x + 20_000).set_axis(range(20_000, 22_000))
    store.put(df, "shared", as_parquet=True, versions=True, tag="base")
    first = _gridfs_bytes(store)
    store.put(more, "shared", as_parquet=True, append=True, tag="more")
    second = _gridfs_bytes(store)
    appended = store.metadata("shared@more", raw=True).kind_meta["parts"][-1]["bytes"]
    assert second - first == appended, "only the appended part was written"
    assert appended < first / 5
    both = pd.concat([df, more])
    pd.testing.assert_frame_equal(store.get("shared"), both)
    pd.testing.assert_frame_equal(store.get("shared@base"), df)
    assert store.get("shared", x__gte=21_998).x.tolist() == [21_998, 21_999]
    store.drop("shared@base")  # its part is the newer version's first part: it stays
    assert _gridfs_bytes(store) == second
    pd.testing.assert_frame_equal(store.get("shared"), both)
    store.put(df.head(10), "shared", as_parquet=True)  # a whole new version
    store.drop("shared@more")  # now its parts belong to no version: freed
    assert _gridfs_bytes(store) < first / 50  # one small file
    pd.testing.assert_frame_equal(store.get("shared"), df.head(10))
    store.drop("shared")
    assert data_footprint(store) == ([], 0)


def test_whole_versions_share_the_rows_they_begin_with(store: OmegaStore) -> None:
    """A whole frame put as a new version that begins with exactly the latest version's
    rows stores only the rows after them; a frame changed in every row group is stored
    whole (test_sharing.py: changes in some row groups)."""
    df = _big(20_000)
    grown = pd.concat([df, _big(1_000).set_axis(range(20_000, 21_000))])
    store.put(df, "series", as_parquet=True, versions=True, tag="v1")
    first = _gridfs_bytes(store)
    store.put(grown, "series", as_parquet=True, tag="v2")
    second = _gridfs_bytes(store)
    assert second - first < first / 10, "only the new rows were written"
    pd.testing.assert_frame_equal(store.get("series"), grown)
    pd.testing.assert_frame_equal(store.get("series@v1"), df)
    store.put(grown, "series", as_parquet=True, tag="same")  # nothing new to write
    assert _gridfs_bytes(store) == second
    pd.testing.assert_frame_equal(store.get("series@same"), grown)
    changed = grown.assign(y=grown.y + 1)
    store.put(changed, "series", as_parquet=True, tag="changed")
    assert _gridfs_bytes(store) > second + first / 2, "a changed frame is stored whole"
    pd.testing.assert_frame_equal(store.get("series"), changed)
    store.put(grown.head(10), "series", tag="rows")  # another kind: no sharing
    assert store.metadata("series@rows", raw=True).kind == "pandas.dfrows"
    store.drop("series")
    assert data_footprint(store) == ([], 0)


def test_appends_to_versions_of_other_kinds_are_refused(store: OmegaStore) -> None:
    store.put(pd.DataFrame({"x": [1]}), "rows", versions=True)
    with pytest.raises(ValueError, match="appends change the stored data"):
        store.put(pd.DataFrame({"x": [2]}), "rows", append=True)
    assert store.get("rows").x.tolist() == [1]


def test_getl_reads_when_asked(store: OmegaStore) -> None:
    from omegacore_pandas_parquet.lazy import ParquetFrame

    df = _big()
    store.put(df, "lazy", as_parquet=True, row_group_size=1_000)
    lazy = store.getl("lazy")
    assert isinstance(lazy, ParquetFrame) and len(lazy) == 10_000
    assert list(lazy.columns) == ["x", "y", "k", "t"]
    late = lazy.query(x__gte=9_995)[["x", "k"]]
    assert late.explain() == {"row_groups": [(0, 9)], "of_row_groups": 10,
                              "columns": ["x", "k"]}
    pd.testing.assert_frame_equal(late.value, df[df.x >= 9_995][["x", "k"]])
    pd.testing.assert_series_equal(lazy["y"].value, df["y"])
    pd.testing.assert_frame_equal(lazy.head(1_500), df.head(1_500))
    pd.testing.assert_series_equal(store.getl("lazy", k="k3")["x"].head(2),
                                   df[df.k == "k3"]["x"].head(2))
    assert len(lazy.query(k="k3")) == (df.k == "k3").sum()
    chunks = list(lazy.query(x__lt=2_500).iterchunks())
    assert [len(c) for c in chunks] == [1_000, 1_000, 500]
    with pytest.raises(KeyError, match="no columns"):
        lazy[["nope"]]
    with pytest.raises(ValueError, match="unknown operator"):
        lazy.query(x__gtt=1)


@pytest.mark.parametrize("compression", ["zstd", "none", "snappy"])
def test_whole_reads_give_back_decoded_bytes_safely(store: OmegaStore, compression: str
                                                    ) -> None:
    """A whole read decodes row group after row group and returns each one's bytes to the
    system, unless Arrow points into them (uncompressed plain values): values stay exact."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x": rng.random(50_000), "n": np.arange(50_000),
                          "s": [f"v{i % 97}" for i in range(50_000)]})
    store.put(frame, "groups", as_parquet=True, row_group_size=4_096,
              compression=compression)
    got = store.get("groups")
    pd.testing.assert_frame_equal(got, frame)
    got.loc[0, "x"] = -1.0  # Arrow's memory is read-only: the frame is not
    got["n"] *= 2
    assert got.loc[0, "x"] == -1.0 and got["n"].iloc[-1] == 2 * 49_999
    series = store.put(frame.x, "one", as_parquet=True) and store.get("one")
    series.iloc[0] = -2.0
    assert series.iloc[0] == -2.0


def test_dictionaries_only_where_values_repeat(store: OmegaStore) -> None:
    """Text, categories and repeating numbers are dictionary-encoded; unique floats are
    not (a dictionary of unique values costs time and bytes)."""
    from omegacore_pandas_parquet import read

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.random(5_000), "few": rng.integers(0, 5, 5_000),
                       "text": rng.choice(["a", "b"], 5_000).astype(object),
                       "cat": pd.Categorical(rng.choice(["u", "v"], 5_000))})
    store.put(df, "dict", as_parquet=True)
    file = read.ChunkedFile(store, store.metadata("dict").kind_meta["parts"][0]["file"])
    group = file.metadata().row_group(0)
    dictionary = {group.column(i).path_in_schema: group.column(i).has_dictionary_page
                  for i in range(group.num_columns)}
    assert {k: dictionary[k] for k in df.columns} == {"x": False, "few": True, "text": True,
                                                      "cat": True}
    pd.testing.assert_frame_equal(store.get("dict"), df)
