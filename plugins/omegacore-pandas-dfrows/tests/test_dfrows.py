"""pandas.dfrows: conformance, appends, filters on the server, options, omegaml data, CLI."""

from __future__ import annotations

import copy
import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from bson import json_util
from omegacore_testing import ColumnsConformance, KindConformance, data_footprint
from omegacore_testing.crash import AppendConformance, CrashConformance
from pandas.testing import assert_frame_equal, assert_series_equal
from pymongo.collection import Collection

from omegacore import OmegaStore

DATA = Path(__file__).parent / "data"


# ------------------------------------------------------------------------------------------
# conformance
# ------------------------------------------------------------------------------------------
class TestDataFrameConformance(KindConformance, CrashConformance, ColumnsConformance):
    kind = "pandas.dfrows"

    def make_object(self, variant: int) -> pd.DataFrame:
        rng = np.random.default_rng(variant)
        return pd.DataFrame({
            "x": rng.random(20),
            "n": rng.integers(0, 100, 20),
            "s": [f"row{i + variant}" for i in range(20)],
            "t": pd.date_range("2024-01-01", periods=20, freq="min") + pd.Timedelta(variant, "ns"),
        })

    def unsupported_objects(self) -> list[Any]:
        return [object(), {"a": 1}, [1, 2], np.arange(3)]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert_frame_equal(actual, expected, check_exact=True)


class TestSeriesConformance(KindConformance):
    """Series are stored as pandas.serows (as omegaml stores them)."""

    kind = "pandas.serows"

    def make_object(self, variant: int) -> pd.Series:
        return pd.Series(np.arange(10, dtype="int32") * (variant + 1), name=f"s{variant}")

    def unsupported_objects(self) -> list[Any]:
        return [object(), np.arange(3), pd.Index([1, 2])]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert_series_equal(actual, expected, check_exact=True)


