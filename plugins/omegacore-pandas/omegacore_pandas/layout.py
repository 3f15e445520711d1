"""The row layout of a DataFrame or Series: which field holds what, and how to rebuild it.

One document per row::

    {_id, _idx#0_<name>, ..., <column fields>..., [_om#ns_<field>], _om#rowid}

``FrameLayout`` describes the fields of one stored object: its index levels and columns
(each a ``FieldSpec``: original name, field name, dtype description, codec), how to
rebuild the row index (RangeIndex, DatetimeIndex with freq, MultiIndex) and the column
index (names, level dtypes). It is built from a frame when writing
(``FrameLayout.from_frame``) and from the metadata's ``kind_meta`` when reading
(``FrameLayout.from_kind_meta``, which also reads the layout omegaml 0.18 wrote).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from omegacore_pandas.codecs import Codec, make_codec
from omegacore_pandas.dtypes import describe_dtype, dtype_from_name, restore_dtype
from omegacore_pandas.names import (
    INDEX_PREFIX,
    ROWID_FIELD,
    decode_name,
    display_name,
    encode_name,
    index_field,
)

#: the key under which ``kind_meta`` holds this package's layout description
META_KEY = "omegacore"
#: version of the layout description; readers refuse newer versions
FORMAT_VERSION = 1


@dataclass
class FieldSpec:
    """One column or index level: its original name, its field and how values are coded."""

    name: Hashable
    field: str
    desc: dict[str, Any]
    codec: Codec = dataclasses.field(repr=False)

    @classmethod
    def make(cls, name: Hashable, field_name: str, desc: dict[str, Any]) -> FieldSpec:
        return cls(name, field_name, desc, make_codec(field_name, desc))

    def to_meta(self) -> dict[str, Any]:
        return {"field": self.field, "name": encode_name(self.name), "dtype": self.desc}


@dataclass
class FrameLayout:
    """The fields of a stored DataFrame or Series and how to rebuild the object."""

    obj_type: str  # "DataFrame" or "Series"
    index: list[FieldSpec]
    columns: list[FieldSpec]
    #: {"type": "range"|"index"|"multi", "freq": str|None}
    index_info: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: {"type": "range"|"index"|"multi"|"infer", "name"/"names", "dtype"/"dtypes"}
    column_index: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: "omegacore" for layouts this package wrote, "omegaml" for omegaml 0.18 data
    source: str = "omegacore"

    # -- building --------------------------------------------------------------------------
    @classmethod
    def from_frame(cls, obj: pd.DataFrame | pd.Series, fields: dict[Any, str] | None = None
                   ) -> FrameLayout:
        """The layout for writing ``obj``; TypeError/ValueError for what cannot be stored.

        ``fields`` optionally maps column names to existing field names (appends).
        """
        is_series = isinstance(obj, pd.Series)
        index = obj.index
        levels = []
        for i, (name, level_dtype) in enumerate(_index_levels(index)):
            where = f"index level {i} ({name!r})"
            levels.append(FieldSpec.make(name, index_field(i, name), describe_dtype(
                level_dtype, where)))
        columns = []
        names = [obj.name] if is_series else list(obj.columns)
        dtypes = [obj.dtype] if is_series else list(obj.dtypes)
        seen: dict[str, Hashable] = {}
        for name, dtype in zip(names, dtypes, strict=True):
            where = "the series" if is_series else f"column {name!r}"
            field_name = (fields or {}).get(name) or encode_name(name)
            if field_name in seen:
                raise ValueError(
                    f"column names must be unique to be stored as fields; {name!r} occurs "
                    f"more than once. Rename the columns, e.g. df.columns = [...]"
                )
            seen[field_name] = name
            columns.append(FieldSpec.make(name, field_name, describe_dtype(dtype, where)))
        if isinstance(index, pd.RangeIndex):
            index_type = "range"
        elif isinstance(index, pd.MultiIndex):
            index_type = "multi"
        else:
            index_type = "index"
        freq = getattr(index, "freqstr", None) if index_type == "index" else None
        info: dict[str, Any] = {"type": index_type, "freq": freq}
        if index_type == "multi":
            info["level_freqs"] = [getattr(level, "freqstr", None) for level in index.levels]
        layout = cls(
            "Series" if is_series else "DataFrame",
            levels,
            columns,
            info,
            {} if is_series else describe_column_index(obj.columns),
        )
        return layout

    @classmethod
    def from_kind_meta(cls, kind_meta: dict[str, Any], kind: str = "pandas.dfrows"
                       ) -> FrameLayout:
        """The layout recorded in ``kind_meta`` (ours, or omegaml 0.18's)."""
        ours = kind_meta.get(META_KEY)
        if ours is None:
            return cls._from_omegaml(kind_meta, kind)
        if ours.get("format", 0) > FORMAT_VERSION:
            raise ValueError(
                f"this object was written by a newer omegacore-pandas (layout format "
                f"{ours['format']}); upgrade omegacore-pandas to read it"
            )

        def spec(meta: dict[str, Any]) -> FieldSpec:
            return FieldSpec.make(decode_name(meta["name"]), meta["field"], meta["dtype"])

        return cls(
            ours["type"],
            [spec(m) for m in ours["index"]["levels"]],
            [spec(m) for m in ours["columns"]],
            {k: v for k, v in ours["index"].items() if k != "levels"},
            ours.get("column_index", {}),
        )

    @classmethod
    def _from_omegaml(cls, kind_meta: dict[str, Any], kind: str) -> FrameLayout:
        pairs = kind_meta.get("columns") or []
        if not pairs:
            raise ValueError(
                "this object's metadata has no column layout (kind_meta.columns); it was not "
                "written by omegacore or omegaml 0.18 and cannot be read as rows"
            )
        dtypes = kind_meta.get("dtypes") or {}
        idx_meta = kind_meta.get("idx_meta") or {}
        index_fields = sorted(
            (stored for _, stored in pairs if str(stored).startswith(INDEX_PREFIX)),
            key=lambda f: int(f[len(INDEX_PREFIX):].split("_", 1)[0]),
        )
        names = list(idx_meta.get("names") or [None] * len(index_fields))
        levels = [
            FieldSpec.make(names[i] if i < len(names) else None, f,
                           dtype_from_name(dtypes.get(f, "object")))
            for i, f in enumerate(index_fields)
        ]
        columns = [
            FieldSpec.make(orig, stored, dtype_from_name(dtypes.get(stored, "object")))
            for orig, stored in pairs
            if stored != ROWID_FIELD and stored != "_id" and not str(stored).startswith(
                INDEX_PREFIX)
        ]
        is_series = kind == "pandas.serows"
        if is_series and columns and columns[0].name == "None":
            columns[0] = replace(columns[0], name=None)
        ranged = len(levels) == 1 and names[0] is None and levels[0].desc.get("name") == "int64"
        index_type = "range" if ranged else ("multi" if len(levels) > 1 else "index")
        return cls(
            "Series" if is_series else "DataFrame",
            levels,
            columns,
            {"type": index_type, "freq": idx_meta.get("freq")},
            {"type": "infer"},
            source="omegaml",
        )

    # -- metadata --------------------------------------------------------------------------
    def to_kind_meta(self, rows: int) -> dict[str, Any]:
        """``kind_meta`` for the metadata: omegaml's keys plus this package's layout.

        ``rows`` is the next free row id (rows ever written), used by appends.
        """
        specs = self.index + self.columns
        pairs = [[display_name(s.name), s.field] for s in specs] + [[ROWID_FIELD, ROWID_FIELD]]
        dtypes = {s.field: _omegaml_dtype(s.codec.dtype) for s in specs}
        dtypes[ROWID_FIELD] = "int64"
        idx_meta: dict[str, Any] = {"names": [display_name(s.name) for s in self.index]}
        if self.index_info.get("freq"):
            idx_meta["freq"] = self.index_info["freq"]
        return {
            "columns": pairs,
            "dtypes": dtypes,
            "idx_meta": idx_meta,
            META_KEY: {
                "format": FORMAT_VERSION,
                "type": self.obj_type,
                "rows": int(rows),
                "index": {
                    **self.index_info,
                    "type": self.index_info.get("type", "index"),
                    "levels": [s.to_meta() for s in self.index],
                },
                "columns": [s.to_meta() for s in self.columns],
                "column_index": self.column_index,
            },
        }

    def check_append(self, stored: FrameLayout) -> None:
        """Raise ValueError (before writing) if this layout cannot be appended to ``stored``."""
        if stored.source != "omegacore":
            self._check_append_to_omegaml(stored)
            return
        mine = [(s.name, s.field, s.desc) for s in self.columns]
        theirs = [(s.name, s.field, s.desc) for s in stored.columns]
        if mine != theirs:
            raise ValueError(
                "cannot append: the columns or dtypes differ from the stored object "
                f"(stored: {_describe(stored.columns)}; given: {_describe(self.columns)}). "
                "Convert the frame to the stored columns and dtypes, or pass append=False"
            )
        if [(s.name, s.desc) for s in self.index] != [(s.name, s.desc) for s in stored.index]:
            raise ValueError(
                "cannot append: the index levels or their dtypes differ from the stored "
                f"object (stored: {_describe(stored.index)}; given: {_describe(self.index)}). "
                "Pass append=False to replace"
            )
        if self.obj_type != stored.obj_type:
            raise ValueError(
                f"cannot append a {self.obj_type} to a stored {stored.obj_type}; "
                "pass append=False to replace"
            )

    def _check_append_to_omegaml(self, stored: FrameLayout) -> None:
        """Raise ValueError unless these rows read back through omegaml's stored layout.

        Rows appended to an object omegaml wrote keep omegaml's metadata, so omegaml and
        this package read them as before: the same fields in the same order, and values
        that the stored dtypes decode (strings into omegaml's object columns, a time zone
        under any of its names).
        """
        def accepts(old: dict[str, Any], new: dict[str, Any]) -> bool:
            if old["kind"] == "infer-object":
                return new["kind"] == "string" or new == {"kind": "numpy", "name": "object"}
            if old["kind"] == "infer-category":
                return new["kind"] == "category"
            if old["kind"] == "datetimetz" == new["kind"]:
                return (old["unit"], old["tz"]) == (new["unit"], new["tz"])
            return old == new

        same = (
            self.obj_type == stored.obj_type
            and len(self.index) == len(stored.index)
            and len(self.columns) == len(stored.columns)
            and all(a.name == b.name and a.field == b.field and accepts(a.desc, b.desc)
                    for a, b in zip(stored.specs, self.specs, strict=True))
        )
        if not same:
            raise ValueError(
                "cannot append to this object written by omegaml: the index levels, columns "
                f"or dtypes differ (stored: {_describe(stored.specs)}; given: "
                f"{_describe(self.specs)}). Convert the frame to the stored columns and "
                "dtypes, or pass append=False to replace"
            )

    def merged_with(self, stored: FrameLayout) -> FrameLayout:
        """The layout to record after appending this layout's rows to ``stored``."""
        info = dict(stored.index_info)
        if info.get("type") != self.index_info.get("type"):
            info["type"] = "index"
        return replace(stored, index_info=info)

    # -- reading ---------------------------------------------------------------------------
    @property
    def specs(self) -> list[FieldSpec]:
        """Index levels, then columns."""
        return self.index + self.columns

    def fields(self) -> list[str]:
        """Every field a document of this layout may hold (except ``_id``)."""
        out = [f for s in self.specs for f in s.codec.fields]
        return out + [ROWID_FIELD]

    def estimated_row_bytes(self) -> int:
        """A rough size of one row document (fixed-size values assumed)."""
        return 40 + sum(len(f) + 12 for f in self.fields())

    def select(self, columns: Sequence[Hashable] | None) -> FrameLayout:
        """This layout restricted to ``columns`` (in that order); KeyError for unknown ones."""
        if columns is None:
            return self
        if isinstance(columns, (str, bytes)) or not isinstance(columns, Iterable):
            columns = [columns]
        by_name: dict[Any, FieldSpec] = {s.name: s for s in self.columns}
        by_field: dict[Any, FieldSpec] = {s.field: s for s in self.columns}
        chosen = []
        for name in columns:
            spec = by_name.get(name) or by_field.get(name)
            if spec is None:
                raise KeyError(
                    f"column {name!r} is not stored; stored columns: "
                    f"{[s.name for s in self.columns]}"
                )
            chosen.append(spec)
        return replace(self, columns=chosen)

    def projection(self) -> dict[str, int]:
        """The find() projection for this layout's fields."""
        return {f: 1 for f in self.fields()}

    def lookup(self) -> dict[Any, FieldSpec]:
        """Column and named index level specs by name (and by field), for filters."""
        out: dict[Any, FieldSpec] = {}
        for spec in self.specs:
            out.setdefault(spec.field, spec)
        for spec in self.index:
            if spec.name is not None:
                out[spec.name] = spec
        for spec in self.columns:
            out[spec.name] = spec
        return out

    def build_index(self, arrays: list[Any]) -> pd.Index:
        """The row index from the finished arrays of the index levels."""
        info = self.index_info
        if not self.index:
            return pd.RangeIndex(len(arrays[0]) if arrays else 0)
        if len(self.index) > 1:
            index = pd.MultiIndex.from_arrays(
                [_index_of(a) for a in arrays], names=[s.name for s in self.index]
            )
            for i, freq in enumerate(info.get("level_freqs") or []):
                level = _with_freq(index.levels[i], freq)
                if getattr(level, "freq", None) is not None:
                    index = index.set_levels(level, level=i, verify_integrity=False)
            return index
        values, name = arrays[0], self.index[0].name
        if info.get("type") == "range":
            as_range = _as_range(values)
            if as_range is not None:
                return pd.RangeIndex(*as_range, name=name)
        return _with_freq(_index_of(values, name), info.get("freq"))

    def build_columns(self) -> pd.Index:
        """The column index of the frame from the column names."""
        names: list[Any] = [s.name for s in self.columns]
        info = self.column_index
        kind = info.get("type", "infer")
        if kind == "multi":
            nlevels = len(info["dtypes"])
            levels = [
                pd.Index([n[k] for n in names], dtype=restore_dtype(info["dtypes"][k]))
                for k in range(nlevels)
            ]
            level_names = [decode_name(n) for n in info["names"]]
            return pd.MultiIndex.from_arrays(levels, names=level_names)
        name = decode_name(info["name"]) if "name" in info else None
        if kind == "range":
            as_range = _as_range(np.asarray(names, dtype=np.int64))
            if as_range is not None:
                return pd.RangeIndex(*as_range, name=name)
            return pd.Index(names, dtype=np.int64, name=name)
        if kind == "index":
            index = pd.Index(names, dtype=restore_dtype(info["dtype"]), name=name)
            return _with_freq(index, info.get("freq"))
        inferred = pd.Index(names, name=name)  # omegaml data: labels as omegaml gave them
        if isinstance(inferred.dtype, pd.StringDtype):
            return pd.Index(names, dtype=object, name=name)
        return inferred

    def assemble(self, index_arrays: list[Any], column_arrays: list[Any],
                 as_series: bool | None = None) -> pd.DataFrame | pd.Series:
        """The DataFrame (or Series) from finished arrays, without copying them."""
        if self.index:
            index = self.build_index(index_arrays)
        else:  # no stored index (documents of any collection): the row positions
            index = pd.RangeIndex(len(column_arrays[0]) if column_arrays else 0)
        series = self.obj_type == "Series" if as_series is None else as_series
        if series:
            if not column_arrays:
                raise ValueError("is_series=True needs at least one column")
            name = self.columns[0].name
            return pd.Series(column_arrays[0], index=index, name=name, copy=False,
                             dtype=_object_or_none(column_arrays[0]))
        frame = frame_of(column_arrays, index)
        frame.columns = self.build_columns()
        return frame


def frame_of(column_arrays: list[Any], index: pd.Index) -> pd.DataFrame:
    """A DataFrame of ``column_arrays`` (columns numbered 0..n-1) with ``index``, no copies.

    object arrays stay object columns: pandas 3 would turn an object array of strings
    into its ``str`` dtype (None becoming NaN), which is not the dtype that was stored.
    """
    if not column_arrays:
        return pd.DataFrame(index=index)
    columns = {
        i: pd.Series(a, dtype=object, copy=False) if _object_or_none(a) is not None else a
        for i, a in enumerate(column_arrays)
    }
    frame = pd.DataFrame(columns, copy=False)
    frame.index = index
    return frame


def _object_or_none(values: Any) -> Any:
    """``object`` for numpy object arrays (to keep them so), else None (keep the dtype)."""
    return object if isinstance(values, np.ndarray) and values.dtype == object else None


def describe_column_index(columns: pd.Index) -> dict[str, Any]:
    """The description of a frame's column index (type, names, dtypes)."""
    if isinstance(columns, pd.MultiIndex):
        return {
            "type": "multi",
            "names": [encode_name(n) for n in columns.names],
            "dtypes": [describe_dtype(level.dtype, "column index level")
                       for level in columns.levels],
        }
    name = encode_name(columns.name)
    if isinstance(columns, pd.RangeIndex):
        return {"type": "range", "name": name}
    return {"type": "index", "name": name, "dtype": describe_dtype(columns.dtype, "column index"),
            "freq": getattr(columns, "freqstr", None)}


def _index_levels(index: pd.Index) -> list[tuple[Hashable, Any]]:
    if isinstance(index, pd.MultiIndex):
        return [(name, level.dtype) for name, level in zip(index.names, index.levels, strict=True)]
    return [(index.name, index.dtype)]


def index_level_values(index: pd.Index) -> list[Any]:
    """The values of each index level, as arrays of the level's dtype (no copies if possible)."""
    if isinstance(index, pd.MultiIndex):
        return [index.get_level_values(i).array for i in range(index.nlevels)]
    return [index.array]


def _index_of(values: Any, name: Hashable = None) -> pd.Index:
    return pd.Index(values, dtype=getattr(values, "dtype", None), name=name, copy=False)


def _with_freq(index: pd.Index, freq: str | None) -> pd.Index:
    """``index`` with its frequency restored, if it still conforms (subsets may not)."""
    if freq and isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)):
        try:
            return type(index)(index, freq=freq)
        except (ValueError, TypeError):
            pass
    return index


