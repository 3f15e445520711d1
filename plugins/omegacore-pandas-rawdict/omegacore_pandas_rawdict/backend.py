"""The ``pandas.rawdict`` backend: raw documents, read as DataFrames.

Two ways in, as in omegaml 0.18:

- ``store.put(collection, name)`` registers an existing collection (a pymongo
  ``Collection`` of the store's database) as a dataset. The metadata points at it and
  marks it ``storage.external``: the store never drops it, not on ``drop`` and not when
  the name is replaced.
- ``store.put(dict_or_list_of_dicts, name, as_raw=True)`` stores the dicts as they are,
  one document each, in a collection of the store's own; later puts append.

``get`` flattens the documents into a DataFrame (``parser=`` replaces that), filtered on
the documents' fields; ``getl`` / ``lazy=True`` give a lazy ``RawFrame``.

This module imports pandas only when reading, so asking it about every dict put is cheap.
"""

from __future__ import annotations

from typing import Any

import bson
from bson import ObjectId
from bson.errors import InvalidDocument
from bson.raw_bson import RawBSONDocument
from omegacore import BaseBackend, MetadataBase
from omegacore.filters import all_of
from omegacore.rawbson import with_rowid
from omegacore.validation import check_flag, check_options
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from omegacore_pandas_rawdict import KIND
from omegacore_pandas_rawdict.query import build_query, filter_fields

#: the field appended documents carry their row id in (stripped when reading)
ROWID_FIELD = "_om#rowid"
#: what get() takes besides field filters, named when a keyword looks misspelled
_GET_ARGUMENTS = ("filter", "raw", "parser", "lazy", "trusted", "version")


def _documents(obj: Any) -> list[dict[str, Any]] | None:
    """The dicts to store for ``obj`` (a dict or a list/tuple of dicts), else None."""
    if isinstance(obj, dict):
        return [obj]
    if isinstance(obj, (list, tuple)) and all(isinstance(d, dict) for d in obj):
        return list(obj)
    return None


def _encode(docs: list[dict[str, Any]]) -> list[RawBSONDocument]:
    """The documents as BSON, each with an ``_id`` (a new ObjectId first if it has none).

    Encoding here raises every error before anything is written, and leaves the caller's
    dicts as they are (pymongo would add ``_id`` to them).
    """
    out = []
    for i, doc in enumerate(docs):
        if ROWID_FIELD in doc:
            raise ValueError(f"document {i} has the field {ROWID_FIELD!r}, which the store uses")
        if "_id" not in doc:
            doc = {"_id": ObjectId(), **doc}
        try:
            out.append(RawBSONDocument(bson.encode(doc)))
        except (InvalidDocument, TypeError, OverflowError) as exc:
            raise TypeError(
                f"document {i} cannot be stored as BSON ({exc}); keys must be strings and "
                "values BSON types (convert numpy values and other objects first)"
            ) from None
    return out