class TestDataFrameAppends(AppendConformance):
    kind = "pandas.dfrows"

    def make_part(self, writer: int, i: int) -> pd.DataFrame:
        start = (writer * 100 + i) * 10
        return pd.DataFrame({"writer": writer, "part": i, "x": np.arange(start, start + 10.0)},
                            index=pd.RangeIndex(start, start + 10))

    def combine(self, parts: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(parts)

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert_frame_equal(actual, expected, check_exact=True)

    def assert_same_parts(self, parts: list[pd.DataFrame], actual: Any) -> None:
        # each append's rows come back together and in order; appends in commit order
        keys = list(dict.fromkeys(zip(actual["writer"], actual["part"], strict=True)))
        by_key = {(int(p["writer"].iloc[0]), int(p["part"].iloc[0])): p for p in parts}
        assert sorted(keys) == sorted(by_key)
        assert_frame_equal(actual, pd.concat([by_key[k] for k in keys]), check_exact=True)


def test_keywords_of_other_kinds_never_reach_the_backend(store: OmegaStore) -> None:
    from omegacore_pandas_dfrows.backend import DataFrameRowsBackend, SeriesRowsBackend

    df = pd.DataFrame({"a": [1]})
    assert DataFrameRowsBackend.supports(df, "x")
    assert SeriesRowsBackend.supports(df["a"], "x") and not SeriesRowsBackend.supports(df, "x")
    # a Series is stored as omegaml stores it, so omegaml reads back a Series
    assert store.put(df["a"], "s").kind == "pandas.serows"
    assert store.put(df["a"], "s2", kind="pandas.dfrows").kind == "pandas.dfrows"
    assert_series_equal(store.get("s"), df["a"])
    assert_series_equal(store.get("s2"), df["a"])
    # switched off, they are dropped by the store (the backend refuses unknown options)
    assert store.put(df, "x", as_hdf=False, groupby=None, as_pydata=False).kind == "pandas.dfrows"
    with pytest.raises(TypeError, match=r"unexpected options \['as_hfd'\]"):
        store.put(df, "x", as_hfd=True)


# ------------------------------------------------------------------------------------------
# what is stored where
# ------------------------------------------------------------------------------------------
def test_documents_layout(store: OmegaStore) -> None:
    df = pd.DataFrame({"a.b": [1.5, 2.5], "$x": [1, 2], "_id": ["p", "q"], 7: [True, False]},
                      index=pd.Index([10, 20], name="key"))
    meta = store.put(df, "layout")
    docs = list(store.mongodb[meta.collection].find({}, {"_id": 0}))
    assert docs[0] == {"_idx#0_key": 10, "%sa%2Eb": 1.5, "%s$x": 1, "%s_id": "p", "%i7": True,
                       "_om#rowid": 0}
    assert list(docs[0]) == ["_idx#0_key", "%sa%2Eb", "%s$x", "%s_id", "%i7", "_om#rowid"]
    for doc in docs:
        for key in doc:
            assert "." not in key and not key.startswith("$")
    km = meta.kind_meta
    assert km["idx_meta"] == {"names": ["key"]}
    assert km["columns"][1] == ["a.b", "%sa%2Eb"]
    assert km["dtypes"]["%s$x"] == "int64"
    assert km["omegacore"]["rows"] == 2


def test_datetimes_are_bson_datetimes_with_exact_remainder(store: OmegaStore) -> None:
    ts = pd.Timestamp("2024-05-01 12:00:00.123456789")
    df = pd.DataFrame({"t": [ts, ts.floor("ms")], "z": pd.Series([ts, ts]).dt.tz_localize("UTC")})
    meta = store.put(df, "dates")
    docs = list(store.mongodb[meta.collection].find({}, {"_id": 0}))
    assert docs[0]["t"] == dt.datetime(2024, 5, 1, 12, 0, 0, 123000)
    assert docs[0]["_om#ns_t"] == 456789
    assert docs[1]["_om#ns_t"] == 0
    assert docs[0]["z"] == dt.datetime(2024, 5, 1, 12, 0, 0, 123000)
    assert_frame_equal(store.get("dates"), df)


def test_millisecond_datetimes_store_no_remainder(store: OmegaStore) -> None:
    df = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3, freq="s", unit="ns")})
    meta = store.put(df, "ms")
    doc = store.mongodb[meta.collection].find_one({}, {"_id": 0})
    assert doc is not None and set(doc) == {"_idx#0_0", "t", "_om#rowid"}


def test_unstorable_values_fail_before_writing(store: OmegaStore) -> None:
    store.put(pd.DataFrame({"a": [1, 2]}), "kept")
    before = data_footprint(store)
    meta_before = store.metadata("kept")
    bad = [
        (pd.DataFrame({"c": np.array([1 + 2j, 3j])}), "complex"),
        (pd.DataFrame({"p": pd.period_range("2024", periods=2, freq="M")}), "period"),
        (pd.DataFrame({"o": [1, {1, 2}]}), "set"),
        (pd.DataFrame({"o": [1, object()]}), "object"),
        (pd.DataFrame({"o": [{"k": object()}, 1]}), "object"),
        (pd.DataFrame([[1, 2]], columns=["d", "d"]), "unique"),
        (pd.DataFrame({frozenset([1]): [1]}), "frozenset"),
    ]
    for frame, message in bad:
        for name in ("kept", "new"):
            with pytest.raises((TypeError, ValueError), match=message):
                store.put(frame, name, append=False)
    assert data_footprint(store) == before
    assert not store.exists("new")
    meta_after = store.metadata("kept")
    assert meta_after is not None and meta_before is not None
    assert meta_after.to_mongo() == meta_before.to_mongo()


