"""Writing a frame as group documents: group codes, then documents of about
``DOCUMENT_BYTES`` each (see ``omegacore_pandas_dfgroup.layout``)."""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import bson
import numpy as np
import pandas as pd
from bson import ObjectId
from omegacore_pandas.codecs import (
    OMIT,
)
from omegacore_pandas.names import ID_FIELD, ROWID_FIELD
from omegacore_pandas.rows import prepare_rows
from omegacore_pandas.values import is_missing

from omegacore_pandas_dfgroup.layout import (
    DATA_FIELD,
    DOCUMENT_BYTES,
    INSERT_BYTES,
    INSERT_DOCUMENTS,
    MAX_DOCUMENT_BYTES,
    SAMPLE_ROWS,
    GroupLayout,
)


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
