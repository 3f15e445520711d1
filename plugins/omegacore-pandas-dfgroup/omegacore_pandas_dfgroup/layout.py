"""The layout of grouped frames: one MongoDB document per group of rows.

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

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from omegacore_pandas.layout import FieldSpec, FrameLayout
from omegacore_pandas.names import ID_FIELD, ROWID_FIELD, display_name, is_plain_name
from pymongo.collection import Collection

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
            for element in as_rows(sample.get(DATA_FIELD)):
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

def as_rows(value: Any) -> list[dict[str, Any]]:
    """The row elements of a decoded ``_data`` value (an array, or one unwound row)."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict):
        return [value]
    return []