def test_callers_frame_is_never_modified(store: OmegaStore) -> None:
    df = pd.DataFrame({"a": [1.0, np.nan], "t": [pd.Timestamp("2024"), pd.NaT],
                       "o": [{"k": [1]}, None]}, index=pd.Index(["x", "y"], name="i"))
    df.columns.name = "cols"
    before = copy.deepcopy(df)
    store.put(df, "frame", timestamp=True)
    store.put(df, "frame", append=True, timestamp=("_created", dt.datetime(2024, 1, 1)))
    store.put(df, "frame", append=False, index=["+a"])
    assert_frame_equal(df, before)
    assert df.index.name == "i" and df.columns.name == "cols"
    assert list(df.columns) == ["a", "t", "o"]


def test_unknown_put_option_is_an_error(store: OmegaStore) -> None:
    with pytest.raises(TypeError, match="apend"):
        store.put(pd.DataFrame({"a": [1]}), "x", apend=False)
    assert not store.exists("x")


# ------------------------------------------------------------------------------------------
# append and replace
# ------------------------------------------------------------------------------------------
def test_append_and_replace(store: OmegaStore) -> None:
    first = pd.DataFrame({"a": [1, 2]})
    second = pd.DataFrame({"a": [3, 4]}, index=[2, 3])
    store.put(first, "rows")
    with pytest.warns(UserWarning, match="appending 2 rows"):
        store.put(second, "rows")
    assert_frame_equal(store.get("rows"), pd.concat([first, second]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.put(second, "rows", append=True)
    assert len(store.get("rows")) == 6
    meta = store.put(second, "rows", append=False)
    assert_frame_equal(store.get("rows"), second)
    assert meta.kind_meta["omegacore"]["rows"] == 2
    store.put(first, "rows", replace=True)
    assert_frame_equal(store.get("rows"), first)
    assert len(data_footprint(store)[0]) == 1


def test_append_keeps_row_order_and_index(store: OmegaStore) -> None:
    parts = [pd.DataFrame({"v": np.arange(i * 3, i * 3 + 3)},
                          index=pd.RangeIndex(i * 3, i * 3 + 3)) for i in range(3)]
    store.put(parts[0], "ordered")
    for part in parts[1:]:
        store.put(part, "ordered", append=True)
    got = store.get("ordered")
    assert_frame_equal(got, pd.concat(parts))
    assert isinstance(got.index, pd.RangeIndex)
    store.put(pd.DataFrame({"v": [100]}, index=[50]), "ordered", append=True)
    assert list(store.get("ordered").index) == [*range(9), 50]


def test_append_mismatch_fails_before_writing(store: OmegaStore) -> None:
    store.put(pd.DataFrame({"a": [1, 2]}), "strict")
    before = data_footprint(store), len(store.get("strict"))
    for frame in (pd.DataFrame({"a": [1.5]}), pd.DataFrame({"b": [1]}),
                  pd.DataFrame({"a": [1]}, index=pd.Index(["x"]))):
        with pytest.raises(ValueError, match="cannot append"):
            store.put(frame, "strict", append=True)
    assert (data_footprint(store), len(store.get("strict"))) == before


def test_failed_append_removes_the_rows_it_wrote(
    store: OmegaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import omegacore_pandas.rows as rows

    original = pd.DataFrame({"a": np.arange(5)})
    store.put(original, "undo")
    calls = []

    def failing_insert(collection: Collection, data: bytes, count: int) -> None:
        calls.append(count)
        if len(calls) == 3:
            raise RuntimeError("injected failure during the third chunk")
        rows_insert(collection, data, count)

    rows_insert = rows.insert_raw
    monkeypatch.setattr(rows, "insert_raw", failing_insert)
    with pytest.raises(RuntimeError, match="third chunk"):
        store.put(pd.DataFrame({"a": np.arange(5, 25)}), "undo", append=True, chunksize=4)
    monkeypatch.undo()
    assert calls == [4, 4, 4]
    assert_frame_equal(store.get("undo"), original)
    assert store.mongodb[store.metadata("undo").collection].count_documents({}) == 5


# ------------------------------------------------------------------------------------------
# filters run on the server
# ------------------------------------------------------------------------------------------
@pytest.fixture
def sales(store: OmegaStore) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 60
    df = pd.DataFrame({
        "price": np.round(rng.random(n) * 100, 2),
        "qty": rng.integers(0, 10, n).astype("int32"),
        "city": rng.choice(["Bern", "Zürich", "Genève", "Basel (BS)"], n),
        "when": pd.date_range("2024-01-01", periods=n, freq="37min", unit="ns")
        + pd.to_timedelta(np.arange(n) * 7, unit="ns"),
        "maybe": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Float64"),
        "info": [{"kind": "a" if i % 2 else "b", "level": i % 3} for i in range(n)],
        "flag": rng.random(n) > 0.5,
    }, index=pd.Index([f"id{i:03d}" for i in range(n)], name="sku"))
    df.loc[df.index[3], "price"] = np.nan
    store.put(df, "sales")
    return df


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The filters sent to the server by reads."""
    seen: list[dict[str, Any]] = []
    original = Collection.find_raw_batches

    def spy(self: Collection, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        seen.append(filter)
        return original(self, filter, *args, **kwargs)

    monkeypatch.setattr(Collection, "find_raw_batches", spy)
    return seen


def _check(store: OmegaStore, sales: pd.DataFrame, expected: pd.DataFrame,
           captured: list[dict[str, Any]], **criteria: Any) -> None:
    got = store.get("sales", **criteria)
    assert_frame_equal(got, expected)
    assert captured[-1], "the filter must reach the server"
    # the server returned only the matching rows
    coll = store.mongodb[store.metadata("sales").collection]
    assert coll.count_documents(captured[-1]) == len(expected)


def test_filter_operators(store: OmegaStore, sales: pd.DataFrame,
                          captured: list[dict[str, Any]]) -> None:
    s = sales
    when = s["when"].iloc[20]
    cases = [
        ({"city": "Bern"}, s[s.city == "Bern"]),
        ({"city__eq": "Bern"}, s[s.city == "Bern"]),
        ({"city__ne": "Bern"}, s[s.city != "Bern"]),
        ({"price__lt": 50}, s[s.price < 50]),
        ({"price__lte": s.price.iloc[0]}, s[s.price <= s.price.iloc[0]]),
        ({"price__gt": 50, "qty__gte": 5}, s[(s.price > 50) & (s.qty >= 5)]),
        ({"qty__in": [1, 2, np.int64(3)]}, s[s.qty.isin([1, 2, 3])]),
        ({"qty__nin": [1, 2]}, s[~s.qty.isin([1, 2])]),
        ({"price__between": (10, 20)}, s[(s.price >= 10) & (s.price <= 20)]),
        ({"city__contains": "(BS)"}, s[s.city.str.contains("(BS)", regex=False)]),
        ({"city__startswith": "Zü"}, s[s.city.str.startswith("Zü")]),
        ({"city__endswith": "ève"}, s[s.city.str.endswith("ève")]),
        ({"city__regex": "^B.*[ln]$"}, s[s.city.str.match(r"^B.*[ln]$")]),
        ({"price__isnull": True}, s[s.price.isna()]),
        ({"maybe__isnull": True}, s[s.maybe.isna()]),
        ({"maybe__isnull": False}, s[s.maybe.notna()]),
        ({"maybe__exists": True}, s),
        ({"flag": True}, s[s.flag]),
        ({"info__kind": "a", "info__level__gte": 1},
         s[s["info"].map(lambda d: d["kind"] == "a" and d["level"] >= 1)]),
        ({"when": when}, s[s.when == when]),
        ({"when__gt": when}, s[s.when > when]),
        ({"when__gte": when}, s[s.when >= when]),
        ({"when__lt": when}, s[s.when < when]),
        ({"when__lte": when}, s[s.when <= when]),
        ({"when__lte": when.floor("ms")}, s[s.when <= when.floor("ms")]),
        ({"when__ne": when}, s[s.when != when]),
        ({"when__in": [when, s.when.iloc[2]]}, s[s.when.isin([when, s.when.iloc[2]])]),
        ({"when__between": ("2024-01-01 03:00", "2024-01-01 09:00")},
         s[(s.when >= "2024-01-01 03:00") & (s.when <= "2024-01-01 09:00")]),
        ({"sku": "id005"}, s.loc[["id005"]]),
        ({"sku__in": ["id001", "id010"]}, s.loc[["id001", "id010"]]),
        ({"sku__gte": "id050"}, s[s.index >= "id050"]),
    ]
    for criteria, expected in cases:
        _check(store, s, expected, captured, **criteria)


def test_filter_argument_and_keywords(store: OmegaStore, sales: pd.DataFrame) -> None:
    s = sales
    got = store.get("sales", filter={"city": "Bern"}, qty__gt=3)
    assert_frame_equal(got, s[(s.city == "Bern") & (s.qty > 3)])
    got = store.get("sales", filter={"city": "Bern"}, city="Basel (BS)")
    assert_frame_equal(got, s[s.city == "Bern"])  # filter wins
    got = store.get_dataframe_documents("sales", filter={"price__gt": 90}, columns=["price"])
    assert_frame_equal(got, s.loc[s.price > 90, ["price"]])


def test_filter_on_multiindex_levels_and_tz(store: OmegaStore) -> None:
    index = pd.MultiIndex.from_product(
        [["a", "b"], pd.date_range("2024-03-30", periods=4, freq="12h", tz="Europe/Zurich")],
        names=["letter", "at"])
    df = pd.DataFrame({"v": np.arange(8)}, index=index)
    store.put(df, "multi")
    at = df.index.get_level_values("at")
    got = store.get("multi", letter="b", at__gte=pd.Timestamp("2024-03-31 00:00"))
    assert_frame_equal(got, df[(df.index.get_level_values(0) == "b")
                               & (at >= pd.Timestamp("2024-03-31", tz="Europe/Zurich"))],
                       check_freq=False)  # a subset of a level keeps no frequency
    utc = pd.Timestamp("2024-03-30 23:00", tz="UTC")  # the same instant as 00:00 in Zurich
    got = store.get("multi", at=utc)
    assert_frame_equal(got, df[at == utc])


def test_user_filters_are_data(store: OmegaStore, sales: pd.DataFrame) -> None:
    attacks = [
        {"$where": "sleep(1000)"},
        {"city": {"$ne": "nobody"}},
        {"city__in": [{"$gt": ""}]},
        {"$or": [{"city": "Bern"}]},
        {"info": {"$function": {"body": "return true", "args": [], "lang": "js"}}},
    ]
    for criteria in attacks:
        with pytest.raises(ValueError, match="operator|runs code"):
            store.get("sales", filter=criteria)
    with pytest.raises(ValueError, match="does not name a stored column"):
        store.get("sales", nosuchcolumn=1)
    with pytest.raises(ValueError, match="runs code"):
        store.get("sales", filter={"$where": "true"}, trusted=True)
    # a dict value is matched literally, not as operators
    assert len(store.get("sales", info={"kind": "zzz", "level": 0})) == 0


def test_trusted_filters_pass_operators(store: OmegaStore, sales: pd.DataFrame) -> None:
    s = sales
    got = store.get("sales", filter={"price": {"$gt": 90}}, trusted=True)
    assert_frame_equal(got, s[s.price > 90])
    got = store.get("sales", filter={"$or": [{"city": "Bern"}, {"qty": 0}]}, trusted=True)
    assert_frame_equal(got, s[(s.city == "Bern") | (s.qty == 0)])


# ------------------------------------------------------------------------------------------
# get options
# ------------------------------------------------------------------------------------------
def test_columns_projection_and_is_series(store: OmegaStore, sales: pd.DataFrame,
                                          captured: list[dict[str, Any]]) -> None:
    s = sales
    assert_frame_equal(store.get("sales", columns=["when", "city"]), s[["when", "city"]])
    assert_series_equal(store.get("sales", columns=["qty"], is_series=True), s["qty"])
    with pytest.raises(KeyError, match="nope"):
        store.get("sales", columns=["nope"])
    store.put(pd.DataFrame({(1, "a"): [1], (2, "b"): [2]}), "tuples")
    got = store.get("tuples", columns=[(2, "b")])
    assert list(got.columns) == [(2, "b")] and got.iloc[0, 0] == 2


def test_chunksize_iterates_frames(store: OmegaStore) -> None:
    df = pd.DataFrame({"a": np.arange(25), "b": np.arange(25) * 0.5})
    store.put(df, "chunked")
    chunks = list(store.get("chunked", chunksize=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert_frame_equal(pd.concat(chunks), df)
    chunks = list(store.get("chunked", chunksize=10, a__gte=20))
    assert [len(c) for c in chunks] == [5]
    empty = list(store.get("chunked", chunksize=10, a__gt=100))
    assert len(empty) == 1 and empty[0].empty and list(empty[0].columns) == ["a", "b"]
    with pytest.raises(ValueError, match="chunksize"):
        list(store.get("chunked", chunksize=0))


def test_lazy_goes_through_open_lazy(store: OmegaStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import omegacore_pandas_dfrows.backend as backend

    store.put(pd.DataFrame({"a": [1]}), "lazy")
    seen = {}

    def fake_open_lazy(store: Any, name: str, meta: Any, **kwargs: Any) -> str:
        seen.update(name=name, kind=meta.kind, **kwargs)
        return "mdataframe"

    monkeypatch.setattr(backend, "open_lazy", fake_open_lazy)
    assert store.get("lazy", lazy=True, a__gt=0, columns=["a"]) == "mdataframe"
    assert seen["name"] == "lazy" and seen["filter"] == {"a__gt": 0} and seen["columns"] == ["a"]
    assert store.getl("lazy") == "mdataframe"
    assert store.get_dataframe_documents("lazy", lazy=True) == "mdataframe"


def test_index_option_creates_indexes(store: OmegaStore) -> None:
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4], "geo": [
        {"type": "Point", "coordinates": [7.4, 46.9]},
        {"type": "Point", "coordinates": [8.5, 47.4]}]},
        index=pd.Index(["x", "y"], name="key"))
    meta = store.put(df, "indexed", index=["+a", "-b"])
    coll = store.mongodb[meta.collection]
    keys = [list(ix["key"].items()) for ix in coll.list_indexes()]
    assert [("a", 1), ("b", -1)] in keys
    store.put(df, "indexed", index="key", append=True)
    keys = [list(ix["key"].items()) for ix in coll.list_indexes()]
    assert [("_idx#0_key", 1)] in keys
    meta = store.put(df, "geo", index=["@geo"])
    keys = [list(ix["key"].items()) for ix in store.mongodb[meta.collection].list_indexes()]
    assert [("geo", "2dsphere")] in keys
    meta = store.put(df, "unique", index={"columns": ["a"], "unique": True})
    with pytest.raises(Exception, match="[Dd]uplicate"):
        store.put(df, "unique", append=True)
    assert len(store.get("unique")) == 2  # the failed append left nothing behind
    with pytest.raises(ValueError, match="not a column"):
        store.put(df, "bad", index=["+nope"])
    assert not store.exists("bad")


def test_timestamp_option(store: OmegaStore) -> None:
    df = pd.DataFrame({"a": [1, 2]})
    start = pd.Timestamp.now("UTC").tz_localize(None).floor("s")
    got = store.get(store.put(df, "t1", timestamp=True).name)
    assert got["_created"].iloc[0] >= start and list(got.columns) == ["a", "_created"]
    got = store.get(store.put(df, "t2", timestamp="stamp").name)
    assert "stamp" in got.columns
    when = dt.datetime(2020, 2, 2, 2, 2, 2)
    got = store.get(store.put(df, "t3", timestamp=when).name)
    assert (got["_created"] == when).all()
    got = store.get(store.put(df, "t4", timestamp=("at", when)).name)
    assert (got["at"] == when).all()
    with pytest.raises(ValueError, match="timestamp"):
        store.put(df, "t5", timestamp=3.5)


def test_mixin_methods(store: OmegaStore) -> None:
    df = pd.DataFrame({"a": [1, 2, 3]})
    meta = store.put_dataframe_as_documents(df, "mixed", index=["a"])
    assert meta.kind == "pandas.dfrows"
    store.put_dataframe_as_documents(df, "mixed", append=True)
    assert len(store.get_dataframe_documents("mixed")) == 6
    store.put_dataframe_as_documents(df, "mixed", append=False)
    assert_frame_equal(store.get_dataframe_documents("mixed", a__gt=1), df[df.a > 1])
    assert_series_equal(store.get_dataframe_documents("mixed", is_series=True), df["a"])
    from omegacore.errors import DoesNotExist

    with pytest.raises(DoesNotExist):
        store.get_dataframe_documents("missing")


def test_column_names(store: OmegaStore) -> None:
    backend = store.get_backend_bykind("pandas.dfrows")
    df = pd.DataFrame({"b": [1], 3: [2.0], ("t", 1): ["x"]})
    assert backend.column_names(store.put(df, "cols")) == ["b", 3, ("t", 1)]
    assert backend.column_names(store.put(pd.Series([1], name="s"), "ser")) is None


def test_fast_path_is_taken_and_matches_general(store: OmegaStore) -> None:
    """Fixed-size frames use the vectorised paths; they give the same bytes and frames."""
    import bson
    from omegacore_pandas.decode import RowDecoder
    from omegacore_pandas.encode import ObjectIdRanges, RowEncoder
    from omegacore_pandas.layout import FrameLayout

    df = pd.DataFrame({
        "f": np.linspace(0, 1, 500), "i": np.arange(500, dtype="int16"),
        "u": np.arange(500, dtype="uint64"), "b": np.arange(500) % 3 == 0,
        "t": pd.date_range("2024", periods=500, freq="s", unit="ns") + pd.Timedelta(5, "ns"),
        "z": pd.date_range("2024", periods=500, freq="h", tz="Asia/Tokyo"),
        "d": pd.to_timedelta(np.arange(500), unit="ms"),
        "n": pd.array(np.arange(500), dtype="Int32"),
    }, index=pd.date_range("2000", periods=500, freq="D", name="day"))
    layout = FrameLayout.from_frame(df)
    fast = list(RowEncoder(df, layout, ids=_fixed_ids()).chunks(100, fast=True))
    general = list(RowEncoder(df, layout, ids=_fixed_ids()).chunks(100, fast=False))
    assert all(c.fast for c in fast) and not any(c.fast for c in general)
    assert [c.data for c in fast] == [c.data for c in general]
    docs = bson.decode_all(fast[0].data)
    assert docs[0]["_om#rowid"] == 0 and isinstance(docs[0]["_id"], bson.ObjectId)

    meta = store.put(df, "fast")
    decoder = RowDecoder(FrameLayout.from_kind_meta(meta.kind_meta))
    for data in store.mongodb[meta.collection].find_raw_batches():
        decoder.add(data)
    assert decoder.fast_batches >= 1 and decoder.general_batches == 0
    assert_frame_equal(decoder.frame(), df, check_exact=True)
    del ObjectIdRanges


def _fixed_ids() -> Any:
    from omegacore_pandas.encode import ObjectIdRanges

    ids = ObjectIdRanges()
    ids._new_prefix = lambda: _set_prefix(ids)  # type: ignore[method-assign]
    return ids


def _set_prefix(ids: Any) -> None:
    ids._prefix = np.arange(9, dtype=np.uint8)
    ids._counter = 0


# ------------------------------------------------------------------------------------------
# data written by omegaml 0.18
# ------------------------------------------------------------------------------------------
def _omegaml_expected() -> dict[str, Any]:
    simple = pd.DataFrame({
        "i": np.arange(5, dtype="int64"),
        "f": [0.5, 1.5, np.nan, 3.5, 4.5],
        # strings with None are an object column holding None, as omegaml gives them
        "s": pd.Series(["a", "b", None, "d", "e"], dtype=object),
        "b": [True, False, True, False, True],
        "ts": pd.to_datetime(["2024-01-01 10:00:00.123", "2024-01-02", "2024-01-03",
                              "2024-01-04", "2024-01-05"], format="ISO8601").astype(
            "datetime64[ns]"),
        "tz": pd.date_range("2024-03-01", periods=5, freq="h", tz="Europe/Zurich", unit="ns"),
    })
    return {
        "simple": simple,
        "named_index": pd.DataFrame({"x": [1.0, 2.0, 3.0]},
                                    index=pd.Index([10, 20, 30], name="key")),
        "multi": pd.DataFrame({"v": [1, 2, 3, 4]}, index=pd.MultiIndex.from_arrays(
            [pd.Index(["a", "a", "b", "b"], dtype=object), [1, 2, 1, 2]],
            names=["letter", "num"])),
        "dtindex": pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0]},
                                index=pd.date_range("2024-01-01", periods=4, freq="D",
                                                    unit="ns")),
        "oddcols": pd.DataFrame({"a.b": [1, 2], 1: [3.0, 4.0],
                                 "c": pd.Series(["x", "y"], dtype=object)}),
        "series_named": pd.Series([1.5, 2.5, 3.5], name="price"),
        "series_unnamed": pd.Series([1, 2, 3]),
        "appended": pd.DataFrame({"a": [1, 2, 3, 4]}),
    }


def test_omegaml_compat(store: OmegaStore) -> None:
    dump = json_util.loads((DATA / "omegaml-0.18.json").read_text())
    for item in dump["objects"]:
        meta = dict(item["metadata"])
        meta["bucket"], meta["prefix"] = store.bucket, store.prefix
        store._metadata_collection.insert_one(meta)
        store.mongodb[meta["collection"]].insert_many(item["documents"])
    expected = _omegaml_expected()
    for obj in expected.values():  # column labels as omegaml gives them: an object index
        if isinstance(obj, pd.DataFrame):
            obj.columns = obj.columns.astype(object)
    assert sorted(store.list()) == sorted(expected)
    for name, obj in expected.items():
        got = store.get(name)
        if isinstance(obj, pd.Series):
            assert_series_equal(got, obj, check_exact=True)
        else:
            assert_frame_equal(got, obj, check_exact=True, check_freq=True)
    # filters and projections work on omegaml's layout too
    assert_frame_equal(store.get("simple", i__gte=3, columns=["i", "s"]),
                       expected["simple"].loc[[3, 4], ["i", "s"]])
    got = store.get("multi", letter="b")
    assert list(got["v"]) == [3, 4]
    # appends go into omegaml's layout; other columns are refused
    with pytest.raises(ValueError, match="written by omegaml: the index levels, columns"):
        store.put(pd.DataFrame({"zz": [5]}), "appended", append=True)
    stored = store.get("appended")
    store.put(stored.iloc[:1], "appended", append=True)
    assert_frame_equal(store.get("appended"), stored.iloc[[*range(len(stored)), 0]])
    store.put(pd.DataFrame({"a": [5]}), "appended", append=False)
    assert_frame_equal(store.get("appended"), pd.DataFrame({"a": [5]}))
