"""Record what a store's ``get`` returned, and compare a later result with the record.

Used on both sides of the compatibility checks, so it runs with omegaml 0.18's
environment (pandas 2.x) as well as this project's (pandas 3.x): it needs only numpy,
pandas and bson. A record is plain data that bson's extended JSON keeps exactly
(ints stay ints, floats keep NaN, bytes stay bytes):

- frames and series: per column the dtype name and the values (datetimes as int64
  nanoseconds since the epoch, in UTC), the index (range, plain, datetime or multi) with
  its names, dtypes and ``freq``;
- arrays: dtype, shape and the values;
- python data: the value itself;
- models (anything with ``predict``): the class and its predictions on a fixed input;
- file objects: the class and the bytes read;
- anything else: the class and ``repr``; an exception: its class and message.

``expect(record)`` rebuilds the value the record describes, and ``assert_same(got, record)``
compares exactly: dtypes, index, names and values, with two allowances that are pandas'
and not a store's: a RangeIndex equals an int64 Index of the same labels (pandas'
``equiv``), and labels recorded as ``str`` get the running pandas' string dtype.
"""

from __future__ import annotations

import datetime
import fractions
from typing import Any

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal, assert_series_equal

#: the input models are asked to predict on
MODEL_X = [[0.0], [1.5], [3.0], [10.0]]


