"""Column codecs: how one column (or index level) is written as BSON values and read back.

Each codec maps a pandas dtype to a BSON storage type:

============  ==========================  =================================================
storage       pandas dtypes               BSON
============  ==========================  =================================================
double        float16/32/64, Float32/64   double (NaN stays NaN; NA of Float is null)
int32         int8/16/32, uint8/16 (+NA)  int32 (NA is null)
int64         int64, uint32, uint64       int64 (uint64 above 2**63-1: decimal128)
bool          bool, boolean               bool (NA is null)
datetime      datetime64[unit, tz]        datetime (UTC milliseconds) + the sub-millisecond
                                          part in ``_om#ns_<field>`` (int32 ns) when any
                                          value has one; NaT is null
timedelta     timedelta64[unit]           int64 count of ``unit``; NaT is null
string        str / string                string (NA/NaN is null)
category      category                    the category values, stored like their dtype
object        object                      per value, see ``omegacore_pandas.values``
============  ==========================  =================================================

Writing: ``prepare(values)`` checks and converts a whole column before anything is
written; the prepared column then gives fixed-size numpy arrays for a chunk
(``fixed``: the fast path) or Python values (``python``: the general path).

Reading: both paths produce the same intermediate arrays (``Parts``: a dict of numpy
arrays, e.g. ``{"v": values, "m": missing}``), from numpy views of the raw documents
(``from_fixed``) or from decoded documents (``from_python``); ``finish`` turns the
concatenated parts into the final array of the stored dtype. Sharing ``finish`` is what
makes the fast and the general path give identical frames.
"""

from __future__ import annotations

import decimal
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from bson import Decimal128, Int64
from bson.datetime_ms import DatetimeMS

from omegacore_pandas.dtypes import restore_dtype
from omegacore_pandas.names import remainder_field
from omegacore_pandas.values import TAG, decode_value, encode_value

#: marker in ``python`` value lists: do not write the field for this row
OMIT = object()

#: BSON element types with a fixed size, and the numpy format of their value
BSON_DOUBLE, BSON_OID, BSON_BOOL, BSON_DATETIME, BSON_NULL = 0x01, 0x07, 0x08, 0x09, 0x0A
BSON_INT32, BSON_INT64 = 0x10, 0x12
FIXED_FORMATS: dict[int, str] = {
    BSON_DOUBLE: "<f8",
    BSON_BOOL: "u1",
    BSON_DATETIME: "<i8",
    BSON_INT32: "<i4",
    BSON_INT64: "<i8",
}
_INT64_MAX = 2**63 - 1
_NS_PER = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}

Parts = dict[str, np.ndarray]
Fixed = list[tuple[str, int, np.ndarray]]


class Codec:
    """Base class: one pandas column (or index level) stored in the field ``field``."""

    storage = "object"
    #: whether ``from_fixed`` can read this codec's fields from fixed-size BSON values
    fixed_readable = False

    def __init__(self, field: str, desc: dict[str, Any]):
        self.field = field
        self.desc = desc
        self.dtype = _restore(desc)

    # -- fields --------------------------------------------------------------------------
    @property
    def fields(self) -> list[str]:
        """The BSON fields this codec writes (and reads)."""
        return [self.field]

    # -- writing -------------------------------------------------------------------------
    def prepare(self, values: Any, where: str) -> Prepared:
        """Check and convert a whole column (``values`` is a Series/array) for writing."""
        raise NotImplementedError

    # -- reading -------------------------------------------------------------------------
    def from_fixed(self, raw: dict[str, tuple[int, np.ndarray]], n: int) -> Parts | None:
        """Parts from fixed-size values ``{field: (bson type, numpy values)}``; None: cannot."""
        return None

    def from_python(self, columns: dict[str, list[Any]]) -> Parts:
        """Parts from decoded documents ``{field: [value per row]}`` (missing field: None)."""
        values = columns[self.field]
        out = np.empty(len(values), dtype=object)
        out[:] = [decode_value(v) for v in values] if values else []
        return {"v": out}

    def empty(self) -> Parts:
        """Parts for zero rows."""
        return self.from_python({f: [] for f in self.fields})

    def finish(self, parts: Parts) -> Any:
        """The final array (of the stored dtype) from concatenated parts."""
        return parts["v"]

    # -- querying ------------------------------------------------------------------------
    def query_value(self, value: Any) -> Any:
        """``value`` as a BSON value comparable with what this codec stores."""
        return encode_value(value, f"filter value for {self.field!r}")

    def missing_values(self) -> list[Any]:
        """The stored values that pandas reads as missing (for ``isnull``)."""
        return [None, float("nan")]

    def check_comparable(self, op: str, value: Any, where: str) -> None:
        """Raise TypeError if ``column op value`` cannot be evaluated (as pandas would).

        ``op`` is an ordering (lt, lte, gt, gte) or a text operator (contains, startswith,
        endswith, regex); equality never raises, it just matches nothing. The base class
        accepts everything: object columns can hold values of any type.
        """


