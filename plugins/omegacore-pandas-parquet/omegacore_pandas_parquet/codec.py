"""Frames to Parquet bytes and back, exactly, or a clear refusal.

pyarrow converts pandas frames with the pandas metadata it writes into every file
(index, names, categoricals, nullable and tz-aware dtypes). What it does not bring back
is recorded in ``restore`` and put back on read: object columns of text (pandas 3 would
read them as ``str``), datetime units, the ``freq`` of a DatetimeIndex, an unnamed
Series, and the object's pandas metadata (its row groups may sit in files written for
other objects). Whatever else a frame holds that Parquet cannot represent is found before
anything is stored: conversion errors, and a read-back of the first rows that must
equal the frame's first rows.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: rows per row group unless ``row_group_size`` says otherwise: small enough that a
#: filter on a sorted column reads a small share of a large frame
ROW_GROUP_SIZE = 65_536
#: compression unless ``compression`` says otherwise
COMPRESSION = "zstd"
#: rows read back at put time to check the conversion
CHECK_ROWS = 100
#: a column of other than text or categories is dictionary-encoded when at most this share
#: of its first row group's values are distinct: a dictionary of (nearly) unique values
#: costs time and bytes (random float64: 4x the write time, 1.3x the bytes)
DICTIONARY_SHARE = 0.5


class NotExact(ValueError):
    """The frame cannot be stored as Parquet exactly."""


def as_frame(obj: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``obj`` as a DataFrame and what restores the original object's shape on read."""
    if isinstance(obj, pd.Series):
        restore: dict[str, Any] = {"pytype": "Series", "unnamed": obj.name is None}
        return obj.to_frame(name=obj.name if obj.name is not None else "0"), restore
    if isinstance(obj, pd.DataFrame):
        return obj, {"pytype": "DataFrame"}
    raise TypeError(f"pandas.parquet stores DataFrames and Series, not {type(obj).__name__}")


def range_of(index: pd.Index, exactly: bool = True) -> tuple[int, int] | None:
    """``(start, step)`` if ``index`` is a RangeIndex with a name the metadata holds
    (``exactly=False``: any integer index of evenly spaced values), else None."""
    name = index.name
    if index.nlevels != 1 or not (name is None or isinstance(name, str)):
        return None
    if isinstance(index, pd.RangeIndex):
        return index.start, index.step
    if exactly or not pd.api.types.is_integer_dtype(index.dtype) or len(index) == 0:
        return None
    values = index.to_numpy()
    step = int(values[1] - values[0]) if len(values) > 1 else 1
    if step == 0 or (len(values) > 2 and not (np.diff(values) == step).all()):
        return None
    return int(values[0]), step


def range_index(restore: dict[str, Any], starts: Sequence[tuple[int, int]]) -> pd.Index:
    """The index of rows stored without one (``restore["range"]``): ``starts`` gives the
    first index value and row count of each row group read, in order."""
    step, name = int(restore["range"]["step"]), restore["range"].get("name")
    if not starts:
        return pd.RangeIndex(0, 0, step, name=name)
    first = starts[0][0]
    expected = first
    for start, rows in starts:
        if start != expected:
            break
        expected = start + step * rows
    else:
        return pd.RangeIndex(first, expected, step, name=name)
    values = np.concatenate([np.arange(start, start + step * rows, step, dtype="int64")
                             for start, rows in starts])
    return pd.Index(values, name=name)


def to_table(frame: pd.DataFrame, restore: dict[str, Any],
             span: tuple[int, int] | None = None) -> pa.Table:
    """The Arrow table of ``frame``; ``restore`` gains what the table does not keep.

    span: ``(first value, step)`` of an index stored as no column (its values follow from
    each row group's first value and the step, as a RangeIndex's do): a frame's
    RangeIndex costs no bytes, and a read of some columns fetches no index column.
    """
    if span is not None and not isinstance(frame.index, pd.RangeIndex):
        first, step = span
        frame = frame.set_axis(pd.RangeIndex(first, first + step * len(frame), step,
                                             name=frame.index.name))
    if frame.columns.has_duplicates:
        raise NotExact("pandas.parquet cannot store duplicate column names "
                       f"{frame.columns[frame.columns.duplicated()].tolist()}; rename them")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # a RangeIndex as metadata only (preserve_index=False would drop the column
            # labels' dtype too)
            table = pa.Table.from_pandas(frame, preserve_index=None if span else True)
        lossy = [str(w.message) for w in caught if "roundtrip" in str(w.message)]
        if lossy:
            raise NotExact(f"pandas.parquet cannot store this frame exactly: {lossy[0]} "
                           "Rename the columns to text, or store it as pandas.dfrows")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError,
            ValueError) as exc:
        raise NotExact(f"pandas.parquet cannot store this frame: {exc}. Convert the column "
                       "(e.g. df[col].astype(str)) or store it as pandas.dfrows") from exc
    restore["dtypes"] = [str(dtype) for dtype in frame.dtypes]
    if span is not None:
        restore["range"] = {"step": span[1], "name": frame.index.name}
    labels = list(frame.columns)
    plain = all(isinstance(x, str) or (isinstance(x, int) and not isinstance(x, bool))
                for x in labels)
    restore["names"] = labels if plain else None
    freq = getattr(frame.index, "freqstr", None)
    if freq is not None:
        restore["freq"] = freq
    return table


