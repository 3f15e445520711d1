"""The pandas.dfrows backend: DataFrames and Series as one document per row.

The layout, the encoding and the filters come from ``omegacore_pandas`` (shared with the
other pandas kinds); this module adds the store logic: staging, appending, indexes,
timestamps and the get options.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import pandas as pd
from omegacore_pandas.layout import FrameLayout
from omegacore_pandas.lazy import open_lazy
from omegacore_pandas.query import build_query, collection_probe
from omegacore_pandas.rows import (
    create_indexes,
    iter_rows,
    prepare_rows,
    put_indexes,
    read_rows,
    write_rows,
)

from omegacore import BaseBackend
from omegacore.documents import MetadataBase
from omegacore.errors import warn
from omegacore.filters import all_of
from omegacore.staging import StagedPut
from omegacore.validation import check_flag
from omegacore_pandas_dfrows import KIND, SERIES_KIND

#: the kinds whose data this backend reads (pandas.serows: Series written by omegaml)
ROW_KINDS = (KIND, SERIES_KIND)
#: put() options besides the core ones; anything else is a mistake worth reporting
_PUT_OPTIONS = ("append", "index", "timestamp", "chunksize", "ensure_compat")


class DataFrameRowsBackend(BaseBackend):
    """pandas DataFrames and Series stored as one MongoDB document per row.

    Columns become fields, index levels become ``_idx#<n>_<name>`` fields and
    ``_om#rowid`` keeps the row order. Rows can be appended, filtered on the server with
    ``column__op=value`` arguments, projected with ``columns=[...]`` and read in chunks.
    """

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        """DataFrames and Series (keywords choosing other kinds never reach this backend)."""
        return isinstance(obj, (pd.DataFrame, pd.Series))

    # -- put ---------------------------------------------------------------------------------
    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        append: bool | None = None,
        index: Any = None,
        timestamp: Any = None,
        chunksize: int | None = None,
        ensure_compat: bool = True,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store ``obj`` as rows; append to the stored rows unless ``append=False``/``replace``.

        index: besides the indexes every frame gets (its index levels and the row id, as
            omegaml creates them), one on these columns: ``+col`` ascending (default),
            ``-col`` descending, ``@col`` 2dsphere; or ``{"columns": [...], **options}``.
            ``index=False`` creates no index at all (faster puts, slower ``loc`` reads).
        timestamp: True (column ``_created`` = now, UTC), a column name, a datetime
            (``_created`` = that datetime) or ``(column, datetime)``.
        chunksize: rows per insert command (default: about 4 MB of documents).
        ensure_compat: accepted for compatibility; values are always checked.
        """
        _check_options(kwargs)
        check_flag(append, "append", allow_none=True)
        if not isinstance(obj, (pd.DataFrame, pd.Series)):
            raise TypeError(f"{self.KIND} stores DataFrames and Series, not {type(obj).__name__}")
        if chunksize is not None and (not isinstance(chunksize, int) or chunksize < 1):
            raise ValueError(f"chunksize must be a positive int, got {chunksize!r}")
        if timestamp is not None and timestamp is not False:
            obj = _with_timestamp(obj, timestamp)
        store = self.store
        previous = store.metadata(name)
        appending = (
            not replace
            and append is not False
            and previous is not None
            and previous.kind in ROW_KINDS
            and bool(previous.collection)
        )
        if append is True and not replace and previous is not None and not appending:
            raise ValueError(
                f"cannot append to {name!r}: it is stored as {previous.kind}, not as rows. "
                "Pass append=False to replace it"
                + (", or groupby= to append groups" if previous.kind == "pandas.dfgroup"
                   else "")
            )
        layout = FrameLayout.from_frame(obj)
        stored_layout = None
        if appending:
            assert previous is not None
            stored_layout = FrameLayout.from_kind_meta(previous.kind_meta or {}, previous.kind)
            if stored_layout.source != "omegacore":
                # the new rows go into omegaml's fields, under omegaml's metadata
                layout = FrameLayout.from_frame(obj, fields={
                    spec.name: spec.field for spec in stored_layout.columns})
            layout.check_append(stored_layout)
            if append is None:
                warn(
                    f"{name!r} exists: appending {len(obj)} rows. Pass append=True to "
                    "silence this warning, or append=False to replace the stored rows"
                )
        encoder = prepare_rows(obj, layout)  # checks every value before anything is written
        indexes = put_indexes(index, layout)
        # appended rows keep the stored kind (a Series omegaml wrote stays pandas.serows)
        kind = previous.kind if appending and previous is not None else self.KIND
        with self.store.stage(name, kind=kind, attributes=attributes) as staged:
            collection = staged.append_target() if appending else None
            if appending and collection is None:
                raise ValueError(
                    f"cannot append to {name!r}: its rows belong to another collection owner "
                    "(a registered collection); pass append=False to store a copy instead"
                )
            created = collection is None
            if collection is None:
                collection = staged.new_collection()
            encoder.start_rowid = staged.reserve_rows(len(obj))
            if indexes and not created:
                create_indexes(collection, indexes)
            write_rows(collection, encoder, chunksize=chunksize)
            if indexes and created:
                create_indexes(collection, indexes)  # faster after the inserts
            if stored_layout is not None and stored_layout.source != "omegacore":
                assert previous is not None
                staged.meta.kind_meta = previous.kind_meta  # omegaml keeps reading it as is
            else:
                final = layout.merged_with(stored_layout) if stored_layout else layout
                staged.meta.kind_meta = final.to_kind_meta(rows=staged.row_count())
            if appending:
                staged.on_rebase(lambda current: _rebase(staged, layout, current))
        return staged.meta

    # -- get ---------------------------------------------------------------------------------
    def get(
        self,
        name: str,
        version: int = -1,
        meta: MetadataBase | None = None,
        columns: Sequence[Hashable] | None = None,
        lazy: bool = False,
        filter: Mapping[Hashable, Any] | None = None,
        is_series: bool = False,
        chunksize: int | None = None,
        trusted: bool = False,
        immediate_loc: bool = False,
        **kwargs: Any,
    ) -> Any:
        """The stored DataFrame or Series (or an iterator of chunks with ``chunksize``).

        columns: only these columns. filter / keyword arguments: ``column__op=value``
            criteria run on the server (``filter`` wins where both name the same key).
        is_series: return the first column as a Series.
        trusted: let raw MongoDB operators in the filter through (own code only).
        lazy: a lazy frame (MDataFrame), see ``omegacore_pandas.lazy.open_lazy``.
        """
        meta = self.metadata(name, meta)
        criteria: dict[Any, Any] = dict(kwargs)
        criteria.update(filter or {})
        check_flag(immediate_loc, "immediate_loc")
        if lazy:
            return open_lazy(self.store, name, meta, columns=columns, filter=criteria,
                             is_series=is_series, chunksize=chunksize, trusted=trusted,
                             immediate_loc=immediate_loc, visible=self.visible_rows(meta))
        if immediate_loc:
            raise TypeError("immediate_loc=True applies to lazy frames: use "
                            f"store.getl({name!r}, immediate_loc=True)")
        layout = FrameLayout.from_kind_meta(meta.kind_meta or {}, meta.kind)
        if not meta.collection:
            raise ValueError(f"{name!r} has no row collection; its metadata is incomplete")
        collection = self.store.mongodb[meta.collection]
        visible = self.visible_rows(meta)
        query = build_query(criteria, layout, trusted=trusted, where=f"get({name!r})",
                            probe=collection_probe(collection, visible))
        query = all_of(query, visible)
        as_series = True if is_series else None
        if chunksize is not None:
            return iter_rows(collection, layout, chunksize, query=query, columns=columns,
                             as_series=as_series)
        frame = read_rows(collection, layout, query=query, columns=columns, as_series=as_series)
        if len(frame) == 0:
            self.check_current(meta)  # a replace may have removed the rows under this read
        return frame


    def get_object_as_python(self, meta: MetadataBase, version: int = -1) -> list[dict]:
        """The rows as dicts ``{column: value}``, in stored order (``force_python=True``).

        omegaml returns its raw documents; these are the same rows without the fields
        that only hold the layout (``_id``, ``_idx#...``, ``_om#...``). Named index levels
        are included under their names (unless a column has the same name), unnamed
        ones are not; values are Python values (Timestamps for datetimes).
        """
        obj = self.get(meta.name, meta=meta)
        frame = obj.to_frame() if isinstance(obj, pd.Series) else obj
        named = [n for n in frame.index.names if n is not None and n not in frame.columns]
        if named:
            frame = frame.reset_index(level=named)
        return frame.to_dict("records")

    def column_names(self, meta: MetadataBase) -> list[Any] | None:
        """The stored DataFrame's column names in order (None for a Series)."""
        layout = FrameLayout.from_kind_meta(meta.kind_meta or {}, meta.kind)
        if layout.obj_type == "Series":
            return None
        return [spec.name for spec in layout.columns]


