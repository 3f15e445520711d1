"""Row documents back into a DataFrame or Series, decoded in bulk.

Documents are read with ``find_raw_batches``: each batch is bytes holding many
documents. Fast path: if every document of the batch has the same length and the same
structure (the same keys and types in the same order, all of fixed size), the batch is
an array of equal records, and each field is a strided numpy view into it: no Python
object per row. General path: ``bson.decode_all`` and one list per field. Both produce
the same intermediate arrays (see ``omegacore_pandas.codecs``), so the result is the
same whichever path a batch takes.

Rows are put back in their stored order by ``_om#rowid`` (the server returns them in
its natural order, which usually is already that order).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import bson
import numpy as np
import pandas as pd
from bson.codec_options import CodecOptions, DatetimeConversion

from omegacore_pandas.codecs import (
    BSON_INT32,
    BSON_INT64,
    BSON_NULL,
    BSON_OID,
    FIXED_FORMATS,
    Parts,
    concat_parts,
    take_parts,
)
from omegacore_pandas.layout import FrameLayout
from omegacore_pandas.names import ROWID_FIELD

#: decoding options of the general path: datetimes as exact milliseconds
CODEC_OPTIONS: CodecOptions = CodecOptions(
    document_class=dict, tz_aware=False, datetime_conversion=DatetimeConversion.DATETIME_MS
)
_SIZES = {BSON_OID: 12, BSON_NULL: 0, 0x11: 8, 0x13: 16,
          **{t: np.dtype(f).itemsize for t, f in FIXED_FORMATS.items()}}
_MISSING_ROWID = np.iinfo(np.int64).max


def fixed_layout(data: bytes) -> tuple[int, dict[str, tuple[int, int]]] | None:
    """(length, {key: (bson type, value offset)}) of the first document of ``data`` if
    all its values have a fixed size, else None."""
    if len(data) < 5:
        return None
    length = int.from_bytes(data[:4], "little")
    pos, fields = 4, {}
    while pos < length - 1:
        btype = data[pos]
        end = data.index(b"\x00", pos + 1)
        size = _SIZES.get(btype)
        if size is None:
            return None
        fields[data[pos + 1:end].decode("utf-8")] = (btype, end + 1)
        pos = end + 1 + size
    if pos != length - 1 or data[pos] != 0:
        return None
    return length, fields


def split_fixed(data: bytes) -> tuple[int, dict[str, tuple[int, np.ndarray | None]]] | None:
    """The documents of a batch as numpy views per field, if they all share one layout.

    Returns (number of documents, {key: (bson type, values)}) or None when the batch is
    irregular (then use the general path).
    """
    found = fixed_layout(data)
    if found is None:
        return None
    length, fields = found
    n, rest = divmod(len(data), length)
    if rest:
        return None
    rows = np.frombuffer(data, dtype=np.uint8, count=n * length).reshape(n, length)
    structure = np.ones(length, dtype=bool)
    for btype, offset in fields.values():
        structure[offset:offset + _SIZES[btype]] = False
    columns = np.flatnonzero(structure)
    # compare the structure bytes (lengths, types, keys) of every document with the first
    for lo in range(0, n, 16384):
        block = rows[lo:lo + 16384][:, columns]
        if not (block == rows[0, columns]).all():
            return None
    out: dict[str, tuple[int, np.ndarray | None]] = {}
    for key, (btype, offset) in fields.items():
        fmt = FIXED_FORMATS.get(btype)
        values = None if fmt is None else np.ndarray(
            (n,), dtype=fmt, buffer=data, offset=offset, strides=(length,))
        out[key] = (btype, values)
    return n, out


class RowDecoder:
    """Collects decoded batches for a layout and assembles frames from them."""

    def __init__(self, layout: FrameLayout, fast: bool = True, sort_rows: bool = True):
        self.layout = layout
        self.fast = fast
        self.sort_rows = sort_rows
        self.specs = layout.specs
        self.fields = layout.fields()
        self._parts: list[list[Parts]] = [[] for _ in self.specs]
        self._rowids: list[np.ndarray] = []
        self.rows = 0
        self.fast_batches = 0
        self.general_batches = 0

    def add(self, data: bytes) -> int:
        """Decode one raw batch; returns its number of rows."""
        decoded = self._decode_fixed(data) if self.fast else None
        if decoded is None:
            decoded = self._decode_general(data)
            self.general_batches += 1
        else:
            self.fast_batches += 1
        rowids, parts = decoded
        for store, part in zip(self._parts, parts, strict=True):
            store.append(part)
        self._rowids.append(rowids)
        self.rows += len(rowids)
        return len(rowids)

    def _decode_fixed(self, data: bytes) -> tuple[np.ndarray, list[Parts]] | None:
        split = split_fixed(data)
        if split is None:
            return None
        n, raw = split
        parts = []
        for spec in self.specs:
            if not spec.codec.fixed_readable:
                return None
            if spec.field not in raw:
                raw[spec.field] = (BSON_NULL, None)
            part = spec.codec.from_fixed(raw, n)  # type: ignore[arg-type]
            if part is None:
                return None
            parts.append(part)
        rowid = raw.get(ROWID_FIELD)
        if rowid is None or rowid[0] not in (BSON_INT32, BSON_INT64) or rowid[1] is None:
            return None
        return rowid[1].astype(np.int64), parts

    def _decode_general(self, data: bytes) -> tuple[np.ndarray, list[Parts]]:
        docs = bson.decode_all(data, CODEC_OPTIONS)
        columns = {f: [d.get(f) for d in docs] for f in self.fields}
        parts = [spec.codec.from_python(columns) for spec in self.specs]
        rowids = np.array(
            [_MISSING_ROWID if v is None else int(v) for v in columns[ROWID_FIELD]],
            dtype=np.int64,
        ) if docs else np.empty(0, dtype=np.int64)
        return rowids, parts

    def frame(self, rows: int | None = None, as_series: bool | None = None
              ) -> pd.DataFrame | pd.Series:
        """Assemble (and forget) the first ``rows`` rows collected (all by default)."""
        rowids = np.concatenate(self._rowids) if self._rowids else np.empty(0, np.int64)
        keep: slice | None = None
        if rows is not None and rows < len(rowids):
            keep = slice(0, rows)
        order = None
        if self.sort_rows and len(rowids) > 1 and not bool((np.diff(rowids) >= 0).all()):
            order = np.argsort(rowids, kind="stable")
        arrays = []
        rest: list[list[Parts]] = []
        for spec, collected in zip(self.specs, self._parts, strict=True):
            parts = concat_parts(collected, spec.codec)
            collected.clear()
            if order is not None:
                parts = take_parts(parts, order)
            if keep is not None:
                rest.append([{k: v[keep.stop:] for k, v in parts.items()}])
                parts = {k: v[keep] for k, v in parts.items()}
            arrays.append(spec.codec.finish(parts))
        if order is not None:
            rowids = rowids[order]
        if keep is not None:
            self._parts = rest
            self._rowids = [rowids[keep.stop:]]
            self.rows = len(rowids) - keep.stop
        else:
            self._rowids = []
            self.rows = 0
        nidx = len(self.layout.index)
        return self.layout.assemble(arrays[:nidx], arrays[nidx:], as_series=as_series)


def decode_frame(batches: Iterable[bytes], layout: FrameLayout, as_series: bool | None = None,
                 fast: bool = True, sort_rows: bool = True, progress: Any = None
                 ) -> pd.DataFrame | pd.Series:
    """The frame held by raw batches of row documents (see ``RowDecoder``).

    ``progress`` is anything with ``update(n)`` (e.g. a tqdm bar).
    """
    decoder = RowDecoder(layout, fast=fast, sort_rows=sort_rows)
    for data in batches:
        n = decoder.add(data)
        if progress is not None:
            progress.update(n)
    return decoder.frame(as_series=as_series)


def iter_frames(batches: Iterable[bytes], layout: FrameLayout, chunksize: int,
                as_series: bool | None = None, fast: bool = True, sort_rows: bool = True
                ) -> Iterator[pd.DataFrame | pd.Series]:
    """Frames of ``chunksize`` rows (the last may be shorter) from raw batches."""
    if not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1:
        raise ValueError(f"chunksize must be a positive int, got {chunksize!r}")
    decoder = RowDecoder(layout, fast=fast, sort_rows=sort_rows)
    emitted = False
    for data in batches:
        decoder.add(data)
        while decoder.rows >= chunksize:
            yield decoder.frame(chunksize, as_series=as_series)
            emitted = True
    if decoder.rows or not emitted:
        yield decoder.frame(as_series=as_series)
