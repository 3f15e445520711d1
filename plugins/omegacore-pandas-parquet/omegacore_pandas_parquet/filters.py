"""``column__op=value`` filters on Parquet data: row groups skipped by their statistics,
then the rows filtered exactly in pandas.

The operators and their meaning are those of ``pandas.dfrows`` filters. Statistics prune
only where they can decide (``eq``, ``lt``, ``lte``, ``gt``, ``gte``, ``in``,
``between`` on numbers, text, booleans and datetimes); every other filter still gives
exact results, it just reads every row group.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from omegacore.filters import check_regex
from omegacore_pandas.query import OPERATORS  # the operators every pandas kind takes


@dataclass(frozen=True)
class Criterion:
    """One ``column__op=value`` filter."""

    column: Hashable
    op: str
    value: Any


def parse(criteria: Mapping[Hashable, Any], columns: list[Hashable],
          index_names: list[Hashable], where: str) -> list[Criterion]:
    """The criteria as ``Criterion`` records; KeyError/ValueError naming what is valid."""
    known = [*columns, *[n for n in index_names if n is not None]]
    parsed = []
    for key, value in criteria.items():
        if key in known:
            parsed.append(Criterion(key, "eq", value))
            continue
        if not isinstance(key, str) or "__" not in key:
            raise KeyError(f"{where}: {key!r} is not a column; filter on one of {known}")
        column, _, op = key.rpartition("__")
        if column not in known:
            raise KeyError(f"{where}: {column!r} is not a column; filter on one of {known}")
        if op not in OPERATORS:
            raise ValueError(f"{where}: unknown operator {op!r}; use one of "
                             f"{', '.join(OPERATORS)}")
        parsed.append(Criterion(column, op, value))
    return parsed


def group_may_match(stats: Mapping[str, Any], criteria: list[Criterion]) -> bool:
    """False only if a row group's statistics prove that no row matches every criterion.

    ``stats`` maps a column's Parquet name to ``[min, max, null_count]``.
    """
    for criterion in criteria:
        entry = stats.get(str(criterion.column))
        if entry is None:
            continue
        low, high, _nulls = entry
        try:
            if not _may_match(low, high, criterion.op, criterion.value):
                return False
        except TypeError:  # values of another type than the column: decide on the rows
            continue
    return True


def _may_match(low: Any, high: Any, op: str, value: Any) -> bool:
    if op in ("eq", "lt", "lte", "gt", "gte"):
        v = _comparable(value, low)
        return {"eq": low <= v <= high, "lt": low < v, "lte": low <= v,
                "gt": high > v, "gte": high >= v}[op]
    if op == "in" and isinstance(value, (list, tuple, set)):
        return any(low <= _comparable(v, low) <= high for v in value)
    if op == "between" and isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = (_comparable(v, low) for v in value)
        return not (hi < low or lo > high)
    return True


def _comparable(value: Any, like: Any) -> Any:
    """``value`` in the type of a statistic (datetimes naive UTC; numbers as numbers)."""
    if isinstance(like, dt.datetime):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return stamp.to_pydatetime()
    if isinstance(like, bool) or isinstance(value, bool):
        if type(like) is not type(value):
            raise TypeError("compare booleans with booleans only")
    return value


def apply(frame: pd.DataFrame, criteria: list[Criterion], where: str) -> pd.DataFrame:
    """The rows of ``frame`` matching every criterion (columns or named index levels)."""
    if not criteria or frame.empty:
        return frame
    mask = pd.Series(True, index=frame.index)
    for criterion in criteria:
        values = _values(frame, criterion.column)
        mask &= _mask(values, criterion, where).to_numpy(dtype=bool, na_value=False)
    return frame[mask.to_numpy()]


def _values(frame: pd.DataFrame, column: Hashable) -> pd.Series:
    if column in frame.columns:
        return frame[column]
    return pd.Series(frame.index.get_level_values(column), index=frame.index)


def _mask(values: pd.Series, criterion: Criterion, where: str) -> pd.Series:
    op, value = criterion.op, criterion.value
    try:
        if op == "eq":
            return values.isna() if value is None else values == value
        if op == "ne":
            return values.notna() if value is None else values != value
        if op in ("lt", "lte", "gt", "gte"):
            return {"lt": values < value, "lte": values <= value,
                    "gt": values > value, "gte": values >= value}[op]
        if op in ("in", "nin"):
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise ValueError(f"{where}: {criterion.column}__{op} takes a list")
            inside = values.isin(list(value))
            return inside if op == "in" else ~inside
        if op == "between":
            lo, hi = value
            return (values >= lo) & (values <= hi)
        if op == "isnull":
            return values.isna() if value else values.notna()
        if op == "exists":
            return pd.Series(bool(value), index=values.index)
        text = values.astype(object).where(values.notna(), None)
        if not isinstance(value, str):
            raise ValueError(f"{where}: {criterion.column}__{op} takes a string")
        if op == "contains":
            return text.map(lambda s: isinstance(s, str) and value in s)
        if op == "startswith":
            return text.map(lambda s: isinstance(s, str) and s.startswith(value))
        if op == "endswith":
            return text.map(lambda s: isinstance(s, str) and s.endswith(value))
        pattern = re.compile(check_regex(value, where))
        return text.map(lambda s: isinstance(s, str) and pattern.search(s) is not None)
    except TypeError as exc:
        raise ValueError(
            f"{where}: {criterion.column}__{op}={value!r} cannot compare with the column's "
            f"values ({values.dtype}); give a value of the column's type"
        ) from exc