class RawDictBackend(BaseBackend):
    """Raw documents: a registered collection, or dicts put with ``as_raw=True``.

    ``get(name)``: the documents flattened into a DataFrame (``user.id`` columns for
    nested fields, ``_id`` only with ``raw=True``), filtered with ``field=value``,
    ``field__op=value`` or ``filter={...}``; ``parser=fn`` turns the list of documents
    into the result instead; ``lazy=True`` returns a ``RawFrame``.
    """

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, as_raw: bool = False, **kwargs: Any) -> bool:
        """A pymongo Collection; dicts and lists of dicts with ``as_raw=True``."""
        if isinstance(obj, Collection):
            return True
        return bool(as_raw) and _documents(obj) is not None

    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        as_raw: bool = False,
        append: bool | None = None,
        **kwargs: Any,
    ) -> MetadataBase:
        """Register a collection, or store dicts as raw documents (appending by default).

        append: add the dicts to the documents stored before (default); ``False``
            replaces them, as does ``replace=True``. Dicts put under a registered
            collection's name are inserted into that collection.
        as_raw: selects this kind for dicts (it is the default for a collection).
        """
        check_options(kwargs, ("attributes", "as_raw", "append", "replace"), f"{KIND} put()")
        check_flag(as_raw, "as_raw")
        check_flag(append, "append", allow_none=True)
        if isinstance(obj, Collection):
            return self._register(obj, name, attributes)
        docs = _documents(obj)
        if docs is None:
            raise TypeError(
                f"{KIND} stores a pymongo Collection, or a dict or list of dicts (with "
                f"as_raw=True), got {type(obj).__module__}.{type(obj).__qualname__}"
            )
        encoded = _encode(docs)
        append = (True if append is None else bool(append)) and not replace
        with self.stage(name, attributes) as staged:
            previous = staged.previous or {}
            external = (previous.get("storage") or {}).get("external")
            if append and external and staged.previous_kind == KIND:
                # the user's own collection: written into as it is, as omegaml does
                coll = staged.use_external_collection(previous["collection"])
                _insert_undoably(staged, coll, encoded)
                return staged.meta
            target = staged.append_target() if append else None
            if target is None:
                target = staged.new_collection()
                if encoded:
                    target.insert_many(encoded, ordered=True)
            elif encoded:
                start = staged.reserve_rows(len(encoded))
                target.insert_many([with_rowid(doc, start + i) for i, doc in enumerate(encoded)],
                                   ordered=True)
        return staged.meta

    def _register(self, collection: Collection, name: str,
                  attributes: dict[str, Any] | None) -> MetadataBase:
        """Point ``name`` at the user's ``collection``; the store will never drop it."""
        database = self.store.mongodb
        if collection.database.name != database.name:
            raise ValueError(
                f"{KIND} registers collections of the store's database {database.name!r}; "
                f"{collection.full_name!r} is in another one"
            )
        with self.stage(name, attributes) as staged:
            staged.use_external_collection(collection.name)
        return staged.meta

    def get(
        self,
        name: str,
        version: int = -1,
        meta: MetadataBase | None = None,
        filter: dict[str, Any] | None = None,
        raw: bool = False,
        parser: Any = None,
        lazy: bool = False,
        trusted: bool = False,
        **kwargs: Any,
    ) -> Any:
        """The documents as a DataFrame (or what ``parser`` makes of them), filtered.

        kwargs: ``field=value`` / ``field__op=value`` filters on the documents' fields
        (op: eq, ne, gt, gte, lt, lte, in, nin, exists). A keyword naming a field no
        document has is a TypeError (a misspelled argument), checked when nothing matched.
        """
        from omegacore_pandas_rawdict.frame import RawFrame, strip, to_frame

        check_flag(raw, "raw")
        check_flag(lazy, "lazy")
        check_flag(trusted, "trusted")
        meta = self.metadata(name, meta)
        if not meta.collection:
            raise ValueError(f"{name!r} has no collection in its metadata; put it again")
        if parser is not None and not callable(parser):
            raise TypeError(f"parser= must be a function of a list of documents, got {parser!r}")
        coll = self.store.mongodb[meta.collection]
        visible = self.visible_rows(meta)
        probe = _probe(coll, visible)

        def build(base: dict[str, Any], more: dict[str, Any] | None,
                  keywords: dict[str, Any]) -> dict[str, Any]:
            return all_of(base, build_query(more, keywords, trusted=trusted, probe=probe))

        query = build(visible, filter, kwargs)
        if lazy:
            _check_keywords(name, kwargs, probe)
            return RawFrame(coll, query, parser=parser, raw=raw, build=build)
        docs = [strip(doc, raw) for doc in coll.find(query)]
        if not docs:
            self.check_current(meta)
            _check_keywords(name, kwargs, probe)
        return (parser or to_frame)(docs)


def _probe(coll: Collection, visible: dict[str, Any]) -> Any:
    def probe(query: dict[str, Any]) -> bool:
        return coll.find_one(all_of(query, visible), {"_id": 1}) is not None

    return probe


def _insert_undoably(staged: Any, coll: Collection, docs: list[RawBSONDocument]) -> None:
    """Insert into a collection the store does not own; a failed put deletes exactly the
    documents it inserted (never a document of the same ``_id`` that was there before)."""
    inserted: list[Any] = []

    def undo() -> None:
        if inserted:
            coll.delete_many({"_id": {"$in": inserted}})

    staged.on_failure(undo)
    ids = [doc["_id"] for doc in docs]
    try:
        if docs:
            coll.insert_many(docs, ordered=True)
    except BulkWriteError as exc:
        inserted.extend(ids[: exc.details.get("nInserted", 0)])
        raise
    inserted.extend(ids)


def _check_keywords(name: str, kwargs: dict[str, Any], probe: Any) -> None:
    """Raise TypeError for a keyword filter on a field no document has (see python.data)."""
    if not kwargs or not probe({}):
        return
    for key, field in filter_fields(kwargs).items():
        if not probe({field: {"$exists": True}}):
            raise TypeError(
                f"get({name!r}) got an unexpected keyword argument {key!r}: it is not an "
                f"argument of get ({', '.join(_GET_ARGUMENTS)}), and as a filter it names "
                f"a field no document has. Use filter={{{key!r}: ...}} to filter on a field "
                "regardless"
            )
