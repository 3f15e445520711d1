"""pandas.dfgroup: conformance, round trips, layout, replace/append, bad input, big groups."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import bson
import numpy as np
import pandas as pd
import pytest
from omegacore_pandas_dfgroup.backend import DataFrameGroupBackend
from omegacore_pandas_dfgroup.decode import GroupDecoder, iter_documents
from omegacore_pandas_dfgroup.encode import group_codes
from omegacore_pandas_dfgroup.layout import DATA_FIELD, MAX_DOCUMENT_BYTES, GroupLayout
from omegacore_testing import ColumnsConformance, KindConformance, data_footprint
from omegacore_testing.crash import AppendConformance, CrashConformance
from omegacore_testing.faults import fail_before_commit

from omegacore import OmegaStore
from omegacore.errors import PluginHookError

KIND = "pandas.dfgroup"


def assert_same(expected: pd.DataFrame, actual: Any) -> None:
    assert isinstance(actual, pd.DataFrame)
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)


def sample(variant: int = 0, n: int = 30) -> pd.DataFrame:
    """Interleaved groups, so the row order across groups matters."""
    rng = np.random.default_rng(variant)
    return pd.DataFrame({
        "x": rng.integers(0, 100, n + variant),
        "g": rng.choice(["a", "b", "c"], n + variant),
        "y": rng.random(n + variant),
        "when": pd.date_range("2024-01-01", periods=n + variant, freq="37min"),
    })


def documents(store: OmegaStore, name: str) -> list[dict[str, Any]]:
    meta = store.metadata(name)
    assert meta is not None
    return list(store.mongodb[meta.collection].find())


class TestDfgroupConformance(KindConformance, CrashConformance, ColumnsConformance):
    kind = KIND
    put_kwargs = {"groupby": ["g"]}

    def make_object(self, variant: int) -> pd.DataFrame:
        return sample(variant)

    def unsupported_objects(self) -> list[Any]:
        return [object(), pd.Series([1, 2]), np.arange(3), {"g": [1]}]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert_same(expected, actual)


class TestDfgroupAppends(AppendConformance):
    kind = KIND
    append_kwargs = {"groupby": ["g"], "append": True}

    def make_part(self, writer: int, i: int) -> pd.DataFrame:
        return pd.DataFrame({"g": ["a", "b", "a"], "writer": writer, "part": i,
                             "x": [float(i), i + 0.5, i + 0.25]})

    def combine(self, parts: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(parts)  # each appended frame keeps its index

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert_same(expected, actual)

    def assert_same_parts(self, parts: list[pd.DataFrame], actual: Any) -> None:
        order = ["writer", "part", "x"]
        got = actual.sort_values(order, ignore_index=True)
        want = pd.concat(parts, ignore_index=True).sort_values(order, ignore_index=True)
        pd.testing.assert_frame_equal(got, want, check_exact=True)


# ------------------------------------------------------------------------------------------
# choosing the kind
# ------------------------------------------------------------------------------------------
def test_chosen_only_with_groupby(store: OmegaStore) -> None:
    df = sample()
    assert store.put(df, "grouped", groupby="g").kind == KIND
    assert store.put(df, "plain").kind != KIND
    assert DataFrameGroupBackend.supports(df, "x", groupby=None) is False
    assert store.put(df, "explicit", kind=KIND, groupby="g").kind == KIND
    assert store.put(df, "off", groupby=None).kind == "pandas.dfrows"
    if store.plugins.kind("pandas.hdf") is not None:
        with pytest.raises(TypeError, match="groupby='g' chooses 'pandas.dfgroup'; as_hdf=True "
                                            "chooses 'pandas.hdf'"):
            store.put(df, "both", groupby="g", as_hdf=True)
    assert not store.exists("both")


# ------------------------------------------------------------------------------------------
# round trips
# ------------------------------------------------------------------------------------------
def many_dtypes() -> pd.DataFrame:
    ts = pd.Timestamp("2024-03-31 01:59:59.123456789")
    frame = pd.DataFrame({
        "int8": np.array([-128, 0, 1, 127, 5, 5], dtype="int8"),
        "uint64": np.array([2**64 - 1, 0, 1, 2, 3, 2**64 - 1], dtype="uint64"),
        "float32": np.array([1.5, np.nan, -np.inf, 0.0, -0.0, 1.5], dtype="float32"),
        "float": [0.0, -0.0, np.nan, 1.0, np.nan, 0.0],
        "bool": [True, False, True, True, False, False],
        "Int64": pd.array([None, 2**62, -(2**63), 0, None, 0], dtype="Int64"),
        "boolean": pd.array([True, None, False, True, None, True], dtype="boolean"),
        "str": pd.Series(["a", None, "ü €", "", "a", None]),
        "string": pd.array(["x", None, "y\x00z", ".", "x", "x"], dtype="string"),
        "category": pd.Categorical(["b", "a", None, "b", "b", "a"],
                                   categories=["b", "a", "unused"], ordered=True),
        "ns": pd.Series([ts, ts + pd.Timedelta(1, "ns"), pd.NaT, ts, ts, pd.NaT]),
        "tz": pd.Series([ts, ts, pd.NaT, ts, ts, ts]).dt.tz_localize("Europe/Zurich"),
        "us": pd.Series(pd.date_range("2024-10-27", periods=6, freq="37min", unit="us")),
        "td": pd.Series(pd.to_timedelta([1, -5, None, 10**15, 1, 1], unit="ns")),
        "object": pd.Series([1, "1", True, 1.0, None, np.nan], dtype=object),
        "special": pd.Series([
            {"a": 1, "b": {"c": [1, 2]}}, {"x.y": 1, "$z": 2, 3: "int"}, (1, 2),
            decimal.Decimal("1.10"), b"bytes\x00", dt.date(2024, 2, 29),
        ], dtype=object),
    })
    return frame


def test_round_trip_many_dtypes(store: OmegaStore) -> None:
    df = many_dtypes()
    df["g"] = ["k1", "k2", "k1", "k3", "k2", "k1"]
    store.put(df, "dtypes", groupby="g")
    assert_same(df, store.get("dtypes"))


KEY_COLUMNS = ["int8", "uint64", "float32", "float", "bool", "Int64", "boolean", "str", "string",
               "category", "ns", "tz", "us", "td", "object"]


@pytest.mark.parametrize("key", KEY_COLUMNS)
def test_every_dtype_as_group_key(store: OmegaStore, key: str) -> None:
    df = many_dtypes()
    store.put(df, "keyed", groupby=key)
    assert_same(df, store.get("keyed"))
    assert len(documents(store, "keyed")) == len(set(group_codes(df, [df.columns.get_loc(key)])))


def test_several_keys_and_key_order(store: OmegaStore) -> None:
    df = many_dtypes()
    store.put(df, "multi", groupby=["str", "int8", "category"])
    assert_same(df, store.get("multi"))
    meta = store.metadata("multi")
    assert meta is not None
    assert meta.kind_meta["dfgroup"]["keys"] == ["str", "int8", "category"]
    doc = documents(store, "multi")[0]
    assert [k for k in doc if k not in ("_id", DATA_FIELD)][:3] == ["str", "int8", "category"]


def test_row_order_and_index_restored(store: OmegaStore) -> None:
    df = sample(3, n=200)
    df.index = pd.Index(np.random.default_rng(1).permutation(len(df)) * 3, name="id")
    store.put(df, "order", groupby="g")
    assert_same(df, store.get("order"))
    # within each stored group the rows keep their order
    for doc in documents(store, "order"):
        rowids = [row["_om#rowid"] for row in doc[DATA_FIELD]]
        assert rowids == sorted(rowids)


@pytest.mark.parametrize("index", ["range_offset", "datetime_freq", "multi", "string"])
def test_indexes(store: OmegaStore, index: str) -> None:
    df = sample(1, n=24)
    n = len(df)
    if index == "range_offset":
        df.index = pd.RangeIndex(10, 10 + 2 * n, 2, name="r")
    elif index == "datetime_freq":
        df.index = pd.date_range("2024-01-01", periods=n, freq="D", name="day")
    elif index == "multi":
        df.index = pd.MultiIndex.from_arrays(
            [np.arange(n) % 3, [f"k{i}" for i in range(n)]], names=["level", None])
    else:
        df.index = pd.Index([f"row{i}" for i in range(n)], dtype="str")
    store.put(df, "indexed", groupby="g")
    assert_same(df, store.get("indexed"))


def test_odd_column_names(store: OmegaStore) -> None:
    names = ["a.b", "$dollar", "_id", 3, 2.5, None, True, "%pct", "_om#rowid", ("tuple", 1),
             DATA_FIELD]
    df = pd.DataFrame({i: np.arange(8) % (i + 2) for i in range(len(names))})
    df.columns = pd.Index(names, dtype=object)
    for key in ("a.b", "$dollar", 3, None, ("tuple", 1), "_id"):
        store.put(df, "odd", groupby=[key])
        assert_same(df, store.get("odd"))
    store.put(df, "odd", groupby=["a.b", 3])
    assert_same(df, store.get("odd"))
    assert_same(df[df["a.b"] == 1], store.get("odd", filter={"a.b": 1}))
    assert_same(df[df[3] > 2], store.get("odd", filter={3: {"$gt": 2}}, trusted=True))
    assert_same(df[df["_id"] == 2], store.get("odd", filter={"_id": 2}))
    # a name starting with $ is refused by filters; its encoded field name is not
    assert_same(df[df["$dollar"] == 2], store.get("odd", filter={"%s$dollar": 2}))


def test_multiindex_columns(store: OmegaStore) -> None:
    df = pd.DataFrame(np.arange(24).reshape(6, 4) % 3,
                      columns=pd.MultiIndex.from_product([["a", "b"], ["x", "y"]],
                                                         names=["top", "sub"]))
    store.put(df, "mi", groupby=("a", "x"))
    assert_same(df, store.get("mi"))
    store.put(df, "mi", groupby=[("a", "x"), ("b", "y")])
    assert_same(df, store.get("mi"))


def test_empty_frame(store: OmegaStore) -> None:
    df = sample().iloc[:0]
    meta = store.put(df, "empty", groupby="g")
    assert meta.collection in store.mongodb.list_collection_names()
    assert_same(df, store.get("empty"))
    assert_same(df, store.get("empty", x__gt=1))


def test_all_columns_are_keys(store: OmegaStore) -> None:
    df = pd.DataFrame({"a": [1, 1, 2], "b": ["x", "x", "y"]})
    store.put(df, "keys_only", groupby=["a", "b"])
    assert_same(df, store.get("keys_only"))
    assert len(documents(store, "keys_only")) == 2


# ------------------------------------------------------------------------------------------
# the stored layout
# ------------------------------------------------------------------------------------------
def test_document_layout(store: OmegaStore) -> None:
    df = pd.DataFrame({"g": ["a", "b", "a"], "k": [1, 1, 2], "x": [1.5, 2.5, 3.5],
                       "s": ["p", "q", "r"]})
    meta = store.put(df, "layout", groupby=["g", "k"], attributes={"owner": "ann"})
    docs = documents(store, "layout")
    assert len(docs) == 3
    first = docs[0]
    assert set(first) == {"_id", "g", "k", DATA_FIELD}
    assert (first["g"], first["k"]) == ("a", 1)
    assert first[DATA_FIELD] == [{"_idx#0_0": 0, "x": 1.5, "s": "p", "_om#rowid": 0}]
    assert meta.kind_meta["dfgroup"] == {"format": 1, "keys": ["g", "k"], "groupby": ["g", "k"]}
    assert [c for _, c in meta.kind_meta["columns"]][:5] == ["_idx#0_0", "g", "k", "x", "s"]
    indexes = store.mongodb[meta.collection].index_information()
    assert any(ix["key"] == [("g", 1), ("k", 1)] for ix in indexes.values())


def test_readable_the_omegaml_way(store: OmegaStore) -> None:
    """An omegaml-style reader (keys + each element) sees every column, plus two fields."""
    df = pd.DataFrame({"g": ["a", "b", "a"], "x": [1, 2, 3], "s": ["p", "q", "r"]})
    store.put(df, "readable", groupby="g")
    rows = []
    for doc in documents(store, "readable"):
        keys = {k: v for k, v in doc.items() if k not in ("_id", DATA_FIELD)}
        rows.extend({**keys, **row} for row in doc[DATA_FIELD])
    flat = pd.DataFrame(rows).sort_values("_om#rowid").reset_index(drop=True)
    assert set(flat.columns) == {"g", "x", "s", "_idx#0_0", "_om#rowid"}
    pd.testing.assert_frame_equal(flat[["x", "g", "s"]], df[["x", "g", "s"]])


# ------------------------------------------------------------------------------------------
# many rows, big groups
# ------------------------------------------------------------------------------------------
def test_50k_rows_20_groups(store: OmegaStore) -> None:
    n = 50_000
    rng = np.random.default_rng(7)
    df = pd.DataFrame({
        "g": rng.integers(0, 20, n),
        "a": rng.random(n),
        "b": rng.integers(-1000, 1000, n),
        "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**12, n)),
        "s": rng.choice(["alpha", "beta", "gamma"], n),
    })
    store.put(df, "big50k", groupby="g")
    docs = store.mongodb[store.metadata("big50k").collection].count_documents({})  # type: ignore[union-attr]
    assert docs == 20
    assert_same(df, store.get("big50k"))
    got = store.get("big50k", g__in=[3, 4], b__gt=900, s__startswith="g")
    assert_same(df[df.g.isin([3, 4]) & (df.b > 900) & (df.s.str.startswith("g"))], got)
    got = store.get("big50k", when__lt=pd.Timestamp("2024-01-01 00:01"))
    assert_same(df[df.when < pd.Timestamp("2024-01-01 00:01")], got)


def test_group_larger_than_a_document(store: OmegaStore) -> None:
    """One group of ~19 MB: more than one MongoDB document (16 MB) can hold."""
    n = 19_000
    text = "x" * 1000
    df = pd.DataFrame({
        "g": ["big"] * n + ["small"] * 3,
        "i": np.arange(n + 3),
        "s": [text + str(i) for i in range(n + 3)],
    })
    naive = bson.encode({"g": "big", DATA_FIELD: df[df.g == "big"][["i", "s"]].to_dict("records")})
    assert len(naive) > 16 * 1024 * 1024
    meta = store.put(df, "huge", groupby="g")
    coll = store.mongodb[meta.collection]
    big_docs = coll.count_documents({"g": "big"})
    assert big_docs >= 4  # about 4 MB each
    assert coll.count_documents({"g": "small"}) == 1
    sizes = [len(d) for batch in coll.find_raw_batches() for d in iter_documents(batch)]
    assert max(sizes) < MAX_DOCUMENT_BYTES
    assert_same(df, store.get("huge"))
    assert_same(df[df.i.isin([5, 18_999, 19_001])], store.get("huge", i__in=[5, 18_999, 19_001]))
    assert_same(df[df.g == "small"], store.get("huge", g="small"))


def test_document_bytes_splits_groups(store: OmegaStore) -> None:
    df = sample(2, n=500)
    meta = store.put(df, "split", groupby="g", document_bytes=2048)
    coll = store.mongodb[meta.collection]
    assert coll.count_documents({}) > 20
    for batch in coll.find_raw_batches():
        for doc in iter_documents(batch):
            assert len(doc) <= 2 * 2048
    assert_same(df, store.get("split"))
    assert_same(df[(df.g == "b") & (df.x > 50)], store.get("split", g="b", x__gt=50))


def test_row_too_large_for_any_document(store: OmegaStore) -> None:
    store.put(sample(), "kept", groupby="g")
    before = data_footprint(store)
    df = pd.DataFrame({"g": [1, 1], "s": ["small", "x" * (17 * 1024 * 1024)]})
    with pytest.raises(ValueError, match="more than a MongoDB document holds"):
        store.put(df, "kept", groupby="g")
    assert data_footprint(store) == before
    assert_same(sample(), store.get("kept"))


# ------------------------------------------------------------------------------------------
# replace and append
# ------------------------------------------------------------------------------------------
def test_put_again_replaces(store: OmegaStore) -> None:
    store.put(sample(0), "again", groupby="g")
    store.put(sample(1), "again", groupby="g")
    assert_same(sample(1), store.get("again"))
    store.put(sample(2), "again", groupby="x", append=False)
    assert_same(sample(2), store.get("again"))
    assert store.metadata("again").kind_meta["dfgroup"]["keys"] == ["x"]  # type: ignore[union-attr]


def test_append_adds_groups(store: OmegaStore) -> None:
    first, second = sample(0, n=20), sample(1, n=20)
    second["g"] = second["g"].replace({"c": "d"})  # a new group and existing ones
    store.put(first, "app", groupby="g")
    before = len(documents(store, "app"))
    store.put(second, "app", groupby="g", append=True)
    expected = pd.concat([first, second])
    assert_same(expected, store.get("app"))
    assert len(documents(store, "app")) == before + second.g.nunique()
    # groupby may be left out when appending through the explicit kind
    store.put(first, "app", kind=KIND, append=True)
    assert_same(pd.concat([first, second, first]), store.get("app"))
    combined = pd.concat([first, second, first])
    assert_same(combined[(combined.g == "a") & (combined.x > 50)],
                store.get("app", g="a", x__gt=50))


def test_append_checks_before_writing(store: OmegaStore) -> None:
    store.put(sample(0), "app", groupby="g")
    before = data_footprint(store), len(documents(store, "app"))
    with pytest.raises(ValueError, match="grouped by"):
        store.put(sample(1), "app", groupby="x", append=True)
    with pytest.raises(ValueError, match="columns or dtypes differ"):
        store.put(sample(1).assign(extra=1), "app", groupby="g", append=True)
    with pytest.raises(ValueError, match="columns or dtypes differ"):
        store.put(sample(1).astype({"x": "float64"}), "app", groupby="g", append=True)
    assert (data_footprint(store), len(documents(store, "app"))) == before
    store.put(sample(0), "rows")
    with pytest.raises(ValueError, match="not as pandas.dfgroup"):
        store.put(sample(0), "rows", groupby="g", append=True)


def test_failed_append_removes_what_it_added(store: OmegaStore,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store.put(sample(0), "app", groupby="g")
    count = len(documents(store, "app"))

    with fail_before_commit(store), pytest.raises(PluginHookError, match="injected failure"):
        store.put(sample(1), "app", groupby="g", append=True)
    assert len(documents(store, "app")) == count
    assert_same(sample(0), store.get("app"))


# ------------------------------------------------------------------------------------------
# bad input: a clear error, nothing written
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("groupby, error, match", [
    ("nope", ValueError, "not a column"),
    (["g", "nope"], ValueError, "not a column"),
    ([], ValueError, "names no column"),
    (["g", "g"], ValueError, "more than once"),
    ([["g"]], ValueError, "not a column"),
])
def test_bad_groupby(store: OmegaStore, groupby: Any, error: type, match: str) -> None:
    store.put(sample(0), "kept", groupby="g")
    before = data_footprint(store)
    with pytest.raises(error, match=match):
        store.put(sample(1), "kept", groupby=groupby)
    assert data_footprint(store) == before
    assert_same(sample(0), store.get("kept"))


@pytest.mark.parametrize("values", [
    [[1], [2], [1]],
    [{"a": 1}, {"a": 1}, {"b": 2}],
    [(1, [2]), (1, [2]), (3, [4])],
    [{1, 2}, {1}, {2}],
])
def test_unhashable_keys(store: OmegaStore, values: list[Any]) -> None:
    store.put(sample(0), "kept", groupby="g")
    before = data_footprint(store)
    df = pd.DataFrame({"key": pd.Series(values, dtype=object), "x": [1, 2, 3]})
    with pytest.raises(TypeError, match="cannot be a group key"):
        store.put(df, "kept", groupby="key")
    assert data_footprint(store) == before
    assert_same(sample(0), store.get("kept"))


def test_other_bad_input(store: OmegaStore) -> None:
    before = data_footprint(store)
    with pytest.raises(ValueError, match="groupby= is required"):
        store.put(sample(), "bad", kind=KIND)
    with pytest.raises(TypeError, match="stores DataFrames"):
        store.put(pd.Series([1, 2]), "bad", kind=KIND, groupby="g")
    with pytest.raises(TypeError, match="unexpected options"):
        store.put(sample(), "bad", groupby="g", index=["x"])
    with pytest.raises(TypeError, match="complex"):
        store.put(sample().assign(c=1j), "bad", groupby="g")
    with pytest.raises(TypeError, match="cannot be stored as BSON"):
        store.put(sample().assign(o=object()), "bad", groupby="g")
    with pytest.raises(ValueError, match="named '_data'"):
        store.put(sample().rename(columns={"g": DATA_FIELD}), "bad", groupby=DATA_FIELD)
    with pytest.raises(ValueError, match="document_bytes"):
        store.put(sample(), "bad", groupby="g", document_bytes=10)
    assert data_footprint(store) == before
    assert not store.exists("bad")


# ------------------------------------------------------------------------------------------
# grouping and decoding, unit level
# ------------------------------------------------------------------------------------------
def test_group_codes_keep_values_apart() -> None:
    df = pd.DataFrame({
        "f": [0.0, -0.0, np.nan, np.nan, 0.0],
        "o": pd.Series([1, True, 1.0, None, np.nan], dtype=object),
        "n": pd.array([1.5, None, 1.5, None, 2.0], dtype="Float64"),
    })
    assert group_codes(df, [0]).tolist() == [0, 1, 2, 2, 0]
    assert group_codes(df, [1]).tolist() == [0, 1, 2, 3, 4]
    assert group_codes(df, [2]).tolist() == [0, 1, 0, 1, 2]
    assert group_codes(df, [0, 2]).tolist() == [0, 1, 2, 3, 4]


def test_fast_and_general_decoding_agree(store: OmegaStore) -> None:
    df = pd.DataFrame({"g": np.arange(3000) % 7, "a": np.random.default_rng(0).random(3000),
                       "t": pd.date_range("2024-01-01", periods=3000, freq="s")})
    meta = store.put(df, "paths", groupby="g")
    coll = store.mongodb[meta.collection]
    layout = GroupLayout.from_kind_meta(meta.kind_meta)
    frames = []
    for fast in (True, False):
        decoder = GroupDecoder(layout, fast=fast)
        for batch in coll.find_raw_batches():
            decoder.add(batch)
        assert (decoder.fast_batches > 0) is fast
        frames.append(decoder.frame())
    assert_same(df, frames[0])
    assert_same(df, frames[1])


def test_get_with_columns_selects_in_order(store) -> None:
    import pandas as pd
    import pytest
    from pandas.testing import assert_frame_equal

    df = pd.DataFrame({"g": ["a", "b", "a"], "x": [1, 2, 3], "y": [0.5, 1.5, 2.5]})
    store.put(df, "cols", groupby=["g"])
    assert_frame_equal(store.get("cols", columns=["y", "g"]), df[["y", "g"]])
    assert_frame_equal(store.get("cols", columns=["x"], g="a"), df[df.g == "a"][["x"]])
    with pytest.raises(KeyError, match="columns are"):
        store.get("cols", columns=["zz"])
