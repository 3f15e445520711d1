"""A DataFrame as one MongoDB document per group of rows, and back.

Each document holds the values of the group keys as top-level fields and the group's
rows, without the key columns, in the array ``_data``::

    {_id, <key field>: value, ..., _data: [{<row fields>, _om#rowid: n}, ...]}

This is omegaml's ``pandas.dfgroup`` layout, with two additions that make the round trip
exact: each row element carries ``_om#rowid`` (the row's position in the stored frame, so
the original row order across groups is restored) and the index levels as
``_idx#<level>_<name>`` fields, as ``pandas.dfrows`` stores them. Field names, dtypes and
values are those of ``omegacore_pandas`` (``FrameLayout`` and its codecs), so a column
is stored exactly as ``pandas.dfrows`` stores it.

A group whose rows do not fit one document (``DOCUMENT_BYTES``, well below MongoDB's
16 MB limit) is split over several documents with the same key values; appending adds
documents too. Readers therefore treat the documents of a collection as a list of row
batches, several of which may share their key values.
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import repeat
from typing import Any

import bson
import numpy as np
import pandas as pd
from bson import ObjectId
from omegacore_pandas.codecs import (
    BSON_INT32,
    BSON_INT64,
    BSON_NULL,
    OMIT,
    concat_parts,
    take_parts,
)
from omegacore_pandas.decode import CODEC_OPTIONS, split_fixed
from omegacore_pandas.layout import FieldSpec, FrameLayout, frame_of
from omegacore_pandas.names import ID_FIELD, ROWID_FIELD, display_name, is_plain_name
from omegacore_pandas.query import (
    UnknownOperator,
    build_query,
    collection_probe,
    combine,
    resolve_key,
)
from omegacore_pandas.rows import prepare_rows
from omegacore_pandas.values import is_missing
from pymongo.collection import Collection

from omegacore.filters import ensure_no_operators

#: the array field holding a group's rows (omegaml's name)
DATA_FIELD = "_data"
#: the key of this kind's description in ``kind_meta``
META_KEY = "dfgroup"
#: version of that description; readers refuse newer versions
FORMAT_VERSION = 1
#: the size a group document is filled up to before the group continues in another one
DOCUMENT_BYTES = 4 * 1024 * 1024
#: the largest document the server accepts (MongoDB: 16 MiB), less room for the command
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 - 64 * 1024
#: bytes of documents per insert command: pymongo refuses a document sequence larger than
#: one document may be (16 MB + 16 KB), whatever the 48 MB message limit of the server
INSERT_BYTES = MAX_DOCUMENT_BYTES
#: most documents per insert command (MongoDB's maxWriteBatchSize)
INSERT_DOCUMENTS = 100_000
#: rows encoded at the start of a put to estimate the size of a row
SAMPLE_ROWS = 64

_INFER: dict[str, Any] = {"kind": "infer-object"}


# ------------------------------------------------------------------------------------------
# the layout
# ------------------------------------------------------------------------------------------
@dataclass
class GroupLayout:
    """Which columns are group keys, which are row fields, and how to rebuild the frame.

    frame: the layout of the whole frame (index levels, all columns in their order).
    key_positions: positions in ``frame.columns`` of the group keys, in groupby order.
    source: "omegacore" for data this package wrote, "omegaml" for omegaml 0.18 data
        (no layout in the metadata: column names and dtypes are inferred on read).
    """

    frame: FrameLayout
    key_positions: list[int]
    source: str = "omegacore"

    # -- building --------------------------------------------------------------------------
    @classmethod
    def from_frame(cls, obj: pd.DataFrame, groupby: Any) -> GroupLayout:
        """The layout for writing ``obj`` grouped by ``groupby`` (column names).

        Raises ValueError/TypeError (before anything is written) for a groupby that does not
        name columns of ``obj`` and for dtypes that cannot be stored.
        """
        positions = resolve_groupby(obj, groupby)
        layout = cls(FrameLayout.from_frame(obj), positions)
        # local check (see the README, "Shared code"): the shared name encoding leaves
        # "_data" unchanged, and a key stored as a top-level "_data" field would take the
        # place of the rows
        for spec in layout.keys:
            if DATA_FIELD in spec.codec.fields:
                raise ValueError(
                    f"cannot group by a column named {DATA_FIELD!r}: group documents keep "
                    f"their rows in that field. Rename the column, e.g. "
                    f"df.rename(columns={{{DATA_FIELD!r}: 'data'}})"
                )
        return layout

    @classmethod
    def from_kind_meta(cls, kind_meta: Mapping[str, Any]) -> GroupLayout:
        """The layout recorded by ``to_kind_meta``."""
        ours = kind_meta[META_KEY]
        if ours.get("format", 0) > FORMAT_VERSION:
            raise ValueError(
                f"this object was written by a newer omegacore-pandas-dfgroup (format "
                f"{ours['format']}); upgrade omegacore-pandas-dfgroup to read it"
            )
        frame = FrameLayout.from_kind_meta(dict(kind_meta), "pandas.dfgroup")
        fields = [spec.field for spec in frame.columns]
        missing = [f for f in ours["keys"] if f not in fields]
        if missing:
            raise ValueError(f"the metadata names group keys {missing} that are not columns")
        return cls(frame, [fields.index(f) for f in ours["keys"]])

    @classmethod
    def infer(cls, sample: Mapping[str, Any] | None, extra: Iterable[Hashable] = ()
              ) -> GroupLayout:
        """A layout for omegaml 0.18 data, from one of its documents.

        omegaml records no layout for this kind: the group keys are the document's fields
        besides ``_id`` and ``_data``, the row fields those of its ``_data`` elements.
        ``extra`` adds row fields (names used by a filter that this sample lacks).
        Every column's dtype is inferred from the values on read, as omegaml did.
        """
        keys: list[str] = []
        rows: list[str] = []
        if sample is not None:
            keys = [k for k in sample if k not in (ID_FIELD, DATA_FIELD)]
            for element in _as_rows(sample.get(DATA_FIELD)):
                rows.extend(k for k in element if k not in rows and k != ROWID_FIELD)
        rows.extend(str(n) for n in extra if is_plain_name(n) and n not in rows and n not in keys)
        return cls(_inferred_frame(keys + rows), list(range(len(keys))), source="omegaml")

    # -- parts -----------------------------------------------------------------------------
    @property
    def keys(self) -> list[FieldSpec]:
        """The group key columns, in groupby order."""
        return [self.frame.columns[i] for i in self.key_positions]

    @property
    def value_columns(self) -> list[FieldSpec]:
        """The columns stored in the row elements (all but the keys), in frame order."""
        keys = set(self.key_positions)
        return [s for i, s in enumerate(self.frame.columns) if i not in keys]

    @property
    def row_specs(self) -> list[FieldSpec]:
        """What a row element holds: the index levels, then the value columns."""
        return self.frame.index + self.value_columns

    def key_layout(self) -> FrameLayout:
        """The key columns as a layout of their own (to build filters on group documents)."""
        return replace(self.frame, index=[], columns=self.keys)

    def row_layout(self) -> FrameLayout:
        """The index levels and value columns as a layout (to build filters on rows)."""
        return replace(self.frame, columns=self.value_columns)

    def key_fields(self) -> list[str]:
        """The top-level fields the key values are stored in."""
        return [f for spec in self.keys for f in spec.codec.fields]

    # -- metadata --------------------------------------------------------------------------
    def to_kind_meta(self, rows: int) -> dict[str, Any]:
        """``kind_meta``: the frame layout (as ``pandas.dfrows`` records it) plus the keys.

        ``rows`` is the next free row id (rows ever written), used by appends.
        """
        kind_meta = self.frame.to_kind_meta(rows=rows)
        kind_meta[META_KEY] = {
            "format": FORMAT_VERSION,
            "keys": [spec.field for spec in self.keys],
            "groupby": [display_name(spec.name) for spec in self.keys],
        }
        return kind_meta

    def check_append(self, stored: GroupLayout) -> None:
        """Raise ValueError (before writing) if this layout cannot be appended to ``stored``."""
        mine = [s.name for s in self.keys]
        if stored.source != "omegacore":
            # omegaml's group documents record no dtypes: the same keys and columns suffice
            same = mine == [s.name for s in stored.keys] and sorted(
                map(str, (s.name for s in self.value_columns))) == sorted(
                map(str, (s.name for s in stored.value_columns)))
            if not same:
                raise ValueError(
                    "cannot append to grouped data written by omegaml: it is grouped by "
                    f"{[s.name for s in stored.keys]} with columns "
                    f"{[s.name for s in stored.value_columns]}; given {mine} with "
                    f"{[s.name for s in self.value_columns]}. Pass a frame with the same "
                    "columns, or append=False to replace"
                )
            return
        theirs = [s.name for s in stored.keys]
        if mine != theirs:
            raise ValueError(
                f"cannot append: the stored object is grouped by {theirs}, not {mine}. "
                "Pass the stored groupby, or append=False to replace"
            )
        self.frame.check_append(stored.frame)


def _inferred_frame(names: Sequence[str]) -> FrameLayout:
    columns = [FieldSpec.make(name, name, _INFER) for name in names]
    return FrameLayout("DataFrame", [], columns, {"type": "range"}, {"type": "infer"},
                       source="omegaml")


def layout_of(kind_meta: Mapping[str, Any] | None, collection: Collection,
              extra: Iterable[Hashable] = ()) -> GroupLayout:
    """The layout of a stored object: from its ``kind_meta``, else inferred (omegaml data)."""
    if kind_meta and META_KEY in kind_meta:
        return GroupLayout.from_kind_meta(kind_meta)
    sample = collection.find_one({DATA_FIELD: {"$exists": True}}) or collection.find_one()
    return GroupLayout.infer(sample, extra)


def resolve_groupby(obj: pd.DataFrame, groupby: Any) -> list[int]:
    """The positions of the ``groupby`` columns in ``obj``; ValueError saying what is wrong.

    ``groupby`` is a column name or a list of names. A tuple is one name (as pandas reads
    it, for MultiIndex columns) unless it is not a column and all its items are.
    """
    columns = obj.columns
    if groupby is None:
        raise ValueError("groupby= is required: name the column(s) to group the rows by")
    if isinstance(groupby, (list, pd.Index, np.ndarray, pd.Series)):
        names = list(groupby)
    elif isinstance(groupby, tuple) and not _has(columns, groupby) and all(
            _has(columns, k) for k in groupby):
        names = list(groupby)
    else:
        names = [groupby]
    if not names:
        raise ValueError("groupby= names no column; name at least one column to group by")
    positions: list[int] = []
    for name in names:
        if not _has(columns, name):
            raise ValueError(
                f"groupby column {name!r} is not a column of the frame; columns: "
                f"{list(columns)[:20]}. Use reset_index() first to group by index levels"
            )
        loc = columns.get_loc(name)
        if not isinstance(loc, (int, np.integer)):
            raise ValueError(
                f"groupby column {name!r} does not name exactly one column (duplicate "
                "names, or a partial MultiIndex key); name each column once, fully"
            )
        if int(loc) in positions:
            raise ValueError(f"groupby names the column {name!r} more than once")
        positions.append(int(loc))
    return positions


def _has(columns: pd.Index, name: Any) -> bool:
    try:
        return bool(name in columns)
    except TypeError:  # unhashable
        return False


# ------------------------------------------------------------------------------------------
# grouping
# ------------------------------------------------------------------------------------------
def group_codes(obj: pd.DataFrame, positions: Sequence[int]) -> np.ndarray:
    """A group number per row (numbered in order of first appearance).

    Rows are in the same group when their key values are the same values: missing values
    (None, NaN, NaT, NA) form groups of their own rather than being dropped as in
    ``DataFrame.groupby``, and in object columns values of different types (``1``,
    ``1.0``, ``True``) are different keys, so that every row gets its own key back.
    TypeError for key values that are not hashable.
    """
    combined: np.ndarray | None = None
    for pos in positions:
        codes = _column_codes(obj.iloc[:, pos], obj.columns[pos])
        if combined is None:
            combined = codes
        else:
            width = int(codes.max()) + 1 if len(codes) else 1
            combined = pd.factorize(combined * width + codes)[0]
    assert combined is not None
    return np.asarray(combined, dtype=np.int64)


def _column_codes(column: pd.Series, name: Hashable) -> np.ndarray:
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return _object_codes(column.to_numpy(), name)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return _float_codes(column.to_numpy(dtype=np.float64), None)
    if getattr(dtype, "kind", "") == "f" and type(dtype).__module__.startswith("pandas"):
        values = column.array
        data = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return _float_codes(data, np.asarray(values.isna(), dtype=bool))
    return np.asarray(pd.factorize(column, use_na_sentinel=False)[0], dtype=np.int64)


def _float_codes(values: np.ndarray, na_mask: np.ndarray | None) -> np.ndarray:
    """Codes by bit pattern, so that 0.0 and -0.0 stay apart; one NaN code; NA apart."""
    bits = values.view(np.int64).copy()
    bits[np.isnan(values)] = np.float64(np.nan).view(np.int64)
    codes = np.asarray(pd.factorize(bits)[0], dtype=np.int64)
    if na_mask is not None and na_mask.any():
        codes[na_mask] = codes.max() + 1
        codes = np.asarray(pd.factorize(codes)[0], dtype=np.int64)
    return codes


_MISSING = object()


def _object_codes(values: np.ndarray, name: Hashable) -> np.ndarray:
    seen: dict[Any, int] = {}
    codes = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        token = (type(value), _MISSING if is_missing(value) else value)
        try:
            codes[i] = seen.setdefault(token, len(seen))
        except TypeError:
            raise TypeError(
                f"groupby column {name!r} holds a value that cannot be a group key "
                f"(unhashable {type(value).__name__}: {value!r:.60}); group keys must be "
                f"hashable values such as str, numbers, dates or tuples. Convert the column "
                f"first, e.g. df[{name!r}] = df[{name!r}].astype(str)"
            ) from None
    return codes


# ------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------
@dataclass
class EncodedBatch:
    """Group documents ready for one insert command."""

    data: bytes
    count: int
    rows: int
    ids: list[ObjectId]


class GroupEncoder:
    """Encodes a frame's groups as documents; creating it checks every value.

    Rows are taken group by group (groups in order of first appearance, rows in their
    order within the group), each row as one BSON sub-document.
    """

    def __init__(self, obj: pd.DataFrame, layout: GroupLayout, start_rowid: int = 0,
                 document_bytes: int = DOCUMENT_BYTES, with_index: bool = True):
        self.layout = layout
        self.rows = len(obj)
        self.document_bytes = min(int(document_bytes), MAX_DOCUMENT_BYTES)
        codes = group_codes(obj, layout.key_positions)
        order = np.argsort(codes, kind="stable")
        if self.rows and bool((np.diff(order) < 0).any()):
            obj = obj.take(order)
        else:
            order = np.arange(self.rows)
        self._order = order.astype(np.int64)
        self.rowids = self._order + int(start_rowid)
        #: [start, stop) of each group in the sorted rows
        self.bounds: list[tuple[int, int]] = []
        if self.rows:
            starts = (np.flatnonzero(np.diff(codes[order])) + 1).tolist()
            self.bounds = list(zip([0, *starts], [*starts, self.rows], strict=True))
        prepared = prepare_rows(obj, layout.frame).prepared  # checks every value
        nidx = len(layout.frame.index)
        self.key_prepared = [prepared[nidx + i] for i in layout.key_positions]
        keys = set(layout.key_positions)
        # omegaml's row elements hold no index: rows appended to its data hold none either
        self.row_prepared = (prepared[:nidx] if with_index else []) + [
            p for i, p in enumerate(prepared[nidx:]) if i not in keys
        ]

    def number_from(self, start_rowid: int) -> None:
        """Number the rows from ``start_rowid`` (row ids reserved when the put began)."""
        self.rowids = self._order + int(start_rowid)

    @property
    def groups(self) -> int:
        """The number of groups."""
        return len(self.bounds)

    def batches(self, insert_bytes: int = INSERT_BYTES) -> Iterator[EncodedBatch]:
        """The documents in batches of at most ``insert_bytes`` (one insert command each)."""
        parts: list[bytes] = []
        ids: list[ObjectId] = []
        size = rows = 0
        for data, doc_id, count in self.documents():
            if parts and (size + len(data) > insert_bytes or len(parts) >= INSERT_DOCUMENTS):
                yield EncodedBatch(b"".join(parts), len(parts), rows, ids)
                parts, ids, size, rows = [], [], 0, 0
            parts.append(data)
            ids.append(doc_id)
            size += len(data)
            rows += count
        if parts:
            yield EncodedBatch(b"".join(parts), len(parts), rows, ids)

    def documents(self) -> Iterator[tuple[bytes, ObjectId, int]]:
        """(document bytes, its ``_id``, its number of rows) for every group document.

        A document takes about ``document_bytes`` of rows (estimated from the rows encoded
        so far); one that comes out larger than twice that, or than MongoDB accepts, is
        halved until it fits.
        """
        per_row = 0.0  # average encoded bytes of a row so far
        limit = min(MAX_DOCUMENT_BYTES, 2 * self.document_bytes)
        for start, stop in self.bounds:
            keys = self._key_values(start)
            lo = start
            while lo < stop:
                doc_id = ObjectId()
                if not per_row:  # estimate the size of a row from a sample
                    hi = min(stop, lo + SAMPLE_ROWS)
                    per_row = len(self._encode(doc_id, keys, lo, hi)) / (hi - lo)
                hi = min(stop, lo + max(1, int(self.document_bytes / per_row)))
                data = self._encode(doc_id, keys, lo, hi)
                while len(data) > limit and hi - lo > 1:
                    hi = lo + (hi - lo) // 2
                    data = self._encode(doc_id, keys, lo, hi)
                if len(data) > MAX_DOCUMENT_BYTES:
                    raise ValueError(
                        f"row {int(self.rowids[lo])} encodes to about {len(data)} bytes, more "
                        "than a MongoDB document holds (16 MB); store such a frame with "
                        "as_hdf=True, or keep large values elsewhere"
                    )
                rows = hi - lo
                per_row = 0.5 * (per_row + len(data) / rows)
                yield data, doc_id, rows
                lo = hi

    def _key_values(self, row: int) -> dict[str, Any]:
        """The group's key fields and values (from the group's first row)."""
        doc: dict[str, Any] = {}
        for prepared in self.key_prepared:
            for field, values in prepared.python(row, row + 1):
                if values[0] is not OMIT:
                    doc[field] = values[0]
        return doc

    def _encode(self, doc_id: ObjectId, keys: dict[str, Any], start: int, stop: int) -> bytes:
        """The document of rows [start, stop) (sorted order) of one group."""
        columns: list[tuple[str, list[Any]]] = []
        for prepared in self.row_prepared:
            columns.extend(prepared.python(start, stop))
        columns.append((ROWID_FIELD, self.rowids[start:stop].tolist()))
        names = [name for name, _ in columns]
        lists = [values for _, values in columns]
        if any(_holds_omit(values) for values in lists):
            rows = [{k: v for k, v in zip(names, row, strict=True) if v is not OMIT}
                    for row in zip(*lists, strict=True)]
        else:
            rows = [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]
        return bson.encode({ID_FIELD: doc_id, **keys, DATA_FIELD: rows})


def _holds_omit(values: list[Any]) -> bool:
    return any(map(operator.is_, values, repeat(OMIT)))


# ------------------------------------------------------------------------------------------
# querying
# ------------------------------------------------------------------------------------------
@dataclass
class GroupQuery:
    """A filter split by where it applies.

    documents: a filter on the group documents (key values, and a pre-selection of the
        documents holding a matching row).
    rows: a filter on single rows (the row fields, relative to a row element), or {}.
    """

    documents: dict[str, Any]
    rows: dict[str, Any]

    def pipeline(self) -> list[dict[str, Any]]:
        """The aggregation that returns each matching row as ``{keys..., _data: {row}}``."""
        stages: list[dict[str, Any]] = []
        if self.documents:
            stages.append({"$match": self.documents})
        stages.append({"$unwind": "$" + DATA_FIELD})
        stages.append({"$match": prefixed(self.rows)})
        return stages


def build_group_query(criteria: Mapping[Hashable, Any] | None, layout: GroupLayout,
                      trusted: bool = False, where: str = "filter",
                      collection: Collection | None = None) -> GroupQuery:
    """The filters for ``column__op=value`` criteria on a grouped frame.

    Criteria on key columns apply to the group documents, criteria on the other columns
    and on index levels to single rows (only matching rows are returned). With
    ``trusted=True``, raw top-level MongoDB operators apply to the group documents as
    stored. The operators are those of ``omegacore_pandas.query``; with ``collection``,
    sub-field filters and comparisons on object columns are checked against the stored
    groups (see ``omegacore_pandas.query.Probe``).
    """
    if not criteria:
        return GroupQuery({}, {})
    key_probe = row_probe = None
    if collection is not None:
        key_probe = collection_probe(collection)

        def row_probe(query: dict[str, Any]) -> bool:
            assert key_probe is not None
            return key_probe({DATA_FIELD: {"$elemMatch": query}})

    ensure_no_operators(dict(criteria), where, trusted=trusted)
    key_layout, row_layout = layout.key_layout(), layout.row_layout()
    key_names, row_names = key_layout.lookup(), row_layout.lookup()
    on_keys: dict[Hashable, Any] = {}
    on_rows: dict[Hashable, Any] = {}
    raw: list[dict[str, Any]] = []
    for key, value in criteria.items():
        if trusted and isinstance(key, str) and key.startswith("$"):
            raw.append({key: value})
            continue
        try:
            resolve_key(key, key_names, False, where, key_probe)
        except UnknownOperator:
            raise
        except ValueError:
            pass
        else:
            on_keys[key] = value
            continue
        try:
            resolve_key(key, row_names, trusted, where, row_probe)
        except UnknownOperator:
            raise
        except ValueError:
            known = [s.name for s in layout.frame.columns] + [
                s.name for s in layout.frame.index if s.name is not None]
            raise ValueError(
                f"{where}: {key!r} does not name a stored column or index level; use one "
                f"of {known}, optionally with __<op> (e.g. __gt, __in, __contains)"
            ) from None
        on_rows[key] = value
    key_query = build_query(on_keys, key_layout, trusted=trusted, where=where, probe=key_probe)
    row_query = build_query(on_rows, row_layout, trusted=trusted, where=where, probe=row_probe)
    documents = [key_query, *raw]
    if row_query:
        elements = element_query(row_query)
        if elements is not None:
            documents.append({DATA_FIELD: {"$elemMatch": elements}})
    return GroupQuery(combine(documents), row_query)


def document_filter(query: GroupQuery) -> dict[str, Any]:
    """One filter on group documents: the documents that hold at least one matching row.

    Row conditions become ``_data: {$elemMatch: ...}`` (what omegaml's ``rebuild_params``
    returns, with the whole row condition matched by one element).
    """
    if not query.rows:
        return query.documents
    elements = element_query(query.rows)
    if elements is not None:
        return query.documents  # the $elemMatch is in there already
    return combine([query.documents, {DATA_FIELD: {"$elemMatch": query.rows}}])


def prefixed(query: Mapping[str, Any], prefix: str = DATA_FIELD + ".") -> dict[str, Any]:
    """A row filter rewritten for unwound documents (row fields under ``_data.``).

    ``_id`` stays the document's own field: the query module uses ``_id: {$exists:
    false}`` as its never-true condition, which must stay never true.
    """
    out: dict[str, Any] = {}
    for key, value in query.items():
        if key in ("$and", "$or", "$nor"):
            out[key] = [prefixed(clause, prefix) for clause in value]
        elif key.startswith("$") or key == ID_FIELD:
            out[key] = value
        else:
            out[prefix + key] = value
    return out


def element_query(query: Mapping[str, Any]) -> dict[str, Any] | None:
    """``query`` as plain field conditions for ``$elemMatch``, or None if it has operators
    that cannot be written so (``$or``, ``$nor``, conflicting conditions).

    Some MongoDB-wire servers (SecantusDB) accept only field conditions in ``$elemMatch``;
    a query that is not plain is then applied to the unwound rows only.
    """
    out: dict[str, Any] = {}
    for key, value in query.items():
        if key == "$and":
            for clause in value:
                sub = element_query(clause)
                if sub is None:
                    return None
                for field, cond in sub.items():
                    if not _merge_into(out, field, cond):
                        return None
        elif key.startswith("$") or key == ID_FIELD:
            return None
        elif not _merge_into(out, key, value):
            return None
    return out


def _merge_into(out: dict[str, Any], field: str, cond: Any) -> bool:
    if field not in out:
        out[field] = cond
        return True
    old = out[field]
    if _is_operator_doc(old) and _is_operator_doc(cond) and not set(old) & set(cond):
        out[field] = {**old, **cond}
        return True
    return False


def _is_operator_doc(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and k.startswith("$") for k in value)


# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------
class GroupDecoder:
    """Collects raw batches of group documents (whole, or unwound one row each) into a frame.

    Each document is split into its key fields (decoded by bson: a few values per
    document) and its row elements (kept as raw BSON bytes). The rows of a batch are then
    decoded together like ``pandas.dfrows`` rows: as numpy views when they all share one
    fixed-size layout, else through ``bson.decode_all``.
    """

    def __init__(self, layout: GroupLayout, fast: bool = True):
        self.fast = fast
        #: omegaml data: the columns are known only once every document was read
        self.infer = layout.source != "omegacore"
        self._pending: list[tuple[list[dict[str, Any]], list[bytes], list[int]]] = []
        self.rows = 0
        self.fast_batches = self.general_batches = 0
        self._use(layout)

    def _use(self, layout: GroupLayout) -> None:
        self.layout = layout
        self.keys = layout.keys
        self.row_specs = layout.row_specs
        self.key_fields = layout.key_fields()
        self.row_fields = [f for s in self.row_specs for f in s.codec.fields] + [ROWID_FIELD]
        self._key_parts: list[list[Parts]] = [[] for _ in self.keys]
        self._row_parts: list[list[Parts]] = [[] for _ in self.row_specs]
        self._rowids: list[np.ndarray] = []

    def add(self, data: bytes) -> int:
        """Decode one raw batch of documents; returns its number of rows."""
        heads: list[bytes] = []
        rows: list[bytes] = []
        counts: list[int] = []
        for doc in iter_documents(data):
            head, elements = split_group_document(doc)
            heads.append(head)
            rows.extend(elements)
            counts.append(len(elements))
        keys = bson.decode_all(b"".join(heads), CODEC_OPTIONS)
        if self.infer:
            self._pending.append((keys, rows, counts))
        else:
            self._add(keys, rows, counts)
        self.rows += len(rows)
        return len(rows)

    def _add(self, keys: list[dict[str, Any]], rows: list[bytes], counts: list[int]) -> None:
        owner = np.repeat(np.arange(len(keys)), counts)
        key_columns = {f: [d.get(f) for d in keys] for f in self.key_fields}
        for collected, spec in zip(self._key_parts, self.keys, strict=True):
            collected.append(take_parts(spec.codec.from_python(key_columns), owner))
        rowids, parts, fast = decode_rows(b"".join(rows), self.row_specs, self.fast)
        if fast:
            self.fast_batches += 1
        else:
            self.general_batches += 1
        for collected, part in zip(self._row_parts, parts, strict=True):
            collected.append(part)
        self._rowids.append(rowids)

    def frame(self) -> pd.DataFrame:
        """The frame of all rows added, in their stored order."""
        if self.infer:
            self._settle_inferred()
        rowids = np.concatenate(self._rowids) if self._rowids else np.empty(0, np.int64)
        order = _row_order(rowids)
        finished: dict[int, Any] = {}
        for spec, parts in zip(self.keys, self._key_parts, strict=True):
            finished[id(spec)] = _finish(spec, parts, order)
        for spec, parts in zip(self.row_specs, self._row_parts, strict=True):
            finished[id(spec)] = _finish(spec, parts, order)
        layout = self.layout.frame
        column_arrays = [finished[id(s)] for s in layout.columns]
        if not layout.index:  # omegaml data: no index stored, the rows are numbered
            out = frame_of(column_arrays, pd.RangeIndex(len(rowids)))
            out.columns = layout.build_columns()
            return out
        index_arrays = [finished[id(s)] for s in layout.index]
        frame = layout.assemble(index_arrays, column_arrays, as_series=False)
        assert isinstance(frame, pd.DataFrame)
        return frame

    def _settle_inferred(self) -> None:
        """omegaml data: the columns are the fields found in all documents read (keys
        first, then row fields, each in order of first appearance); decode them now."""
        keys = [s.field for s in self.keys]
        fields: list[str] = []
        for key_docs, rows, _ in self._pending:
            for doc in key_docs:
                keys.extend(k for k in doc if k not in keys and k != ID_FIELD)
            for row in bson.decode_all(b"".join(rows), CODEC_OPTIONS):
                fields.extend(k for k in row if k not in fields and k != ROWID_FIELD)
        fields = [f for f in fields if f not in keys]
        self._use(GroupLayout(_inferred_frame(keys + fields), list(range(len(keys))),
                              source="omegaml"))
        self.infer = False
        pending, self._pending = self._pending, []
        for batch in pending:
            self._add(*batch)


Parts = dict[str, np.ndarray]


def _finish(spec: FieldSpec, parts: list[Parts], order: np.ndarray | None) -> Any:
    joined = concat_parts(parts, spec.codec)
    parts.clear()
    if order is not None:
        joined = take_parts(joined, order)
    return spec.codec.finish(joined)


def _as_rows(value: Any) -> list[dict[str, Any]]:
    """The row elements of a decoded ``_data`` value (an array, or one unwound row)."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict):
        return [value]
    return []


