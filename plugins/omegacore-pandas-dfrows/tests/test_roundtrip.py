"""Frames that must survive a round trip through pandas.dfrows exactly."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable

import numpy as np
import pandas as pd


def _ints() -> pd.DataFrame:
    data = {}
    for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        info = np.iinfo(name)
        data[name] = np.array([info.min, 0, 1, info.max], dtype=name)
    return pd.DataFrame(data)


def _floats() -> pd.DataFrame:
    return pd.DataFrame({
        "float16": np.array([0.5, -1.25, np.nan, np.inf], dtype="float16"),
        "float32": np.array([1e-30, np.nan, -np.inf, 3.4e38], dtype="float32"),
        "float64": np.array([np.pi, np.nan, -0.0, 1e308], dtype="float64"),
        "bool": np.array([True, False, True, False]),
    })


def _nullable() -> pd.DataFrame:
    return pd.DataFrame({
        "Int8": pd.array([1, None, -128, 127], dtype="Int8"),
        "Int64": pd.array([None, 2**62, -(2**63), 0], dtype="Int64"),
        "UInt16": pd.array([0, None, 65535, 7], dtype="UInt16"),
        "UInt64": pd.array([2**64 - 1, None, 0, 5], dtype="UInt64"),
        "Float32": pd.array([1.5, None, -2.0, 0.0], dtype="Float32"),
        "Float64": pd.array([0.1, None, 2.5, None], dtype="Float64"),
        "boolean": pd.array([True, None, False, True], dtype="boolean"),
    })


def _nan_and_na_apart() -> pd.DataFrame:
    values = pd.array([1.0, None, 0.0, 3.0], dtype="Float64")
    values[2] = np.nan  # a NaN inside a nullable Float column is not NA
    frame = pd.DataFrame({"f": values})
    frame["f"] = frame["f"] / pd.array([1.0, 1.0, 0.0, 1.0], dtype="Float64")
    return frame


def _strings() -> pd.DataFrame:
    return pd.DataFrame({
        "default": pd.Series(["a", None, "ü €", ""]),  # pandas 3: str with NaN
        "string": pd.array(["x", None, "y\x00z", "."], dtype="string"),
        "string_python_nan": pd.array(["p", "q", None, "r"],
                                      dtype=pd.StringDtype("python", na_value=np.nan)),
    })


def _category() -> pd.DataFrame:
    return pd.DataFrame({
        "unordered": pd.Categorical(["b", "a", None, "b"], categories=["b", "a", "unused"]),
        "ordered": pd.Categorical(["low", "high", "mid", None],
                                  categories=["low", "mid", "high"], ordered=True),
        "int_categories": pd.Categorical([3, 1, None, 3], categories=[3, 1, 2]),
        "date_categories": pd.Categorical(pd.to_datetime(["2024-01-02", "2023-05-06", None,
                                                          "2024-01-02"])),
    })


def _datetimes() -> pd.DataFrame:
    base = pd.Timestamp("2024-03-31 01:59:59.123456789")
    return pd.DataFrame({
        "ns": pd.Series([base, base + pd.Timedelta(1, "ns"), pd.NaT,
                         pd.Timestamp("1969-12-31 23:59:59.999999999")]),
        "us": pd.Series(pd.to_datetime(["2024-01-01 00:00:00.000001", None,
                                        "1900-01-01", "2262-01-01"], format="ISO8601")
                        ).astype("datetime64[us]"),
        "ms": pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-01-03"])
                        ).astype("datetime64[ms]"),
        "s": pd.Series(pd.to_datetime(["3000-01-01", "1000-01-01", None, "2024-01-03"]).astype(
            "datetime64[s]")),
        "tz": pd.Series([base, base, pd.NaT, base]).dt.tz_localize("Europe/Zurich"),
        "tz_utc_us": pd.Series(pd.date_range("2024-10-27", periods=4, freq="37min",
                                             tz="UTC", unit="us")),
        "td": pd.Series(pd.to_timedelta([1, -5, None, 10**15], unit="ns")),
        "td_s": pd.Series(pd.to_timedelta([1, 2, None, 3], unit="s")).astype("timedelta64[s]"),
    })


def _objects() -> pd.DataFrame:
    return pd.DataFrame({
        "mixed": pd.Series([None, np.nan, pd.NaT, pd.NA], dtype=object),
        "dicts": pd.Series([{"a": 1, "b": {"c": [1, 2]}}, {"x.y": 1, "$z": 2, 3: "int"},
                            {}, None], dtype=object),
        "lists": pd.Series([[1, "a", None], [], [[1.5], {"k": "v"}], (1, 2)], dtype=object),
        "scalars": pd.Series([1, 2.5, "s", True], dtype=object),
        "special": pd.Series([
            dt.datetime(2024, 1, 1, 12, 0, 0, 123456),
            pd.Timestamp("2024-01-01 00:00:00.000000001", tz="Asia/Tokyo"),
            dt.date(2024, 2, 29),
            decimal.Decimal("1.10"),
        ], dtype=object),
        "more": pd.Series([b"bytes\x00", 2**70, dt.timedelta(days=1, microseconds=3),
                           dt.datetime(2024, 5, 6, 7, 8, 9)], dtype=object),
    })


def _odd_column_names() -> pd.DataFrame:
    names = ["a.b", "$dollar", "_id", 3, 2.5, None, True, "", "%pct", "_idx#0_x",
             "_om#rowid", ("tuple", 1), pd.Timestamp("2024-01-01")]
    frame = pd.DataFrame({i: [i, i + 1] for i in range(len(names))})
    frame.columns = pd.Index(names, dtype=object)
    return frame


def _multiindex() -> pd.DataFrame:
    rows = pd.MultiIndex.from_tuples(
        [("a", 1, pd.Timestamp("2024-01-01")), ("a", 2, pd.Timestamp("2024-01-02")),
         ("b", 1, pd.Timestamp("2024-01-01")), ("b", 1, pd.Timestamp("2024-01-01"))],
        names=["letter", None, "day"],
    )
    cols = pd.MultiIndex.from_tuples([("x", "one"), ("x", "two"), ("y", "one")],
                                     names=["upper", "lower"])
    return pd.DataFrame(np.arange(12.0).reshape(4, 3), index=rows, columns=cols)


def _multiindex_freq_level() -> pd.DataFrame:
    index = pd.MultiIndex.from_product(
        [["a", "b"], pd.date_range("2024-03-30", periods=3, freq="12h", tz="UTC")],
        names=["letter", "at"])
    return pd.DataFrame({"v": np.arange(6)}, index=index)


def _datetimeindex_freq() -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=6, freq="15min", tz="America/New_York",
                          name="when")
    return pd.DataFrame({"v": np.arange(6)}, index=index)


def _business_days() -> pd.DataFrame:
    return pd.DataFrame({"v": np.arange(5.0)}, index=pd.bdate_range("2024-01-05", periods=5))


def _rangeindex() -> pd.DataFrame:
    return pd.DataFrame({"v": [1, 2, 3]}, index=pd.RangeIndex(10, 16, 2, name="r"))


def _duplicate_index() -> pd.DataFrame:
    return pd.DataFrame({"v": [1, 2, 3, 4]}, index=pd.Index(["k", "k", "j", "k"], name="key"))


def _object_index() -> pd.DataFrame:
    return pd.DataFrame({"v": [1, 2, 3]}, index=pd.Index([1, "two", 3.0], dtype=object))


def _category_index() -> pd.DataFrame:
    return pd.DataFrame({"v": [1, 2]}, index=pd.CategoricalIndex(["b", "a"],
                                                                  categories=["a", "b"]))


def _empty_with_dtypes() -> pd.DataFrame:
    return pd.DataFrame({
        "i": pd.Series([], dtype="int16"),
        "f": pd.Series([], dtype="float32"),
        "s": pd.Series([], dtype="str"),
        "d": pd.Series([], dtype="datetime64[ns, UTC]"),
        "c": pd.Series([], dtype=pd.CategoricalDtype(["a", "b"], ordered=True)),
        "n": pd.Series([], dtype="Int64"),
        "o": pd.Series([], dtype=object),
    })


def _empty_columns() -> pd.DataFrame:
    return pd.DataFrame(index=pd.Index([1, 2, 3], name="only_index"))


def _int_column_names() -> pd.DataFrame:
    return pd.DataFrame(np.arange(6).reshape(2, 3))


def _datetime_columns() -> pd.DataFrame:
    return pd.DataFrame([[1, 2]], columns=pd.date_range("2024-01-01", periods=2, name="day"))


FRAMES: dict[str, Callable[[], pd.DataFrame]] = {
    "ints": _ints,
    "floats": _floats,
    "nullable": _nullable,
    "nan_and_na_apart": _nan_and_na_apart,
    "strings": _strings,
    "category": _category,
    "datetimes": _datetimes,
    "objects": _objects,
    "odd_column_names": _odd_column_names,
    "multiindex": _multiindex,
    "multiindex_freq_level": _multiindex_freq_level,
    "datetimeindex_freq": _datetimeindex_freq,
    "business_days": _business_days,
    "rangeindex": _rangeindex,
    "duplicate_index": _duplicate_index,
    "object_index": _object_index,
    "category_index": _category_index,
    "empty_with_dtypes": _empty_with_dtypes,
    "empty_columns": _empty_columns,
    "int_column_names": _int_column_names,
    "datetime_columns": _datetime_columns,
}

SERIES: dict[str, Callable[[], pd.Series]] = {
    "unnamed": lambda: pd.Series([1.5, 2.5, np.nan]),
    "named": lambda: pd.Series(["a", "b", None], name="letters"),
    "int_name": lambda: pd.Series([1, 2], name=7),
    "tuple_name": lambda: pd.Series([True, False], name=("a", "b"), index=["x", "y"]),
    "datetime_index": lambda: pd.Series(
        np.arange(3), index=pd.date_range("2024", periods=3, freq="D"), name="n"),
    "empty": lambda: pd.Series([], dtype="float32", name="e"),
}


# ------------------------------------------------------------------------------------------
# the tests
# ------------------------------------------------------------------------------------------
import copy  # noqa: E402

import pytest  # noqa: E402
from pandas.testing import assert_frame_equal, assert_series_equal  # noqa: E402

from omegacore import OmegaStore  # noqa: E402


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_frame_round_trip(store: OmegaStore, name: str) -> None:
    frame = FRAMES[name]()
    before = copy.deepcopy(frame)
    meta = store.put(frame, name)
    assert meta.kind == "pandas.dfrows"
    assert_frame_equal(frame, before)  # the caller's frame is never modified
    assert_frame_equal(store.get(name), frame, check_exact=True, check_freq=True)


@pytest.mark.parametrize("name", sorted(SERIES))
def test_series_round_trip(store: OmegaStore, name: str) -> None:
    series = SERIES[name]()
    store.put(series, name)
    assert_series_equal(store.get(name), series, check_exact=True, check_freq=True)


@pytest.mark.parametrize("name", ["ints", "floats", "datetimes", "multiindex", "objects"])
def test_general_path_reads_the_same(store: OmegaStore, name: str) -> None:
    """The fast (vectorised) decoder and the general one give the same frame."""
    from omegacore_pandas.layout import FrameLayout
    from omegacore_pandas.rows import read_rows

    frame = FRAMES[name]()
    meta = store.put(frame, name)
    layout = FrameLayout.from_kind_meta(meta.kind_meta)
    collection = store.mongodb[meta.collection]
    fast = read_rows(collection, layout, fast=True)
    general = read_rows(collection, layout, fast=False)
    assert_frame_equal(fast, general, check_exact=True)
    assert_frame_equal(fast, frame, check_exact=True)