def _qualname(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


# ------------------------------------------------------------------------------------------
# recording
# ------------------------------------------------------------------------------------------
def _is_datetime(dtype: Any) -> bool:
    if isinstance(dtype, pd.DatetimeTZDtype):
        return True
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return False
    return np.dtype(dtype).kind == "M"


def _values(values: Any, dtype: Any) -> list:
    """Column or index values as plain data (datetimes as int64 ns in UTC, NaT as None)."""
    if _is_datetime(dtype):
        stamps = pd.DatetimeIndex(values)
        if stamps.tz is not None:
            stamps = stamps.tz_convert("UTC").tz_localize(None)
        nat = stamps.isna()
        return [None if missing else int(v)
                for v, missing in zip(stamps.as_unit("ns").asi8.tolist(), nat, strict=True)]
    out = []
    for v in list(values):
        if isinstance(v, np.generic):
            v = v.item()
        out.append(v)
    return out


def _index(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.MultiIndex):
        return {"kind": "multi", "names": list(index.names),
                "levels": [_index(index.get_level_values(i)) for i in range(index.nlevels)]}
    if isinstance(index, pd.RangeIndex):
        return {"kind": "range", "name": index.name, "start": index.start, "stop": index.stop,
                "step": index.step}
    record = {"kind": "index", "name": index.name, "dtype": str(index.dtype),
              "values": _values(index, index.dtype)}
    if isinstance(index, pd.DatetimeIndex):
        record["freq"] = index.freqstr
    return record


def _series(series: pd.Series) -> dict[str, Any]:
    return {"dtype": str(series.dtype), "values": _values(series, series.dtype)}


def record(value: Any) -> dict[str, Any]:
    """A comparable record of ``value`` (see the module docstring)."""
    if isinstance(value, pd.DataFrame):
        return {"type": "DataFrame", "index": _index(value.index),
                "columns": _index(value.columns),
                "data": [_series(value.iloc[:, i]) for i in range(value.shape[1])]}
    if isinstance(value, pd.Series):
        return {"type": "Series", "name": value.name, "index": _index(value.index),
                **_series(value)}
    if isinstance(value, np.ndarray):
        return {"type": "ndarray", "dtype": str(value.dtype), "shape": list(value.shape),
                "values": _values(value.ravel(), value.dtype)}
    if isinstance(value, (dict, list, str, int, float, bool, datetime.datetime)) \
            or value is None:
        return {"type": "python", "value": value}
    if hasattr(value, "predict"):
        return {"type": "model", "class": _qualname(value),
                "predict": np.asarray(value.predict(MODEL_X)).tolist()}
    if hasattr(value, "read"):
        return {"type": "file", "class": _qualname(value), "bytes": bytes(value.read())}
    if isinstance(value, fractions.Fraction):
        return {"type": "fraction", "numerator": value.numerator,
                "denominator": value.denominator}
    return {"type": "repr", "class": _qualname(value), "repr": repr(value)}


def record_call(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``record(fn(*args, **kwargs))``, or the exception it raised."""
    try:
        value = fn(*args, **kwargs)
    except Exception as exc:  # the record says what was raised
        return {"type": "error", "class": _qualname(exc), "message": str(exc)}
    return record(value)


# ------------------------------------------------------------------------------------------
# rebuilding and comparing
# ------------------------------------------------------------------------------------------
def _pandas_major() -> int:
    return int(pd.__version__.split(".")[0])


def _dtype(name: str) -> str:
    """A dtype name of the recording side, as this pandas spells it.

    pandas 3's ``str`` (missing values NaN) is what pandas 2 kept as ``object`` holding
    None; an older pandas rebuilds it as that.
    """
    if name == "str" and _pandas_major() < 3:
        return "object"
    return name


def _rebuild(values: list, dtype: str) -> Any:
    if dtype == "str" and _pandas_major() < 3:  # missing strings: None, as pandas 2 keeps them
        arr = np.empty(len(values), dtype=object)
        arr[:] = [None if isinstance(v, float) and v != v else v for v in values]
        return arr
    dtype = _dtype(dtype)
    if dtype.startswith("datetime64"):
        ns = np.array([np.iinfo("int64").min if v is None else v for v in values],
                      dtype="int64").view("datetime64[ns]")
        stamps = pd.DatetimeIndex(ns)
        if "," in dtype:  # datetime64[ns, TZ]
            unit, tz = dtype[len("datetime64["):-1].split(", ")
            return stamps.tz_localize("UTC").tz_convert(tz).as_unit(unit)
        return stamps.as_unit(dtype[len("datetime64["):-1])
    if dtype == "object":
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr
    return pd.array(values, dtype=dtype) if dtype == "str" else np.array(values, dtype=dtype)


def expect_index(rec: dict[str, Any]) -> pd.Index:
    """The index a record describes.

    Labels recorded as pandas 3's ``str`` get this pandas' default dtype for strings
    (pandas 2: object): that is a difference of pandas versions, not of stores. Labels
    recorded as ``object`` stay object, like columns: omegaml gives object indexes.
    """
    if rec["kind"] == "range":
        return pd.RangeIndex(rec["start"], rec["stop"], rec["step"], name=rec["name"])
    if rec["kind"] == "multi":
        return pd.MultiIndex.from_arrays([expect_index(level) for level in rec["levels"]],
                                         names=rec["names"])
    if rec["dtype"] == "str" and rec["values"] \
            and all(isinstance(v, str) for v in rec["values"]):
        return pd.Index(rec["values"], name=rec["name"])
    values = _rebuild(rec["values"], rec["dtype"])
    if rec.get("freq"):
        return pd.DatetimeIndex(values, name=rec["name"], freq=rec["freq"])
    return pd.Index(values, name=rec["name"], dtype=_dtype(rec["dtype"]))


def _column(rec: dict[str, Any], index: pd.Index, name: Any = None) -> pd.Series:
    values = _rebuild(rec["values"], rec["dtype"])
    return pd.Series(values, index=index, name=name, dtype=_dtype(rec["dtype"]))


def expect(rec: dict[str, Any]) -> Any:
    """The value a record describes (for models and files: the record itself)."""
    kind = rec["type"]
    if kind == "DataFrame":
        index = expect_index(rec["index"])
        columns = expect_index(rec["columns"])
        frame = pd.DataFrame({i: _column(col, index) for i, col in enumerate(rec["data"])},
                             index=index)
        frame.columns = columns
        return frame
    if kind == "Series":
        return _column(rec, expect_index(rec["index"]), rec["name"])
    if kind == "ndarray":
        return np.asarray(_rebuild(rec["values"], rec["dtype"])).reshape(rec["shape"])
    if kind == "python":
        return rec["value"]
    if kind == "fraction":
        return fractions.Fraction(rec["numerator"], rec["denominator"])
    return rec


def assert_same(got: Any, rec: dict[str, Any]) -> None:
    """Assert that ``got`` is exactly the value ``rec`` recorded (AssertionError if not)."""
    kind = rec["type"]
    want = expect(rec)
    if kind == "DataFrame":
        assert isinstance(got, pd.DataFrame), f"expected a DataFrame, got {type(got)}"
        assert_frame_equal(got, want, check_exact=True, check_freq=True)
    elif kind == "Series":
        assert isinstance(got, pd.Series), f"expected a Series, got {type(got)}"
        assert_series_equal(got, want, check_exact=True, check_freq=True)
    elif kind == "ndarray":
        assert isinstance(got, np.ndarray), f"expected an ndarray, got {type(got)}"
        assert got.dtype == want.dtype, f"dtype {got.dtype} != {want.dtype}"
        assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
        np.testing.assert_array_equal(got, want)
    elif kind == "python":
        assert _python_equal(got, want), f"{got!r} != {want!r}"
    elif kind == "model":
        assert _qualname(got) == rec["class"], f"{_qualname(got)} != {rec['class']}"
        assert np.asarray(got.predict(MODEL_X)).tolist() == rec["predict"]
    elif kind == "file":
        assert hasattr(got, "read"), f"expected a readable file object, got {type(got)}"
        assert got.read() == rec["bytes"]
    elif kind == "fraction":
        assert type(got) is fractions.Fraction and got == want, f"{got!r} != {want!r}"
    elif kind == "error":
        raise AssertionError(f"the record is an error ({rec['class']}: {rec['message']})")
    else:
        assert _qualname(got) == rec["class"] and repr(got) == rec["repr"], \
            f"{got!r} != {rec['repr']}"


def _python_type(v: Any) -> type:
    """The Python type a value compares as (bson's Int64, an int subclass, as int)."""
    for t in (bool, int, float, str, bytes, dict, list):
        if isinstance(v, t):
            return t
    return type(v)


def _python_equal(a: Any, b: Any) -> bool:
    """Equality that also compares types (1 != 1.0 != True) and treats NaN as equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    if _python_type(a) is not _python_type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_python_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_python_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