class SeriesRowsBackend(DataFrameRowsBackend):
    """Series as rows, kind ``pandas.serows`` as omegaml 0.18 stores them, so that omegaml
    reads them back as Series (``kind="pandas.dfrows"`` stores a Series under that kind)."""

    KIND = SERIES_KIND

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        return isinstance(obj, pd.Series)


def _rebase(staged: StagedPut, layout: FrameLayout, current: MetadataBase) -> None:
    """Another append committed first: merge this frame's layout with the one it left."""
    stored = FrameLayout.from_kind_meta(current.kind_meta or {}, current.kind)
    layout.check_append(stored)
    if stored.source != "omegacore":
        staged.meta.kind_meta = current.kind_meta
        return
    staged.meta.kind_meta = layout.merged_with(stored).to_kind_meta(rows=staged.row_count())


def _check_options(kwargs: dict[str, Any]) -> None:
    unknown = list(kwargs)
    if unknown:
        raise TypeError(
            f"pandas.dfrows put() got unexpected options {unknown}; it takes "
            f"{', '.join(_PUT_OPTIONS)} (and attributes, replace)"
        )


def _with_timestamp(obj: pd.DataFrame | pd.Series, timestamp: Any) -> pd.DataFrame:
    """A shallow copy of ``obj`` with the timestamp column (the caller's frame is kept)."""
    now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    if timestamp is True:
        column, value = "_created", now
    elif isinstance(timestamp, str):
        column, value = timestamp, now
    elif isinstance(timestamp, _dt.datetime):
        column, value = "_created", timestamp
    elif isinstance(timestamp, tuple) and len(timestamp) == 2:
        column, value = timestamp
    else:
        raise ValueError(
            "timestamp must be True, a column name, a datetime or (column, datetime), "
            f"got {timestamp!r}"
        )
    frame = obj.to_frame() if isinstance(obj, pd.Series) else obj.copy(deep=False)
    frame[column] = pd.Timestamp(value)
    return frame
