"""How a stored frame splits into Dask partitions, and what one partition reads.

A ``RowsReader`` is the picklable function every partition of a ``pandas.dfrows``
object runs on a worker: it reads the rows whose row id lies in its range, with the
object's filter and only the columns asked for, through its own connection (the store
pickles as its settings). Row ranges come from the committed row ranges recorded in the
metadata (``storage.rows``), so a partition never reads rows of an append in progress.
After reading, each partition checks that the object was not replaced meanwhile and
raises ``StaleRead`` if it was: a Dask frame never mixes two versions of an object.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from omegacore import OmegaStore
from omegacore.documents import MetadataBase
from omegacore.errors import StaleRead
from omegacore.filters import all_of
from omegacore.staging import merge_ranges
from omegacore_pandas.layout import FrameLayout
from omegacore_pandas.names import ROWID_FIELD
from omegacore_pandas.rows import read_rows

#: rows per partition unless ``chunksize`` or ``npartitions`` says otherwise
CHUNKSIZE = 250_000

#: one partition: the committed row-id ranges ``[(start, stop), ...]`` it reads (one,
#: unless an append that never committed left a gap); ``missing`` also takes documents
#: without a row id (only in data written by other tools)
Bounds = tuple[tuple[tuple[int, int], ...], bool]


@dataclass(frozen=True)
class RowsReader:
    """Reads one row-id range of a stored frame, as one Dask partition (see module doc)."""

    store: OmegaStore
    name: str
    collection: str
    kind: str
    kind_meta: dict[str, Any]
    generation: Any
    query: dict[str, Any]

    @property
    def layout(self) -> FrameLayout:
        return FrameLayout.from_kind_meta(self.kind_meta, self.kind)

    def __call__(self, bounds: Bounds, columns: Sequence[Hashable] | None = None
                 ) -> pd.DataFrame | pd.Series:
        ranges, missing = bounds
        # the committed ranges select the committed rows: no other filter on the row id,
        # so the server answers each partition from the row id index
        parts = [{ROWID_FIELD: {"$gte": lo, "$lt": hi}} for lo, hi in ranges]
        if missing:
            parts.append({ROWID_FIELD: {"$exists": False}})
        in_range = parts[0] if len(parts) == 1 else {"$or": parts}
        collection = self.store.mongodb[self.collection]
        frame = read_rows(collection, self.layout, query=all_of(self.query, in_range),
                          columns=list(columns) if columns is not None else None,
                          progress=False)
        check_current(self.store, self.name, self.generation)
        return frame

    def empty(self, columns: Sequence[Hashable] | None = None) -> pd.DataFrame | pd.Series:
        """No rows, with the columns, dtypes and index levels every partition has."""
        collection = self.store.mongodb[self.collection]
        return read_rows(collection, self.layout, query={"_id": {"$in": []}},
                         columns=list(columns) if columns is not None else None,
                         progress=False)


def rows_reader(store: OmegaStore, meta: MetadataBase, query: dict[str, Any]) -> RowsReader:
    """The reader of ``meta``'s rows matching ``query`` (a filter on stored fields)."""
    if not meta.collection:
        raise ValueError(f"{meta.name!r} has no row collection; its metadata is incomplete")
    return RowsReader(store=store, name=meta.name, collection=meta.collection, kind=meta.kind,
                      kind_meta=dict(meta.kind_meta or {}), generation=meta.generation,
                      query=query)