def _row_order(rowids: np.ndarray) -> np.ndarray | None:
    """The permutation that puts rows in row-id order (rows without one, written by
    omegaml before any append, keep their place before those with one); None if they are
    in order already."""
    if len(rowids) < 2:
        return None
    missing = rowids < 0
    if missing.any():
        if missing.all():
            return None
        rowids = rowids.copy()
        rowids[missing] = np.flatnonzero(missing) - len(rowids)
    if bool((np.diff(rowids) >= 0).all()):
        return None
    return np.argsort(rowids, kind="stable")


# -- local helper (see the package README, "Shared code"): decode concatenated row
# -- documents into codec parts. omegacore_pandas.decode.RowDecoder does the same per
# -- batch but keeps the parts and row ids private; a public per-batch decode there would
# -- replace this function.
def decode_rows(data: bytes, specs: Sequence[FieldSpec], fast: bool = True
                ) -> tuple[np.ndarray, list[Parts], bool]:
    """(row ids, parts per spec, whether the fixed-layout path was taken) for ``data``,
    concatenated row documents. A row without ``_om#rowid`` gets -1."""
    if fast and data:
        split = split_fixed(data)
        if split is not None:
            n, raw = split
            parts = []
            for spec in specs:
                if not spec.codec.fixed_readable:
                    break
                raw.setdefault(spec.field, (BSON_NULL, None))  # no field: all missing
                part = spec.codec.from_fixed(raw, n)  # type: ignore[arg-type]
                if part is None:
                    break
                parts.append(part)
            rowid = raw.get(ROWID_FIELD)
            if rowid is not None and rowid[0] in (BSON_INT32, BSON_INT64) and \
                    rowid[1] is not None and len(parts) == len(specs):
                return rowid[1].astype(np.int64), parts, True
    docs = bson.decode_all(data, CODEC_OPTIONS)
    fields = [f for spec in specs for f in spec.codec.fields] + [ROWID_FIELD]
    columns = {f: [d.get(f) for d in docs] for f in fields}
    rowids = np.array([-1 if v is None else int(v) for v in columns[ROWID_FIELD]],
                      dtype=np.int64)
    return rowids, [spec.codec.from_python(columns) for spec in specs], False


