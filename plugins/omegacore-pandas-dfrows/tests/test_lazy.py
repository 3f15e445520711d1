"""Lazy frames (MDataFrame) of pandas.dfrows objects: each operation against pandas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from bson import json_util
from omegacore_pandas.layout import FrameLayout
from omegacore_pandas.mdataframe import MDataFrame, MSeries, open_frame
from omegacore_pandas.plan import Source
from pandas.testing import assert_frame_equal, assert_index_equal, assert_series_equal
from pymongo import MongoClient, monitoring

from omegacore import OmegaStore


def make_sales(n: int = 240, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.random(n)
    floats[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "x": rng.integers(0, 10, n),
        "f": floats,
        "s": [f"s{i % 7}" for i in range(n)],
        "t": pd.date_range("2024-01-01", periods=n, freq="h", tz="Europe/Zurich")
        + pd.Timedelta(1500, "ns"),
        "c": pd.Categorical([["lo", "mid", "hi"][(i * 5) % 3] for i in range(n)],
                            categories=["mid", "lo", "hi"]),
        "i": pd.array([None if i % 11 == 0 else i % 4 for i in range(n)], dtype="Int64"),
        "b": [i % 3 == 0 for i in range(n)],
    })


@pytest.fixture
def sales(store: OmegaStore) -> tuple[pd.DataFrame, MDataFrame]:
    df = make_sales()
    store.put(df, "sales", append=False)
    return df, store.getl("sales")


# ------------------------------------------------------------------------------------------
# .value is exactly store.get
# ------------------------------------------------------------------------------------------
def _frames() -> dict[str, Any]:
    idx = pd.MultiIndex.from_product([["a", "b", "c"], [1, 2]], names=["letter", "num"])
    return {
        "ints": pd.DataFrame({"a": np.arange(6, dtype="int32"), "b": np.arange(6) * 10}),
        "floats": pd.DataFrame({"f": [1.5, np.nan, -2.0],
                                "g": np.array([1, 2, 3], dtype="float32")}),
        "strings": pd.DataFrame({"s": ["x", None, "zz"], "o": ["p", 1, None]}),
        "datetimes": pd.DataFrame(
            {"t": pd.date_range("2024-03-30", periods=4, freq="7h", tz="Europe/Zurich")
             + pd.Timedelta(123, "ns"), "n": pd.to_datetime(["2024-01-01", None, "2024-01-03",
                                                              "2024-01-04"])},
            index=pd.date_range("2024-01-01", periods=4, freq="D", name="day")),
        "categories": pd.DataFrame({"c": pd.Categorical(["b", "a", None, "b"],
                                                        categories=["b", "a", "z"])}),
        "multiindex": pd.DataFrame({"v": np.arange(6.0)}, index=idx),
        "mcolumns": pd.DataFrame(np.arange(6).reshape(3, 2),
                                 columns=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)])),
        "nullable": pd.DataFrame({"i": pd.array([1, None, 3], dtype="Int64"),
                                  "k": pd.array([True, None, False], dtype="boolean")}),
        "series": pd.Series([3, 1, 2], name="ser", index=pd.Index(["x", "y", "z"], name="k")),
        "empty": pd.DataFrame({"a": pd.Series([], dtype="int64"), "s": pd.Series([],
                                                                                 dtype="str")}),
    }


@pytest.mark.parametrize("key", list(_frames()))
def test_value_is_what_get_returns(store: OmegaStore, key: str) -> None:
    obj = _frames()[key]
    store.put(obj, key, append=False)
    eager = store.get(key)
    lazy = store.getl(key)
    assert isinstance(lazy, MSeries if isinstance(obj, pd.Series) else MDataFrame)
    value = lazy.value
    if isinstance(obj, pd.Series):
        assert_series_equal(value, eager, check_exact=True)
        assert_series_equal(value, obj, check_exact=True)
        assert lazy.name == "ser"
    else:
        assert_frame_equal(value, eager, check_exact=True)
        assert_frame_equal(value, obj, check_exact=True)
        assert_index_equal(lazy.columns, obj.columns)
        assert_series_equal(lazy.dtypes, obj.dtypes)
    assert_frame_equal(pd.DataFrame(store.get(key, lazy=True).value), pd.DataFrame(eager))
    assert len(lazy) == len(obj)


def test_get_options_match_eager_get(store: OmegaStore) -> None:
    df = make_sales(60)
    store.put(df, "sales", append=False)
    for kwargs in ({"columns": ["x", "s"]}, {"filter": {"x__gte": 5}}, {"x__lt": 3},
                   {"columns": ["f"], "is_series": True}, {"is_series": True},
                   {"s": "s1", "columns": ["t", "c"]}):
        eager = store.get("sales", **kwargs)
        lazy = store.getl("sales", **kwargs).value
        if isinstance(eager, pd.Series):
            assert_series_equal(lazy, eager)
        else:
            assert_frame_equal(lazy, eager)
    # appended rows read back in order, lazily as eagerly
    store.put(df.head(5), "sales", append=True)
    assert_frame_equal(store.getl("sales").value, store.get("sales"))
    assert_frame_equal(store.getl("sales").tail(7).value, store.get("sales").tail(7))


def test_projection_mixin_contract(store: OmegaStore) -> None:
    """What name[a,b], name#iterchunks and name#rows rely on."""
    df = make_sales(50)
    store.put(df, "sales", append=False)
    mdf = store.getl("sales", columns=["x", "s"])
    assert list(mdf.columns) == ["x", "s"]
    assert list(store.getl("sales").columns) == list(df.columns)
    assert_frame_equal(mdf.value, df[["x", "s"]])
    chunks = list(store.getl("sales").iterchunks(chunksize=20))
    assert [len(c) for c in chunks] == [20, 20, 10]
    assert all(isinstance(c, pd.DataFrame) for c in chunks)
    assert_frame_equal(pd.concat(chunks), df)
    assert_frame_equal(store.getl("sales").iloc[7:19].value, df.iloc[7:19])
    assert_frame_equal(store.getl("sales", chunksize=30).iloc[45:60].value, df.iloc[45:60])


