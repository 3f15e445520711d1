"""The ``python.data`` backend: dicts, lists and tuples as documents in a collection.

Each put stores its object as one document ``{"_id": ObjectId, "data": <object>}``
(omegaml's layout), appended to the object's collection by default, so that
``get(name)`` returns the list of the objects put so far, in order. See
``omegacore_python_data.encoding`` for how values MongoDB cannot hold are tagged.
"""

from __future__ import annotations

import sys
from typing import Any

import bson
from bson.objectid import ObjectId
from omegacore import BaseBackend, MetadataBase
from omegacore.filters import all_of
from omegacore.rawbson import with_rowid
from omegacore.validation import check_flag
from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from omegacore_python_data import KIND
from omegacore_python_data.cursor import PythonDataCursor
from omegacore_python_data.encoding import (
    CODEC_OPTIONS,
    ENCODING,
    MARKER_BYTES,
    RAW_OPTIONS,
    decode,
    decode_document,
    encode_document,
)
from omegacore_python_data.query import build_query, data_field, filter_fields

#: keyword arguments accepted in ``index={"columns": [...], ...}``
_INDEX_OPTIONS = frozenset({"unique", "sparse", "name"})


def _is_ndarray(obj: Any) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(obj, np.ndarray)


def index_keys(index: Any) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """Keys and options of the one (compound) index ``index`` asks for.

    ``index`` is a field name or a list of them, each optionally prefixed with ``+``
    (ascending, the default) or ``-`` (descending), or a dict ``{"columns": [...],
    "unique": True, ...}``. Fields are those of the stored objects (``a.b`` for nested).
    """
    options: dict[str, Any] = {}
    if isinstance(index, dict):
        options = dict(index)
        columns = options.pop("columns", None)
        unknown = set(options) - _INDEX_OPTIONS
        if columns is None or unknown:
            raise ValueError(
                "index={...} needs 'columns' and takes only "
                f"{sorted(_INDEX_OPTIONS)} besides, got {sorted(index)}"
            )
    else:
        columns = index
    if isinstance(columns, str):
        columns = [columns]
    if not isinstance(columns, (list, tuple)) or not columns:
        raise ValueError(
            f"index must name at least one field, e.g. index=['x', '-y'], got {index!r}"
        )
    keys = []
    for column in columns:
        if not isinstance(column, str) or column in ("", "+", "-"):
            raise ValueError(f"index fields must be non-empty strings, got {column!r}")
        direction = DESCENDING if column[0] == "-" else ASCENDING
        field = column[1:] if column[0] in "+-" else column
        keys.append((data_field(field, "put(index=...)"), direction))
    return keys, options