def incomparable(where: str, op: str, holds: str, value: Any, wanted: str) -> TypeError:
    """The error for a filter whose value cannot be compared with the column's values.

    ``where`` names the filter (e.g. ``get('x') city__gt``), ``holds`` the column's values.
    """
    if op in TEXT_OPS and wanted == "":
        return TypeError(f"{where}: __{op} applies to columns of strings; this column holds "
                         f"{holds}")
    return TypeError(
        f"{where}: a column of {holds} cannot be compared with {type(value).__name__} "
        f"{value!r:.40}; compare it with {wanted}"
    )


#: operators that order values, and operators that apply to text only
ORDERING_OPS = frozenset({"lt", "lte", "gt", "gte", "between"})
TEXT_OPS = frozenset({"contains", "startswith", "endswith", "regex"})


def _is_number(value: Any) -> bool:
    """A real number (numpy's timedelta64 counts as an integer to ``numbers``: not here)."""
    return (isinstance(value, (numbers.Real, decimal.Decimal, Decimal128))
            and not isinstance(value, (np.timedelta64, np.datetime64)))


class Prepared:
    """A column converted for writing; gives chunks for the fast or the general path."""

    def fixed(self, start: int, stop: int) -> Fixed | None:
        """``[(field, bson type, numpy values)]`` for rows [start, stop), or None if the
        chunk cannot be written with a fixed layout (nulls, variable-size values)."""
        return None

    def python(self, start: int, stop: int) -> list[tuple[str, list[Any]]]:
        """``[(field, values)]`` of BSON-encodable Python values for rows [start, stop);
        a value ``OMIT`` means the field is not written for that row."""
        raise NotImplementedError


def _restore(desc: dict[str, Any]) -> Any:
    if desc["kind"].startswith("infer-"):
        return None
    return restore_dtype(desc)


def _mask_of(values: Any) -> np.ndarray | None:
    mask = np.asarray(pd.isna(values), dtype=bool)
    return mask if mask.any() else None


def _with_none(values: list[Any], mask: np.ndarray | None) -> list[Any]:
    if mask is not None:
        for i in np.flatnonzero(mask).tolist():
            values[i] = None
    return values


# ------------------------------------------------------------------------------------------
# numbers and bools
# ------------------------------------------------------------------------------------------
class _NumberPrepared(Prepared):
    def __init__(self, values: np.ndarray, mask: np.ndarray | None, bson_type: int, field: str):
        self.values, self.mask, self.bson_type, self.field = values, mask, bson_type, field

    def fixed(self, start: int, stop: int) -> Fixed | None:
        if self.mask is not None and self.mask[start:stop].any():
            return None
        return [(self.field, self.bson_type, self.values[start:stop])]

    def python(self, start: int, stop: int) -> list[tuple[str, list[Any]]]:
        chunk = self.values[start:stop]
        if self.bson_type == BSON_INT64:
            values: list[Any] = [Int64(v) for v in chunk.tolist()]
        elif self.bson_type == BSON_BOOL:
            values = chunk.astype(bool).tolist()
        else:
            values = chunk.tolist()
        mask = None if self.mask is None else self.mask[start:stop]
        return [(self.field, _with_none(values, mask if mask is not None and mask.any() else None))]


class _DecimalPrepared(Prepared):
    def __init__(self, values: np.ndarray, mask: np.ndarray | None, field: str):
        self.values, self.mask, self.field = values, mask, field

    def python(self, start: int, stop: int) -> list[tuple[str, list[Any]]]:
        values: list[Any] = [Decimal128(str(v)) for v in self.values[start:stop].tolist()]
        mask = None if self.mask is None else self.mask[start:stop]
        return [(self.field, _with_none(values, mask))]