# ------------------------------------------------------------------------------------------
# nothing is read until asked, and what is asked runs on the server
# ------------------------------------------------------------------------------------------
class _Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.sent: list[monitoring.CommandStartedEvent] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in ("find", "aggregate", "count", "createIndexes"):
            self.sent.append(event)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def names(self) -> list[str]:
        return [e.command_name for e in self.sent]


@pytest.fixture
def watched(store: OmegaStore, omega_database_url: str, sales: Any
            ) -> Iterator[tuple[pd.DataFrame, MDataFrame, _Commands]]:
    """The sales frame through a client that records the commands it sends."""
    df, _ = sales
    meta = store.metadata("sales")
    assert meta is not None
    listener = _Commands()
    client: MongoClient = MongoClient(omega_database_url, event_listeners=[listener])
    try:
        layout = FrameLayout.from_kind_meta(meta.kind_meta, meta.kind)
        source = Source(client[store.mongodb.name][meta.collection], layout, "sales")
        yield df, open_frame(source), listener
    finally:
        client.close()


def test_nothing_is_read_until_asked(watched: Any) -> None:
    df, mdf, commands = watched
    lazy = mdf[(mdf.x > 3) & ~mdf.s.isin(["s1"])].query(f__lt=0.5)[["x", "f", "t"]]
    lazy = lazy.sort(["-x", "t"]).head(10)
    grouped = mdf.groupby("s")
    assert list(lazy.columns) == ["x", "f", "t"]
    assert str(lazy.dtypes["t"]) == "datetime64[ns, Europe/Zurich]"
    assert lazy.explain()["aggregate"]  # sorting with NaN last needs computed keys
    assert grouped.keys == ["s"]
    assert commands.sent == []
    value = lazy.value
    expected = df[(df.x > 3) & ~df.s.isin(["s1"]) & (df.f < 0.5)][["x", "f", "t"]]
    expected = expected.sort_values(["x", "t"], ascending=[False, True], kind="stable").head(10)
    assert_frame_equal(value, expected)
    assert commands.names() == ["aggregate"]
    pipeline = commands.sent[0].command["pipeline"]
    stages = [next(iter(s)) for s in pipeline]
    assert stages[0] == "$match" and "$limit" in stages and stages[-1] == "$project"


def test_filters_projection_and_windows_go_into_the_find(watched: Any) -> None:
    df, mdf, commands = watched
    value = mdf[mdf.x >= 8][["x", "s"]].iloc[2:6].value
    expected = df[df.x >= 8][["x", "s"]].iloc[2:6]
    assert_frame_equal(value, expected)
    finds = [e.command for e in commands.sent if e.command_name == "find"]
    assert len(finds) == 1
    find = finds[0]
    assert find["filter"] == {"x": {"$gte": 8}}
    assert find["skip"] == 2 and find["limit"] == 4
    assert find["sort"] == {"_om#rowid": 1}
    assert set(find["projection"]) >= {"x", "s"} and "f" not in find["projection"]
    commands.sent.clear()
    result = mdf.groupby("s").agg({"x": "sum"}, names="pandas")
    assert_frame_equal(result, df.groupby("s").agg({"x": "sum"}))
    assert commands.names() == ["aggregate"]
    assert any("$group" in s for s in commands.sent[0].command["pipeline"])


# ------------------------------------------------------------------------------------------
# filters
# ------------------------------------------------------------------------------------------
def test_masks(sales: Any) -> None:
    df, mdf = sales
    cases = [
        (mdf.x == 3, df.x == 3), (mdf.x != 3, df.x != 3), (mdf.x < 3, df.x < 3),
        (mdf.x <= 3, df.x <= 3), (mdf.f > 0.5, df.f > 0.5), (mdf.f >= 0.5, df.f >= 0.5),
        (mdf.f != 0.5, df.f != 0.5), (~(mdf.f > 0.5), ~(df.f > 0.5)),
        (mdf.s.isin(["s1", "s3"]), df.s.isin(["s1", "s3"])),
        ((mdf.x > 2) & (mdf.x < 6) | (mdf.s == "s0"), (df.x > 2) & (df.x < 6) | (df.s == "s0")),
        (mdf.t >= pd.Timestamp("2024-01-05 10:00", tz="UTC"),
         df.t >= pd.Timestamp("2024-01-05 10:00", tz="UTC")),
        (mdf.t == df.t[3], df.t == df.t[3]),
        (mdf.c == "lo", df.c == "lo"), (mdf.b == True, df.b == True),  # noqa: E712
        (mdf.f.isnull(), df.f.isnull()), (mdf.f.notnull(), df.f.notnull()),
        (mdf.x.between(2, 4), df.x.between(2, 4)),
    ]
    for cond, mask in cases:
        assert_frame_equal(mdf[cond].value, df[mask])
    assert_frame_equal(mdf.loc[mdf.x > 7].value, df.loc[df.x > 7])
    assert_series_equal(mdf.f[mdf.x > 7].value, df.f[df.x > 7])
    with pytest.raises(ValueError, match="ambiguous"):
        bool(mdf.x > 3)
    with pytest.raises(TypeError, match="combine"):
        (mdf.x > 3) & True  # noqa: B018
    with pytest.raises(TypeError, match="another column of the same lazy frame"):
        mdf.x > mdf  # noqa: B015


def test_masks_belong_to_their_frame(store: OmegaStore, sales: Any) -> None:
    df, mdf = sales
    store.put(df, "copy", append=False)
    other = store.getl("copy")
    with pytest.raises(ValueError, match="another lazy frame"):
        mdf[other.x > 3]
    with pytest.raises(ValueError, match="different lazy frames"):
        (mdf.x > 3) & (other.x > 3)  # noqa: B018
    derived = mdf[mdf.s == "s1"][["x", "f"]]
    assert_frame_equal(derived[mdf.x > 5].value, df[(df.s == "s1") & (df.x > 5)][["x", "f"]])