def row_bounds(store: OmegaStore, meta: MetadataBase, chunksize: int | None = None,
               npartitions: int | None = None) -> list[Bounds]:
    """Partitions of about ``chunksize`` committed rows each (or ``npartitions`` of them).

    Uses the committed ranges of the metadata; for data written without them (omegaml),
    the lowest and highest row id in the collection.
    """
    ranges = (meta.storage or {}).get("rows")
    missing = False
    if ranges is None:
        collection = store.mongodb[meta.collection]
        first = collection.find_one({ROWID_FIELD: {"$exists": True}}, {ROWID_FIELD: 1},
                                    sort=[(ROWID_FIELD, 1)])
        last = collection.find_one({ROWID_FIELD: {"$exists": True}}, {ROWID_FIELD: 1},
                                   sort=[(ROWID_FIELD, -1)])
        ranges = [[int(first[ROWID_FIELD]), int(last[ROWID_FIELD]) + 1]] if first and last \
            else []
        missing = True
    merged = merge_ranges(ranges)
    total = sum(hi - lo for lo, hi in merged)
    if npartitions is not None:
        size = max(1, -(-total // npartitions))
    else:
        size = chunksize or CHUNKSIZE
    # cut after every ``size`` committed ids; a partition takes the committed pieces
    # between its cuts, so rows of an append that never committed are never read
    bounds: list[Bounds] = []
    pieces: list[tuple[int, int]] = []
    taken = 0
    for lo, hi in merged:
        position = lo
        while position < hi:
            step = min(hi - position, size - taken)
            pieces.append((position, position + step))
            position += step
            taken += step
            if taken == size:
                bounds.append((tuple(pieces), False))
                pieces, taken = [], 0
    if pieces:
        bounds.append((tuple(pieces), False))
    if not bounds:
        bounds = [(((0, 0),), False)]
    if missing:
        bounds[0] = (bounds[0][0], True)
    return bounds


def check_partitioning(chunksize: int | None, npartitions: int | None) -> None:
    """ValueError unless at most one of them is given, as a positive int."""
    if chunksize is not None and npartitions is not None:
        raise ValueError("give chunksize= (rows per partition) or npartitions=, not both")
    for label, value in (("chunksize", chunksize), ("npartitions", npartitions)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise ValueError(f"{label} must be a positive int, got {value!r}")


@dataclass(frozen=True)
class RowGroupReader:
    """Reads one Parquet row group of a ``pandas.parquet`` object, as one Dask partition:
    only the columns asked for, rows filtered exactly after the read."""

    store: OmegaStore
    name: str
    kind_meta: dict[str, Any]
    generation: Any
    criteria: dict[Any, Any]

    def __call__(self, position: tuple[int, int], columns: Sequence[Hashable] | None = None
                 ) -> pd.DataFrame | pd.Series:
        from omegacore_pandas_parquet.read import read_row_group

        selection = self._selection(columns)
        frame = selection.finish(lambda: read_row_group(self.store, selection.parts, *position,
                                                        columns=selection.read_columns()))
        check_current(self.store, self.name, self.generation)
        return frame

    def empty(self, columns: Sequence[Hashable] | None = None) -> pd.DataFrame | pd.Series:
        """No rows, with the columns and dtypes every partition has (reads a footer)."""
        from omegacore_pandas_parquet.codec import to_pandas
        from omegacore_pandas_parquet.read import empty_table

        table = empty_table(self.store, self.kind_meta.get("parts") or [], columns)
        frame = to_pandas(table, self.kind_meta.get("restore") or {})
        return frame[list(columns)] if columns is not None and frame.ndim == 2 else frame

    def _selection(self, columns: Sequence[Hashable] | None = None) -> Any:
        from omegacore_pandas_parquet.selection import Selection

        return Selection.of(self.kind_meta, columns, self.criteria,
                            where=f"read_store({self.name!r})")

    def positions(self) -> list[tuple[int, int]]:
        """The row groups whose statistics can match the criteria (at least one)."""
        return self._selection().groups() or [(0, 0)]


def check_current(store: OmegaStore, name: str, generation: Any) -> None:
    """StaleRead if the object was replaced or dropped since the frame was planned."""
    meta = store.metadata(name)
    if meta is None or meta.generation != generation:
        raise StaleRead(
            f"{name!r} was replaced or dropped while the Dask frame read it; "
            "read it again (read_store or getl(...).to_dask())"
        )
