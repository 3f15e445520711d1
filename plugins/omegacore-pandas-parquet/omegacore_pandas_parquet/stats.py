"""Row-group statistics in a form the metadata (BSON) holds and filters compare."""

from __future__ import annotations

import datetime as dt
from typing import Any


def column_stats(group: Any) -> dict[str, list[Any]]:
    """``{column: [min, max, null_count]}`` for a row group's columns with usable stats.

    Kept for numbers, text, booleans and datetimes (naive UTC, as BSON stores them);
    NaN bounds and other types are left out (their row groups are always read).
    """
    stats: dict[str, list[Any]] = {}
    for j in range(group.num_columns):
        column = group.column(j)
        statistics = column.statistics
        if statistics is None or not statistics.has_min_max:
            continue
        low, high = _plain(statistics.min), _plain(statistics.max)
        if low is None or high is None:
            continue
        stats[column.path_in_schema] = [low, high, int(statistics.null_count or 0)]
    return stats


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value
    return None