def test_query_operators(sales: Any) -> None:
    df, mdf = sales
    cases: list[tuple[dict[str, Any], pd.Series]] = [
        ({"x__gte": 7}, df.x >= 7), ({"x": 2}, df.x == 2),
        ({"x__in": [1, 2]}, df.x.isin([1, 2])), ({"x__nin": [1, 2]}, ~df.x.isin([1, 2])),
        ({"s__startswith": "s1"}, df.s.str.startswith("s1")),
        ({"s__contains": "4"}, df.s.str.contains("4")), ({"f__isnull": True}, df.f.isnull()),
        ({"t__between": ("2024-01-02", "2024-01-03")},
         df.t.between(pd.Timestamp("2024-01-02", tz="Europe/Zurich"),
                      pd.Timestamp("2024-01-03", tz="Europe/Zurich"))),
        ({"x__gt": 2, "s": "s3"}, (df.x > 2) & (df.s == "s3")),
    ]
    for criteria, mask in cases:
        assert_frame_equal(mdf.query(**criteria).value, df[mask])
    assert_frame_equal(mdf.query(mdf.x > 5, s="s2").value, df[(df.x > 5) & (df.s == "s2")])
    assert_frame_equal(mdf.query({"x__lt": 1}).value, df[df.x < 1])
    with pytest.raises(ValueError, match="where"):
        mdf.query({"$where": "1"})
    with pytest.raises(ValueError, match="where"):
        mdf.query({"$where": "1"}, trusted=True)
    assert_frame_equal(mdf.query(x={"$gt": 7}, trusted=True).value, df[df.x > 7])
    with pytest.raises(ValueError, match="operator"):
        mdf.query(x={"$gt": 1})
    with pytest.raises(ValueError, match="nope"):
        mdf.query(nope=1)
    with pytest.raises(TypeError, match="expression string"):
        mdf.query("x > 1")


# ------------------------------------------------------------------------------------------
# columns, rows, order
# ------------------------------------------------------------------------------------------
def test_columns_and_series(sales: Any) -> None:
    df, mdf = sales
    assert_series_equal(mdf["x"].value, df["x"])
    assert_series_equal(mdf.t.value, df.t)
    assert_frame_equal(mdf[["s", "x"]].value, df[["s", "x"]])
    assert_frame_equal(mdf[["s", "x"]][mdf.f > 0.9].value, df[["s", "x"]][df.f > 0.9])
    assert mdf.x.name == "x" and mdf.x.dtype == df.x.dtype
    assert list(mdf[["s", "x"]].columns) == ["s", "x"]
    with pytest.raises(KeyError, match="nope"):
        mdf["nope"]
    with pytest.raises(KeyError, match="nope"):
        mdf[["x", "nope"]]
    with pytest.raises(AttributeError):
        mdf.nope  # noqa: B018


def test_head_tail_skip_len_shape(sales: Any) -> None:
    df, mdf = sales
    assert_frame_equal(mdf.head(7).value, df.head(7))
    assert_frame_equal(mdf.head().value, df.head())
    assert_frame_equal(mdf.tail(9).value, df.tail(9))
    assert_frame_equal(mdf.head(-230).value, df.head(-230))
    assert_frame_equal(mdf.tail(-233).value, df.tail(-233))
    assert_frame_equal(mdf.skip(235).value, df.iloc[235:])
    assert_frame_equal(mdf[mdf.x > 4].tail(3).value, df[df.x > 4].tail(3))
    assert_frame_equal(mdf.head(50).tail(5).value, df.head(50).tail(5))
    assert_frame_equal(mdf.tail(50).head(5).value, df.tail(50).head(5))
    first = df.head(20)
    assert_frame_equal(mdf.head(20)[mdf.x > 4].value, first[first.x > 4])
    assert len(mdf) == 240 and len(mdf[mdf.x > 4]) == int((df.x > 4).sum())
    assert len(mdf.head(10)) == 10 and len(mdf.skip(235)) == 5
    assert mdf.shape == df.shape and mdf[["x"]].shape == (240, 1) and mdf.x.shape == (240,)


def test_iloc(sales: Any) -> None:
    df, mdf = sales
    assert_frame_equal(mdf.iloc[10:20].value, df.iloc[10:20])
    assert_frame_equal(mdf.iloc[:5].value, df.iloc[:5])
    assert_frame_equal(mdf.iloc[-5:].value, df.iloc[-5:])
    assert_frame_equal(mdf.iloc[-8:-3].value, df.iloc[-8:-3])
    assert_frame_equal(mdf.iloc[[3, 1, 200, 3]].value, df.iloc[[3, 1, 200, 3]])
    assert_frame_equal(mdf.iloc[[-1, 0]].value, df.iloc[[-1, 0]])
    assert_series_equal(mdf.iloc[7].value, df.iloc[7])  # one position: a Series, as pandas
    assert_series_equal(mdf.iloc[-1].value, df.iloc[-1])
    assert_frame_equal(mdf.iloc[5:9, [0, 2]].value, df.iloc[5:9, [0, 2]])
    assert_series_equal(mdf.iloc[5:9, 1].value, df.iloc[5:9, 1])
    part = df.iloc[2:40]
    assert_frame_equal(mdf.iloc[2:40][mdf.x > 5].iloc[1:4].value, part[part.x > 5].iloc[1:4])
    # positions then a filter: selected on the server
    taken = df.iloc[[4, 9, 30, 31]]
    assert_frame_equal(mdf.iloc[[4, 9, 30, 31]][mdf.x > 3].value, taken[taken.x > 3])
    assert_series_equal(mdf.x.iloc[3:6].value, df.x.iloc[3:6])
    with pytest.raises(IndexError):
        mdf.iloc[[1, 500]].value  # noqa: B018
    with pytest.raises(ValueError, match="step"):
        mdf.iloc[::2]