def _as_range(values: Any) -> tuple[int, int, int] | None:
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        return None
    n = len(values)
    if n == 0:
        return (0, 0, 1)
    start = int(values[0])
    if n == 1:
        return (start, start + 1, 1)
    step = int(values[1]) - start
    if step == 0:
        return None
    if not np.array_equal(np.diff(values), np.full(n - 1, step)):
        return None
    return (start, start + step * n, step)


def _omegaml_dtype(dtype: Any) -> str:
    """``dtype`` as omegaml 0.18 (on pandas 2) reads it from ``kind_meta["dtypes"]``.

    It restores time zones only from ``datetime64[ns, <tz>]``; other units of a datetime
    are written as "ns" there (this package reads the exact dtype from its own record).
    """
    if isinstance(dtype, pd.DatetimeTZDtype):
        return f"datetime64[ns, {dtype.tz}]"
    if getattr(dtype, "kind", None) == "M":
        return "datetime64[ns]"
    return str(dtype)


def _describe(specs: list[FieldSpec]) -> str:
    return ", ".join(f"{s.name!r}: {s.codec.dtype}" for s in specs) or "none"


__all__ = [
    "FORMAT_VERSION",
    "META_KEY",
    "FieldSpec",
    "FrameLayout",
    "describe_column_index",
    "frame_of",
    "index_level_values",
]
