"""Merging two lazy frames on the server with ``$lookup``.

``left.merge(right, on="k", how="left")`` becomes one aggregation pipeline over the
left collection::

    <left's own stages: filters, sorts, windows>
    $lookup   from the right collection, localField/foreignField on the key, with the
              right's filters and its stored order inside the lookup
    $unwind   one row per match (keeping unmatched left rows for how="left")
    $addFields the right's columns under fields of their own (no name clashes)
    $setWindowFields  the row position, which becomes the RangeIndex of the result

The result is a lazy frame like any other (filter, sort, group, iterate it); its column
names, order and suffixes are the ones ``pd.merge`` gives for the same frames.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from omegacore_pandas.layout import FieldSpec, FrameLayout, describe_column_index
from omegacore_pandas.names import ROWID_FIELD
from omegacore_pandas.plan import TEMP_PREFIX, Match, Source, compile_plan

if TYPE_CHECKING:
    from omegacore_pandas.mdataframe import MDataFrame

_INT64 = {"kind": "numpy", "name": "int64"}
_JOINED = TEMP_PREFIX + "r"
_RIGHT_ROW = TEMP_PREFIX + "rr"


def _as_list(value: Hashable | Sequence[Hashable] | None) -> list[Hashable]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def merge_frames(left: MDataFrame, right: MDataFrame,
                 on: Hashable | Sequence[Hashable] | None = None, how: str = "inner",
                 left_on: Hashable | Sequence[Hashable] | None = None,
                 right_on: Hashable | Sequence[Hashable] | None = None,
                 suffixes: tuple[str, str] = ("_x", "_y"), sort: bool = False
                 ) -> MDataFrame:
    """The lazy frame of ``pd.merge(left, right, ...)`` (see the module doc).

    ``how="right"`` is the left merge of the swapped frames with pandas' column order;
    ``sort=True`` sorts by the join keys (stably, so ties keep the merge's order).
    """
    from omegacore_pandas.mdataframe import MDataFrame, MSeries

    if not isinstance(right, MDataFrame) or isinstance(right, MSeries):
        raise TypeError(
            f"merge needs another lazy frame (store.getl(name)), got {type(right).__name__}; "
            "store a DataFrame first to merge it on the server"
        )
    if how not in ("inner", "left", "right"):
        raise ValueError(f"how={how!r} is not supported lazily; use 'inner', 'left' or "
                         "'right'")
    if not isinstance(sort, bool):
        raise TypeError(f"sort takes True or False, got {sort!r}")
    if how == "right":
        if not left._source.stored or any(not isinstance(s, Match) for s in left._stages):
            raise ValueError("the left frame of a right merge must be a stored frame, "
                             "optionally filtered (no sort, head/tail/iloc or merge)")
        template = pd.merge(left._empty(), right._empty(), how="right", on=on,
                            left_on=left_on, right_on=right_on, suffixes=suffixes)
        swapped = _merged(right, left, on, "left", right_on, left_on,
                          (suffixes[1], suffixes[0]))
        result = swapped[list(template.columns)]
        keys = _as_list(on if on is not None else right_on)
    else:
        result = _merged(left, right, on, how, left_on, right_on, suffixes)
        keys = _as_list(on if on is not None else left_on)
    if sort:
        labels = list(result.columns)
        suffix = suffixes[1] if how == "right" else suffixes[0]
        by = [k if k in labels else f"{k}{suffix}" for k in keys]
        result = _numbered(result.sort_values(by))
    return result


def _numbered(frame: MDataFrame) -> MDataFrame:
    """``frame`` (a merge, sorted) with its rows numbered 0, 1, ... in their new order."""
    from omegacore_pandas.mdataframe import MDataFrame, composed

    compiled = compile_plan(frame._source, frame._stages, client_take=False)
    pos = TEMP_PREFIX + "pos"
    pipe = [*compiled.pipeline,
            {"$setWindowFields": {"sortBy": dict(compiled.order or frame._source.order),
                                  "output": {pos: {"$documentNumber": {}}}}},
            {"$addFields": {ROWID_FIELD: {"$subtract": ["$" + pos, 1]}}}]
    source = Source(frame._source.collection, frame._source.layout, frame._source.name,
                    base=tuple(pipe), cast=frame._source.cast, classes=frame._source.classes)
    return composed(source, MDataFrame)(source, columns=frame._columns,
                                        chunksize=frame._chunksize)


def _merged(left: MDataFrame, right: MDataFrame, on: Any, how: str, left_on: Any,
            right_on: Any, suffixes: tuple[str, str]) -> MDataFrame:
    """The inner or left merge of ``left`` with the stored ``right``."""
    from omegacore_pandas.mdataframe import MDataFrame, composed

    rsource = right._source
    if not rsource.stored or any(not isinstance(s, Match) for s in right._stages):
        raise ValueError(
            "the right frame of a merge must be a stored frame, optionally filtered "
            "(no sort, head/tail/iloc or merge of its own)"
        )
    lsource = left._source
    if rsource.collection.database.name != lsource.collection.database.name:
        raise ValueError("both frames of a merge must be in the same database")
    if on is not None and (left_on is not None or right_on is not None):
        raise ValueError("pass on=, or left_on= and right_on=, not both")
    lkeys = _as_list(on if on is not None else left_on)
    rkeys = _as_list(on if on is not None else right_on)
    if not lkeys or len(lkeys) != len(rkeys):
        raise ValueError("merge needs on=[...], or left_on and right_on of the same length")
    lcols = [s.name for s in left._selected.columns]
    rcols = [s.name for s in right._selected.columns]
    for key, cols, side in ((lkeys, lcols, "left"), (rkeys, rcols, "right")):
        missing = [k for k in key if k not in cols]
        if missing:
            raise KeyError(f"merge: {missing} are not columns of the {side} frame {cols}")
    # pandas decides the result's column names and order
    template = pd.merge(left._empty(), right._empty(), how=how,
                        on=on, left_on=left_on, right_on=right_on, suffixes=suffixes)
    lspecs = {s.name: s for s in left._selected.columns}
    rspecs = {s.name: s for s in right._selected.columns}
    shared = {lk for lk, rk in zip(lkeys, rkeys, strict=True) if lk == rk}
    sources: list[tuple[str, FieldSpec]] = [("l", lspecs[c]) for c in lcols]
    sources += [("r", rspecs[c]) for c in rcols if not (c in shared and c in rkeys)]
    labels = list(template.columns)
    if len(labels) != len(sources):
        raise ValueError(f"merge: pandas gives columns {labels}, expected {len(sources)}")

    columns: list[FieldSpec] = []
    add_fields: dict[str, Any] = {}
    for j, (label, (side, spec)) in enumerate(zip(labels, sources, strict=True)):
        if side == "l":
            columns.append(FieldSpec.make(label, spec.field, spec.desc))
            continue
        out = FieldSpec.make(label, f"{TEMP_PREFIX}r{j}", spec.desc)
        columns.append(out)
        for field, out_field in zip(spec.codec.fields, out.codec.fields, strict=True):
            add_fields[out_field] = f"${_JOINED}.{field}"
    add_fields[_RIGHT_ROW] = f"${_JOINED}.{ROWID_FIELD}"

    compiled = compile_plan(lsource, left._stages, client_take=False)
    pipe = list(compiled.pipeline)
    order = dict(compiled.order or lsource.order)
    pipe.append({"$lookup": _lookup(left, right, lkeys, rkeys)})
    cast = _LeftJoinCast.make(lsource.collection, pipe, columns, sources) if how == "left" \
        else None
    pipe.append({"$unwind": {"path": "$" + _JOINED, "preserveNullAndEmptyArrays": how == "left"}})
    pipe.append({"$addFields": add_fields})
    pipe.append({"$unset": _JOINED})
    pos = TEMP_PREFIX + "pos"
    pipe.append({"$setWindowFields": {"sortBy": {**order, _RIGHT_ROW: 1},
                                      "output": {pos: {"$documentNumber": {}}}}})
    pipe.append({"$addFields": {ROWID_FIELD: {"$subtract": ["$" + pos, 1]}}})
    layout = FrameLayout(
        "DataFrame",
        [FieldSpec.make(None, ROWID_FIELD, _INT64)],
        columns,
        {"type": "range", "freq": None},
        describe_column_index(template.columns),
    )
    source = Source(lsource.collection, layout, f"{lsource.name}+{rsource.name}",
                    base=tuple(pipe), cast=cast, classes=lsource.classes)
    return composed(source, MDataFrame)(source, chunksize=left._chunksize)


def _lookup(left: MDataFrame, right: MDataFrame, lkeys: list[Hashable],
            rkeys: list[Hashable]) -> dict[str, Any]:
    """The $lookup stage: the first key field by localField/foreignField (indexable),
    any further key fields (more keys, datetime remainders) by ``$expr`` equality."""
    lspecs = {s.name: s for s in left._layout.columns}
    rspecs = {s.name: s for s in right._layout.columns}
    pairs: list[tuple[str, str, Any]] = []
    for lk, rk in zip(lkeys, rkeys, strict=True):
        lspec, rspec = lspecs[lk], rspecs[rk]
        lfields, rfields = lspec.codec.fields, rspec.codec.fields
        if len(lfields) != len(rfields):  # e.g. datetimes of different units
            lfields, rfields = lfields[:1], rfields[:1]
        for j, (lf, rf) in enumerate(zip(lfields, rfields, strict=True)):
            pairs.append((lf, rf, 0 if j else None))  # remainders: missing means 0
    inner: list[dict[str, Any]] = []
    if right._source.visible:  # committed rows only, as the right frame reads them
        inner.append({"$match": right._source.visible})
    for stage in right._stages:
        if isinstance(stage, Match) and stage.filter:
            inner.append({"$match": stage.filter})
    let: dict[str, Any] = {}
    conditions = []
    for n, (lf, rf, default) in enumerate(pairs[1:]):
        var = f"k{n}"
        let[var] = {"$ifNull": ["$" + lf, default]}
        conditions.append({"$eq": [{"$ifNull": ["$" + rf, default]}, "$$" + var]})
    if conditions:
        inner.append({"$match": {"$expr": {"$and": conditions}}})
    inner.append({"$sort": {ROWID_FIELD: 1}})
    lookup: dict[str, Any] = {
        "from": right._source.collection.name,
        "localField": pairs[0][0],
        "foreignField": pairs[0][1],
        "pipeline": inner,
        "as": _JOINED,
    }
    if let:
        lookup["let"] = let
    return lookup


class _LeftJoinCast:
    """The dtypes pandas gives a left merge's right columns when some left rows have no
    match: ints become float64 and bools object (NaN where there was no match).

    Whether any row is unmatched is asked from the server once, when first needed, so a
    filtered part of the merge has the dtypes of the whole merge, as in pandas.
    """

    def __init__(self, collection: Any, prefix: list[dict[str, Any]],
                 targets: dict[Hashable, str]):
        self.collection = collection
        self.prefix = prefix
        self.targets = targets
        self._unmatched: bool | None = None

    @classmethod
    def make(cls, collection: Any, pipe: list[dict[str, Any]], columns: list[FieldSpec],
             sources: list[tuple[str, FieldSpec]]) -> _LeftJoinCast | None:
        targets: dict[Hashable, str] = {}
        for out, (side, _) in zip(columns, sources, strict=True):
            dtype = out.codec.dtype
            if side == "r" and isinstance(dtype, np.dtype) and dtype.kind in "iub":
                targets[out.name] = "object" if dtype.kind == "b" else "float64"
        return cls(collection, list(pipe), targets) if targets else None

    def unmatched(self) -> bool:
        """True if some left row has no match (asked once)."""
        if self._unmatched is None:
            probe = [*self.prefix, {"$match": {_JOINED: {"$size": 0}}}, {"$limit": 1},
                     {"$project": {"_id": 1}}]
            self._unmatched = bool(list(self.collection.aggregate(probe, allowDiskUse=True)))
        return self._unmatched

    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, pd.Series):
            target = self.targets.get(obj.name)
            if target is None or not self.unmatched():
                return obj
            return self._cast(obj, target)
        present = {k: v for k, v in self.targets.items() if k in obj.columns}
        if not present or not self.unmatched():
            return obj
        obj = obj.copy(deep=False)
        for label, target in present.items():
            obj[label] = self._cast(obj[label], target)
        return obj

    @staticmethod
    def _cast(values: pd.Series, target: str) -> pd.Series:
        out = values.astype(target)
        if target == "object":
            out = out.where(values.notna(), np.nan)
        return out