def test_sort(sales: Any) -> None:
    df, mdf = sales
    cases = [
        (mdf.sort(["-x", "s"]), df.sort_values(["x", "s"], ascending=[False, True], kind="stable")),
        (mdf.sort("f"), df.sort_values("f", kind="stable")),
        (mdf.sort("-f"), df.sort_values("f", ascending=False, kind="stable")),
        (mdf.sort_values("f", na_position="first"),
         df.sort_values("f", na_position="first", kind="stable")),
        (mdf.sort_values(["c", "x"], ascending=[False, True]),
         df.sort_values(["c", "x"], ascending=[False, True], kind="stable")),
        (mdf.sort_values("t", ascending=False),
         df.sort_values("t", ascending=False, kind="stable")),
        (mdf.sort_values("i"), df.sort_values("i", kind="stable")),
        (mdf.sort("x").sort("s"),
         df.sort_values("x", kind="stable").sort_values("s", kind="stable")),
        (mdf[mdf.x > 5].sort("-f").head(8), df[df.x > 5].sort_values("f", ascending=False,
                                                                    kind="stable").head(8)),
        (mdf.head(30).sort("s"), df.head(30).sort_values("s", kind="stable")),
        (mdf.sort("-x").tail(4), df.sort_values("x", ascending=False, kind="stable").tail(4)),
        (mdf.sort("-x").iloc[[0, 5]],
         df.sort_values("x", ascending=False, kind="stable").iloc[[0, 5]]),
        (mdf.sort("f").sort_index(), df),
    ]
    for lazy, expected in cases:
        assert_frame_equal(lazy.value, expected)
    assert mdf.sort("x").explain()["find"]["sort"] == [("x", 1), ("_om#rowid", 1)]
    with pytest.raises(KeyError, match="nope"):
        mdf.sort("nope")


def test_loc(store: OmegaStore) -> None:
    df = pd.DataFrame({"v": np.arange(8), "w": list("abcdefgh")},
                      index=pd.Index(list("acegikmo"), name="key"))
    store.put(df, "keyed", append=False)
    mdf = store.getl("keyed")
    assert_series_equal(mdf.loc["e"].value, df.loc["e"])  # one label: a Series, as pandas
    assert_frame_equal(mdf.loc[["c", "k"]].value, df.loc[["c", "k"]])
    assert_frame_equal(mdf.loc["b":"i"].value, df.loc["b":"i"])
    assert_frame_equal(mdf.loc[:"e"].value, df.loc[:"e"])
    assert_frame_equal(mdf.loc["k":].value, df.loc["k":])
    assert_frame_equal(mdf.loc["c":"k", ["w"]].value, df.loc["c":"k", ["w"]])
    assert_series_equal(mdf.loc["c":"k", "v"].value, df.loc["c":"k", "v"])
    assert_frame_equal(mdf.loc[mdf.v > 5, "v":"w"].value, df.loc[df.v > 5, "v":"w"])
    assert len(mdf.loc[["zz"]].value) == 0

    days = pd.DataFrame({"v": np.arange(10.0)},
                        index=pd.date_range("2024-01-01", periods=10, freq="D", tz="UTC"))
    store.put(days, "days", append=False)
    mdays = store.getl("days")
    start, stop = pd.Timestamp("2024-01-03", tz="UTC"), pd.Timestamp("2024-01-06", tz="UTC")
    assert_frame_equal(mdays.loc[start:stop].value, days.loc[start:stop], check_freq=False)
    assert_frame_equal(mdays.loc[[start, stop]].value, days.loc[[start, stop]], check_freq=False)
    # strings select the period they name, as pandas' partial string indexing does
    hours = pd.DataFrame({"v": np.arange(60)},
                         index=pd.date_range("2024-01-30", periods=60, freq="7h",
                                             tz="Europe/Zurich"))
    store.put(hours, "hours", append=False)
    mhours = store.getl("hours")
    for label in ("2024-02-03", "2024-02"):
        assert_frame_equal(mhours.loc[label].value, hours.loc[label], check_freq=False)
    for lo, hi in (("2024-02-01", "2024-02-04"), ("2024-02-01 10:00", "2024-02-04 13"),
                   (None, "2024-01-31")):
        assert_frame_equal(mhours.loc[lo:hi].value, hours.loc[lo:hi], check_freq=False)

    multi = _frames()["multiindex"]
    store.put(multi, "multi", append=False)
    mm = store.getl("multi")
    assert_frame_equal(mm.loc["b"].value, multi.loc[["b"]])
    assert_series_equal(mm.loc[("c", 2)].value, multi.loc[("c", 2)])
    assert_frame_equal(mm.loc[[("a", 2), ("c", 1)]].value, multi.loc[[("a", 2), ("c", 1)]])
    assert_frame_equal(mm.loc["a":"b"].value, multi.loc["a":"b"])


# ------------------------------------------------------------------------------------------
# iteration
# ------------------------------------------------------------------------------------------
def test_iteration(sales: Any) -> None:
    df, mdf = sales
    chunks = list(mdf.iterchunks(100))
    assert [len(c) for c in chunks] == [100, 100, 40]
    assert_frame_equal(pd.concat(chunks), df)
    filtered = list(mdf[mdf.x > 5].sort("-f").iterchunks(25))
    assert_frame_equal(pd.concat(filtered), df[df.x > 5].sort_values("f", ascending=False,
                                                                     kind="stable"))
    series_chunks = list(mdf.x.iterchunks(100))
    assert isinstance(series_chunks[0], pd.Series)
    assert_series_equal(pd.concat(series_chunks), df.x)
    assert_frame_equal(pd.concat(mdf.iloc[[5, 2, 9]].iterchunks(2)), df.iloc[[5, 2, 9]])
    rows = list(mdf.head(3).iterrows())
    assert [i for i, _ in rows] == [0, 1, 2]
    assert_series_equal(rows[1][1], next(iter(df.iloc[[1]].iterrows()))[1])
    items = dict(mdf[["x", "s"]].items())
    assert list(items) == ["x", "s"]
    assert_series_equal(items["s"], df.s)
    assert list(mdf) == list(df.columns)
    assert [t.x for t in mdf.head(3).itertuples()] == list(df.x.head(3))
    assert list(mdf.x.head(4)) == list(df.x.head(4))


