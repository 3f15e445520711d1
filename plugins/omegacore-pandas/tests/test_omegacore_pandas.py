"""omegacore_pandas: names, dtypes, values, codecs, encode/decode paths and filters."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import bson
import numpy as np
import pandas as pd
import pytest
from omegacore_pandas import insert, progress
from omegacore_pandas.decode import CODEC_OPTIONS, RowDecoder, decode_frame, split_fixed
from omegacore_pandas.dtypes import describe_dtype, restore_dtype
from omegacore_pandas.encode import ObjectIdRanges, RowEncoder
from omegacore_pandas.layout import FrameLayout
from omegacore_pandas.names import decode_name, encode_name, index_field, is_plain_name
from omegacore_pandas.query import build_query
from omegacore_pandas.rows import index_keys, index_name, prepare_rows, read_rows, write_rows
from omegacore_pandas.values import decode_value, encode_value, is_missing
from pandas.testing import assert_frame_equal

from omegacore import OmegaStore

NAMES = [
    "plain", "a.b", "$x", "_id", "", "%", "%s", "_idx#0_a", "_om#rowid", "nul\x00byte",
    "ü名", 0, -7, 2**70, 1.5, float("nan"), float("-inf"), True, False, None,
    ("a", 1), ("nested", ("t", None)), (), pd.Timestamp("2024-01-01 00:00:00.000000001"),
    pd.Timestamp("2024-06-01", tz="Europe/Zurich"), pd.Timedelta(5, "ns"), np.int64(3),
]


@pytest.mark.parametrize("name", NAMES, ids=[repr(n) for n in NAMES])
def test_names_round_trip_to_safe_fields(name: Any) -> None:
    field = encode_name(name)
    assert isinstance(field, str) and field
    assert "." not in field and "\x00" not in field
    assert not field.startswith("$") and field != "_id"
    back = decode_name(field)
    if isinstance(name, float) and math.isnan(name):
        assert isinstance(back, float) and math.isnan(back)
    else:
        assert back == name and type(back) is (int if isinstance(name, np.integer) else type(name))


def test_plain_names_are_kept() -> None:
    for name in ("price", "Price 2024", "a-b", "x__y", "_private"):
        assert is_plain_name(name) and encode_name(name) == name
    assert encode_name("a.b") == "%sa%2Eb"
    assert index_field(0, None) == "_idx#0_0" and index_field(1, "day") == "_idx#1_day"
    with pytest.raises(TypeError, match="rename"):
        encode_name(frozenset())


DTYPES = [
    np.dtype("int8"), np.dtype("uint64"), np.dtype("float16"), np.dtype("bool"),
    np.dtype("object"), np.dtype("datetime64[s]"), np.dtype("timedelta64[ns]"),
    pd.DatetimeTZDtype("ns", "Europe/Zurich"), pd.DatetimeTZDtype("us", "UTC"),
    pd.DatetimeTZDtype("ns", dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
    pd.Int16Dtype(), pd.UInt64Dtype(), pd.Float32Dtype(), pd.BooleanDtype(),
    pd.StringDtype("python"), pd.StringDtype("pyarrow", na_value=np.nan),
    pd.CategoricalDtype(["b", "a"], ordered=True),
    pd.CategoricalDtype(pd.to_datetime(["2024-01-01", "2023-01-01"])),
    pd.CategoricalDtype([1.5, 2.5]),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d) for d in DTYPES])
def test_dtypes_round_trip(dtype: Any) -> None:
    desc = describe_dtype(dtype)
    bson.encode({"d": desc})  # the description is BSON-safe
    restored = restore_dtype(desc)
    assert restored == dtype and str(restored) == str(dtype)


@pytest.mark.parametrize("dtype", [np.dtype("complex128"), np.dtype("S3"), np.dtype("U2"),
                                   pd.PeriodDtype("D"), pd.IntervalDtype("int64"),
                                   pd.SparseDtype("float64"), np.dtype("datetime64[D]")])
def test_unstorable_dtypes(dtype: Any) -> None:
    with pytest.raises(TypeError, match="cannot be stored"):
        describe_dtype(dtype, "column 'x'")


VALUES = [
    None, True, 0, -(2**63), 2**63 - 1, 2**64, -(2**80), 1.5, float("inf"), "text", "",
    b"\x00bin", [1, [2, None]], (1, "a"), {"a": 1, "b": {"c": 2}},
    {"a.b": 1, "$c": 2, 3: 4, "%t": "x"}, pd.NaT, pd.NA, decimal.Decimal("-1.25"),
    dt.datetime(2024, 1, 1, 12, 30), dt.datetime(2024, 1, 1, 12, 30, 0, 1),
    pd.Timestamp("2024-01-01 00:00:00.000000001"), pd.Timestamp("2024-01-01", tz="Asia/Tokyo"),
    dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), dt.date(2024, 2, 29),
    dt.timedelta(days=1, microseconds=1), pd.Timedelta(1, "ns"),
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_values_round_trip_through_bson(value: Any) -> None:
    encoded = bson.encode({"v": encode_value(value)})
    back = decode_value(bson.decode(encoded, CODEC_OPTIONS)["v"])
    assert type(back) is type(value)
    if value is pd.NaT or value is pd.NA:
        assert back is value
    else:
        assert back == value
    if isinstance(value, (pd.Timestamp, dt.datetime)) and value.tzinfo is not None:
        assert str(back.tzinfo) == str(value.tzinfo)


def test_nan_and_missing_values() -> None:
    back = decode_value(bson.decode(bson.encode({"v": encode_value(float("nan"))}))["v"])
    assert math.isnan(back)
    assert [is_missing(v) for v in (None, float("nan"), pd.NaT, pd.NA, 0, "")] == [
        True, True, True, True, False, False]
    with pytest.raises(TypeError, match="cannot be stored"):
        encode_value({1, 2}, "column 'x'")


# ------------------------------------------------------------------------------------------
# encoding and decoding without a server: encoded chunks are what find_raw_batches returns
# ------------------------------------------------------------------------------------------
def _fixed_frame(n: int = 300) -> pd.DataFrame:
    return pd.DataFrame({
        "f64": np.linspace(-1, 1, n), "f16": np.arange(n, dtype="float16"),
        "i8": (np.arange(n) % 100).astype("int8"), "u32": np.arange(n, dtype="uint32"),
        "u64": np.arange(n, dtype="uint64") * 2**40, "b": np.arange(n) % 2 == 0,
        "t": pd.date_range("1960-01-01", periods=n, freq="7h", unit="ns")
        + pd.to_timedelta(np.arange(n) * 3, unit="ns"),
        "s": pd.date_range("2024", periods=n, freq="D", unit="s"),
        "z": pd.date_range("2024-03-30", periods=n, freq="17min", tz="Europe/Zurich"),
        "td": pd.to_timedelta(np.arange(n), unit="us"),
        "ni": pd.array(np.arange(n), dtype="Int16"), "nf": pd.array(np.ones(n), dtype="Float64"),
        "nb": pd.array(np.ones(n, dtype=bool), dtype="boolean"),
    }, index=pd.MultiIndex.from_arrays([np.arange(n) % 3, np.arange(n)], names=["g", None]))


def _ids() -> ObjectIdRanges:
    ids = ObjectIdRanges()

    def fixed_prefix() -> None:
        ids._prefix = np.arange(9, dtype=np.uint8)
        ids._counter = 0

    ids._new_prefix = fixed_prefix  # type: ignore[method-assign]
    return ids


def test_fast_and_general_encoders_write_the_same_bytes() -> None:
    df = _fixed_frame()
    layout = FrameLayout.from_frame(df)
    fast = list(RowEncoder(df, layout, start_rowid=5, ids=_ids()).chunks(64, fast=True))
    general = list(RowEncoder(df, layout, start_rowid=5, ids=_ids()).chunks(64, fast=False))
    assert [c.count for c in fast] == [64, 64, 64, 64, 44]
    assert all(c.fast for c in fast)
    assert b"".join(c.data for c in fast) == b"".join(c.data for c in general)
    docs = bson.decode_all(fast[0].data)
    assert docs[0]["_om#rowid"] == 5 and list(docs[0])[0] == "_id"


def test_fast_and_general_decoders_give_the_same_frame() -> None:
    df = _fixed_frame()
    layout = FrameLayout.from_frame(df)
    batches = [c.data for c in RowEncoder(df, layout).chunks(100)]
    decoder = RowDecoder(layout)
    for data in batches:
        decoder.add(data)
    assert decoder.fast_batches == 3 and decoder.general_batches == 0
    fast = decoder.frame()
    general = decode_frame(batches, layout, fast=False)
    assert_frame_equal(fast, general, check_exact=True)
    assert_frame_equal(fast, df, check_exact=True)


def test_irregular_batches_use_the_general_path() -> None:
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0], "n": pd.array([1, None, 3], dtype="Int64"),
                       "s": ["a", "bb", None]})
    layout = FrameLayout.from_frame(df)
    chunks = list(RowEncoder(df, layout).chunks())
    assert not chunks[0].fast  # a null and strings: no fixed layout
    assert split_fixed(chunks[0].data) is None
    mixed = bson.encode({"a": 1.0}) + bson.encode({"a": 1})  # same keys, other types
    assert split_fixed(mixed) is None
    same_length = bson.encode({"a": 1.0, "b": 1}) + bson.encode({"a": 2, "b": 1.0})
    assert split_fixed(same_length) is None  # same length, different layout
    assert_frame_equal(decode_frame([c.data for c in chunks], layout), df)


def test_rows_are_put_back_in_stored_order() -> None:
    df = pd.DataFrame({"v": np.arange(10.0)})
    layout = FrameLayout.from_frame(df)
    docs = bson.decode_all(next(RowEncoder(df, layout).chunks()).data)
    shuffled = b"".join(bson.encode(d) for d in reversed(docs))
    assert_frame_equal(decode_frame([shuffled], layout), df)
    unsorted = decode_frame([shuffled], layout, sort_rows=False)
    assert list(unsorted["v"]) == list(np.arange(10.0)[::-1])


def test_object_id_ranges_roll_over() -> None:
    ids = ObjectIdRanges()
    ids.take(3)
    ids._counter = (1 << 24) - 2
    block = ids.take(5)
    assert len(ids.ranges) == 2
    values = [bson.ObjectId(row.tobytes()) for row in block]
    assert values[:2] == sorted(values[:2]) and values[2:] == sorted(values[2:])
    assert ids.ranges[1][0] == values[2] and ids.ranges[1][1] == values[4]
    assert ids.ranges[0][1] == values[1]
    assert len(ids.filters()) == 2


def test_bad_values_raise_before_encoding() -> None:
    df = pd.DataFrame({"ok": [1, 2], "bad": [1, object()]})
    with pytest.raises(TypeError, match="column 'bad'"):
        prepare_rows(df, FrameLayout.from_frame(df))


# ------------------------------------------------------------------------------------------
# filters
# ------------------------------------------------------------------------------------------
def _layout() -> FrameLayout:
    df = pd.DataFrame({"price": [1.0], "n": [1], "city": ["a"], "a.b": [1],
                       "t": pd.to_datetime(["2024-01-01"]).astype("datetime64[ns]"),
                       "d": pd.to_datetime(["2024-01-01"]).astype("datetime64[s]"),
                       "o": [{"x": 1}]},
                      index=pd.Index(["k"], name="key"))
    return FrameLayout.from_frame(df)


def test_build_query_operators() -> None:
    layout = _layout()
    assert build_query({"price": 1}, layout) == {"price": {"$eq": 1.0}}
    # criteria on different fields: one document (SecantusDB uses indexes only for that)
    assert build_query({"price__gt": np.float32(2), "n__in": [np.int64(1), 2]}, layout) == {
        "price": {"$gt": 2.0}, "n": {"$in": [1, 2]}}
    assert build_query({"n__gt": 1, "n__lt": 5}, layout) == {
        "$and": [{"n": {"$gt": 1}}, {"n": {"$lt": 5}}]}
    assert build_query({"key": "k"}, layout) == {"_idx#0_key": {"$eq": "k"}}
    assert build_query({"a.b__ne": 3}, layout) == {"%sa%2Eb": {"$ne": 3}}
    assert build_query({"o__x__gte": 1}, layout) == {"o.x": {"$gte": 1}}
    assert build_query({"city__contains": "a.b*"}, layout) == {
        "city": {"$regex": r"a\.b\*"}}
    assert build_query({"price__isnull": True}, layout)["price"]["$in"][0] is None
    assert build_query({"n__between": (1, 5)}, layout) == {"n": {"$gte": 1, "$lte": 5}}
    assert build_query({"n__exists": False}, layout) == {"n": {"$exists": False}}
    # datetimes with seconds resolution never have a remainder field
    q = build_query({"d__gt": pd.Timestamp("2024-01-01 00:00:00.5")}, layout)
    assert list(q) == ["d"]
    # nanosecond columns check the remainder exactly
    q = build_query({"t": pd.Timestamp("2024-01-01 00:00:00.000000005")}, layout)
    assert q["_om#ns_t"] == 5
    with pytest.raises(ValueError, match="needs a list"):
        build_query({"n__in": 5}, layout)
    with pytest.raises(ValueError, match="between"):
        build_query({"n__between": [1, 2, 3]}, layout)
    with pytest.raises(ValueError, match="does not name"):
        build_query({"nope__gt": 1}, layout)


def test_build_query_refuses_operators_unless_trusted() -> None:
    layout = _layout()
    for criteria in ({"$where": "1"}, {"price": {"$gt": 1}}, {"$or": [{"price": 1}]},
                     {"o": {"x": {"$ne": 0}}}):
        with pytest.raises(ValueError):
            build_query(criteria, layout)
    assert build_query({"price": {"$gt": 1}}, layout, trusted=True) == {"price": {"$gt": 1}}
    assert build_query({"$or": [{"price": 1}]}, layout, trusted=True) == {
        "$or": [{"price": 1}]}
    with pytest.raises(ValueError, match="runs code"):
        build_query({"$where": "1"}, layout, trusted=True)


def test_index_keys() -> None:
    layout = _layout()
    keys = [("price", 1), ("n", -1), ("_idx#0_key", 1)]
    assert index_keys(["+price", "-n", "key"], layout) == (keys, {"name": index_name(keys)})
    assert index_keys({"columns": ["@o"], "name": "geo"}, layout) == (
        [("o", "2dsphere")], {"name": "geo"})
    with pytest.raises(ValueError, match="not a column"):
        index_keys(["+zzz"], layout)


def test_omegaml_layout_from_kind_meta() -> None:
    kind_meta = {
        "columns": [["_idx#0_0", "_idx#0_0"], ["a.b", "a_b"], [1, "1"], ["_om#rowid", "_om#rowid"]],
        "dtypes": {"_idx#0_0": "int64", "a_b": "int64", "1": "object", "_om#rowid": "int64"},
        "idx_meta": {"names": [None]},
    }
    layout = FrameLayout.from_kind_meta(kind_meta)
    assert layout.source == "omegaml" and layout.index_info["type"] == "range"
    assert [(s.name, s.field) for s in layout.columns] == [("a.b", "a_b"), (1, "1")]
    with pytest.raises(ValueError, match="no column layout"):
        FrameLayout.from_kind_meta({})
    with pytest.raises(ValueError, match="newer"):
        FrameLayout.from_kind_meta({"omegacore": {"format": 99}})


# ------------------------------------------------------------------------------------------
# progress bars and inserting
# ------------------------------------------------------------------------------------------
def test_progress_bar_only_when_wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMEGA_PROGRESS", "1")
    assert type(progress.progress_bar(10**7, "put")).__name__ == "_NoBar"  # not a terminal
    bar = progress.progress_bar(10, "put", force=True)
    assert type(bar).__name__ != "_NoBar"
    bar.close()
    monkeypatch.setenv("OMEGA_PROGRESS", "0")
    assert type(progress.progress_bar(10, "put", force=True)).__name__ == "_NoBar"
    assert not progress.would_show(None)


@pytest.mark.parametrize("raw_insert", [True, False])
def test_write_and_read_rows(store: OmegaStore, raw_insert: bool,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(insert, "RAW_INSERT", raw_insert)
    df = _fixed_frame(50)
    layout = FrameLayout.from_frame(df)
    collection = store.mongodb["rows_test"]
    assert write_rows(collection, prepare_rows(df, layout), chunksize=20) == 50
    assert collection.count_documents({}) == 50
    assert_frame_equal(read_rows(collection, layout), df, check_exact=True)
    query = build_query({"g": 1, "f64__lt": 0}, layout)
    assert_frame_equal(read_rows(collection, layout, query=query, columns=["i8"]),
                       df.loc[(df.index.get_level_values("g") == 1) & (df.f64 < 0), ["i8"]])


def test_insert_reports_write_errors(store: OmegaStore) -> None:
    df = pd.DataFrame({"a": [1, 2]})
    layout = FrameLayout.from_frame(df)
    chunk = next(RowEncoder(df, layout).chunks())
    collection = store.mongodb["dupes"]
    insert.insert_raw(collection, chunk.data, chunk.count)
    with pytest.raises(insert.BulkInsertError, match="not inserted"):
        insert.insert_raw(collection, chunk.data, chunk.count)

