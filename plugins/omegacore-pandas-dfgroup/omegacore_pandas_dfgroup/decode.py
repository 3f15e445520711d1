"""Reading group documents back into a frame, splitting raw BSON without decoding
the rows one by one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import bson
import numpy as np
import pandas as pd
from omegacore_pandas.codecs import (
    BSON_INT32,
    BSON_INT64,
    BSON_NULL,
    concat_parts,
    take_parts,
)
from omegacore_pandas.decode import CODEC_OPTIONS, split_fixed
from omegacore_pandas.layout import FieldSpec, frame_of
from omegacore_pandas.names import ID_FIELD, ROWID_FIELD
from pymongo.collection import Collection

from omegacore_pandas_dfgroup.layout import (
    DATA_FIELD,
    GroupLayout,
    _inferred_frame,
)
from omegacore_pandas_dfgroup.query import (
    GroupQuery,
)


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