# ------------------------------------------------------------------------------------------
# values computed on the server
# ------------------------------------------------------------------------------------------
def test_count_unique_and_series_reductions(sales: Any) -> None:
    df, mdf = sales
    assert_series_equal(mdf.count(), df.count())
    assert_series_equal(mdf[mdf.x > 5].count(), df[df.x > 5].count())
    for column in ("x", "s", "f", "c", "t", "i", "b"):
        expected = df[column].unique()
        got = mdf[column].unique().value
        if isinstance(expected, np.ndarray):
            np.testing.assert_array_equal(got, expected)
        else:
            pd.testing.assert_extension_array_equal(got, expected)
    np.testing.assert_array_equal(mdf[mdf.x > 6].sort("-x").x.unique().value,
                                  df[df.x > 6].sort_values("x", ascending=False).x.unique())
    pd.testing.assert_extension_array_equal(mdf.sort("-f").s.unique().value,
                                            df.sort_values("f", ascending=False,
                                                           kind="stable").s.unique())
    assert mdf.s.nunique() == df.s.nunique()
    assert mdf.f.count() == df.f.count()
    for func in ("sum", "mean", "min", "max", "std", "var"):
        for column in ("x", "f", "i", "b"):
            if column == "b" and func in ("std", "var"):
                continue
            assert getattr(mdf[column], func)() == pytest.approx(getattr(df[column], func)())
    assert mdf.t.min() == df.t.min() and mdf.t.max() == df.t.max()
    assert mdf.s.max() == df.s.max()
    with pytest.raises(ValueError, match="numeric"):
        mdf.s.mean()


def test_groupby(sales: Any) -> None:
    df, mdf = sales
    assert_frame_equal(mdf.groupby("s").count(), df.groupby("s").count())
    assert_frame_equal(mdf.groupby(["s", "x"]).count(), df.groupby(["s", "x"]).count())
    spec = {"x": ["sum", "mean", "min", "max", "std"], "f": ["sum", "mean", "std", "var"],
            "i": ["sum", "mean", "min"], "b": ["sum", "mean"], "t": ["min", "max", "count"]}
    assert_frame_equal(mdf.groupby("s").agg(spec, names="pandas"), df.groupby("s").agg(spec),
                       check_exact=False)
    # omegaml's names for the dict form (the default): <column>_<function>
    named = mdf.groupby("s").agg({"x": ["sum", "mean"], "f": "max"})
    expected = df.groupby("s").agg({"x": ["sum", "mean"], "f": "max"})
    expected.columns = ["x_sum", "x_mean", "f_max"]
    assert_frame_equal(named, expected)
    with pytest.raises(ValueError, match="names must be 'omegaml' or 'pandas'"):
        mdf.groupby("s").agg({"x": "sum"}, names="flat")
    assert_frame_equal(mdf.groupby("c").agg({"x": "sum", "f": "max"}, names="pandas"),
                       df.groupby("c", observed=True).agg({"x": "sum", "f": "max"}))
    assert_frame_equal(mdf.groupby(["c", "s"]).agg({"x": ["sum"]}, names="pandas"),
                       df.groupby(["c", "s"], observed=True).agg({"x": ["sum"]}))
    assert_series_equal(mdf.groupby("s")["x"].sum(), df.groupby("s")["x"].sum())
    assert_series_equal(mdf.groupby("s").size(), df.groupby("s").size())
    assert_frame_equal(mdf.groupby("s")["f"].agg(["mean", "max"]),
                       df.groupby("s")["f"].agg(["mean", "max"]), check_exact=False)
    assert_frame_equal(mdf.groupby("s")[["x", "f"]].mean(), df.groupby("s")[["x", "f"]].mean(),
                       check_exact=False)
    assert_frame_equal(mdf[["s", "x", "f"]].groupby("s").sum(),
                       df[["s", "x", "f"]].groupby("s").sum(), check_exact=False)
    assert_frame_equal(mdf[mdf.x > 4].groupby("s").agg({"x": "max"}, names="pandas"),
                       df[df.x > 4].groupby("s").agg({"x": "max"}))
    assert_frame_equal(mdf.head(50).groupby("x", sort=False).agg({"f": "count"}, names="pandas"),
                       df.head(50).groupby("x", sort=False).agg({"f": "count"}))
    assert_frame_equal(mdf.groupby("f", dropna=False)[["x"]].count().tail(3),
                       df.groupby("f", dropna=False)[["x"]].count().tail(3))
    with pytest.raises(ValueError, match="not supported"):
        mdf.groupby("s").agg({"x": "median"})
    with pytest.raises(KeyError, match="nope"):
        mdf.groupby("nope")


def test_groupby_index_level_and_datetime_keys(store: OmegaStore) -> None:
    multi = pd.DataFrame({"v": np.arange(12.0)},
                         index=pd.MultiIndex.from_product([["a", "b", "c"], range(4)],
                                                          names=["letter", "num"]))
    store.put(multi, "multi", append=False)
    mm = store.getl("multi")
    assert_frame_equal(mm.groupby("letter").agg({"v": ["sum", "max"]}, names="pandas"),
                       multi.groupby("letter").agg({"v": ["sum", "max"]}))
    stamps = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 00:00:00.000000001"] * 2
                                               + ["2024-01-01 00:00:00.000000000"] * 3
                                               ).tz_localize("Asia/Tokyo"),
                           "v": np.arange(5)})
    store.put(stamps, "stamps", append=False)
    assert_frame_equal(store.getl("stamps").groupby("t").sum(), stamps.groupby("t").sum())


