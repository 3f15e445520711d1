"""High-level functions: write a frame as row documents, read row documents as a frame.

These are what a kind backend calls; they hold no store logic (staging, metadata),
only collections and layouts, so dfrows, dfgroup and lazy frames can all use them::

    layout = FrameLayout.from_frame(df)
    encoder = prepare_rows(df, layout)               # checks everything, writes nothing
    write_rows(collection, encoder)                  # inserts in chunks
    kind_meta = layout.to_kind_meta(rows=len(df))

    layout = FrameLayout.from_kind_meta(meta.kind_meta, meta.kind)
    query = build_query({"x__gt": 5}, layout)
    df = read_rows(collection, layout, query=query, columns=["x"])
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
from pymongo import ASCENDING, DESCENDING, GEOSPHERE, IndexModel
from pymongo.collection import Collection

from omegacore_pandas.decode import decode_frame, iter_frames
from omegacore_pandas.encode import ObjectIdRanges, RowEncoder
from omegacore_pandas.insert import insert_raw
from omegacore_pandas.layout import FrameLayout
from omegacore_pandas.names import ROWID_FIELD
from omegacore_pandas.progress import progress_bar, would_show

_INDEX_PREFIXES = {"+": ASCENDING, "-": DESCENDING, "@": GEOSPHERE}
#: bytes of documents per batch read from the server (about)
READ_BATCH_BYTES = 2 * 1024 * 1024


def prepare_rows(obj: pd.DataFrame | pd.Series, layout: FrameLayout, start_rowid: int = 0,
                 ids: ObjectIdRanges | None = None) -> RowEncoder:
    """An encoder for ``obj``'s rows; raises TypeError/ValueError for values that cannot be
    stored. Call it before writing anything."""
    return RowEncoder(obj, layout, start_rowid=start_rowid, ids=ids)


def write_rows(collection: Collection, encoder: RowEncoder, chunksize: int | None = None,
               fast: bool = True, progress: bool = True) -> int:
    """Insert the encoder's rows into ``collection`` in chunks; returns the rows written.

    ``chunksize`` is the number of rows per insert command (default: about 4 MB).
    The ids written are in ``encoder.ids`` (to delete them again if a later step fails).
    """
    written = 0
    bar = progress_bar(encoder.rows, "put", force=None if progress else False)
    with bar:
        for chunk in encoder.chunks(chunksize, fast=fast):
            insert_raw(collection, chunk.data, chunk.count)
            written += chunk.count
            bar.update(chunk.count)
    return written


def read_rows(collection: Collection, layout: FrameLayout, query: Mapping[str, Any] | None = None,
              columns: Sequence[Hashable] | None = None, as_series: bool | None = None,
              sort: list[tuple[str, int]] | None = None, skip: int = 0, limit: int = 0,
              fast: bool = True, progress: bool = True) -> pd.DataFrame | pd.Series:
    """The frame stored in ``collection`` (rows matching ``query``, ``columns`` only).

    ``query`` is a MongoDB filter on stored fields (see ``query.build_query``). Rows come
    back in their stored order unless ``sort`` (stored field names) is given.
    """
    selected = layout.select(columns)
    total = None
    if progress and not query and would_show(None):
        total = collection.estimated_document_count()
    batches = _batches(collection, selected, query, columns, sort, skip, limit)
    with progress_bar(total, "get", force=None if progress else False) as bar:
        return decode_frame(batches, selected, as_series=as_series, fast=fast,
                            sort_rows=sort is None, progress=bar)


def iter_rows(collection: Collection, layout: FrameLayout, chunksize: int,
              query: Mapping[str, Any] | None = None,
              columns: Sequence[Hashable] | None = None, as_series: bool | None = None,
              sort: list[tuple[str, int]] | None = None, fast: bool = True
              ) -> Iterator[pd.DataFrame | pd.Series]:
    """Frames of ``chunksize`` rows each (the last may be shorter), read batch by batch.

    Each chunk's rows are in stored order; chunks follow the server's natural order
    (the insertion order) unless ``sort`` is given.
    """
    selected = layout.select(columns)
    batches = _batches(collection, selected, query, columns, sort, 0, 0)
    return iter_frames(batches, selected, chunksize, as_series=as_series, fast=fast,
                       sort_rows=sort is None)


def _batches(collection: Collection, layout: FrameLayout, query: Mapping[str, Any] | None,
             columns: Sequence[Hashable] | None, sort: list[tuple[str, int]] | None,
             skip: int, limit: int) -> Any:
    # a projection only when it saves work: reading whole documents is cheaper for the
    # server than rebuilding them, and the decoders skip fields they do not need
    projection = {**layout.projection(), "_id": 0} if columns is not None else None
    # small batches keep pymongo's receive buffers (several copies of a batch) small
    batch_size = max(1000, READ_BATCH_BYTES // layout.estimated_row_bytes())
    cursor = collection.find_raw_batches(dict(query or {}), projection, skip=skip, limit=limit,
                                         batch_size=batch_size)
    if sort:
        cursor = cursor.sort(sort)
    return cursor


#: one index: its keys (field, direction) and create_index options (``name`` always set)
IndexSpec = tuple[list[tuple[str, Any]], dict[str, Any]]


def index_name(keys: Sequence[tuple[str, Any]]) -> str:
    """The name omegaml 0.18 gives an index on ``keys``: md5 of the keys list's repr.

    Using omegaml's names lets either library create an index the other created already
    (the same keys under another name would be refused by the server).
    """
    import hashlib

    text = repr([(str(field), direction) for field, direction in keys])
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def default_indexes(layout: FrameLayout) -> list[IndexSpec]:
    """The indexes omegaml creates for a stored frame: the index levels, and the row id.

    They make filters on index levels (``loc``) and reads in row order fast.
    """
    specs: list[IndexSpec] = []
    levels = [(spec.field, ASCENDING) for spec in layout.index]
    if levels:
        specs.append((levels, {"name": index_name(levels)}))
    rowid = [(ROWID_FIELD, ASCENDING)]
    specs.append((rowid, {"name": index_name(rowid)}))
    return specs


def put_indexes(spec: Any, layout: FrameLayout) -> list[IndexSpec]:
    """The indexes a put creates for ``index=spec``: omegaml's defaults, plus ``spec``'s.

    ``None`` (the default) gives the defaults, ``False`` none at all, anything else the
    defaults and the index ``index_keys(spec)`` describes.
    """
    if spec is False:
        return []
    specs = default_indexes(layout)
    if spec is not None and spec is not True:
        specs.append(index_keys(spec, layout))
    return specs


def create_indexes(collection: Collection, specs: Sequence[IndexSpec]) -> None:
    """Create ``specs`` on ``collection`` in one command (existing ones are kept)."""
    if specs:
        collection.create_indexes([IndexModel(keys, **options) for keys, options in specs])


def index_keys(spec: Any, layout: FrameLayout) -> IndexSpec:
    """MongoDB index keys (and options) for ``index=`` as ``put`` takes it.

    ``spec`` is a column name, a list of names each optionally prefixed ``+`` (ascending,
    the default), ``-`` (descending) or ``@`` (2dsphere), or a dict
    ``{"columns": [...], **create_index options}``. Names are column or index level names.
    The index is named as omegaml names it unless the options give a ``name``.
    """
    options: dict[str, Any] = {}
    columns: Any = spec
    if isinstance(spec, Mapping):
        options = dict(spec)
        columns = options.pop("columns", None)
        if columns is None:
            raise ValueError("index={...} needs a 'columns' list")
    if isinstance(columns, (str, int)) or not isinstance(columns, Sequence):
        columns = [columns]
    names = layout.lookup()
    keys: list[tuple[str, Any]] = []
    for item in columns:
        direction: Any = ASCENDING
        if isinstance(item, str) and item[:1] in _INDEX_PREFIXES and item[1:] in names:
            direction, item = _INDEX_PREFIXES[item[0]], item[1:]
        if item not in names:
            raise ValueError(
                f"index: {item!r} is not a column or index level; prefix a column name "
                "with + (ascending), - (descending) or @ (2dsphere)"
            )
        keys.append((names[item].field, direction))
    if not keys:
        raise ValueError("index: name at least one column")
    options.setdefault("name", index_name(keys))
    return keys, options


def ensure_rowid_index(collection: Collection) -> str:
    """Create (if missing) the index on the row id, for sorting by stored order on the server.

    Puts create it unless called with ``index=False``; lazy frames that sort or page through
    such collections by row order can call this once.
    """
    keys = [(ROWID_FIELD, ASCENDING)]
    return collection.create_index(keys, name=index_name(keys))


def next_rowid(kind_meta: Mapping[str, Any], collection: Collection | None) -> int:
    """The row id the next appended row gets (rows ever written to the object)."""
    ours = kind_meta.get("omegacore") if kind_meta else None
    if ours is not None and "rows" in ours:
        return int(ours["rows"])
    if collection is None:
        return 0
    last = collection.find_one({}, {ROWID_FIELD: 1}, sort=[(ROWID_FIELD, DESCENDING)])
    return int(last[ROWID_FIELD]) + 1 if last and ROWID_FIELD in last else 0
