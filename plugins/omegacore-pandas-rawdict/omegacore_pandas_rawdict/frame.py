"""Raw documents as DataFrames: flattening, and the lazy view ``RawFrame``.

``flatten(doc)`` turns nested documents into dotted column names the way
``pandas.json_normalize`` does (a document's own values first, then the fields of its
sub-documents), so ``{"user": {"id": 1}, "n": 1}`` gives the columns ``n`` and
``user.id``, as omegaml gives them. ``to_frame(docs)`` makes the frame: every key of every
document is a column (in order of first appearance), a missing key is NaN, and columns of
strings are object columns holding None for null values, as omegaml (pandas 2) gives
them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from omegacore_pandas.codecs import infer_values
from pymongo.collection import Collection

#: fields the store adds to documents it appends (never shown)
INTERNAL_FIELDS = ("_om#rowid",)
Parser = Callable[[list[dict[str, Any]]], Any]


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``doc`` with sub-documents flattened into ``parent.child`` keys (json_normalize's order)."""
    out: dict[str, Any] = {}
    nested: list[tuple[str, dict[str, Any]]] = []
    for key, value in doc.items():
        if isinstance(value, dict) and value:
            nested.append((f"{prefix}{key}.", value))
        else:
            out[f"{prefix}{key}"] = value
    for sub_prefix, value in nested:
        out.update(flatten(value, sub_prefix))
    return out


def to_frame(docs: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The DataFrame of raw documents (flattened; see the module doc)."""
    records = [flatten(doc) for doc in docs]
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    data = {}
    for column in columns:
        values = np.empty(len(records), dtype=object)
        values[:] = [record.get(column, np.nan) for record in records]
        inferred = infer_values(values)
        data[column] = pd.Series(inferred, dtype=object if inferred is values else None,
                                 copy=False)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(records)))
    frame.columns = pd.Index(list(columns), dtype=object)  # labels as omegaml gives them
    return frame


def strip(doc: dict[str, Any], raw: bool) -> dict[str, Any]:
    """A document as shown: without the store's fields, and without ``_id`` unless raw."""
    drop = INTERNAL_FIELDS if raw else ("_id", *INTERNAL_FIELDS)
    return {k: v for k, v in doc.items() if k not in drop}


class RawFrame:
    """A lazy frame over raw documents: ``store.getl(name)`` for kind ``pandas.rawdict``.

    Nothing is read until asked: ``value`` (the DataFrame), ``iterchunks(n)``,
    ``head(n)``, ``len()``. ``query(...)`` adds filters like ``get``'s; ``skip`` and
    ``limit`` select a window. ``parser`` turns each list of documents into the result
    (``to_frame`` by default); ``raw=True`` keeps ``_id``.
    """

    def __init__(self, collection: Collection, query: dict[str, Any],
                 parser: Parser | None = None, raw: bool = False, skip: int = 0,
                 limit: int = 0, build: Callable[..., dict[str, Any]] | None = None) -> None:
        self.collection = collection
        self.filter = query
        self.parser = parser or to_frame
        self.raw = raw
        self._skip, self._limit = skip, limit
        self._build = build

    def _copy(self, **changes: Any) -> RawFrame:
        state = {"query": self.filter, "parser": self.parser, "raw": self.raw,
                 "skip": self._skip, "limit": self._limit, "build": self._build, **changes}
        return RawFrame(self.collection, **state)

    def _documents(self, chunksize: int | None = None) -> Iterator[list[dict[str, Any]]]:
        cursor = self.collection.find(self.filter, skip=self._skip, limit=self._limit)
        chunk: list[dict[str, Any]] = []
        for doc in cursor:
            chunk.append(strip(doc, self.raw))
            if chunksize and len(chunk) >= chunksize:
                yield chunk
                chunk = []
        if chunk or not chunksize:
            yield chunk

    @property
    def value(self) -> Any:
        """The documents, parsed (a DataFrame by default)."""
        return self.parser(next(self._documents()))

    def iterchunks(self, chunksize: int = 10_000) -> Iterator[Any]:
        """The documents ``chunksize`` at a time, each chunk parsed."""
        if not isinstance(chunksize, int) or chunksize < 1:
            raise ValueError(f"chunksize must be a positive int, got {chunksize!r}")
        for chunk in self._documents(chunksize):
            yield self.parser(chunk)

    def head(self, n: int = 5) -> Any:
        """The first ``n`` documents, parsed."""
        return self.limit(n).value

    def skip(self, n: int) -> RawFrame:
        """Without the first ``n`` documents."""
        return self._copy(skip=self._skip + int(n))

    def limit(self, n: int) -> RawFrame:
        """At most ``n`` documents."""
        return self._copy(limit=int(n) if not self._limit else min(self._limit, int(n)))

    def query(self, filter: dict[str, Any] | None = None, **kwargs: Any) -> RawFrame:
        """Only documents matching more filters (as ``store.get`` takes them)."""
        if self._build is None:
            raise TypeError("this lazy frame takes no further filters")
        return self._copy(query=self._build(self.filter, filter, kwargs))

    @property
    def columns(self) -> list[str]:
        """The columns of the first document (flattened), read from the server."""
        doc = self.collection.find_one(self.filter, skip=self._skip)
        return list(flatten(strip(doc, self.raw))) if doc is not None else []

    def __len__(self) -> int:
        count = self.collection.count_documents(self.filter, skip=self._skip)
        return min(count, self._limit) if self._limit else count

    def __repr__(self) -> str:
        return (f"RawFrame(collection={self.collection.name!r}, filter={self.filter!r}, "
                f"raw={self.raw})")
