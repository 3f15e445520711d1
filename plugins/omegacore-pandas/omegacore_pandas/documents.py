"""Lazy frames over any MongoDB collection: ``MDataFrame(collection)``, as omegaml allows.

The columns are the top-level fields of the collection's first document (or those
given), in that order, without ``_id``; values keep the types BSON gives them (numbers,
strings, datetimes; sub-documents as dicts), and rows come in ``_id`` order with a
RangeIndex. An empty collection gives an empty frame with the columns given.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection

from omegacore_pandas.layout import FieldSpec, FrameLayout
from omegacore_pandas.names import ID_FIELD, is_plain_name
from omegacore_pandas.plan import Source

_INFER: dict[str, Any] = {"kind": "infer-object"}
#: documents looked at to type the columns
SAMPLE = 100


def _dtype_of(values: list[Any]) -> dict[str, Any]:
    """int64 or float64 where every sampled value is such a number (no missing ones),
    else inferred from the values read, as for data omegaml wrote."""
    if values and all(type(v) is int for v in values):
        return {"kind": "numpy", "name": "int64"}
    if values and all(type(v) in (int, float) for v in values):
        return {"kind": "numpy", "name": "float64"}
    return _INFER


def collection_source(collection: Collection, columns: Sequence[Hashable] | None = None
                      ) -> Source:
    """A lazy-frame source reading the documents of ``collection``."""
    if not isinstance(collection, Collection):
        raise TypeError(f"expected a pymongo Collection, got {type(collection).__name__}")
    sample = list(collection.find({}, sort=[(ID_FIELD, ASCENDING)], limit=SAMPLE))
    if columns is None:
        names: list[Hashable] = [k for k in (sample[0] if sample else {}) if k != ID_FIELD]
    else:
        names = list(columns)
    for name in names:
        if not is_plain_name(name):
            raise ValueError(f"field {name!r} of {collection.name!r} cannot be read as a "
                             "column (names with '.', '$' or reserved prefixes)")
    specs = [FieldSpec.make(name, str(name), _dtype_of([d.get(name) for d in sample]))
             for name in names]
    layout = FrameLayout("DataFrame", [], specs, {"type": "range", "freq": None},
                         {"type": "infer"}, source="omegaml")
    return Source(collection, layout, collection.name, order=((ID_FIELD, ASCENDING),))