# ------------------------------------------------------------------------------------------
# merge
# ------------------------------------------------------------------------------------------
def test_merge(store: OmegaStore, sales: Any) -> None:
    df, mdf = sales
    cities = pd.DataFrame({"s": ["s1", "s2", "s2", "s5", "s9"], "pop": [10, 20, 21, 50, 90],
                           "f": [0.1, 0.2, 0.3, 0.4, 0.5]})
    store.put(cities, "cities", append=False)
    right = store.getl("cities")
    for how in ("inner", "left"):
        assert_frame_equal(mdf.merge(right, on="s", how=how).value,
                           pd.merge(df, cities, on="s", how=how))
    assert_frame_equal(mdf.merge(right, on="s", suffixes=("", "_c")).value,
                       pd.merge(df, cities, on="s", suffixes=("", "_c")))
    assert_frame_equal(mdf[mdf.x > 6].merge(right[right["pop"] > 15], on="s", how="left").value,
                       pd.merge(df[df.x > 6], cities[cities["pop"] > 15], on="s", how="left"))
    assert_frame_equal(mdf.sort("-f").head(20).merge(right, on="s").value,
                       pd.merge(df.sort_values("f", ascending=False, kind="stable").head(20),
                                cities, on="s"))
    merged = mdf.merge(right, on="s", how="left")
    expected = pd.merge(df, cities, on="s", how="left")
    assert len(merged) == len(expected)
    assert list(merged.columns) == list(expected.columns)
    assert_frame_equal(merged[merged["pop"] > 20].value, expected[expected["pop"] > 20])
    assert_frame_equal(merged.iloc[100:110].value, expected.iloc[100:110])
    assert_frame_equal(merged.groupby("s").agg({"pop": "sum"}, names="pandas"),
                       expected.groupby("s").agg({"pop": "sum"}))
    # two keys, different key names
    other = pd.DataFrame({"name": ["s1", "s2", "s3"], "xx": [1, 2, 3], "w": [1.5, 2.5, 3.5]})
    store.put(other, "other", append=False)
    assert_frame_equal(
        mdf.merge(store.getl("other"), left_on=["s", "x"], right_on=["name", "xx"]).value,
        pd.merge(df, other, left_on=["s", "x"], right_on=["name", "xx"]))
    with pytest.raises(ValueError, match="outer"):
        mdf.merge(right, on="s", how="outer")
    with pytest.raises(TypeError, match="lazy frame"):
        mdf.merge(cities, on="s")
    with pytest.raises(ValueError, match="stored frame"):
        mdf.merge(right.head(2), on="s")


# ------------------------------------------------------------------------------------------
# empty results
# ------------------------------------------------------------------------------------------
def test_empty_results_are_empty_frames(store: OmegaStore, sales: Any) -> None:
    df, mdf = sales
    none = mdf[mdf.x > 100]
    nothing = df[df.x > 100]
    assert_frame_equal(none.value, nothing)
    assert_frame_equal(mdf.head(0).value, df.head(0))
    assert_frame_equal(mdf.iloc[300:400].value, df.iloc[300:400])
    assert_frame_equal(none.tail(3).value, nothing.tail(3))
    assert_frame_equal(none.sort("-f").value, nothing.sort_values("f", ascending=False))
    assert_frame_equal(mdf.iloc[[]].value, df.iloc[[]])
    assert len(none) == 0 and none.shape == (0, 7)
    chunks = list(none.iterchunks(10))
    assert len(chunks) == 1
    assert_frame_equal(chunks[0], nothing)
    assert_series_equal(none.count(), nothing.count())
    assert len(none.s.unique()) == 0 and none.s.unique().value.dtype == df.s.dtype
    assert none.x.sum() == 0 and np.isnan(none.f.mean())
    assert_frame_equal(none.groupby("s").agg({"x": ["sum", "mean"], "f": "max"}, names="pandas"),
                       nothing.groupby("s").agg({"x": ["sum", "mean"], "f": "max"}))
    assert_frame_equal(none.groupby("s").count(), nothing.groupby("s").count())
    store.put(pd.DataFrame({"s": ["zz"], "pop": [1]}), "cities", append=False)
    assert_frame_equal(mdf.merge(store.getl("cities"), on="s").value,
                       pd.merge(df, pd.DataFrame({"s": ["zz"], "pop": [1]}), on="s"))


# ------------------------------------------------------------------------------------------
# windows on stored rows seek by row id (an index range instead of sort + skip + limit)
# ------------------------------------------------------------------------------------------
def test_windows_seek_by_row_id_and_stay_exact_with_gaps(store: OmegaStore, sales: Any) -> None:
    df, mdf = sales
    committed = {"_om#rowid": {"$not": {"$gte": 240}}}  # every query: committed rows only

    def seek(lazy: Any) -> dict[str, Any]:
        found = lazy.explain()["find"]["filter"]
        assert found["$and"][0] == committed
        return found["$and"][1]

    assert seek(mdf.head(10)) == {"_om#rowid": {"$lt": 10}}
    assert seek(mdf.tail(5)) == {"_om#rowid": {"$gte": 235, "$lt": 240}}
    assert seek(mdf.iloc[100:110]) == {"_om#rowid": {"$gte": 100, "$lt": 110}}
    assert seek(mdf.iloc[[7, 3]]) == {"_om#rowid": {"$in": [3, 7]}}
    for lazy, expected in ((mdf.head(10), df.head(10)), (mdf.tail(5), df.tail(5)),
                           (mdf.iloc[100:110], df.iloc[100:110]), (mdf.iloc[-7:-2], df.iloc[-7:-2]),
                           (mdf.iloc[[7, 3, 7]], df.iloc[[7, 3, 7]])):
        assert_frame_equal(lazy.value, expected)
    # rows removed behind the store's back: positions are no longer row ids
    meta = store.metadata("sales")
    assert meta is not None
    store.mongodb[meta.collection].delete_many({"_om#rowid": {"$in": [3, 238]}})
    gappy = df.drop(index=[3, 238])
    mdf = store.getl("sales")
    for lazy, expected in ((mdf.head(10), gappy.head(10)), (mdf.tail(5), gappy.tail(5)),
                           (mdf.iloc[100:110], gappy.iloc[100:110]),
                           (mdf.iloc[[7, 3]], gappy.iloc[[7, 3]])):
        found = lazy.explain().get("find", {}).get("filter")
        assert found is None or found == committed  # no seek by row id
        assert_frame_equal(lazy.value, expected)
    # appended rows: the tail is the new rows
    more = make_sales(6, seed=3)
    store.put(more, "sales", append=True)
    appended = store.getl("sales")
    committed = {"_om#rowid": {"$not": {"$gte": 246}}}
    assert seek(appended.tail(4)) == {"_om#rowid": {"$gte": 242, "$lt": 246}}
    assert_frame_equal(appended.tail(4).value, more.tail(4))
    assert_frame_equal(appended.tail(4).value, store.get("sales").tail(4))


