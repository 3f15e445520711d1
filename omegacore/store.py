"""OmegaStore: metadata, naming, keys, listing, and dispatch to kind plugins.

The store itself knows no data kind. ``put`` asks the plugins which kind should store
an object (``omega_select_kind``), ``get`` reads the kind from the metadata, and the
kind's backend does the rest. Methods such as ``put_dataframe_as_documents`` come
from the plugins' mixins, composed into the store's class.
"""

from __future__ import annotations

import builtins
import functools
import logging
import pydoc
import re
import shutil
import sys
import tempfile
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import gridfs
from bson import ObjectId
from pymongo import WriteConcern
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, OperationFailure

from omegacore import settings
from omegacore.backend import BaseBackend
from omegacore.connection import connect, database_name, display_url, resolve_mongo_url
from omegacore.documents import Locations, MetadataBase, metadata_class, utcnow
from omegacore.errors import DoesNotExist, KindNotInstalled, NoKindForObject, PluginHookError, warn
from omegacore.faults import READ_RACE_ERRORS, is_read_race, translate_errors
from omegacore.filters import check_regex, ensure_no_operators
from omegacore.journal import Journal, delete_file, referenced, remove_files
from omegacore.names import NameRef, finished, prepared, resolve
from omegacore.naming import (
    collection_safe,
    is_hidden,
    is_temporary,
    pattern_to_regex,
    store_key,
    validate_name,
)
from omegacore.plugins import PluginRegistry, suggest_distribution
from omegacore.specs import KindSpec, MixinSpec
from omegacore.staging import StagedPut
from omegacore.validation import check_flag, check_version

#: metadata fields that point at data or are optional; unset when a put does not set them
_OPTIONAL_FIELDS = ("collection", "gridfile", "objid", "uri", "s3file", "storage")
#: how often a read is retried when the object is replaced while it is read
_READ_ATTEMPTS = 5

log = logging.getLogger(__name__)


