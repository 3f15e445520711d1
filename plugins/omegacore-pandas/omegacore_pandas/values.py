"""Python values of object columns as BSON values, exactly, and back.

Most values map to a BSON type directly: None (null), bool, int (int32/int64), float
(double, NaN included), str, bytes (binary), decimal.Decimal (decimal128), list (array)
and dict with safe string keys (sub-document, so ``a__b=1`` filters reach into it).

Values BSON cannot hold exactly become a tagged sub-document ``{"%t": <tag>, ...}``:

==========  ===============================================================
``NaT``     ``pd.NaT`` (kept apart from None and NaN)
``NA``      ``pd.NA``
``tuple``   a tuple, ``v`` holds its items
``dict``    a dict with keys that are not safe strings; ``v`` holds [key, value] pairs
``int``     an int outside int64, ``v`` holds its decimal string
``ts``      a datetime/Timestamp that is not a naive millisecond datetime:
            ``ns`` (int64 ns since the epoch, UTC), ``tz`` (zone name or None),
            ``py`` (True for ``datetime.datetime``, False for ``pd.Timestamp``)
``td``      a timedelta/Timedelta: ``ns`` and ``py`` as above
``date``    a ``datetime.date``: ``v`` its ISO string
==========  ===============================================================

A user dict whose keys start with ``%`` is itself tagged (``%`` keys are not safe), so a
tag can never be confused with user data. Every other type raises TypeError before
anything is written (``check_value``).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from typing import Any

from bson import Decimal128, Int64
from bson.datetime_ms import DatetimeMS

from omegacore_pandas.names import is_plain_name

TAG = "%t"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_EPOCH = _dt.datetime(1970, 1, 1)


def _safe_key(key: Any) -> bool:
    return is_plain_name(key) or (type(key) is str and key.startswith(("_idx#", "_om#")))


def check_value(value: Any, where: str) -> None:
    """Raise TypeError if ``value`` cannot be stored exactly; ``where`` names its place."""
    encode_value(value, where)


def encode_value(value: Any, where: str = "value") -> Any:
    """A value BSON can encode (see the module doc for the mapping)."""
    if value is None or isinstance(value, (str, bytes, bool)):
        return value
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return int(value)
        return {TAG: "int", "v": str(int(value))}
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind is not None and getattr(value, "ndim", 1) == 0:  # numpy scalars
        if kind == "b":
            return bool(value)
        if kind in "iu":
            return encode_value(int(value), where)
        if kind == "f":
            return float(value)
        if kind in "Mm":
            import pandas as pd

            converted = pd.Timestamp(value) if kind == "M" else pd.Timedelta(value)
            return encode_value(converted, where)
        if kind in "US":
            return value.item()
    if isinstance(value, dict):
        if all(_safe_key(k) for k in value):
            return {k: encode_value(v, where) for k, v in value.items()}
        return {TAG: "dict", "v": [[encode_value(k, where), encode_value(v, where)]
                                   for k, v in value.items()]}
    if isinstance(value, list):
        return [encode_value(v, where) for v in value]
    if isinstance(value, tuple):
        return {TAG: "tuple", "v": [encode_value(v, where) for v in value]}
    if isinstance(value, decimal.Decimal):
        try:
            return Decimal128(value)
        except (decimal.InvalidOperation, ValueError) as exc:
            raise TypeError(f"{where}: {value!r} does not fit a BSON decimal128") from exc
    type_name = type(value).__name__
    if type_name == "NaTType":
        return {TAG: "NaT"}
    if type_name == "NAType":
        return {TAG: "NA"}
    if isinstance(value, _dt.datetime):
        return _encode_datetime(value)
    if isinstance(value, _dt.timedelta):
        import pandas as pd

        ns = pd.Timedelta(value).as_unit("ns").value
        return {TAG: "td", "ns": Int64(ns), "py": type(value) is _dt.timedelta}
    if isinstance(value, _dt.date):
        return {TAG: "date", "v": value.isoformat()}
    raise TypeError(
        f"{where} holds a value of type {type(value).__module__}.{type(value).__qualname__} "
        f"({value!r:.60}) that cannot be stored as BSON; convert the column first, "
        "e.g. df[col] = df[col].astype(str)"
    )


def _encode_datetime(value: _dt.datetime) -> Any:
    exact_ms = (
        type(value) is _dt.datetime and value.tzinfo is None and value.microsecond % 1000 == 0
    )
    if exact_ms:
        return value
    import pandas as pd

    ts = pd.Timestamp(value)
    tz = None if ts.tz is None else _tz_name(ts.tz)
    ns = ts.as_unit("ns").value
    return {TAG: "ts", "ns": Int64(ns), "tz": tz, "py": type(value) is _dt.datetime}


def _tz_name(tz: Any) -> str:
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return str(key if key else tz)


def decode_value(value: Any) -> Any:
    """The Python value for a BSON value written by ``encode_value`` (inverse function)."""
    if isinstance(value, dict):
        tag = value.get(TAG)
        if tag is None:
            return {k: decode_value(v) for k, v in value.items()}
        return _decode_tagged(tag, value)
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, Int64):
        return int(value)
    if isinstance(value, DatetimeMS):
        return _from_ms(int(value))
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return value


def _from_ms(ms: int) -> _dt.datetime:
    return _EPOCH + _dt.timedelta(milliseconds=ms)


def _decode_tagged(tag: str, value: dict) -> Any:
    import pandas as pd

    if tag == "NaT":
        return pd.NaT
    if tag == "NA":
        return pd.NA
    if tag == "tuple":
        return tuple(decode_value(v) for v in value["v"])
    if tag == "dict":
        return {decode_value(k): decode_value(v) for k, v in value["v"]}
    if tag == "int":
        return int(value["v"])
    if tag == "ts":
        ts = pd.Timestamp(int(value["ns"]), unit="ns")
        if value.get("tz"):
            ts = ts.tz_localize("UTC").tz_convert(value["tz"])
        return ts.to_pydatetime() if value.get("py") else ts
    if tag == "td":
        td = pd.Timedelta(int(value["ns"]), unit="ns")
        return td.to_pytimedelta() if value.get("py") else td
    if tag == "date":
        return _dt.date.fromisoformat(value["v"])
    return {k: decode_value(v) for k, v in value.items()}


def is_missing(value: Any) -> bool:
    """True for the values pandas counts as missing: None, NaN, NaT, NA."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NaTType", "NAType")
