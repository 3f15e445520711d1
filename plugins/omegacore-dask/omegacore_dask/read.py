"""``read_store``: a stored frame as a Dask DataFrame, read partition by partition."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from omegacore import OmegaStore
from omegacore.documents import MetadataBase
from omegacore.staging import visible_rows_filter
from omegacore_pandas.layout import FrameLayout
from omegacore_pandas.query import build_query, collection_probe

from omegacore_dask.partitions import (
    RowGroupReader,
    check_partitioning,
    row_bounds,
    rows_reader,
)

if TYPE_CHECKING:
    import dask.dataframe as dd

#: kinds stored one row per document, read one row-id range per partition
ROW_KINDS = ("pandas.dfrows", "pandas.serows")
#: the columnar kind, read one row group per partition
PARQUET_KIND = "pandas.parquet"


def read_store(
    name: str,
    store: OmegaStore | None = None,
    *,
    mongo_url: str | None = None,
    bucket: str | None = None,
    prefix: str | None = None,
    columns: Sequence[Hashable] | None = None,
    filter: Mapping[Hashable, Any] | None = None,
    chunksize: int | None = None,
    npartitions: int | None = None,
    trusted: bool = False,
    **criteria: Any,
) -> dd.DataFrame | dd.Series:
    """The stored frame ``name`` as a Dask DataFrame (or Series); reads nothing yet.

    store: the store to read from; or ``mongo_url``/``bucket``/``prefix`` to open one
        (the same defaults as ``OmegaStore``: the embedded server without a URL).
    columns: only these columns; ``ddf[[...]]`` later narrows the reads further.
    filter / keyword arguments: ``column__op=value`` criteria, as ``store.get`` takes
        them, run on the server in every partition's read.
    chunksize: rows per partition (default 250,000), or ``npartitions`` partitions.
    trusted: let raw MongoDB operators in the filter through (own code only).

    ``pandas.dfrows`` objects give one partition per range of row ids, ``pandas.parquet``
    objects one per row group that can match the filters (``chunksize`` and
    ``npartitions`` do not apply); other kinds one partition holding ``store.get(name)``.
    """
    check_partitioning(chunksize, npartitions)
    if store is None:
        store = OmegaStore(mongo_url=mongo_url, bucket=bucket, prefix=prefix)
    elif mongo_url is not None or bucket is not None or prefix is not None:
        raise TypeError("give store= or mongo_url=/bucket=/prefix=, not both")
    meta = store.metadata(name)
    if meta is None:
        raise KeyError(f"{name!r} is not stored in {store!r}; store.list() shows what is")
    wanted: dict[Hashable, Any] = {key: value for key, value in criteria.items()}
    wanted.update(filter or {})
    if meta.kind == PARQUET_KIND:
        if trusted:
            raise TypeError("trusted= applies to MongoDB filters; pandas.parquet filters "
                            "run in pandas")
        return _parquet_frame(store, meta, columns, wanted)
    if meta.kind not in ROW_KINDS:
        return _one_partition(store, meta, columns, wanted, trusted)
    layout = FrameLayout.from_kind_meta(meta.kind_meta or {}, meta.kind)
    visible = visible_rows_filter((meta.storage or {}).get("rows"))
    query = build_query(wanted, layout, trusted=trusted, where=f"read_store({name!r})",
                        probe=collection_probe(store.mongodb[meta.collection], visible))
    # the partitions' row ranges are the committed ones: no need for the visible filter
    return rows_frame(store, meta, dict(query), columns, chunksize, npartitions)


def rows_frame(store: OmegaStore, meta: MetadataBase, query: dict[str, Any],
               columns: Sequence[Hashable] | None, chunksize: int | None,
               npartitions: int | None) -> dd.DataFrame | dd.Series:
    """The Dask frame of ``meta``'s rows matching ``query`` (stored field names)."""
    import dask.dataframe as dd

    reader = rows_reader(store, meta, query)
    if columns is not None:
        reader.layout.select(list(columns))  # KeyError for unknown columns, now
    bounds = row_bounds(store, meta, chunksize=chunksize, npartitions=npartitions)
    empty = reader.empty(columns)
    if empty.ndim == 1:  # a Series has no columns to project
        return dd.from_map(reader, bounds, meta=empty, label=f"read-{meta.name}")
    return dd.from_map(reader, bounds, columns=list(empty.columns), meta=empty,
                       label=f"read-{meta.name}")


def _parquet_frame(store: OmegaStore, meta: MetadataBase, columns: Sequence[Hashable] | None,
                   criteria: dict[Hashable, Any]) -> dd.DataFrame | dd.Series:
    """One partition per row group that can match (statistics), filters exact per group."""
    import dask.dataframe as dd

    reader = RowGroupReader(store=store, name=meta.name, kind_meta=dict(meta.kind_meta or {}),
                            generation=meta.generation, criteria=dict(criteria))
    positions = reader.positions()
    empty = reader.empty(list(columns) if columns is not None else None)
    if empty.ndim == 1:
        return dd.from_map(reader, positions, meta=empty, label=f"read-{meta.name}")
    return dd.from_map(reader, positions, columns=list(empty.columns), meta=empty,
                       label=f"read-{meta.name}")


def _one_partition(store: OmegaStore, meta: MetadataBase, columns: Sequence[Hashable] | None,
                   criteria: dict[Hashable, Any], trusted: bool) -> dd.DataFrame | dd.Series:
    """Kinds without row ranges: the whole object (``store.get``) as one partition."""
    import dask.dataframe as dd
    import pandas as pd

    options: dict[str, Any] = {str(key): value for key, value in criteria.items()}
    if columns is not None:
        options["columns"] = list(columns)
    if trusted:
        options["trusted"] = True
    sample = store.get(meta.name, **options)
    if not isinstance(sample, (pd.DataFrame, pd.Series)):
        raise TypeError(
            f"{meta.name!r} is stored as {meta.kind}, which gives a "
            f"{type(sample).__name__}, not a DataFrame; Dask reads frames only"
        )
    return dd.from_pandas(sample, npartitions=1)