class NumberCodec(Codec):
    """Floats, ints and bools, numpy or pandas nullable."""

    fixed_readable = True
    #: the numpy dtype of the intermediate values
    domain: Any

    def __init__(self, field: str, desc: dict[str, Any]):
        super().__init__(field, desc)
        self.nullable = desc["kind"] == "masked"
        self.numpy_dtype = np.dtype(self.dtype.numpy_dtype if self.nullable else self.dtype)
        kind, size = self.numpy_dtype.kind, self.numpy_dtype.itemsize
        if kind == "f":
            self.storage, self.domain, self.bson_type = "double", np.float64, BSON_DOUBLE
        elif kind == "b":
            self.storage, self.domain, self.bson_type = "bool", np.bool_, BSON_BOOL
        elif (kind == "i" and size <= 4) or (kind == "u" and size <= 2):
            self.storage, self.domain, self.bson_type = "int32", np.int64, BSON_INT32
        else:
            self.storage, self.domain, self.bson_type = "int64", np.int64, BSON_INT64
        if kind == "u" and size == 8:
            self.domain = np.uint64

    def prepare(self, values: Any, where: str) -> Prepared:
        if self.nullable:
            arr = pd.array(values, copy=False)
            mask = _mask_of(arr)  # NA only: NaN of a Float column stays a NaN double
            kind = self.numpy_dtype.kind
            fill: Any = np.nan if kind == "f" else (False if kind == "b" else 0)
            data = arr.to_numpy(dtype=self.numpy_dtype, na_value=fill)
        else:
            data, mask = np.asarray(values), None
        if self.numpy_dtype == np.uint64 and data.size and int(data.max()) > _INT64_MAX:
            return _DecimalPrepared(data, mask, self.field)
        return _NumberPrepared(data, mask, self.bson_type, self.field)

    def from_fixed(self, raw: dict[str, tuple[int, np.ndarray]], n: int) -> Parts | None:
        btype, values = raw[self.field]
        if btype == BSON_NULL:
            fill = np.nan if self.storage == "double" else 0
            return {"v": np.full(n, fill, dtype=self.domain), "m": np.ones(n, dtype=bool)}
        if btype not in FIXED_FORMATS or btype == BSON_DATETIME:
            return None
        if btype == BSON_DOUBLE and self.storage != "double":
            return None  # e.g. NaN written into an int column by other software
        if self.storage == "bool":
            out = values != 0
        elif self.domain == np.uint64:
            out = values.astype(np.int64).view(np.uint64)
        else:
            out = values.astype(self.domain)
        return {"v": out, "m": np.zeros(n, dtype=bool)}

    def from_python(self, columns: dict[str, list[Any]]) -> Parts:
        values = columns[self.field]
        n = len(values)
        mask = np.fromiter((v is None for v in values), dtype=bool, count=n)
        if mask.any():
            fill = np.nan if self.storage == "double" else 0
            values = [fill if v is None else v for v in values]
        if self.storage == "double":
            out = np.array([float(v) for v in values], dtype=np.float64) if n else np.empty(
                0, np.float64)
        elif self.storage == "bool":
            out = np.array(values, dtype=bool) if n else np.empty(0, bool)
        else:
            ints = [int(v.to_decimal()) if isinstance(v, Decimal128) else int(v) for v in values]
            if self.domain == np.uint64:
                out = np.array(ints, dtype=np.uint64) if n else np.empty(0, np.uint64)
            else:
                out = np.array(ints, dtype=np.int64) if n else np.empty(0, np.int64)
        return {"v": out, "m": mask}

    def finish(self, parts: Parts) -> Any:
        values, mask = parts["v"], parts["m"]
        if self.nullable:
            data = values.astype(self.numpy_dtype, copy=False)
            if self.numpy_dtype.kind == "f":
                return pd.arrays.FloatingArray(data, mask)
            if self.numpy_dtype.kind == "b":
                return pd.arrays.BooleanArray(data, mask)
            return pd.arrays.IntegerArray(data, mask)
        if mask.any():  # missing values in a column stored without them (foreign data)
            if self.numpy_dtype.kind == "f":
                out = values.astype(self.numpy_dtype)
                out[mask] = np.nan
                return out
            if self.numpy_dtype.kind in "iu":
                out = values.astype(np.float64)
                out[mask] = np.nan
                return out
            if self.numpy_dtype.kind == "b":
                obj = values.astype(object)
                obj[mask] = None
                return obj
        return values.astype(self.numpy_dtype, copy=False)

    def query_value(self, value: Any) -> Any:
        if value is None or _is_na(value):
            return None
        if not _is_number(value):  # compared literally: equal to no stored number
            return encode_value(value, f"filter value for {self.field!r}")
        if self.storage == "double":
            return float(value)
        if self.storage == "bool":
            return bool(value)
        if isinstance(value, (float, np.floating)) and not float(value).is_integer():
            return float(value)  # 1.5 on an int column: compared as the number it is
        as_int = int(value)
        return Decimal128(str(as_int)) if as_int > _INT64_MAX else as_int

    def missing_values(self) -> list[Any]:
        return [None, float("nan")] if self.storage == "double" else [None]

    def check_comparable(self, op: str, value: Any, where: str) -> None:
        holds = f"{self.dtype} numbers" if self.storage != "bool" else "bools"
        if op in TEXT_OPS:
            raise incomparable(where, op, holds, value, "")
        if not _is_number(value):
            raise incomparable(where, op, holds, value, "a number")


