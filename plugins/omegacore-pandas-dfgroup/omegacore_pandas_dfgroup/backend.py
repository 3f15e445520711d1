"""The pandas.dfgroup backend: a DataFrame as one MongoDB document per group of rows.

The document layout, grouping, filters and decoding are in ``groups``; the field names,
dtypes, values and ``column__op=value`` filters come from ``omegacore_pandas``, shared
with ``pandas.dfrows``. This module adds the store logic: validation before writing,
staging (replace or append), the key index, and the get options.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd
from omegacore_pandas.columns import select_columns
from omegacore_pandas.insert import insert_raw
from omegacore_pandas.names import ROWID_FIELD
from omegacore_pandas.progress import progress_bar
from pymongo import ASCENDING
from pymongo.collection import Collection

from omegacore import BaseBackend
from omegacore.documents import MetadataBase
from omegacore.filters import all_of
from omegacore.staging import StagedPut
from omegacore.validation import check_flag
from omegacore_pandas_dfgroup import KIND
from omegacore_pandas_dfgroup.decode import read_groups
from omegacore_pandas_dfgroup.encode import GroupEncoder
from omegacore_pandas_dfgroup.layout import DATA_FIELD, DOCUMENT_BYTES, GroupLayout, layout_of
from omegacore_pandas_dfgroup.query import GroupQuery, build_group_query, document_filter

#: the field that numbers group documents: the row id of a document's first row
DOCUMENT_ROWID = f"{DATA_FIELD}.0.{ROWID_FIELD}"
_DELETE_IDS = 10_000


class DataFrameGroupBackend(BaseBackend):
    """pandas DataFrames stored as one MongoDB document per group of rows.

    ``store.put(df, name, groupby=["g"])`` writes one document per distinct value of the
    group columns, ``{g: value, _data: [{<other columns>}, ...]}`` (omegaml's layout),
    large groups split over several documents. ``store.get(name)`` returns the frame as
    it was put: columns in their order, dtypes, index and row order. ``column__op=value``
    arguments filter on the server: on the group keys (documents) and on the other
    columns (single rows: only matching rows are returned).
    """

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        """DataFrames, when ``groupby=`` is given (which chooses this kind, see plugin.py)."""
        return kwargs.get("groupby") is not None and isinstance(obj, pd.DataFrame)

    # -- put ---------------------------------------------------------------------------------
    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        groupby: Any = None,
        append: bool | None = None,
        document_bytes: int | None = None,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store ``obj`` grouped by the ``groupby`` column(s); returns the metadata.

        groupby: a column name or a list of column names. Rows with equal values in these
            columns form a group (missing values form groups too, no row is dropped).
        append: False/None (default) replaces the stored object; True adds this frame's
            groups as further documents (same columns, dtypes and groupby required).
            ``replace=True`` always replaces. ``groupby`` may be left out when appending.
        document_bytes: fill each document up to about this size before a group
            continues in the next (default 4 MB; at most MongoDB's 16 MB).
        """
        unknown = list(kwargs)
        if unknown:
            raise TypeError(
                f"{self.KIND} put() got unexpected options {unknown}; it takes groupby, "
                "append, document_bytes (and attributes, replace)"
            )
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"{self.KIND} stores DataFrames, not {type(obj).__module__}."
                f"{type(obj).__qualname__}; convert it (e.g. series.to_frame()) first"
            )
        if document_bytes is not None and (
                not isinstance(document_bytes, int) or document_bytes < 1024):
            raise ValueError(f"document_bytes must be an int >= 1024, got {document_bytes!r}")
        store = self.store
        previous = store.metadata(name)
        appending = bool(check_flag(append, "append", allow_none=True)) and not replace \
            and previous is not None
        stored: GroupLayout | None = None
        if appending:
            assert previous is not None
            if previous.kind != self.KIND or not previous.collection:
                raise ValueError(
                    f"cannot append to {name!r}: it is stored as {previous.kind}, not as "
                    f"{self.KIND}. Pass append=False to replace it"
                )
            collection = store.mongodb[previous.collection]
            stored = layout_of(previous.kind_meta, collection)
            if groupby is None:
                groupby = [spec.name for spec in stored.keys]
        # everything that can fail on bad input fails here, before anything is written
        layout = GroupLayout.from_frame(obj, groupby)
        if stored is not None:
            layout.check_append(stored)
        encoder = GroupEncoder(obj, layout, document_bytes=document_bytes or DOCUMENT_BYTES,
                               with_index=stored is None or stored.source == "omegacore")
        key_index = [(field, ASCENDING) for field in layout.key_fields()[:32]]
        with self.stage(name, attributes) as staged:
            target = staged.append_target() if appending else None
            appended = target is not None
            if target is None:
                target = staged.new_collection()
                # before the inserts: on an empty collection this is quick, and it creates
                # the collection even for an empty frame
                target.create_index(key_index)
            # a document's rows belong to one put: its first row's id tells which
            encoder.number_from(staged.reserve_rows(len(obj), field=DOCUMENT_ROWID))
            with progress_bar(encoder.rows, "put") as bar:
                for batch in encoder.batches():
                    insert_raw(target, batch.data, batch.count)
                    bar.update(batch.rows)
            if stored is not None and stored.source != "omegacore":
                # omegaml infers the layout from the documents: keep its metadata as it is
                assert previous is not None
                staged.meta.kind_meta = previous.kind_meta
            else:
                staged.meta.kind_meta = layout.to_kind_meta(rows=staged.row_count())
            if appended:
                staged.on_rebase(lambda current: _rebase(staged, layout, current))
        return staged.meta

    # -- get ---------------------------------------------------------------------------------
    def get(
        self,
        name: str,
        version: int = -1,
        meta: MetadataBase | None = None,
        filter: Mapping[Hashable, Any] | None = None,
        kwargs: Mapping[Hashable, Any] | None = None,
        trusted: bool = False,
        lazy: bool = False,
        columns: list[Hashable] | None = None,
        **criteria: Any,
    ) -> pd.DataFrame:
        """The stored frame, or the rows matching ``column__op=value`` criteria.

        Criteria come as keyword arguments, as ``filter={...}`` or as ``kwargs={...}``
        (omegaml's ``get_dataframe_dfgroup``); ``filter`` wins where they name the same
        key. Criteria on group keys select groups, criteria on other columns or index
        levels select rows. trusted: let raw MongoDB operators through (own code only).
        columns: the columns to return, in this order (selected after reading the groups).
        """
        meta = self.metadata(name, meta)
        if lazy:
            raise NotImplementedError(
                f"lazy=True is not available for {self.KIND} objects such as {name!r}; use "
                "store.get(name, column__op=value) to read matching rows only"
            )
        merged: dict[Hashable, Any] = dict(kwargs or {})
        merged.update(criteria)
        merged.update(filter or {})
        collection = self._collection(meta)
        layout = layout_of(meta.kind_meta, collection, extra=_column_names(merged))
        query = build_group_query(merged, layout, trusted=trusted, where=f"get({name!r})",
                                  collection=collection)
        query.documents = all_of(query.documents, self.visible_rows(meta, DOCUMENT_ROWID))
        total = None if merged else (meta.kind_meta or {}).get("omegacore", {}).get("rows")
        with progress_bar(total, "get") as bar:
            frame = read_groups(collection, layout, query, progress=bar)
        if len(frame) == 0:
            self.check_current(meta)  # a replace may have removed the groups meanwhile
        return select_columns(frame, columns, name)

    def group_filter(self, criteria: Mapping[Hashable, Any] | None, collection: Collection,
                     meta: MetadataBase | None = None, trusted: bool = False
                     ) -> dict[str, Any]:
        """The MongoDB filter on group documents for ``column__op=value`` criteria.

        Key conditions stay top-level fields; row conditions go to
        ``_data: {$elemMatch: ...}`` (omegaml's ``rebuild_params``).
        """
        kind_meta = meta.kind_meta if meta is not None else None
        layout = layout_of(kind_meta, collection, extra=_column_names(criteria or {}))
        query: GroupQuery = build_group_query(criteria, layout, trusted=trusted,
                                              where="rebuild_params", collection=collection)
        return document_filter(query)

    def column_names(self, meta: MetadataBase) -> list[Any] | None:
        """The stored frame's column names, in order."""
        layout = layout_of(meta.kind_meta, self._collection(meta))
        return [spec.name for spec in layout.frame.columns]

    def put_options(self, meta: MetadataBase) -> dict[str, Any]:
        """``groupby=`` the stored group columns, so a copy is grouped as the original."""
        layout = layout_of(meta.kind_meta, self._collection(meta))
        return {"groupby": [spec.name for spec in layout.keys]}

    def _collection(self, meta: MetadataBase) -> Collection:
        if not meta.collection:
            raise ValueError(f"{meta.name!r} has no collection; its metadata is incomplete")
        return self.store.mongodb[meta.collection]


def _rebase(staged: StagedPut, layout: GroupLayout, current: MetadataBase) -> None:
    """Another append committed first: check this frame against what it left, count rows."""
    collection = staged.store.mongodb[current.collection]
    stored = layout_of(current.kind_meta, collection)
    layout.check_append(stored)
    if stored.source != "omegacore":
        staged.meta.kind_meta = current.kind_meta
        return
    staged.meta.kind_meta = layout.to_kind_meta(rows=staged.row_count())


def _column_names(criteria: Mapping[Hashable, Any]) -> list[Hashable]:
    """The column names criteria refer to (``a__b__gt`` refers to ``a``), for omegaml data
    whose columns are only known from its documents."""
    return [k.split("__", 1)[0] if isinstance(k, str) else k for k in criteria]
