"""Lazy reads of ``pandas.parquet`` objects: ``store.getl(name)``.

A ``ParquetFrame`` records a column selection and ``column__op=value`` filters and reads
nothing until asked: ``.value`` reads the row groups whose statistics can match and only
the selected columns, ``head(n)`` reads row groups until it has ``n`` rows,
``iterchunks()`` gives one frame per row group, and ``to_dask()`` (with omegacore-dask)
one partition per row group. Sorting, grouping and merging on the server are what
``pandas.dfrows`` lazy frames do; here they are done in pandas after ``.value``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import pandas as pd
from omegacore import OmegaStore
from omegacore.documents import MetadataBase

from omegacore_pandas_parquet.read import read_row_group
from omegacore_pandas_parquet.selection import Selection, stored_columns


class ParquetFrame:
    """A stored ``pandas.parquet`` frame, read when asked (see the module doc)."""

    def __init__(self, store: OmegaStore, meta: MetadataBase,
                 columns: Sequence[Hashable] | None = None,
                 criteria: dict[Hashable, Any] | None = None, series: bool = False):
        self._store = store
        self._meta = meta
        self._columns = list(columns) if columns is not None else None
        self._criteria = dict(criteria or {})
        self._series = series
        self._selection = Selection.of(self._kind_meta, self._columns, self._criteria,
                                       where=f"getl({meta.name!r})")

    @property
    def _kind_meta(self) -> dict[str, Any]:
        return self._meta.kind_meta or {}


    def _with(self, **changes: Any) -> ParquetFrame:
        args: dict[str, Any] = {"columns": self._columns, "criteria": self._criteria,
                                "series": self._series}
        args.update(changes)
        return ParquetFrame(self._store, self._meta, **args)

    # -- building (reads nothing) -----------------------------------------------------------
    @property
    def columns(self) -> pd.Index:
        """The selected column names (from the metadata)."""
        return pd.Index(self._columns if self._columns is not None else
                        stored_columns(self._kind_meta))

    def __getitem__(self, key: Hashable | list[Hashable]) -> ParquetFrame:
        """``pf["x"]`` a lazy column (``.value`` a Series), ``pf[["x", "y"]]`` columns."""
        if isinstance(key, list):
            return self._with(columns=key, series=False)
        return self._with(columns=[key], series=True)

    def query(self, **criteria: Any) -> ParquetFrame:
        """Rows matching ``column__op=value`` criteria (added to those already given)."""
        return self._with(criteria={**self._criteria, **criteria})

    def explain(self) -> dict[str, Any]:
        """What a read would fetch: row groups ``(file, group)`` and columns."""
        total = sum(len(p.get("groups") or []) for p in self._selection.parts)
        return {"row_groups": self._selection.groups(), "of_row_groups": total,
                "columns": self._selection.read_columns()}

    # -- reading -------------------------------------------------------------------------------
    @property
    def value(self) -> pd.DataFrame | pd.Series:
        """The selected rows and columns (one get)."""
        result = self._store.get(self._meta.name, columns=self._columns, **{
            str(k): v for k, v in self._criteria.items()})
        return self._shaped(result)

    def head(self, n: int = 5) -> pd.DataFrame | pd.Series:
        """The first ``n`` selected rows, reading row groups only until there are enough."""
        taken: list[pd.DataFrame] = []
        count = 0
        for chunk in self.iterchunks():
            taken.append(chunk)
            count += len(chunk)
            if count >= n:
                break
        if not taken:
            return self.value.iloc[:0]
        return pd.concat(taken).iloc[:n] if len(taken) > 1 else taken[0].iloc[:n]

    def iterchunks(self) -> Iterator[pd.DataFrame | pd.Series]:
        """One frame per row group that can match, in stored order."""
        selection = self._selection
        for part, group in selection.groups():
            yield self._shaped(selection.finish(
                lambda part=part, group=group: read_row_group(  # type: ignore[misc]
                    self._store, selection.parts, part, group, selection.read_columns())))

    def __len__(self) -> int:
        if not self._selection.criteria:
            return int(self._kind_meta.get("rows") or 0)
        return sum(len(chunk) for chunk in self.iterchunks())

    def to_dask(self) -> Any:
        """A Dask DataFrame, one partition per row group that can match (omegacore-dask)."""
        try:
            from omegacore_dask import read_store
        except ImportError as exc:
            raise ImportError("to_dask() needs omegacore-dask: pip install "
                              "'omegacore-dask[distributed]'") from exc
        ddf = read_store(self._meta.name, self._store, columns=self._columns,
                         **{str(k): v for k, v in self._criteria.items()})
        return ddf[self._columns[0]] if self._series and self._columns else ddf

    def _shaped(self, frame: Any) -> Any:
        """A single selected column as a Series (``pf["x"]``)."""
        if isinstance(frame, pd.DataFrame) and self._series:
            return frame.iloc[:, 0]
        return frame

    def __repr__(self) -> str:
        return (f"ParquetFrame({self._meta.name!r}, columns={self._columns}, "
                f"criteria={self._criteria})")
