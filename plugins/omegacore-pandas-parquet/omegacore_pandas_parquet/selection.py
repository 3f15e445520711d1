"""What a read takes from a stored ``pandas.parquet`` object, in one place.

``get``, lazy frames and Dask partitions all read the same way: check the columns, parse
the ``column__op=value`` criteria, read the row groups that can match with the columns
the criteria need too, then rebuild the frame, filter it exactly and keep the columns
asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from omegacore_pandas_parquet import codec, filters
from omegacore_pandas_parquet.read import Read, row_groups


def stored_columns(kind_meta: Mapping[str, Any]) -> list[Hashable]:
    """The stored frame's column labels (empty for a Series or unusual labels)."""
    restore = kind_meta.get("restore") or {}
    if restore.get("pytype") == "Series":
        return []
    return list(restore.get("names") or [])


@dataclass(frozen=True)
class Selection:
    """Columns (None: all) and parsed criteria of one read of a stored object."""

    kind_meta: Mapping[str, Any]
    columns: list[Hashable] | None
    criteria: list[filters.Criterion]
    where: str

    @classmethod
    def of(cls, kind_meta: Mapping[str, Any], columns: Sequence[Hashable] | None,
           criteria: Mapping[Hashable, Any], where: str) -> Selection:
        """Checked now: unknown columns are a KeyError, bad criteria a Key/ValueError."""
        names = stored_columns(kind_meta)
        if columns is not None:
            missing = [c for c in columns if c not in names]
            if missing:
                raise KeyError(f"{where}: no columns {missing}; columns: {names}")
        parsed = filters.parse(criteria, names, kind_meta.get("index_names") or [],
                               where=where) if criteria else []
        return cls(kind_meta, list(columns) if columns is not None else None, parsed, where)

    @property
    def parts(self) -> list[dict[str, Any]]:
        return list(self.kind_meta.get("parts") or [])

    def read_columns(self) -> list[Hashable] | None:
        """The columns to read: those asked for and those the criteria test."""
        if self.columns is None:
            return None
        names = stored_columns(self.kind_meta)
        tested = [c.column for c in self.criteria if c.column in names]
        return list(dict.fromkeys([*self.columns, *tested]))

    def groups(self) -> list[tuple[int, int]]:
        """``(part, row group)`` of the row groups whose statistics can match."""
        return row_groups(self.parts, self.criteria)

    def finish(self, read: Callable[[], Read]) -> pd.DataFrame | pd.Series:
        """The frame of the table ``read()`` gives: restored, filtered exactly, the columns
        asked for. The table is released here before the frame's columns are made
        writable, so a read holds the data about once (plus one column)."""
        table, starts = read()
        result = codec.to_pandas(table, self.kind_meta.get("restore") or {}, starts)
        del table
        result = codec.writable(result)
        if isinstance(result, pd.Series):
            if not self.criteria:
                return result
            return filters.apply(result.to_frame(), self.criteria, self.where).iloc[:, 0]
        result = filters.apply(result, self.criteria, self.where)
        return result[self.columns] if self.columns is not None else result