def test_data_written_by_omegaml(store: OmegaStore) -> None:
    dump = json_util.loads((Path(__file__).parent / "data" / "omegaml-0.18.json").read_text())
    for item in dump["objects"]:
        meta = dict(item["metadata"])
        meta["bucket"], meta["prefix"] = store.bucket, store.prefix
        store._metadata_collection.insert_one(meta)
        store.mongodb[meta["collection"]].insert_many(item["documents"])
    names = store.list()
    assert names
    for name in names:
        eager = store.get(name)
        lazy = store.getl(name)
        if isinstance(eager, pd.Series):
            assert_series_equal(lazy.value, eager)
            assert_series_equal(lazy.head(2).value, eager.head(2))
            assert_series_equal(lazy.tail(2).value, eager.tail(2))
        else:
            assert_frame_equal(lazy.value, eager)
            assert_frame_equal(lazy.head(2).value, eager.head(2))
            assert_frame_equal(lazy.iloc[1:3].value, eager.iloc[1:3])
            assert_frame_equal(lazy.tail(2).value, eager.tail(2))
            assert_series_equal(lazy.count(), eager.count())


# -- pandas' result shapes and omegaml's call forms -------------------------------------------
@pytest.fixture
def small(store: OmegaStore) -> tuple[pd.DataFrame, Any]:
    df = pd.DataFrame({"x": [1, 2, 3, 4, None], "y": [4.0, 3, 2, 1, 5], "k": list("ababa")},
                      index=["r0", "r1", "r2", "r3", "r4"])
    store.put(df, "small")
    return df, store.getl("small")


def test_single_labels_and_positions_give_what_pandas_gives(small: Any,
                                                            store: OmegaStore) -> None:
    df, mdf = small
    assert_series_equal(mdf.loc["r1"].value, df.loc["r1"])
    assert_series_equal(mdf.iloc[1].value, df.iloc[1])
    assert_series_equal(mdf.iloc[-1].value, df.iloc[-1])
    assert mdf.loc["r1", "y"].value == df.loc["r1", "y"]
    assert mdf.iloc[2, 1].value == df.iloc[2, 1]
    assert mdf.y.loc["r3"].value == df.y.loc["r3"]
    assert_frame_equal(mdf.loc[["r1"]].value, df.loc[["r1"]])
    assert_frame_equal(mdf.iloc[[1, 3]].value, df.iloc[[1, 3]])
    assert_series_equal(mdf.loc[["r1", "r2"], "y"].value, df.loc[["r1", "r2"], "y"])
    with pytest.raises(KeyError):
        _ = mdf.loc["nope"].value
    # omegaml's option: loc and iloc read at once
    eager = store.getl("small", immediate_loc=True)
    assert_series_equal(eager.loc["r1"], df.loc["r1"])
    assert_frame_equal(eager.iloc[1:3], df.iloc[1:3])
    with pytest.raises(TypeError, match="immediate_loc=True applies to lazy frames"):
        store.get("small", immediate_loc=True)


def test_partial_dates_and_multiindex_labels(store: OmegaStore) -> None:
    days = pd.date_range("2024-01-30", periods=4, freq="D")
    df = pd.DataFrame({"v": [1.0, 2, 3, 4]}, index=days)
    store.put(df, "days")
    mdf = store.getl("days")
    assert_frame_equal(mdf.loc["2024-02"].value, df.loc["2024-02"])
    assert_series_equal(mdf.loc["2024-01-31 00:00:00"].value, df.loc["2024-01-31 00:00:00"])
    multi = pd.DataFrame({"v": [1, 2, 3]}, index=pd.MultiIndex.from_tuples(
        [("a", 1), ("a", 2), ("b", 1)], names=["l", "n"]))
    store.put(multi, "multi")
    mm = store.getl("multi")
    assert_series_equal(mm.loc[("a", 2)].value, multi.loc[("a", 2)])
    assert mm.loc[("b", 1), "v"].value == multi.loc[("b", 1), "v"]


def test_unique_is_lazy(small: Any) -> None:
    df, mdf = small
    values = mdf.k.unique()
    pd.testing.assert_extension_array_equal(values.value, df.k.unique())
    assert list(values) == ["a", "b"] and len(values) == 2


def test_comparing_two_columns(small: Any) -> None:
    df, mdf = small
    for got, expected in ((mdf.x > mdf.y, df.x > df.y), (mdf.x <= mdf.y, df.x <= df.y),
                          (mdf.x == mdf.y, df.x == df.y), (mdf.x != mdf.y, df.x != df.y)):
        assert_frame_equal(mdf[got].value, df[expected])
    assert_frame_equal(mdf[(mdf.x > mdf.y) | (mdf.k == "b")].value,
                       df[(df.x > df.y) | (df.k == "b")])
    assert_frame_equal(mdf[~(mdf.x < mdf.y)].value, df[~(df.x < df.y)])