# -- raw BSON: splitting group documents without decoding their rows --------------------------
_FIXED_SIZES = {0x01: 8, 0x06: 0, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8,
                0x12: 8, 0x13: 16, 0x7F: 0, 0xFF: 0}
_DATA_NAME = DATA_FIELD.encode()


def _int32(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos:pos + 4], "little", signed=True)


def _value_size(data: bytes, btype: int, pos: int) -> int:
    """Bytes of the BSON value of type ``btype`` starting at ``pos``."""
    size = _FIXED_SIZES.get(btype)
    if size is not None:
        return size
    if btype in (0x02, 0x0D, 0x0E):  # string, code, symbol
        return 4 + _int32(data, pos)
    if btype in (0x03, 0x04, 0x0F):  # document, array, code with scope
        return _int32(data, pos)
    if btype == 0x05:  # binary: length, subtype, bytes
        return 5 + _int32(data, pos)
    if btype == 0x0B:  # regex: two C strings
        end = data.index(b"\x00", data.index(b"\x00", pos) + 1)
        return end + 1 - pos
    if btype == 0x0C:  # DBPointer: string + ObjectId
        return 4 + _int32(data, pos) + 12
    raise ValueError(f"unknown BSON type {btype:#x} in a group document")


def iter_documents(data: bytes) -> Iterator[bytes]:
    """The documents of a raw batch (concatenated BSON documents)."""
    pos = 0
    while pos < len(data):
        size = _int32(data, pos)
        yield data[pos:pos + size]
        pos += size