def _is_na(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------------------------------
# datetimes and timedeltas
# ------------------------------------------------------------------------------------------
class _DatetimePrepared(Prepared):
    def __init__(self, codec: DatetimeCodec, ms: np.ndarray, rem: np.ndarray | None,
                 mask: np.ndarray | None):
        self.codec, self.ms, self.rem, self.mask = codec, ms, rem, mask

    def fixed(self, start: int, stop: int) -> Fixed | None:
        if self.mask is not None and self.mask[start:stop].any():
            return None
        out: Fixed = [(self.codec.field, BSON_DATETIME, self.ms[start:stop])]
        if self.rem is not None:
            out.append((self.codec.rem_field, BSON_INT32, self.rem[start:stop]))
        return out

    def python(self, start: int, stop: int) -> list[tuple[str, list[Any]]]:
        mask = None if self.mask is None else self.mask[start:stop]
        ms: list[Any] = [DatetimeMS(v) for v in self.ms[start:stop].tolist()]
        out = [(self.codec.field, _with_none(ms, mask))]
        if self.rem is not None:
            rem: list[Any] = self.rem[start:stop].tolist()
            if mask is not None:
                for i in np.flatnonzero(mask).tolist():
                    rem[i] = OMIT
            out.append((self.codec.rem_field, rem))
        return out


class DatetimeCodec(Codec):
    """datetime64[unit] and datetime64[unit, tz]: BSON datetime (UTC ms) + ns remainder."""

    storage = "datetime"
    fixed_readable = True

    def __init__(self, field: str, desc: dict[str, Any]):
        super().__init__(field, desc)
        if desc["kind"] == "datetimetz":
            self.unit, self.tz = desc["unit"], self.dtype.tz
        else:
            self.unit, self.tz = np.datetime_data(self.dtype)[0], None
        self.rem_field = remainder_field(field)
        self.has_remainder = self.unit in ("us", "ns")

    @property
    def fields(self) -> list[str]:
        return [self.field, self.rem_field] if self.has_remainder else [self.field]

    def prepare(self, values: Any, where: str) -> Prepared:
        arr = pd.array(values, copy=False)
        raw = np.asarray(arr.asi8)  # in ``unit``, UTC for tz-aware values; NaT is int64 min
        nat = raw == np.iinfo(np.int64).min
        mask = nat if nat.any() else None
        per = _NS_PER[self.unit]
        if self.unit == "s":
            valid = raw if mask is None else raw[~mask]
            if valid.size and np.abs(valid).max() > _INT64_MAX // 1000:
                raise ValueError(
                    f"{where} holds datetimes outside the range of BSON datetimes")
            ms, rem = raw * 1000, None
        elif self.unit == "ms":
            ms, rem = (raw if mask is None else raw.copy()), None
        else:
            per_ms = 1_000_000 // per
            ms = raw // per_ms
            rem = ((raw % per_ms) * per).astype(np.int32)
            if mask is not None:
                rem[mask] = 0
            if not rem.any():
                rem = None
        if mask is not None:
            ms[mask] = 0
        return _DatetimePrepared(self, ms, rem, mask)

    def from_fixed(self, raw: dict[str, tuple[int, np.ndarray]], n: int) -> Parts | None:
        btype, values = raw[self.field]
        if btype == BSON_NULL:
            return {"v": np.zeros(n, np.int64), "r": np.zeros(n, np.int64),
                    "m": np.ones(n, dtype=bool)}
        if btype != BSON_DATETIME:
            return None
        rem = raw.get(self.rem_field)
        if rem is None or rem[0] == BSON_NULL:
            rem_values = np.zeros(n, np.int64)
        elif rem[0] in (BSON_INT32, BSON_INT64):
            rem_values = rem[1].astype(np.int64)
        else:
            return None
        return {"v": values.astype(np.int64), "r": rem_values, "m": np.zeros(n, dtype=bool)}

    def from_python(self, columns: dict[str, list[Any]]) -> Parts:
        values = columns[self.field]
        rems = columns.get(self.rem_field) or [None] * len(values)
        n = len(values)
        ms = np.zeros(n, np.int64)
        rem = np.zeros(n, np.int64)
        mask = np.zeros(n, dtype=bool)
        for i, (v, r) in enumerate(zip(values, rems, strict=True)):
            if isinstance(v, DatetimeMS):
                ms[i] = int(v)
                if r is not None:
                    rem[i] = int(r)
            else:
                mask[i] = True  # null, or '' as omegaml wrote NaT
        return {"v": ms, "r": rem, "m": mask}

    def finish(self, parts: Parts) -> Any:
        ms, rem, mask = parts["v"], parts["r"], parts["m"]
        per = _NS_PER[self.unit]
        if self.unit == "s":
            values = ms // 1000
        elif self.unit == "ms":
            values = ms
        else:
            per_ms = 1_000_000 // per
            values = ms * per_ms + rem // per
        if mask.any():
            values = values.copy() if values is ms else values
            values[mask] = np.iinfo(np.int64).min
        naive = values.view(f"M8[{self.unit}]")
        if self.tz is None:
            return naive
        return pd.Series(naive, copy=False).dt.tz_localize("UTC").dt.tz_convert(self.tz).array

    def to_ms(self, value: Any) -> tuple[int, int] | None:
        """A filter value as (UTC milliseconds, ns remainder); None for NaT/None."""
        if value is None or _is_na(value):
            return None
        ts = pd.Timestamp(value)
        if self.tz is not None:
            ts = ts.tz_localize(self.tz) if ts.tz is None else ts.tz_convert(self.tz)
            ts = ts.tz_convert("UTC").tz_localize(None)
        elif ts.tz is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        ns = ts.as_unit("ns").value
        return ns // 1_000_000, ns % 1_000_000

    def query_value(self, value: Any) -> Any:
        parts = self.to_ms(value)
        return None if parts is None else DatetimeMS(parts[0])

    def missing_values(self) -> list[Any]:
        return [None]

    def is_datetime_like(self, value: Any) -> bool:
        """Whether ``value`` compares with datetimes (a datetime, date or parsable string)."""
        import datetime as _dt

        if isinstance(value, (_dt.datetime, _dt.date, np.datetime64)):
            return True
        if isinstance(value, str):
            try:
                pd.Timestamp(value)
            except (ValueError, TypeError):
                return False
            return True
        return False

    def check_comparable(self, op: str, value: Any, where: str) -> None:
        holds = f"datetimes ({self.dtype})"
        if op in TEXT_OPS:
            raise incomparable(where, op, holds, value, "")
        if not self.is_datetime_like(value):
            raise incomparable(where, op, holds, value,
                               "a datetime, a date or a date string such as '2024-01-31'")


class TimedeltaCodec(NumberCodec):
    """timedelta64[unit]: the int64 count of ``unit``; NaT is null."""

    def __init__(self, field: str, desc: dict[str, Any]):
        Codec.__init__(self, field, desc)
        self.nullable = False
        self.numpy_dtype = np.dtype(self.dtype)
        self.unit = np.datetime_data(self.numpy_dtype)[0]
        self.storage, self.domain, self.bson_type = "timedelta", np.int64, BSON_INT64

    def prepare(self, values: Any, where: str) -> Prepared:
        raw = np.asarray(values).view(np.int64)
        nat = raw == np.iinfo(np.int64).min
        return _NumberPrepared(raw, nat if nat.any() else None, BSON_INT64, self.field)

    def finish(self, parts: Parts) -> Any:
        values, mask = parts["v"], parts["m"]
        if mask.any():
            values = values.copy()
            values[mask] = np.iinfo(np.int64).min
        return values.view(self.numpy_dtype)

    def query_value(self, value: Any) -> Any:
        if value is None or _is_na(value):
            return None
        if not self._is_timedelta_like(value):  # compared literally: equal to no row
            return encode_value(value, f"filter value for {self.field!r}")
        td = np.timedelta64(pd.Timedelta(value).to_timedelta64(), "ns")
        return Int64(int(td.astype(f"m8[{self.unit}]").astype(np.int64)))

    def missing_values(self) -> list[Any]:
        return [None]

    @staticmethod
    def _is_timedelta_like(value: Any) -> bool:
        import datetime as _dt

        if isinstance(value, (_dt.timedelta, np.timedelta64)):
            return True
        if isinstance(value, str):
            try:
                pd.Timedelta(value)
            except (ValueError, TypeError):
                return False
            return True
        return False

    def check_comparable(self, op: str, value: Any, where: str) -> None:
        holds = f"durations ({self.dtype})"
        if op in TEXT_OPS:
            raise incomparable(where, op, holds, value, "")
        if not self._is_timedelta_like(value):
            raise incomparable(where, op, holds, value,
                               "a timedelta or a duration string such as '5 min'")


# ------------------------------------------------------------------------------------------
# strings, categories, objects
# ------------------------------------------------------------------------------------------
class _ListPrepared(Prepared):
    def __init__(self, field: str, values: list[Any]):
        self.field, self.values = field, values

    def python(self, start: int, stop: int) -> list[tuple[str, list[Any]]]:
        return [(self.field, self.values[start:stop])]




class StringCodec(Codec):
    """pandas string dtypes (``str`` in pandas 3, ``string``): BSON strings, NA is null."""

    storage = "string"

    def prepare(self, values: Any, where: str) -> Prepared:
        arr = pd.array(values, copy=False)
        as_object = arr.to_numpy(dtype=object, na_value=None)
        return _ListPrepared(self.field, as_object.tolist())

    def from_python(self, columns: dict[str, list[Any]]) -> Parts:
        out = np.empty(len(columns[self.field]), dtype=object)
        out[:] = columns[self.field]
        return {"v": out}

    def finish(self, parts: Parts) -> Any:
        return pd.array(parts["v"], dtype=self.dtype)

    def query_value(self, value: Any) -> Any:
        if value is None or _is_na(value):
            return None
        if not isinstance(value, str):  # compared literally: equal to no stored string
            return encode_value(value, f"filter value for {self.field!r}")
        return value

    def missing_values(self) -> list[Any]:
        return [None]

    def check_comparable(self, op: str, value: Any, where: str) -> None:
        if not isinstance(value, str):
            raise incomparable(where, op, "strings", value, "a str")


class ObjectCodec(Codec):
    """object columns: each value as its BSON type, special values tagged (see values)."""

    def prepare(self, values: Any, where: str) -> Prepared:
        # encoding every value now checks them all before anything is written
        encoded = [encode_value(v, where) for v in np.asarray(values, dtype=object)]
        return _ListPrepared(self.field, encoded)

    def finish(self, parts: Parts) -> Any:
        values = parts["v"]
        if self.desc["kind"] == "infer-object":  # omegaml data: infer as pandas would
            return infer_values(values)
        return values

    def missing_values(self) -> list[Any]:
        return [None, float("nan"), {TAG: "NaT"}, {TAG: "NA"}]


def infer_values(values: np.ndarray) -> Any:
    """The array pandas infers for an object array of values, strings kept as objects.

    Numbers, bools and datetimes get their dtypes, as omegaml gave them. Strings stay an
    object array holding None for missing values, as omegaml (pandas 2) gave them, not
    pandas 3's ``str`` dtype, which would turn None into NaN.
    """
    if not len(values):
        return values
    inferred = pd.Series(values.tolist())
    if isinstance(inferred.dtype, pd.StringDtype) or inferred.dtype == object:
        return values
    return inferred.array


class CategoryCodec(Codec):
    """category: the values stored like the categories' dtype; categories in kind_meta."""

    def __init__(self, field: str, desc: dict[str, Any]):
        super().__init__(field, desc)
        if desc["kind"] == "infer-category":
            self.inner: Codec = ObjectCodec(field, {"kind": "numpy", "name": "object"})
        else:
            self.inner = make_codec(field, desc["categories_dtype"])
        self.storage = self.inner.storage
        self.fixed_readable = self.inner.fixed_readable

    @property
    def fields(self) -> list[str]:
        return self.inner.fields

    def prepare(self, values: Any, where: str) -> Prepared:
        cat = pd.Categorical(values)
        codes = cat.codes
        categories = cat.categories
        if len(categories):
            taken = categories.take(np.where(codes < 0, 0, codes))
        else:
            taken = pd.Index(np.zeros(len(codes)), dtype=np.float64)
        if (codes < 0).any():
            taken = pd.Series(taken, copy=False).where(codes >= 0)
            if isinstance(self.inner, NumberCodec) and not isinstance(self.inner, TimedeltaCodec):
                taken = pd.array(taken.to_numpy(dtype=object, na_value=None),
                                 dtype=_nullable_of(self.inner.numpy_dtype))
                return _masked_inner(self.inner, taken, where)
        return self.inner.prepare(taken, where)

    def from_fixed(self, raw: dict[str, tuple[int, np.ndarray]], n: int) -> Parts | None:
        return self.inner.from_fixed(raw, n)

    def from_python(self, columns: dict[str, list[Any]]) -> Parts:
        return self.inner.from_python(columns)

    def finish(self, parts: Parts) -> Any:
        values = self.inner.finish(parts)
        if self.dtype is None:
            return pd.Categorical(values)
        missing = parts.get("m")
        codes = self.dtype.categories.get_indexer(pd.Index(values))
        if missing is not None:
            codes[missing] = -1
        return pd.Categorical.from_codes(codes, dtype=self.dtype)

    def query_value(self, value: Any) -> Any:
        return self.inner.query_value(value)

    def missing_values(self) -> list[Any]:
        return self.inner.missing_values()

    def check_comparable(self, op: str, value: Any, where: str) -> None:
        self.inner.check_comparable(op, value, where)


def _nullable_of(dtype: np.dtype) -> str:
    if dtype.kind == "f":
        return "Float64"
    if dtype.kind == "b":
        return "boolean"
    return {1: "Int8", 2: "Int16", 4: "Int32", 8: "Int64"}[dtype.itemsize].replace(
        "Int", "UInt" if dtype.kind == "u" else "Int")


def _masked_inner(inner: NumberCodec, values: Any, where: str) -> Prepared:
    """Prepare category values with missing rows through a nullable twin of ``inner``."""
    twin = NumberCodec(inner.field, {"kind": "masked", "name": str(values.dtype)})
    return twin.prepare(values, where)


# ------------------------------------------------------------------------------------------
def make_codec(field: str, desc: dict[str, Any]) -> Codec:
    """The codec for a column stored in ``field`` with the dtype described by ``desc``."""
    kind = desc["kind"]
    if kind in ("category", "infer-category"):
        return CategoryCodec(field, desc)
    if kind == "infer-object":
        return ObjectCodec(field, desc)
    if kind == "datetimetz":
        return DatetimeCodec(field, desc)
    if kind == "string":
        return StringCodec(field, desc)
    if kind == "masked":
        return NumberCodec(field, desc)
    dtype = np.dtype(desc["name"])
    if dtype.kind == "M":
        return DatetimeCodec(field, desc)
    if dtype.kind == "m":
        return TimedeltaCodec(field, desc)
    if dtype.kind in "biuf":
        return NumberCodec(field, desc)
    return ObjectCodec(field, desc)


def concat_parts(parts: Sequence[Parts], codec: Codec) -> Parts:
    """Concatenate the parts of several batches (``codec.empty()`` for none)."""
    if not parts:
        return codec.empty()
    if len(parts) == 1:
        return parts[0]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def take_parts(parts: Parts, order: np.ndarray) -> Parts:
    """Parts reordered by ``order`` (row positions)."""
    return {key: values[order] for key, values in parts.items()}