def write(table: pa.Table, bounds: Sequence[tuple[int, int]], compression: str,
          dictionary: Sequence[str]) -> bytes:
    """The Parquet file of ``table`` (in memory): one row group per row range of
    ``bounds``, dictionary-encoded columns ``dictionary`` only."""
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, table.schema, compression=compression,
                          use_dictionary=list(dictionary)) as writer:
        for start, stop in bounds:
            writer.write_table(table.slice(start, stop - start),
                               row_group_size=max(stop - start, 1))
    return sink.getvalue()


def dictionary_columns(table: pa.Table, row_group_size: int) -> list[str]:
    """The columns worth a dictionary: text, categories, and columns whose first row
    group repeats values (see ``DICTIONARY_SHARE``)."""
    import pyarrow.compute as pc

    chosen = []
    sample = table.slice(0, row_group_size)
    for field, column in zip(table.schema, sample.columns, strict=True):
        kind = field.type
        if (pa.types.is_dictionary(kind) or pa.types.is_string(kind)
                or pa.types.is_large_string(kind) or pa.types.is_binary(kind)
                or pa.types.is_large_binary(kind)):
            chosen.append(field.name)
        elif pa.types.is_primitive(kind) and len(column):
            distinct = pc.count_distinct(column, mode="all").as_py()
            if distinct <= DICTIONARY_SHARE * len(column):
                chosen.append(field.name)
    return chosen


def to_pandas(table: pa.Table, restore: dict[str, Any],
              starts: Sequence[tuple[int, int]] = ()) -> pd.DataFrame | pd.Series:
    """The frame (or Series) ``table`` holds, with ``restore`` applied; ``starts`` (first
    index value, rows) of the row groups read, for objects stored without an index."""
    if restore.get("pandas"):  # the object's own (its row groups may come from others)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"pandas": restore["pandas"].encode()})
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    if "range" in restore:
        frame.index = range_index(restore, starts)
    dtypes = restore.get("dtypes") or []
    names = restore.get("names")
    for position, (label, dtype) in enumerate(zip(frame.columns, frame.dtypes, strict=False)):
        wanted = _wanted_dtype(dtypes, names, label, position, len(frame.columns))
        if wanted is None or str(dtype) == wanted:
            continue
        column = frame.iloc[:, position]
        if wanted == "object":
            converted = column.astype(object)
            frame.isetitem(position, converted.where(column.notna(), None))
        elif wanted.startswith(("datetime64", "timedelta64")):
            frame.isetitem(position, column.astype(wanted))
    if "freq" in restore and isinstance(frame.index, pd.DatetimeIndex) and len(frame.index):
        frame.index = pd.DatetimeIndex(frame.index, freq=restore["freq"])
    if restore.get("pytype") == "Series":
        series = frame.iloc[:, 0]
        return series.rename(None) if restore.get("unnamed") else series
    return frame


def writable(frame: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """``frame`` with every column a pandas user can change in place.

    Arrow hands contiguous values to pandas without a copy, read-only; each such column
    is copied one after the other. Called once nothing else holds the Arrow table, each
    copy frees the Arrow memory it replaces: one column of memory at a time.
    """
    pool = pa.default_memory_pool()
    if isinstance(frame, pd.Series):
        values = frame.to_numpy(copy=False)
        if isinstance(values, np.ndarray) and not values.flags.writeable:
            frame = frame.copy()
            pool.release_unused()
        return frame
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position].to_numpy(copy=False)
        if isinstance(values, np.ndarray) and not values.flags.writeable:
            del values
            frame.isetitem(position, frame.iloc[:, position].copy())
            pool.release_unused()  # the pool would keep the freed column otherwise
    return frame


def _wanted_dtype(dtypes: list[str], names: list[Any] | None, label: Any, position: int,
                  width: int) -> str | None:
    """The stored dtype of the column read at ``position`` (columns may be a selection)."""
    if names is not None and label in names:
        index = names.index(label)
        return dtypes[index] if index < len(dtypes) else None
    if names is None and width == len(dtypes):
        return dtypes[position]
    return None


def check_exact(frame: pd.DataFrame | pd.Series, data: bytes, restore: dict[str, Any],
                start: int = 0) -> None:
    """NotExact unless the first rows read back from ``data`` equal ``frame``'s (``start``:
    the first index value, for frames stored without an index)."""
    head = pq.ParquetFile(io.BytesIO(data)).read_row_group(0) if len(frame) else \
        pq.read_table(io.BytesIO(data))
    head = head.slice(0, CHECK_ROWS)
    back = to_pandas(head, restore, [(start, len(head))])
    expected = frame.iloc[:CHECK_ROWS]
    try:
        if isinstance(expected, pd.Series):
            pd.testing.assert_series_equal(back, expected, check_exact=True, check_freq=True)
        else:
            pd.testing.assert_frame_equal(back, expected, check_exact=True, check_freq=True)
            if getattr(back.columns, "freq", None) != getattr(expected.columns, "freq", None):
                raise AssertionError("the column labels' freq is not kept")
    except AssertionError as exc:
        detail = " ".join(str(exc).split())
        raise NotExact(
            f"pandas.parquet cannot store this frame exactly ({detail[:300]}). Convert the "
            "columns named, or store it as pandas.dfrows (the default for DataFrames)"
        ) from None
