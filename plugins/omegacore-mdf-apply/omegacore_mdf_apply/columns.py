"""Columns inside ``apply``: any dtype, with pandas' ``.str`` and ``.dt`` methods.

An ``ApplyColumn`` is a ``LazyExpression`` (``omegacore_pandas.expressions``) that also
holds strings, datetimes and booleans: each method adds an aggregation expression and the
same pandas call, which types the result. Missing values stay missing (pandas' NaN/NaT
in, NaN out), comparisons give boolean columns (missing compares False, ``!=`` True).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
from omegacore_pandas.codecs import DatetimeCodec
from omegacore_pandas.expressions import COMPARISONS, LazyExpression, missing_value
from omegacore_pandas.plan import may_be_missing

_NAN = float("nan")


def _is_string(value: Any) -> dict[str, Any]:
    return {"$eq": [{"$type": value}, "string"]}


class ApplyColumn(LazyExpression):
    """A column of the frame ``apply`` works on (see module doc)."""

    @classmethod
    def of(cls, frame: Any, name: Any) -> ApplyColumn:
        """Column ``name`` of the lazy frame ``frame`` (stored or computed)."""
        spec = frame._frame(None)._layout.select([name]).columns[0]
        codec = spec.codec
        if len(codec.fields) != 1 and not isinstance(codec, DatetimeCodec):
            raise TypeError(f"column {name!r} ({codec.dtype}) is stored in several fields "
                            "and cannot be used in apply; use .value in pandas")
        column = cls(frame._frame(None), "$" + codec.fields[0], lambda df: df[name], name,
                     nullable=may_be_missing(codec))
        column._codec = codec
        return column

    _codec: Any = None

    def _derived(self, mongo: Any, pandas: Callable[[Any], Any], name: Any = None,
                 nullable: bool | None = None) -> Any:
        column = super()._derived(mongo, pandas, name, nullable)
        column._codec = self._codec
        return column

    def _dtype(self) -> Any:
        result = self.evaluate(self._frame._empty())
        if isinstance(result, pd.Series):
            return result.dtype
        return pd.Series([result]).dtype

    def _kind(self) -> str:
        dtype = self._dtype()
        if pd.api.types.is_bool_dtype(dtype):
            return "bool"
        if pd.api.types.is_numeric_dtype(dtype):
            return "number"
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return "datetime"
        if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
            return "string"
        return "other"

    def _operand(self, other: Any) -> LazyExpression:
        if isinstance(other, str):
            return ApplyColumn(self._frame, {"$literal": other}, lambda df: other, None,
                               literal=True, nullable=False)
        if isinstance(other, (ApplyColumn, LazyExpression)) or not hasattr(other, "_spec"):
            return super()._operand(other)
        return super()._operand(ApplyColumn.of(other, other.name))

    def _binary(self, op: str, other: Any, reverse: bool = False) -> LazyExpression:
        right = self._operand(other)
        kinds = {self._kind(), right._kind() if isinstance(right, ApplyColumn) else "number"}
        if "string" in kinds:
            if op != "add" or kinds != {"string"}:
                raise TypeError("strings take + (concatenation) with strings only")
            first, second = (right, self) if reverse else (self, right)
            return StringMethods(first).cat(second)  # type: ignore[arg-type]
        if kinds - {"number"}:
            raise TypeError(f"arithmetic needs numbers, not {sorted(kinds - {'number'})}; "
                            "use .dt for datetimes")
        return super()._binary(op, other, reverse)

    # -- comparisons give boolean columns (as pandas) ----------------------------------------
    def _compare(self, op: str, other: Any) -> Any:
        mongo, right = self._compared(op, other)
        python_op = COMPARISONS[op][1]
        lf, rf = self._pandas, right._pandas
        return self._derived(mongo, lambda df: python_op(lf(df), rf(df)), self.name,
                             nullable=False)

    def isequal(self, other: Any) -> Any:
        """``self == other`` as a boolean column (omegaml's name)."""
        return self._compare("eq", other)

    @property
    def str(self) -> StringMethods:
        """pandas' string methods, run on the server."""
        if self._kind() != "string":
            raise AttributeError(f".str needs a string column, {self.name!r} is "
                                 f"{self._dtype()}")
        return StringMethods(self)

    @property
    def dt(self) -> DatetimeMethods:
        """pandas' datetime fields, computed on the server."""
        if self._kind() != "datetime":
            raise AttributeError(f".dt needs a datetime column, {self.name!r} is "
                                 f"{self._dtype()}")
        return DatetimeMethods(self)


class StringMethods:
    """``column.str``: lower, upper, len, slice/``[a:b]``, substr, find/index, split, cat
    (concat), strip, contains, startswith, endswith, replace."""

    def __init__(self, column: ApplyColumn):
        self._c = column

    def _unary(self, mongo: Any, pandas: Callable[[Any], Any], nullable: bool = True,
               missing: Any = None) -> ApplyColumn:
        value = self._c._mongo
        fn = self._c._pandas
        guarded = {"$cond": [_is_string(value), mongo, missing]}
        return self._c._derived(guarded, lambda df: pandas(fn(df).str), self._c.name,
                                nullable=nullable or self._c.nullable)

    def lower(self) -> ApplyColumn:
        return self._unary({"$toLower": self._c._mongo}, lambda s: s.lower())

    def upper(self) -> ApplyColumn:
        return self._unary({"$toUpper": self._c._mongo}, lambda s: s.upper())

    def len(self) -> ApplyColumn:
        return self._unary({"$strLenCP": self._c._mongo}, lambda s: s.len())

    def strip(self) -> ApplyColumn:
        return self._unary({"$trim": {"input": self._c._mongo}}, lambda s: s.strip())

    def slice(self, start: int | None = None, stop: int | None = None) -> ApplyColumn:
        for bound in (start, stop):
            if bound is not None and (not isinstance(bound, int) or bound < 0):
                raise TypeError("str.slice on the server takes bounds >= 0 (or None)")
        first = start or 0
        length = (stop - first if stop is not None else 2 ** 31 - 1)
        return self._unary({"$substrCP": [self._c._mongo, first, max(length, 0)]},
                           lambda s: s.slice(start, stop))

    def __getitem__(self, key: builtins.slice) -> ApplyColumn:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("index .str with a slice without step, e.g. .str[1:3]")
        return self.slice(key.start, key.stop)

    def substr(self, start: int, length: int) -> ApplyColumn:
        """``length`` characters from ``start`` (omegaml's form of ``slice``)."""
        return self.slice(start, start + length)

    def find(self, sub: str) -> ApplyColumn:
        """The position of ``sub`` (-1 if absent), as ``str.find``."""
        return self._unary({"$indexOfCP": [self._c._mongo, sub]}, lambda s: s.find(sub))

    index = find  # omegaml's name (pandas' str.index raises where str.find gives -1)

    def split(self, sep: str = " ") -> ApplyColumn:
        """Lists of the parts, as ``str.split(sep)``."""
        if not isinstance(sep, str) or not sep:
            raise TypeError("str.split on the server takes a non-empty separator string")
        # lists in an object column: pandas marks missing values there with NaN
        return self._unary({"$split": [self._c._mongo, sep]}, lambda s: s.split(sep),
                           missing={"$literal": _NAN})

    def cat(self, *others: Any, sep: str = "") -> ApplyColumn:
        """The values joined with ``others`` (columns or strings); missing gives NaN."""
        terms: list[LazyExpression] = [self._c]
        for other in others:
            terms.append(self._c._operand(other))
        mongo_terms: list[Any] = []
        for i, term in enumerate(terms):
            if i and sep:
                mongo_terms.append({"$literal": sep})
            mongo_terms.append(term._mongo)
        fns = [t._pandas for t in terms]
        guard = {"$and": [{"$not": [missing_value(t._mongo)]} for t in terms]}

        def pandas(df: Any) -> Any:
            out = fns[0](df)
            for fn in fns[1:]:
                value = fn(df)
                out = out + sep + value if isinstance(value, str) or sep else out + value
            return out

        return self._c._derived({"$cond": [guard, {"$concat": mongo_terms}, None]}, pandas,
                                self._c.name, nullable=True)

    concat = cat  # omegaml's name

    def _match(self, pattern: str, pandas: Callable[[Any], Any]) -> ApplyColumn:
        value = self._c._mongo
        # pandas' string columns answer False for missing values
        mongo = {"$cond": [_is_string(value),
                           {"$regexMatch": {"input": value, "regex": pattern}}, False]}
        fn = self._c._pandas
        return self._c._derived(mongo, lambda df: pandas(fn(df).str), self._c.name,
                                nullable=False)

    def contains(self, pat: str, regex: bool = False) -> ApplyColumn:
        return self._match(pat if regex else re.escape(pat),
                           lambda s: s.contains(pat, regex=regex))

    def startswith(self, pat: str) -> ApplyColumn:
        return self._match("^" + re.escape(pat), lambda s: s.startswith(pat))

    def endswith(self, pat: str) -> ApplyColumn:
        return self._match(re.escape(pat) + "$", lambda s: s.endswith(pat))

    def replace(self, pat: str, repl: str, regex: bool = False) -> ApplyColumn:
        if regex:
            raise TypeError("str.replace on the server replaces plain text (regex=False)")
        return self._unary({"$replaceAll": {"input": self._c._mongo, "find": pat,
                                            "replacement": repl}},
                           lambda s: s.replace(pat, repl, regex=False))


class DatetimeMethods:
    """``column.dt``: year, month, day, hour, minute, second, dayofweek, dayofyear,
    quarter, week (ISO); in the column's time zone, as pandas gives them."""

    def __init__(self, column: ApplyColumn):
        self._c = column

    def _part(self, op: str, pandas: Callable[[Any], Any], offset: int = 0) -> ApplyColumn:
        date: dict[str, Any] = {"date": self._c._mongo}
        tz = getattr(self._c._codec, "tz", None)
        if tz is not None:
            date["timezone"] = str(tz)
        mongo: Any = {op: date}
        if offset:
            mongo = {"$add": [mongo, offset]}
        fn = self._c._pandas
        return self._c._derived(mongo, lambda df: pandas(fn(df).dt), self._c.name,
                                nullable=self._c.nullable)

    @property
    def year(self) -> ApplyColumn:
        return self._part("$year", lambda d: d.year)

    @property
    def month(self) -> ApplyColumn:
        return self._part("$month", lambda d: d.month)

    @property
    def day(self) -> ApplyColumn:
        return self._part("$dayOfMonth", lambda d: d.day)

    @property
    def hour(self) -> ApplyColumn:
        return self._part("$hour", lambda d: d.hour)

    @property
    def minute(self) -> ApplyColumn:
        return self._part("$minute", lambda d: d.minute)

    @property
    def second(self) -> ApplyColumn:
        return self._part("$second", lambda d: d.second)

    @property
    def dayofweek(self) -> ApplyColumn:
        """Monday 0 to Sunday 6, as pandas."""
        return self._part("$isoDayOfWeek", lambda d: d.day_of_week, offset=-1)

    day_of_week = weekday = dayofweek

    @property
    def dayofyear(self) -> ApplyColumn:
        return self._part("$dayOfYear", lambda d: d.day_of_year)

    day_of_year = dayofyear

    @property
    def week(self) -> ApplyColumn:
        """The ISO week (omegaml's ``week``; pandas: ``isocalendar().week``)."""
        return self._part("$isoWeek",
                          lambda d: d.isocalendar().week.astype("float64")
                          if d.isocalendar().week.isna().any()
                          else d.isocalendar().week.astype("int64"))

    @property
    def quarter(self) -> ApplyColumn:
        column = self._part("$month", lambda d: d.quarter)
        mongo = {"$ceil": {"$divide": [column._mongo, 3]}}
        return column._derived(mongo, column._pandas, column.name)