class OmegaStore:
    """The storage for data and models: one metadata document per object, data by kind.

    mongo_url: MongoDB URL; else ``OMEGA_MONGO_URL``; else the embedded server.
    bucket: namespace of objects (default ``omegaml``); each bucket has its own GridFS.
    prefix: name prefix of this store's objects, e.g. ``data/`` or ``models/``.
    kind: if given, ``list`` shows only objects of this kind by default.
    defaults: settings overriding the environment, e.g. ``{"OMEGA_STORE_HASHEDNAMES": False}``.
    dbalias: mongoengine connection alias to use (derived from the URL by default).
    plugins: the plugin registry to use (a new one, loaded from entry points, by default).
    """

    def __init__(
        self,
        mongo_url: str | None = None,
        bucket: str | None = None,
        prefix: str | None = None,
        kind: str | None = None,
        defaults: Mapping[str, Any] | Any | None = None,
        dbalias: str | None = None,
        plugins: PluginRegistry | None = None,
    ) -> None:
        self.defaults = defaults
        self.mongo_url = resolve_mongo_url(mongo_url or self._default("OMEGA_MONGO_URL", None))
        self.bucket = bucket or settings.DEFAULT_BUCKET
        self.prefix = prefix if prefix is not None else ""
        self.kind = kind
        self.dbalias, self._client = connect(self.mongo_url, dbalias)
        self.database_name = database_name(self.mongo_url)
        self.plugins = plugins if plugins is not None else PluginRegistry()
        self._tmppath: str | None = None
        self._backends: dict[str, BaseBackend] = {}
        self._indexed = False
        self._base_class = type(self)
        self._apply_mixins()

    def __repr__(self) -> str:
        return f"OmegaStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def __reduce__(self) -> tuple[Callable[..., OmegaStore], tuple[Any, ...]]:
        """Pickle the settings, never the connection: the copy connects where it is loaded.

        Worker processes (Dask, joblib) get a store that opens its own client and loads
        the plugins installed there; a registry given as ``plugins=`` is not carried over.
        """
        return _reopen_store, (self.mongo_url, self.bucket, self.prefix, self.kind,
                               self.defaults, self.dbalias)

    def _default(self, key: str, fallback: Any) -> Any:
        if self.defaults is None:
            return fallback
        if isinstance(self.defaults, Mapping):
            return self.defaults.get(key, fallback)
        return getattr(self.defaults, key, fallback)

    # -- connection ---------------------------------------------------------------------------
    @property
    def mongodb(self) -> Database:
        """The MongoDB database of this store."""
        return self._client[self.database_name]

    @property
    def fs_collection(self) -> str:
        """The GridFS collection of this store's bucket (omegaml's naming)."""
        if self.bucket == settings.GRIDFS_COLLECTION:
            return self.bucket
        return f"{settings.GRIDFS_COLLECTION}_{self.bucket}"

    @property
    def fs(self) -> gridfs.GridFS:
        """A GridFS instance for this store's bucket."""
        return gridfs.GridFS(self.mongodb, collection=self.fs_collection)

    @property
    def gridfs_bucket(self) -> gridfs.GridFSBucket:
        """The same GridFS files through the streaming ``GridFSBucket`` API."""
        return gridfs.GridFSBucket(self.mongodb, bucket_name=self.fs_collection)

    @property
    def journal(self) -> Journal:
        """The write journal of this store's database (see ``omegacore.journal``)."""
        return Journal(self.mongodb)

    def server_display(self) -> str:
        """The server and database this store uses, as it may be shown (no credentials)."""
        return display_url(self.mongo_url)

    @property
    def Metadata(self) -> type[MetadataBase]:  # noqa: N802 - omegaml's attribute name
        """The mongoengine Metadata class bound to this store's connection."""
        return metadata_class(self.dbalias, self.fs_collection)

    @property
    def _metadata_collection(self) -> Collection:
        coll = self.mongodb[settings.METADATA_COLLECTION]
        if not self._indexed:
            self._ensure_indexes(coll)
        return coll

    def _ensure_indexes(self, coll: Collection) -> None:
        """One metadata document per (bucket, prefix, name), enforced by a unique index."""
        keys = [("bucket", 1), ("prefix", 1), ("name", 1)]
        try:
            coll.create_index(keys, unique=True, name="omegacore_unique_name")
        except OperationFailure:
            # an index on the same keys exists already (e.g. created by omegaml)
            unique = any(
                ix.get("unique") and list(ix["key"].items()) == keys for ix in coll.list_indexes()
            )
            if not unique:
                raise
        self._indexed = True

    @property
    def tmppath(self) -> str:
        """A temporary directory of this store, removed when the store is closed or collected."""
        if self._tmppath is None:
            self._tmppath = tempfile.mkdtemp(prefix="omegacore-")
            self._tmp_finalizer = weakref.finalize(
                self, shutil.rmtree, self._tmppath, ignore_errors=True
            )
        return self._tmppath

    def close(self) -> None:
        """Remove this store's temporary directory (the shared client stays open)."""
        if self._tmppath is not None:
            self._tmp_finalizer()
            self._tmppath = None

    def __enter__(self) -> OmegaStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- naming ---------------------------------------------------------------------------
    def object_store_key(self, name: str, ext: str, hashed: bool | None = None) -> str:
        """The key ``{bucket}.{prefix}.{name}.{ext}`` (``/`` as ``_``), sha1-hashed by default."""
        if hashed is None:
            hashed = self._hashed_names()
        return store_key(self.bucket, self.prefix, name, ext, hashed)

    def _hashed_names(self) -> bool:
        return bool(self._default("OMEGA_STORE_HASHEDNAMES", settings.hashed_names()))

    def new_data_key(self, name: str, ext: str) -> str:
        """A key for a new generation of ``name``'s data: the store key plus a unique suffix.

        Each put writes to its own key, so a put never overwrites data that the current
        metadata still points to, and concurrent puts never write into each other's data.
        With unhashed names the key is made a valid collection name whatever the name
        (``$``, empty segments and excess length are rewritten; the suffix keeps it unique).
        """
        key = f"{self.object_store_key(name, ext)}.{ObjectId()}"
        return key if self._hashed_names() else collection_safe(key, self.database_name)

    def collection(
        self, name: str | None = None, bucket: str | None = None, prefix: str | None = None
    ) -> Collection:
        """The collection of object ``name``, or the one its name would be given by convention."""
        if name is None:
            raise ValueError("collection() needs the name of an object")
        meta = self.metadata(name, bucket=bucket, prefix=prefix)
        if meta is not None and meta.collection:
            return self.mongodb[meta.collection]
        key = store_key(
            bucket or self.bucket,
            prefix if prefix is not None else self.prefix,
            name,
            "datastore",
            self._hashed_names(),
        )
        return self.mongodb[key]

    # -- metadata -------------------------------------------------------------------------
    def _query(self, name: str, bucket: str | None = None, prefix: str | None = None) -> dict:
        return {
            "bucket": bucket or self.bucket,
            "prefix": prefix if prefix is not None else self.prefix,
            "name": name,
        }

    @translate_errors("reading the metadata of {0!r}")
    def metadata(
        self,
        name: str | None = None,
        bucket: str | None = None,
        prefix: str | None = None,
        version: int = -1,
    ) -> MetadataBase | None:
        """The metadata document of ``name``, or None if nothing is stored under it."""
        validate_name(name)
        check_version(version, "metadata", name)
        doc, refs = self._resolved_doc(name, bucket, prefix)  # type: ignore[arg-type]
        if doc is None:
            return None
        meta = self.Metadata._from_son(doc)
        return prepared(self, meta, refs, {}) if refs else meta

    def _resolved_doc(self, name: str, bucket: str | None = None, prefix: str | None = None
                      ) -> tuple[dict[str, Any] | None, list[NameRef]]:
        """The metadata document ``name`` refers to, and how (see ``omegacore.names``).

        An object stored under exactly ``name`` wins over what its syntax would refer to,
        and so does one stored under a name on the way (``lit[a]`` in ``lit[a][b]``); all
        are looked up in one round trip.
        """
        _, refs = resolve(self, name)
        if not refs:
            return self._metadata_doc(name, bucket, prefix), []
        chain = [name, *(ref.name for ref in refs)]
        query = self._query(name, bucket, prefix)
        query["name"] = {"$in": chain}
        docs = {d["name"]: d for d in self._metadata_collection.find(query)}
        for depth, candidate in enumerate(chain):
            if candidate in docs:
                return docs[candidate], refs[:depth]
        return None, refs

    def _metadata_doc(
        self,
        name: str,
        bucket: str | None = None,
        prefix: str | None = None,
        projection: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """The stored metadata document of ``name`` as a dict (one round trip), or None."""
        return self._metadata_collection.find_one(self._query(name, bucket, prefix), projection)

    def make_metadata(
        self,
        name: str,
        kind: str,
        bucket: str | None = None,
        prefix: str | None = None,
        **kwargs: Any,
    ) -> MetadataBase:
        """The existing metadata of ``name`` updated with ``kwargs``, or a new one; not saved.

        ``attributes=None`` keeps existing attributes, ``{}`` resets them, a dict updates them.
        """
        existing = self.metadata(name, bucket=bucket, prefix=prefix)
        return self.merge_metadata(existing, name, kind, bucket, prefix, **kwargs)

    def merge_metadata(
        self,
        meta: MetadataBase | None,
        name: str,
        kind: str,
        bucket: str | None = None,
        prefix: str | None = None,
        **kwargs: Any,
    ) -> MetadataBase:
        """``make_metadata`` for metadata already read (``meta``, or None for a new name)."""
        validate_name(name)
        attributes = kwargs.pop("attributes", None)
        if meta is None:
            meta = self.Metadata(
                name=name,
                bucket=bucket or self.bucket,
                prefix=prefix if prefix is not None else self.prefix,
                kind=kind,
                attributes=dict(attributes or {}),
                **kwargs,
            )
            return meta
        meta.kind = kind
        if attributes is not None:
            meta.attributes = {} if not attributes else {**(meta.attributes or {}), **attributes}
        for key, value in kwargs.items():
            setattr(meta, key, value)
        return meta

    def _commit_metadata(
        self,
        meta: MetadataBase,
        expected: dict[str, Any] | None,
        on_conflict: Callable[[dict[str, Any]], None] | None = None,
        generation: ObjectId | None = None,
    ) -> dict[str, Any] | None:
        """Save ``meta`` as a compare-and-swap on its generation; return the document it replaced.

        ``expected`` is the stored document this put started from (``_id`` and
        ``generation``), or None for a new name. If another process committed in between,
        ``on_conflict(current)`` may refuse (raise) or adapt ``meta`` (an append rebases
        on the other's rows), and the swap is retried against what is stored now (last
        writer wins). Each commit is one round trip when nobody interferes; it is written
        with ``j=True`` (``OMEGA_JOURNALED_COMMITS``), so an acknowledged put survives a
        crash of the server. A plain compare-and-swap is used rather than
        find_one_and_update because it is atomic on every MongoDB-wire server we support
        (see docs/design.md, "Committing metadata").
        """
        now = utcnow()
        generation = generation or ObjectId()
        coll = self._metadata_collection
        if settings.journaled_commits():
            concern = coll.write_concern.document
            coll = coll.with_options(write_concern=WriteConcern(**{**concern, "j": True}))
        query = self._query(meta.name, meta.bucket, meta.prefix)
        for _ in range(100):
            doc = meta.to_mongo().to_dict()
            doc.pop("_id", None)
            doc["modified"] = now
            doc["generation"] = generation
            doc.setdefault("attributes", {})
            doc.setdefault("kind_meta", {})
            if not doc.get("storage"):
                doc.pop("storage", None)
            unset = {f: "" for f in _OPTIONAL_FIELDS if f not in doc}
            if expected is None:
                new_id = meta.id or ObjectId()
                doc.setdefault("created", now)
                try:
                    coll.insert_one({"_id": new_id, **doc})
                except DuplicateKeyError:  # a concurrent put created the name first
                    current = self._metadata_collection.find_one(query)
                else:
                    meta.id, meta.created = new_id, doc["created"]
                    break
            else:
                update: dict[str, Any] = {"$set": {k: v for k, v in doc.items() if k != "created"}}
                if unset:
                    update["$unset"] = unset
                swap = {"_id": expected["_id"], "generation": expected.get("generation")}
                if coll.update_one(swap, update).modified_count == 1:
                    meta.id = expected["_id"]
                    break
                current = self._metadata_collection.find_one(query)
            if current is not None and on_conflict is not None:
                on_conflict(current)
            expected = current
        else:
            raise RuntimeError(f"could not commit {meta.name!r}: too many concurrent writers")
        meta.modified = now
        meta.generation = generation
        meta._changed_fields = []
        meta._created = False
        return expected

    def stage(
        self,
        name: str,
        kind: str,
        attributes: dict[str, Any] | None = None,
        kind_meta: dict[str, Any] | None = None,
    ) -> StagedPut:
        """Begin a put of ``name`` (see ``omegacore.staging.StagedPut``)."""
        return StagedPut(self, validate_name(name), kind, attributes, kind_meta)

    def _remove_data(self, locations: Locations, kind: str | None = None) -> None:
        """Remove collections and GridFS files (of a dropped or replaced object of ``kind``),
        except, for kinds whose objects share data (``BaseBackend.SHARES_DATA``; unknown
        kinds too), those another object still references or a put in progress shares
        (``omegacore.journal.remove_files``)."""
        if locations.external:
            return
        if not self._may_share(kind):
            for collection in locations.collections:
                self.mongodb.drop_collection(collection)
            for file_id in locations.files:
                delete_file(self.mongodb, self.fs_collection, file_id)
            return
        if locations.collections:
            used, _, _ = referenced(self.mongodb, locations.collections)
            for collection in locations.collections:
                if collection not in used:
                    self.mongodb.drop_collection(collection)
        remove_files(self.mongodb, self.fs_collection, list(locations.files))

    def _may_share(self, kind: str | None) -> bool:
        """Whether objects of ``kind`` may share their data with others (see above)."""
        if kind is None:
            return True
        try:
            return bool(getattr(self.get_backend_bykind(kind), "SHARES_DATA", False))
        except Exception:  # noqa: BLE001 - a kind that cannot load: check, to be safe
            return True

    @translate_errors("looking up {0!r}")
    def exists(self, name: str, hidden: bool = False) -> bool:
        """Whether an object of exactly this name is stored.

        A name is a name: hidden names (``.name``) are found when asked for exactly, and
        ``*`` or ``?`` are matched literally. ``hidden`` is accepted for omegaml's
        signature; it only matters for listings (``list(hidden=...)``).
        """
        validate_name(name)
        check_flag(hidden, "hidden")
        return self._metadata_collection.count_documents(self._query(name), limit=1) > 0

    @translate_errors("listing objects")
    def list(
        self,
        pattern: str | None = None,
        regexp: str | None = None,
        kind: str | list[str] | None = None,
        raw: bool = False,
        hidden: bool | None = None,
        include_temp: bool = False,
        bucket: str | None = None,
        prefix: str | None = None,
        filter: dict[str, Any] | None = None,
    ) -> list[Any]:
        """Names of stored objects (or metadata documents with ``raw=True``), sorted.

        pattern: unix pattern such as ``sales/*``; regexp takes precedence.
        kind: only objects of this kind (or any of these kinds).
        hidden: include names starting with ``.`` (default: only if the pattern asks for them).
        include_temp: include temporary names (starting with ``_``).
        filter: additional metadata criteria, e.g. ``{"attributes.owner": "ann"}``; the
            listing stays within the store's bucket and prefix (use ``bucket=`` and
            ``prefix=`` to list others).
        """
        query: dict[str, Any] = {
            "bucket": bucket or self.bucket,
            "prefix": prefix if prefix is not None else self.prefix,
        }
        check_flag(raw, "raw")
        check_flag(include_temp, "include_temp")
        if hidden is not None:
            check_flag(hidden, "hidden")
        if filter:
            ensure_no_operators(filter, "list(filter=...)")
            scoped = sorted(k for k in filter if k in ("bucket", "prefix", "name"))
            if scoped:
                raise ValueError(
                    f"list(filter=...) may not set {', '.join(scoped)}: the listing stays in "
                    "the store's bucket and prefix. Pass bucket=/prefix= to list another, and "
                    "pattern=/regexp= to select names")
            query.update(filter)
        if regexp:
            query["name"] = {"$regex": check_regex(regexp, "list(regexp=...)")}
        elif pattern:
            query["name"] = {"$regex": pattern_to_regex(pattern)}
        kind = kind or self.kind
        if kind:
            query["kind"] = {"$in": list(kind)} if isinstance(kind, (list, tuple)) else kind
        if hidden is None:
            hidden = bool((pattern or regexp or "").lstrip("^").startswith("."))
        projection = None if raw else {"name": 1, "_id": 0}
        docs = self._metadata_collection.find(query, projection).sort("name", 1)
        keep = [
            d
            for d in docs
            if (hidden or not is_hidden(d["name"]))
            and (include_temp or not is_temporary(d["name"]))
        ]
        if raw:
            return [self.Metadata._from_son(d) for d in keep]
        return [d["name"] for d in keep]

    # -- dispatch -------------------------------------------------------------------------
    def get_backend_bykind(
        self,
        kind: str,
        model_store: OmegaStore | None = None,
        data_store: OmegaStore | None = None,
        **kwargs: Any,
    ) -> BaseBackend:
        """The backend of ``kind``; raises KindNotInstalled naming what to install."""
        spec = self.plugins.kind(kind)
        if spec is None:
            reason = self.plugins.unavailable(kind)
            if reason is not None:
                raise KindNotInstalled(f"kind {kind!r} cannot be used: {reason}")
            raise KindNotInstalled(
                f"no installed plugin provides kind {kind!r}: install "
                f"{suggest_distribution(kind)} (installed kinds: "
                f"{', '.join(self.plugins.kinds()) or 'none'})"
            )
        if model_store is None and data_store is None and not kwargs:
            backend = self._backends.get(kind)
            if backend is None or type(backend) is not spec.load():
                backend = self._backends[kind] = spec.load()(model_store=self, data_store=self)
            return backend
        backend_cls = spec.load()
        return backend_cls(model_store=model_store or self, data_store=data_store or self, **kwargs)

    def get_backend(
        self,
        name: str,
        model_store: OmegaStore | None = None,
        data_store: OmegaStore | None = None,
        **kwargs: Any,
    ) -> BaseBackend | None:
        """The backend of the stored object ``name`` (by its metadata's kind), or None."""
        meta = self.metadata(name)
        if meta is None:
            return None
        return self.get_backend_bykind(meta.kind, model_store, data_store, **kwargs)

    def get_backend_byobj(
        self,
        obj: Any,
        name: str | None = None,
        kind: str | None = None,
        attributes: dict[str, Any] | None = None,
        model_store: OmegaStore | None = None,
        data_store: OmegaStore | None = None,
        **kwargs: Any,
    ) -> BaseBackend | None:
        """The backend that should store ``obj``: ``kind`` if given, else the plugins' choice."""
        if kind is None:
            kind = self.plugins.select_kind(obj, name or "", kwargs)
            if kind is None:
                return None
        return self.get_backend_bykind(kind, model_store, data_store)

    def register_backend(
        self,
        kind: str,
        backend: type[BaseBackend],
        index: int = -1,
        priority: int | None = None,
    ) -> None:
        """Add (or override) a kind at run time, through the same plugin manager.

        Which kind stores an object is asked in order of priority (highest first).
        ``index`` is omegaml's way to say where in that order: ``-1`` (the default) after
        every installed kind, ``0`` first, ``n`` before the kind asked n-th now.
        ``priority`` sets the priority itself instead.
        """
        if priority is None:
            if not isinstance(index, int) or isinstance(index, bool) or index < -1:
                raise ValueError(f"index must be -1 or a position >= 0, got {index!r}")
            order = sorted((s.priority for k, s in self.plugins.kinds().items() if k != kind),
                           reverse=True)
            if index == -1 or index >= len(order):
                priority = min(order, default=1) - 1 if index == -1 else order[-1] - 1
            else:
                priority = order[index] + 1
        self.plugins.register_runtime(kinds=[KindSpec(kind, backend, priority=priority)])
        self._backends.pop(kind, None)

    def register_mixin(self, mixincls: type, order: int = 100) -> None:
        """Add a mixin at run time and compose it into this store's class."""
        self.plugins.register_runtime(mixins=[MixinSpec(mixincls, order=order)])
        self._apply_mixins()

    def _apply_mixins(self) -> None:
        mixins = self.plugins.mixin_classes(self)
        self.__class__ = _compose(self._base_class, mixins)  # type: ignore[arg-type]

    # -- objects --------------------------------------------------------------------------
    @translate_errors("storing {0!r}", name_index=1)
    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        kind: str | None = None,
        replace: bool = False,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store ``obj`` under ``name`` with the kind's backend; return its metadata.

        replace: replace the stored data rather than append (for kinds that append).
        kind: store as this kind instead of letting the plugins choose.
        Other keyword arguments go to the kind's backend, which refuses those it does not
        take.
        """
        validate_name(name)
        check_flag(replace, "replace")
        if attributes is not None and not isinstance(attributes, Mapping):
            raise TypeError(f"attributes must be a dict, got {type(attributes).__name__}")
        kind, kwargs = self.plugins.choose_kind(obj, name, kind, kwargs)
        backend = self.get_backend_bykind(kind)
        self.plugins.call_hook("omega_before_put", store=self, obj=obj, name=name,
                               kind=backend.KIND, kwargs=kwargs)
        meta = backend.put(obj, name, attributes=attributes, replace=replace, **kwargs)
        self._after("omega_after_put", f"{name!r} is stored", store=self, meta=meta,
                    name=name, kind=backend.KIND)
        return meta

    def _after(self, hook_name: str, done: str, **kwargs: Any) -> None:
        """Call a hook that runs after the fact: a plugin failing there cannot undo it.

        The error is reported as a warning naming the plugin and logged with its
        traceback: the operation did take effect, so raising would mislead the caller.
        """
        try:
            self.plugins.call_hook(hook_name, **kwargs)
        except PluginHookError as exc:
            log.warning("%s", exc, exc_info=exc)
            warn(f"{done}, but {exc}", RuntimeWarning)

    @translate_errors("reading {0!r}")
    def get(
        self,
        name: str,
        version: int = -1,
        force_python: bool = False,
        kind: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """The object stored under ``name``, read by its kind's backend; None if missing.

        A read never returns a mix of two puts: if another process replaces or drops the
        object while it is read, the read starts again with the current metadata (or
        raises DoesNotExist if the object is gone).
        """
        validate_name(name)
        check_version(version, "get", name)
        check_flag(force_python, "force_python")
        doc, refs = self._resolved_doc(name)
        if doc is None:
            return None
        options = dict(kwargs)
        meta = prepared(self, self.Metadata._from_son(doc), refs, options)
        if force_python:
            as_python = getattr(self, "get_object_as_python", None)
            if as_python is None:
                raise KindNotInstalled(
                    f"force_python=True needs the python.data kind: install "
                    f"{suggest_distribution('python.data')}"
                )
            return as_python(meta, version=version)
        backend = self.get_backend_bykind(kind or meta.kind)
        for attempt in range(_READ_ATTEMPTS):
            try:
                result = backend.get(meta.name, version=version, meta=meta, **options)
                return finished(self, result, refs, options) if refs else result
            except READ_RACE_ERRORS as exc:
                if not is_read_race(exc) or attempt == _READ_ATTEMPTS - 1:
                    raise
                current = self._metadata_doc(doc["name"], doc.get("bucket"), doc.get("prefix"))
                if current is None:
                    raise DoesNotExist(
                        f"{name!r} was dropped by another process while it was read") from exc
                if current.get("generation") == doc.get("generation"):
                    raise
                doc, options = current, dict(kwargs)
                meta = prepared(self, self.Metadata._from_son(doc), refs, options)
        raise AssertionError("unreachable")

    def revisions(self, name: str, raw: bool = False) -> builtins.list[Any] | None:
        """The revisions of ``name`` as installed mixins keep them (``omegacore-versions``:
        ``name@tag`` per version; ``omegacore-revisions``: ``name@<n>`` per changeset);
        None where none does. ``raw=True``: their metadata or records instead of names."""
        check_flag(raw, "raw")
        return None

    def getl(self, *args: Any, **kwargs: Any) -> Any:
        """Like ``get`` but lazy: a lazy frame (MDataFrame) for kinds that support it."""
        kwargs["lazy"] = True
        return self.get(*args, **kwargs)

    @translate_errors("dropping {0!r}")
    def drop(
        self,
        name: str | None = None,
        force: bool = False,
        version: int = -1,
        report: bool = False,
        *,
        pattern: str | None = None,
        regexp: str | None = None,
        hidden: bool = False,
        include_temp: bool = False,
    ) -> bool | dict[str, bool]:
        """Drop the object ``name`` and its data; or every object a pattern matches.

        A name is a name: ``drop("a*")`` drops the object named ``a*``. To drop several
        objects pass ``pattern=`` (unix pattern) or ``regexp=``; hidden (``.``) and
        temporary (``_``) names are included only with ``hidden=True`` /
        ``include_temp=True``, as in ``list``.

        Returns True if dropped; raises DoesNotExist if nothing matched and not ``force``
        (with ``force`` a missing object gives True: nothing of that name is left).
        With ``report=True`` returns ``{name: dropped}``.
        """
        check_flag(force, "force")
        check_flag(report, "report")
        check_version(version, "drop", name)
        if pattern is not None or regexp is not None:
            if name is not None:
                raise TypeError("drop() takes a name or pattern=/regexp=, not both")
            names = self.list(pattern=pattern, regexp=regexp, hidden=hidden,
                              include_temp=include_temp)
            if not names and not force:
                raise DoesNotExist(
                    f"no object matches {pattern or regexp!r} in {self!r}; pass force=True "
                    "to accept that nothing matches")
            results = {n: self._drop_one(n) for n in names}
            return results if report else True
        if name is None:
            raise TypeError("drop() needs the name of an object (or pattern=/regexp=)")
        validate_name(name)
        dropped = self._drop_one(name)
        if not dropped and not force:
            raise DoesNotExist(
                f"{name!r} does not exist in {self!r}; pass force=True to accept a missing name")
        if report:
            return {name: dropped}
        return True

    def _drop_one(self, name: str) -> bool:
        """Delete the metadata (compare-and-delete, journaled), then the data, crash-safe.

        The data to remove is recorded in the journal first, so a process killed between
        the two steps leaves it to the next put of the name or fsck.
        """
        coll = self._metadata_collection
        if settings.journaled_commits():
            concern = coll.write_concern.document
            coll = coll.with_options(write_concern=WriteConcern(**{**concern, "j": True}))
        journal = self.journal
        entry = None
        while True:
            previous = self._metadata_doc(name)
            if previous is None:
                if entry is not None:
                    journal.close(entry)
                return False
            where = Locations.of(previous)
            if where and not where.external:
                if entry is None:
                    entry, others, _ = journal.open(self.bucket, self.prefix, name, "drop",
                                                    self.fs_collection, where)
                    if others:
                        journal.reap(entry.key, others)
                else:  # replaced meanwhile: record what is dropped now
                    journal.add(entry, where.collections, where.files)
            swap = {"_id": previous["_id"], "generation": previous.get("generation")}
            if coll.delete_one(swap).deleted_count == 1:
                break
        if not where.external:
            try:
                self._remove_data(where, previous.get("kind"))
            except Exception:
                log.warning("%r is dropped, but its data could not be removed yet; the next "
                            "put of the name or `omegacore fsck --repair` removes it", name,
                            exc_info=True)
                if entry is not None:
                    journal.abandon(entry)
                entry = None
        if entry is not None:
            journal.close(entry)
        meta = self.Metadata._from_son(previous)
        self._after("omega_after_drop", f"{name!r} is dropped", store=self, name=name,
                    meta=meta)
        return True

    def help(self, name_or_obj: Any = None, kind: str | None = None, raw: bool = False) -> Any:
        """Help on a stored object or an object: its ``attributes['docs']``, else its backend's.

        In an interactive session this shows help (opening ``http(s)://`` docs in a browser);
        otherwise it returns the text.
        """
        interactive = hasattr(sys, "ps1")
        if name_or_obj is None:
            target: Any = self._base_class
        elif isinstance(name_or_obj, str):
            meta = self.metadata(name_or_obj)
            if meta is None:
                raise DoesNotExist(f"{name_or_obj!r} does not exist in {self!r}")
            docs = (meta.attributes or {}).get("docs")
            if isinstance(docs, str) and not raw:
                if re.match(r"https?://", docs) and interactive:
                    import webbrowser

                    webbrowser.open(docs)
                return docs
            target = self.get_backend_bykind(kind or meta.kind)
        else:
            backend = self.get_backend_byobj(name_or_obj, kind=kind)
            if backend is None:
                raise NoKindForObject(self.plugins.unsupported_message(name_or_obj))
            target = backend
        if interactive:
            return help(target)
        return pydoc.render_doc(target, renderer=pydoc.plaintext)  # type: ignore[attr-defined]


@functools.cache
def _compose(base: type, mixins: tuple[type, ...]) -> type:
    """The store class with ``mixins`` in front of ``base``, cached per set of mixins."""
    if not mixins:
        return base
    return type(base.__name__, (*mixins, base), {"__module__": base.__module__})


def _reopen_store(mongo_url: str, bucket: str, prefix: str, kind: str | None,
                  defaults: Any, dbalias: str | None) -> OmegaStore:
    """The store an unpickled ``OmegaStore`` becomes (see ``OmegaStore.__reduce__``)."""
    return OmegaStore(mongo_url=mongo_url, bucket=bucket, prefix=prefix, kind=kind,
                      defaults=defaults, dbalias=dbalias)