def split_group_document(doc: bytes) -> tuple[bytes, list[bytes]]:
    """(the document without ``_data``, the raw row documents of ``_data``).

    ``_data`` is an array of rows, or one row in documents unwound by ``$unwind``.
    """
    pos, end = 4, len(doc) - 1
    while pos < end:
        btype = doc[pos]
        name_end = doc.index(b"\x00", pos + 1)
        start = name_end + 1
        size = _value_size(doc, btype, start)
        if doc[pos + 1:name_end] == _DATA_NAME:
            rest = doc[4:pos] + doc[start + size:end]
            head = (len(rest) + 5).to_bytes(4, "little") + rest + b"\x00"
            value = doc[start:start + size]
            if btype == 0x03:
                return head, [value]
            if btype == 0x04:
                return head, _array_documents(value)
            return head, []
        pos = start + size
    return doc, []


def _array_documents(array: bytes) -> list[bytes]:
    """The documents held by a BSON array (other values are skipped)."""
    out = []
    pos, end = 4, len(array) - 1
    index = array.index
    while pos < end:
        btype = array[pos]
        start = index(b"\x00", pos + 1) + 1
        if btype == 0x03:
            size = int.from_bytes(array[start:start + 4], "little")
            out.append(array[start:start + size])
        else:
            size = _value_size(array, btype, start)
        pos = start + size
    return out


def read_groups(collection: Collection, layout: GroupLayout, query: GroupQuery,
                progress: Any = None) -> pd.DataFrame:
    """The rows of the stored frame that match ``query``, in their stored order."""
    if query.rows:
        batches = collection.aggregate_raw_batches(query.pipeline())
    else:
        batches = collection.find_raw_batches(query.documents)
    decoder = GroupDecoder(layout)
    for data in batches:
        n = decoder.add(data)
        if progress is not None:
            progress.update(n)
    return decoder.frame()


__all__ = [
    "DATA_FIELD",
    "DOCUMENT_BYTES",
    "GroupDecoder",
    "GroupEncoder",
    "GroupLayout",
    "GroupQuery",
    "build_group_query",
    "document_filter",
    "element_query",
    "group_codes",
    "layout_of",
    "prefixed",
    "read_groups",
    "resolve_groupby",
]