def test_chunksize_iterates_chunks_as_omegaml(store: OmegaStore, small: Any) -> None:
    df, _ = small
    chunks = list(store.getl("small", chunksize=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert_frame_equal(pd.concat(chunks), df)
    assert list(store.getl("small")) == ["x", "y", "k"]  # without chunksize: as pandas


def test_iterating_groups(small: Any) -> None:
    df, mdf = small
    got = [(key, group.value) for key, group in mdf.groupby("k")]
    expected = list(df.groupby("k"))
    assert [k for k, _ in got] == [k for k, _ in expected]
    for (_, mine), (_, theirs) in zip(got, expected, strict=True):
        assert_frame_equal(mine, theirs)
    assert_series_equal(mdf.groupby("k").y.sum(), df.groupby("k").y.sum())
    pairs = [key for key, _ in mdf.groupby(["k", "y"])]
    assert pairs == [key for key, _ in df.groupby(["k", "y"])]


def test_rows_of_an_uncommitted_append_are_never_read(store: OmegaStore) -> None:
    """What a running (or killed) append has written is invisible until it commits."""
    df = pd.DataFrame({"k": ["a", "b", "a"], "v": [1.0, 2.0, 3.0]})
    store.put(df, "committed")
    store.put(pd.DataFrame({"k": ["a"], "w": [10.0]}), "right")
    meta = store.metadata("committed")
    # the rows an append writes before its metadata commits: row ids past the committed
    store.mongodb[meta.collection].insert_many(
        [{"_idx#0_0": 3 + i, "k": "z", "v": 99.0, "_om#rowid": 3 + i} for i in range(2)])
    assert_frame_equal(store.get("committed"), df)
    mdf = store.getl("committed")
    assert_frame_equal(mdf.value, df)
    assert len(mdf) == 3 and mdf.shape == (3, 2)
    assert_frame_equal(mdf.tail(1).value, df.tail(1))
    assert_series_equal(mdf.groupby("k").v.sum(), df.groupby("k").v.sum())
    assert list(mdf.k.unique()) == ["a", "b"]
    assert len(store.getl("right").merge(mdf, on="k").value) == 2


def test_corr_cov_and_quantiles_equal_pandas(store: OmegaStore) -> None:
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"a": rng.random(200), "b": rng.integers(0, 50, 200),
                       "c": rng.random(200), "s": ["t"] * 200})
    df.loc[::7, "c"] = np.nan
    store.put(df, "stats")
    mdf = store.getl("stats")
    numeric = df[["a", "b", "c"]]
    assert_frame_equal(mdf.corr(), numeric.corr(), rtol=1e-9)
    assert_frame_equal(mdf.cov(), numeric.cov(), rtol=1e-9)
    assert_frame_equal(mdf[mdf.a > 0.5].corr(), numeric[df.a > 0.5].corr(), rtol=1e-9)
    assert_series_equal(mdf.quantile(0.3), numeric.quantile(0.3))
    assert_frame_equal(mdf.quantile([0.0, 0.25, 0.5, 1.0]),
                       numeric.quantile([0.0, 0.25, 0.5, 1.0]))
    with pytest.raises(ValueError, match="'spearman' is not computed lazily"):
        mdf.corr(method="spearman")


def test_any_collection_reads_lazily(store: OmegaStore) -> None:
    import datetime as dt

    from omegacore_pandas.mdataframe import MDataFrame

    events = store.mongodb["events"]
    docs = [{"user": "a", "n": 1, "when": dt.datetime(2024, 1, 1)},
            {"user": "b", "n": 2, "when": dt.datetime(2024, 1, 2)},
            {"user": "a", "n": 5, "when": dt.datetime(2024, 1, 3)}]
    events.insert_many([dict(d) for d in docs])
    expected = pd.DataFrame(docs)
    mdf = MDataFrame(events)
    assert_frame_equal(mdf.value, expected, check_dtype=False, check_column_type=False)
    assert mdf.value["n"].dtype == "int64"
    assert_frame_equal(mdf[mdf.n > 1].value,
                       expected[expected.n > 1].reset_index(drop=True), check_dtype=False,
                       check_column_type=False)
    # object columns (strings as omegaml gives them) make an object group index
    assert mdf.groupby("user").n.sum().to_dict() == expected.groupby("user").n.sum().to_dict()
    assert_frame_equal(MDataFrame(events, query={"user": "a"}).value,
                       expected[expected.user == "a"].reset_index(drop=True),
                       check_dtype=False, check_column_type=False)
    empty = MDataFrame(store.mongodb["nothing"], columns=["x", "y"]).value
    assert list(empty.columns) == ["x", "y"] and len(empty) == 0
    assert MDataFrame(store.mongodb["nothing"]).value.shape == (0, 0)
    with pytest.raises(TypeError, match="query= applies to MDataFrame"):
        MDataFrame(mdf._source, query={"n": 1})


def test_merge_with_a_collection(store: OmegaStore) -> None:
    left = pd.DataFrame({"user": ["a", "b", "c"], "n": [1, 2, 3]})
    store.put(left, "left")
    users = [{"user": "a", "city": "Bern"}, {"user": "b", "city": "Basel"},
             {"user": "a", "city": "Zug"}]
    store.mongodb["users"].insert_many([dict(u) for u in users])
    got = store.getl("left").merge(store.mongodb["users"], on="user", how="left").value
    expected = pd.merge(left, pd.DataFrame(users), on="user", how="left")
    # a missing string is None in object columns here, NaN in pandas' str columns
    assert got.fillna("-").astype(str).equals(expected.fillna("-").astype(str))
    inner = store.getl("left").merge(store.mongodb["users"], on="user").value
    assert inner["city"].tolist() == ["Bern", "Zug", "Basel"]
