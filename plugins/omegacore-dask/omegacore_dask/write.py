"""``to_store``: a Dask DataFrame written by its workers, committed once.

The frame is computed once and kept where it was computed (``persist``), its partition
lengths give every partition its range of row ids, and each worker writes its own
partitions into the put's new collection through its own connection. The driver then
commits the metadata in one update. Until then no reader sees the object change, and if
any partition fails the whole put is rolled back: the new collection is removed and the
previous object stays as it was. Each write task reports its error instead of raising,
so the rollback happens only after every task has stopped writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from omegacore import OmegaStore
from omegacore.documents import MetadataBase
from omegacore.validation import check_flag
from omegacore_pandas.layout import FrameLayout
from omegacore_pandas.rows import create_indexes, prepare_rows, put_indexes, write_rows

if TYPE_CHECKING:
    import dask.dataframe as dd

#: the kind ``to_store`` writes
KIND = "pandas.dfrows"


class PartitionWriteError(RuntimeError):
    """A partition could not be written; nothing of the put was stored."""


def to_store(ddf: dd.DataFrame | dd.Series, store: OmegaStore, name: str,
             attributes: dict[str, Any] | None = None, index: Any = None,
             persist: bool = True) -> MetadataBase:
    """Store ``ddf`` as ``name`` (kind ``pandas.dfrows``), written by the Dask workers.

    Replaces an object of that name in one atomic switch, as ``store.put`` does.
    attributes: the metadata attributes. index: as ``put``'s ``index=`` (the frame's
    index levels and the row id are always indexed unless ``index=False``).
    persist: compute the frame once and keep it in the workers' memory while its
    partitions are counted and written (False: compute it twice, to save memory).
    Returns the committed metadata.
    """
    import dask
    import dask.dataframe as dd

    if not isinstance(ddf, (dd.DataFrame, dd.Series)):
        raise TypeError(f"to_store writes Dask DataFrames and Series, not {type(ddf).__name__}")
    check_flag(persist, "persist")
    _check_unversioned(store, name)
    frame = ddf.persist() if persist else ddf
    lengths = [int(n) for n in frame.map_partitions(len).compute()]
    layout = FrameLayout.from_frame(frame._meta)
    indexes = put_indexes(index, layout)
    with store.stage(name, kind=KIND, attributes=attributes) as staged:
        collection = staged.new_collection()
        starts = [staged.reserve_rows(n) for n in lengths]
        tasks = [
            dask.delayed(_write_partition, pure=False)(part, store, collection.name, start, number)
            for number, (part, start) in enumerate(zip(frame.to_delayed(), starts, strict=True))
        ]
        results: Sequence[Any] = dask.compute(*tasks)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise PartitionWriteError(
                f"{len(failures)} of {len(results)} partitions of {name!r} could not be "
                f"written; nothing was stored. First: {failures[0]}"
            ) from failures[0]
        final = layout
        for kind_meta in results:
            if kind_meta is not None:
                written = FrameLayout.from_kind_meta(kind_meta, KIND)
                written.check_append(final)
                final = written.merged_with(final)
        create_indexes(collection, indexes)
        staged.meta.kind_meta = final.to_kind_meta(rows=staged.row_count())
    return staged.meta


def _write_partition(part: pd.DataFrame | pd.Series, store: OmegaStore, collection: str,
                     start: int, number: int) -> dict[str, Any] | BaseException | None:
    """Write one partition's rows from row id ``start`` (runs on a worker); returns the
    layout of what it wrote, None for an empty partition, or the error."""
    try:
        if len(part) == 0:
            return None
        layout = FrameLayout.from_frame(part)
        encoder = prepare_rows(part, layout, start_rowid=start)
        write_rows(store.mongodb[collection], encoder, progress=False)
        return layout.to_kind_meta(rows=len(part))
    except Exception as exc:  # reported to the driver, which rolls the put back
        return PartitionWriteError(f"partition {number}: {type(exc).__name__}: {exc}")


def _check_unversioned(store: OmegaStore, name: str) -> None:
    """A name with a version history is written through ``store.put`` only."""
    meta = store.metadata(name)
    if meta is not None and (meta.attributes or {}).get("versions"):
        raise ValueError(
            f"{name!r} has versions; to_store does not add versions. Store it with "
            f"store.put(ddf.compute(), {name!r}), or to_store it under another name"
        )