class PythonDataBackend(BaseBackend):
    """Python data (dicts, lists, tuples; numpy arrays with ``as_pydata=True``) as documents.

    ``put`` appends the object as a new document (``append=False`` or ``replace=True``
    replaces all earlier ones); ``get`` returns the list of stored objects, optionally
    filtered on their fields: ``get(name, x=1)``, ``get(name, x__gt=1)``,
    ``get(name, filter={"a.b": 2})``; ``lazy=True`` returns a cursor.
    """

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, as_pydata: bool = False, **kwargs: Any) -> bool:
        """dicts, lists and tuples; numpy arrays only with ``as_pydata=True``."""
        if isinstance(obj, (dict, list, tuple)):
            return True
        return bool(as_pydata) and _is_ndarray(obj)

    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        append: bool | None = None,
        index: Any = None,
        as_many: bool = False,
        as_pydata: bool = False,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store ``obj`` as a document under ``name``; return the committed metadata.

        append: add to the objects stored before (default); ``False`` replaces them, as
            does ``replace=True``.
        index: create an index on these fields of the stored objects, e.g. ``["x", "-y"]``
            (one compound index) or ``{"columns": ["x"], "unique": True}``.
        as_many: store each item of a list or tuple as an object of its own. A list (or
            tuple) whose first item is a list or tuple is always stored so, as omegaml
            stores it: ``put([[1, 2], [3, 4]])`` stores the objects ``[1, 2]`` and ``[3, 4]``
            (likewise the rows of a numpy array with two or more dimensions).
        as_pydata: True chooses this kind (for numpy arrays); no other effect.
        """
        if not isinstance(as_pydata, bool):
            raise TypeError(f"as_pydata takes True or False, got {as_pydata!r}")
        if kwargs:
            raise TypeError(
                f"{KIND} put() got unexpected keyword arguments {sorted(kwargs)}; it takes "
                "attributes, append, replace, index and as_many"
            )
        if not (isinstance(obj, (dict, list, tuple)) or _is_ndarray(obj)):
            raise TypeError(
                f"{KIND} stores dicts, lists and tuples (and numpy arrays with as_pydata=True), "
                f"got {type(obj).__module__}.{type(obj).__qualname__}"
            )
        if as_many and not isinstance(obj, (list, tuple)):
            raise TypeError(
                f"as_many=True needs a list or tuple of objects, got {type(obj).__name__}"
            )
        # everything that can fail on bad input happens before the first write
        many = as_many or is_list_of_lists(obj)
        items = list(obj) if many else [obj]
        ids = [ObjectId() for _ in items]
        docs = [
            encode_document(item, doc_id, where=f"obj[{i}]" if many else "obj")
            for i, (item, doc_id) in enumerate(zip(items, ids, strict=True))
        ]
        keys, index_options = index_keys(index) if index else ([], {})
        check_flag(append, "append", allow_none=True)
        check_flag(as_many, "as_many")
        append = (True if append is None else bool(append)) and not replace
        with self.stage(name, attributes, kind_meta={"encoding": ENCODING}) as staged:
            coll = staged.append_target() if append else None
            if coll is None:
                coll = staged.new_collection()
            start = staged.reserve_rows(len(docs))
            if docs:
                numbered = [with_rowid(doc, start + i, RAW_OPTIONS) for i, doc in enumerate(docs)]
                coll.insert_many(numbered, ordered=True)
            if keys:
                coll.create_index(keys, **index_options)
            staged.meta.objid = ids[-1] if ids else None
        return staged.meta

    def get(
        self,
        name: str,
        version: int = -1,
        meta: MetadataBase | None = None,
        filter: dict[str, Any] | None = None,
        lazy: bool = False,
        trusted: bool = False,
        **kwargs: Any,
    ) -> list[Any] | PythonDataCursor:
        """The stored objects of ``name`` in the order they were put, filtered on their fields.

        kwargs: ``field=value`` or ``field__op=value`` filters (op: eq, ne, gt, gte, lt, lte,
            in, nin, exists); ``filter={...}`` takes field paths such as ``"a.b"`` (or
            omegaml's ``"data.a.b"``) and wins over keywords on the same field. ``$``
            operators need ``trusted=True``. A keyword that names a field no stored object
            has is taken for a misspelled argument: TypeError (see ``_check_keywords``).
        lazy: return a cursor that reads the objects as it is iterated.
        """
        meta = self.metadata(name, meta)
        if meta.kind != KIND:
            raise TypeError(
                f"{name!r} is stored as kind {meta.kind!r}, not {KIND}; read it with "
                "store.get(name), or as raw python data with store.get(name, force_python=True)"
            )
        if not meta.collection:
            raise ValueError(f"{name!r} has no collection in its metadata; put it again")
        coll = self.store.mongodb[meta.collection]
        visible = self.visible_rows(meta)
        probe = _probe(coll, visible)
        query = all_of(build_query(filter, kwargs, trusted=trusted, probe=probe), visible)
        if lazy:
            _check_keywords(name, kwargs, probe)
            return PythonDataCursor(coll, query)
        objects = read_objects(coll, query)
        if not objects:
            self.check_current(meta)  # a replace may have removed the documents meanwhile
            _check_keywords(name, kwargs, probe)
        return objects

    def put_options(self, meta: MetadataBase) -> dict[str, Any]:
        """``as_many=True``: ``get`` gives a list of the stored objects, each put back as one."""
        return {"as_many": True}

    def get_object_as_python(self, meta: MetadataBase, version: int = -1) -> Any:
        """The object put last (``meta.objid``'s document), as omegaml's force_python gives it.

        ``store.get(name)`` returns every object; this returns the last one alone.
        """
        if not meta.collection:
            raise ValueError(f"{meta.name!r} has no collection in its metadata; put it again")
        coll = self.store.mongodb[meta.collection].with_options(codec_options=RAW_OPTIONS)
        doc = coll.find_one({"_id": meta.objid}, {"data": 1}) if meta.objid else None
        if doc is None:  # no objid (empty put) or not found: the last visible document
            doc = coll.find_one(self.visible_rows(meta), {"data": 1}, sort=[("_id", -1)])
        if doc is None:
            self.check_current(meta)
            return None
        return decode_document(doc.raw)


def is_list_of_lists(obj: Any) -> bool:
    """Whether omegaml stores ``obj`` as one object per item: a non-empty list or tuple
    whose first item is a list or tuple, or a numpy array of two or more dimensions."""
    if isinstance(obj, (list, tuple)):
        return bool(obj) and isinstance(obj[0], (list, tuple))
    return _is_ndarray(obj) and obj.ndim >= 2


def _probe(coll: Collection, visible: dict[str, Any]) -> Any:
    def probe(query: dict[str, Any]) -> bool:
        return coll.find_one(all_of(query, visible), {"_id": 1}) is not None

    return probe


#: what get() takes besides field filters, named when a keyword looks misspelled
_GET_ARGUMENTS = ("filter", "lazy", "trusted", "version", "force_python", "kind")


def _check_keywords(name: str, kwargs: dict[str, Any], probe: Any) -> None:
    """Raise TypeError for a keyword filter on a field that no stored object has.

    Keyword filters share ``get``'s keywords, so a misspelled argument (``lazzy=True``)
    would be a filter on a field that does not exist and silently match nothing. When a
    get finds nothing (or is lazy), each keyword's field is looked for in the stored
    objects; if some objects are stored and none has the field, the keyword is reported.
    Filtering on a field that some objects have is never refused.
    """
    if not kwargs or not probe({}):
        return  # no filters, or no objects at all: nothing to tell a typo by
    for key, path in filter_fields(kwargs).items():
        if not probe({path: {"$exists": True}}):
            raise TypeError(
                f"get({name!r}) got an unexpected keyword argument {key!r}: it is not an "
                f"argument of get ({', '.join(_GET_ARGUMENTS)}), and as a filter it names "
                f"a field no stored object has. Filter on fields the objects have, or use "
                f"filter={{{key!r}: ...}} to filter on a field regardless"
            )


def read_objects(coll: Collection, query: dict[str, Any]) -> list[Any]:
    """All stored objects matching ``query``, decoded batch by batch."""
    out: list[Any] = []
    batches = coll.find_raw_batches(query, {"_id": 0, "data": 1}, sort=[("_id", 1)])
    for batch in batches:
        tagged = MARKER_BYTES in batch
        for doc in bson.decode_all(batch, CODEC_OPTIONS):
            data = doc.get("data")
            out.append(decode(data) if tagged else data)
    return out


