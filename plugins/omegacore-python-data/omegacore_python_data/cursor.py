"""A lazy result of ``store.get(name, lazy=True)``: a pymongo cursor yielding objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pymongo.collection import Collection

from omegacore_python_data.encoding import RAW_OPTIONS, decode_document
from omegacore_python_data.query import sort_spec

_PROJECTION = {"_id": 0, "data": 1}


class PythonDataCursor:
    """Iterates over the stored objects, reading them from the server in batches.

    Works like a pymongo cursor (``limit``, ``skip``, ``sort``, ``batch_size``,
    ``close``, ``rewind``, ``clone``, ``to_list``, use in ``with``); sort keys name the
    stored objects' fields. Objects come in the order they were put unless sorted.
    ``cursor`` is the underlying pymongo cursor, which yields the raw documents.
    """

    def __init__(self, collection: Collection, query: dict[str, Any]) -> None:
        raw = collection.with_options(codec_options=RAW_OPTIONS)
        self.cursor = raw.find(query, _PROJECTION).sort("_id", 1)

    @classmethod
    def _wrap(cls, cursor: Any) -> PythonDataCursor:
        new = cls.__new__(cls)
        new.cursor = cursor
        return new

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        return decode_document(next(self.cursor).raw)

    def limit(self, limit: int) -> PythonDataCursor:
        """Return at most ``limit`` objects."""
        self.cursor.limit(limit)
        return self

    def skip(self, skip: int) -> PythonDataCursor:
        """Skip the first ``skip`` objects."""
        self.cursor.skip(skip)
        return self

    def sort(self, key_or_list: Any, direction: int | None = None) -> PythonDataCursor:
        """Sort by fields of the stored objects, e.g. ``sort("x", -1)`` or ``[("x", 1)]``."""
        self.cursor.sort(sort_spec(key_or_list, direction))
        return self

    def batch_size(self, batch_size: int) -> PythonDataCursor:
        """Read this many objects per server round trip."""
        self.cursor.batch_size(batch_size)
        return self

    def rewind(self) -> PythonDataCursor:
        """Start again from the first object."""
        self.cursor.rewind()
        return self

    def clone(self) -> PythonDataCursor:
        """An unevaluated copy of this cursor."""
        return self._wrap(self.cursor.clone())

    def close(self) -> None:
        """Release the server-side cursor."""
        self.cursor.close()

    @property
    def alive(self) -> bool:
        """Whether more objects may be available."""
        return bool(self.cursor.alive)

    def to_list(self, length: int | None = None) -> list[Any]:
        """The remaining objects (at most ``length``) as a list."""
        out = []
        for item in self:
            out.append(item)
            if length is not None and len(out) >= length:
                break
        return out

    def __enter__(self) -> PythonDataCursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
