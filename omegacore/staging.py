"""Staged puts: record, write aside, switch the metadata atomically, then remove old data.

This is the one place that implements the store's write promises:

- a put writes only to new collections and files, or to rows it reserved in the object's
  collection, and records each of them in the journal *before* writing there;
- the metadata switches to the new data in one compare-and-swap update (written with
  ``j=True``, so an acknowledged put survives a server crash), and only then is the data
  it replaced removed;
- if the put fails, everything it wrote is removed and the previous object stays
  readable and unchanged; if its process dies, the next put of the name or
  ``omegacore fsck`` removes what it wrote (see ``omegacore.journal``);
- appended rows become visible to readers only with the commit: each object of an
  appending kind records the committed row-id ranges in ``storage.rows``, and readers ask
  ``BaseBackend.visible_rows(meta)`` for the filter.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from bson import ObjectId
from mongoengine.fields import GridFSProxy
from pymongo.collection import Collection
from pymongo.errors import ConnectionFailure

from omegacore import settings
from omegacore.documents import Locations
from omegacore.errors import ConcurrentPutError, EntryLost, PutInterrupted, SharedDataGone
from omegacore.gridfile import write_file
from omegacore.journal import (
    ROWID_FIELD,
    Entry,
    Journal,
    Reservation,
    delete_file,
    live_files,
    remove_files,
)

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from omegacore.documents import MetadataBase
    from omegacore.store import OmegaStore


#: a bytes-like object GridFS data can be written from
Buffer = bytes | bytearray | memoryview
#: how much of a buffer is copied at a time on its way to GridFS
_SLICE = 8 * 1024 * 1024
#: errors that mean the connection to the server was lost
_CONNECTION_ERRORS = (ConnectionFailure,)


def _pieces(data: Buffer | BinaryIO | Iterable[Buffer]) -> Iterator[Buffer]:
    """The bytes of ``data`` (bytes-like, readable, or an iterable of bytes-like) in order."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield data
    elif hasattr(data, "read"):
        while chunk := data.read(_SLICE):
            yield chunk
    else:
        yield from data


def merge_ranges(ranges: Iterable[Sequence[int]]) -> list[list[int]]:
    """Sorted, non-overlapping row-id ranges ``[start, stop)``, adjacent ones joined."""
    merged: list[list[int]] = []
    for start, stop in sorted((int(a), int(b)) for a, b in ranges if int(b) > int(a)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return merged


def visible_rows_filter(ranges: Sequence[Sequence[int]] | None, field: str = ROWID_FIELD
                        ) -> dict[str, Any]:
    """The MongoDB filter that selects only committed rows (``{}`` if every row is).

    Documents without the field (written before row ranges were recorded) stay visible.
    """
    if ranges is None:
        return {}
    merged = merge_ranges(ranges)
    top = merged[-1][1] if merged else 0
    gaps = [[0, merged[0][0]]] if merged and merged[0][0] > 0 else []
    gaps += [[a[1], b[0]] for a, b in zip(merged, merged[1:], strict=False)]
    condition: dict[str, Any] = {field: {"$not": {"$gte": top}}}
    if not gaps:
        return condition
    excluded = [{field: {"$gte": lo, "$lt": hi}} for lo, hi in gaps]
    return {"$and": [condition, {"$nor": excluded}]}


class StagedPut:
    """One put in progress. Use as a context manager; it commits when the block ends.

    ``meta`` is the metadata to commit; set ``meta.kind_meta`` or other fields before
    the block ends. Data goes to ``new_collection()``, ``put_file()``, or rows appended
    to ``append_target()`` numbered from ``reserve_rows(n)``.
    """

    def __init__(
        self,
        store: OmegaStore,
        name: str,
        kind: str,
        attributes: dict[str, Any] | None = None,
        kind_meta: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.name = name
        self.kind = kind
        previous = store._metadata_doc(name)
        #: the stored metadata document before this put (a dict), or None for a new name
        self.previous: dict[str, Any] | None = previous
        #: the kind stored under the name before this put, or None for a new name
        self.previous_kind: str | None = previous.get("kind") if previous else None
        existing = store.Metadata._from_son(previous) if previous is not None else None
        self.meta: MetadataBase = store.merge_metadata(existing, name, kind, attributes=attributes)
        self.meta.kind_meta = dict(kind_meta or {})
        self.meta.collection = None
        self.meta.gridfile = None
        self.meta.storage = {}
        self._previous_locations = Locations.of(previous)
        self._journal: Journal = store.journal
        self._entry: Entry | None = None
        self._created_collections: list[str] = []
        self._created_files: list[Any] = []
        self._extra_collections: list[str] = []
        self._extra_files: list[Any] = []
        self._append_to: str | None = None
        self._committed_rows: list[list[int]] | None = None  # of the append target
        self._new_rows: list[list[int]] = []
        self._reserved: list[dict[str, Any]] = []
        self._next_new_row = 0
        self._rowid_field = ROWID_FIELD
        self._undo: list[Callable[[], None]] = []
        self._rebase: list[Callable[[MetadataBase], None]] = []
        self._shared_storage: dict[str, Any] | None = None
        self._pinned: list[Any] = []  # files of other objects this put shares
        self._phase = "write"
        self.committed = False

    @property
    def exists(self) -> bool:
        """Whether an object of this name was stored before this put."""
        return self.previous is not None

    @property
    def previous_collection(self) -> str | None:
        return self.previous.get("collection") if self.previous else None

    # -- where the data goes ----------------------------------------------------------------
    def new_collection(self, ext: str = "datastore", primary: bool = True) -> Collection:
        """A fresh, empty collection for this put's data; removed again if the put fails.

        ``primary`` makes it the object's ``collection``; otherwise it is a further
        collection of the object (recorded in ``storage.collections``).
        """
        key = self.store.new_data_key(self.name, ext)
        self._record(collections=[key])
        self._created_collections.append(key)
        if primary:
            self.meta.collection = key
            self._new_rows, self._next_new_row = [], 0
        else:
            self._extra_collections.append(key)
        return self.store.mongodb[key]

    def append_target(self) -> Collection | None:
        """The stored object's collection, to append rows to; None if there is none.

        None too if the name was stored as another kind (a put never appends to another
        kind's data) or its data belongs to someone else. The object's further files and
        collections are kept. Number appended documents with ``reserve_rows``.
        """
        previous = self.previous
        if (
            previous is None
            or not previous.get("collection")
            or self.previous_kind != self.kind
            or self._previous_locations.external
        ):
            return None
        self._append_to = previous["collection"]
        self.meta.collection = self._append_to
        storage = previous.get("storage") or {}
        self._extra_collections = list(storage.get("collections") or [])
        self._extra_files = list(storage.get("files") or [])
        rows = storage.get("rows")
        self._committed_rows = merge_ranges(rows) if rows is not None else None
        return self.store.mongodb[self._append_to]

    def previous_collection_for_append(self) -> Collection | None:
        """Same as ``append_target`` (the name earlier releases used)."""
        return self.append_target()

    def reserve_rows(self, count: int, field: str = ROWID_FIELD) -> int:
        """Row ids for ``count`` new documents of the object's collection; returns the first.

        Documents must carry their row id in ``field``. In a new collection ids start at
        0; appended rows get ids no other process uses, recorded in the journal before
        they are written, and become visible to readers when the put commits.
        """
        target = self.meta.collection
        if target is None:
            raise RuntimeError("call new_collection() or append_target() before reserve_rows()")
        self._rowid_field = field
        if target != self._append_to:
            start = self._next_new_row
            self._next_new_row += count
            self._new_rows.append([start, start + count])
            return start
        if self._committed_rows is None:
            self._committed_rows = self._seal(target, field)
        base = max((hi for _, hi in self._committed_rows), default=0)
        reservation = Reservation(target, count, base, field)
        if self._entry is None:
            opened = self._open(reserve=reservation)
            assert opened is not None
            start = opened
        else:
            start = self._journal.reserve_rows(self._entry, reservation)
        spec = {"collection": target, "field": field, "start": start, "stop": start + count}
        self._reserved.append(spec)
        self._new_rows.append([start, start + count])
        return start

    def row_count(self) -> int:
        """The rows of the object's collection once this put commits (committed + reserved)."""
        committed = self._committed_rows if self.meta.collection == self._append_to else None
        return sum(hi - lo for lo, hi in merge_ranges([*(committed or []), *self._new_rows]))

    def _seal(self, collection: str, field: str) -> list[list[int]]:
        """Record the rows of an object written without row ranges as committed.

        Data written by omegaml (or before ranges were recorded) has every row committed;
        saying so in ``storage.rows`` before the first append keeps the appended rows
        invisible until this put commits. The generation is not changed: the object's
        content is the same.
        """
        coll = self.store.mongodb[collection]
        last = coll.find_one({field: {"$exists": True}}, {field: 1}, sort=[(field, -1)])
        top = int(last[field]) + 1 if last else 0
        assert self.previous is not None
        metadata = self.store._metadata_collection
        metadata.update_one(
            {"_id": self.previous["_id"], "storage.rows": {"$exists": False}},
            {"$set": {"storage.rows": [[0, top]]}},
        )
        current = metadata.find_one({"_id": self.previous["_id"]}, {"storage": 1}) or {}
        rows = (current.get("storage") or {}).get("rows")
        return merge_ranges(rows if rows is not None else [[0, top]])

    def put_file(
        self,
        data: Buffer | BinaryIO | Iterable[Buffer],
        ext: str = "data",
        primary: bool = True,
    ) -> ObjectId:
        """Write a GridFS file: bytes-like data, a readable file, or an iterable of chunks.

        The data is sent in batches of chunks (``omegacore.gridfile``), so at most about
        8 MiB of it is held at a time beyond what the caller holds. ``primary`` makes it the
        object's ``gridfile``; otherwise it is a further file (``storage.files``), e.g. one
        per appended part.
        """
        key = self.store.new_data_key(self.name, ext)
        file_id = ObjectId()
        self._record(files=[file_id])
        self._created_files.append(file_id)
        write_file(self.store.mongodb, self.store.fs_collection, file_id, key, _pieces(data))
        if primary:
            self.meta.gridfile = self._proxy(file_id)
        else:
            self._extra_files.append(file_id)
        return file_id

    def keep_files(self, files: Sequence[Any], primary: Any = None) -> None:
        """Make committed GridFS files part of this object too (``storage.files``), and
        the file ``primary`` (if given) its ``gridfile``.

        For kinds whose objects share files instead of rewriting them (appends, versions):
        the new object keeps the earlier parts, and the commit removes only what it no
        longer references.
        """
        if primary is not None:
            self.meta.gridfile = self._proxy(primary)
        self._extra_files = list(dict.fromkeys([*files, *self._extra_files]))
        self._pin([*files, *([primary] if primary is not None else [])])

    def _pin(self, files: Sequence[Any]) -> None:
        """Record that this put shares ``files``, then check that no removal is deleting
        them (``omegacore.journal.remove_files``): SharedDataGone if one is."""
        new = [f for f in dict.fromkeys(files) if f not in self._pinned]
        if not new:
            return
        if self._entry is None:
            self._open()
        assert self._entry is not None
        self._journal.pin(self._entry, new)
        self._pinned.extend(new)
        if not live_files(self.store.mongodb, self.store.fs_collection, new):
            raise SharedDataGone(
                f"the data {self.name!r} was to share with another object was removed "
                "meanwhile (that object was dropped or replaced by another process); "
                "nothing was stored, put again")

    def _release_pins(self) -> None:
        """Remove the shared files this put no longer references that nothing else does
        (a removal may have left them to it)."""
        if not self._pinned or self._entry is None:
            return
        own = set(self.meta.locations().files) if self.committed else set()
        remove_files(self.store.mongodb, self.store.fs_collection,
                     [f for f in self._pinned if f not in own], self._entry.id)

    def _proxy(self, file_id: Any) -> GridFSProxy:
        return GridFSProxy(grid_id=file_id, db_alias=self.store.dbalias,
                           collection_name=self.store.fs_collection)

    def use_external_collection(self, collection: str) -> Collection:
        """Point the object at a collection this store did not create and must never remove."""
        self.meta.collection = collection
        self.meta.storage = {**(self.meta.storage or {}), "external": True}
        return self.store.mongodb[collection]

    def share_data_of(self, owner: MetadataBase) -> None:
        """Point this object at the data of the committed object ``owner``, which keeps it.

        The object reads exactly as ``owner`` does (collection, GridFS file, row ranges);
        replacing or dropping it never removes that data (it is ``external`` here), so the
        owner's own drop does. Versions use it: a name reads its latest version's data.
        """
        self.meta.collection = owner.collection
        self.meta.gridfile = owner.gridfile
        self.meta.kind_meta = dict(owner.kind_meta or {})
        self._shared_storage = {**(owner.storage or {}), "external": True}

    def on_failure(self, undo: Callable[[], None]) -> None:
        """Run ``undo`` if this put fails (for effects the store does not know of)."""
        self._undo.append(undo)

    def on_rebase(self, rebase: Callable[[MetadataBase], None]) -> None:
        """Run ``rebase(current)`` if another put committed first, before committing again.

        ``current`` is the object's metadata as that put left it: recompute fields of
        ``self.meta`` that summarise what is stored (an append's ``kind_meta``, a version
        history) from it, or raise to refuse.
        """
        self._rebase.append(rebase)

    def heartbeat(self) -> None:
        """Tell other processes this put is alive; call it now and then in long writes."""
        if self._entry is not None:
            self._journal.heartbeat(self._entry)

    # -- the journal -------------------------------------------------------------------------
    def _record(self, collections: Sequence[str] = (), files: Sequence[Any] = ()) -> None:
        if self._entry is None:
            self._open(collections, files)
        else:
            self._journal.add(self._entry, collections, files)

    def _open(self, collections: Sequence[str] = (), files: Sequence[Any] = (),
              reserve: Reservation | None = None) -> int | None:
        """Open this put's journal entry with its first locations (and row ids)."""
        kept = Locations(tuple(filter(None, [self._append_to, *self._extra_collections])),
                         tuple(self._extra_files))
        replaces = self._previous_locations.without(kept)
        if self._previous_locations.external:
            replaces = Locations()
        self._entry, others, start = self._journal.open(
            self.meta.bucket, self.meta.prefix, self.name, self.kind,
            self.store.fs_collection, replaces, collections, files, reserve,
        )
        if others:
            self._reap(others)
        return start

    def _reap(self, others: list[dict[str, Any]]) -> None:
        """Remove what earlier puts of this name left when their process died."""
        assert self._entry is not None
        try:
            removed = self._journal.reap(self._entry.key, others)
        except Exception:  # cleaning up after others must not fail this put
            log.exception("could not clean up after an earlier put of %r", self.name)
            return
        if removed:
            log.info("removed what an interrupted put of %r left: %s", self.name,
                     "; ".join(removed))

    # -- ending ------------------------------------------------------------------------------
    def _storage(self) -> dict[str, Any]:
        if self._shared_storage is not None:
            return dict(self._shared_storage)
        storage = {k: v for k, v in (self.meta.storage or {}).items() if k == "external"}
        if self._extra_collections:
            storage["collections"] = list(dict.fromkeys(self._extra_collections))
        if self._extra_files:
            storage["files"] = list(dict.fromkeys(self._extra_files))
        if self.meta.collection and self.meta.collection == self._append_to:
            if self._committed_rows is not None or self._new_rows:
                storage["rows"] = merge_ranges([*(self._committed_rows or []), *self._new_rows])
        elif self._new_rows or self._next_new_row:
            storage["rows"] = merge_ranges(self._new_rows)
        if "rows" in storage and self._rowid_field != ROWID_FIELD:
            storage["rowid_field"] = self._rowid_field
        return storage

    def commit(self) -> MetadataBase:
        """Switch the metadata to the new data, then remove the data it replaced."""
        if self._entry is not None:
            lease = settings.journal_lease()
            if time.monotonic() - self._entry.heartbeat > lease / 10:
                self._journal.heartbeat(self._entry)
        self.meta.storage = self._storage()
        self.store.plugins.call_hook(
            "omega_before_commit", store=self.store, meta=self.meta, name=self.name,
            kind=self.kind)
        generation = ObjectId()
        self._phase = "commit"
        try:
            previous = self.store._commit_metadata(
                self.meta, self.previous, self._on_conflict, generation=generation)
        except _CONNECTION_ERRORS as exc:
            # the commit may or may not have reached the server: what it wrote is left to
            # the journal, which keeps it exactly if the metadata references it
            committed = self._committed_as(generation)
            self.committed = committed is True
            self._abandon()
            raise self._interrupted(exc, committed) from exc
        self.committed = True
        self._phase = "cleanup"
        try:
            if previous is not None and not Locations.of(previous).external:
                replaced = Locations.of(previous).without(self.meta.locations())
                self.store._remove_data(replaced, previous.get("kind"))
        except Exception:
            # the object is committed: the leftover is the journal's (and fsck's) to remove
            log.warning("%r is stored, but the data it replaced could not be removed yet; "
                        "the next put of the name or `omegacore fsck --repair` removes it",
                        self.name, exc_info=True)
            self._abandon()
            return self.meta
        try:
            self._release_pins()
        except Exception:
            log.warning("%r is stored, but files it no longer shares could not be removed "
                        "yet; `omegacore fsck --repair` removes them", self.name, exc_info=True)
            self._abandon()
            return self.meta
        self._close()
        return self.meta

    def _on_conflict(self, current: dict[str, Any]) -> None:
        """Another put committed first: refuse, rebase an append, or note what is replaced."""
        if self._append_to is not None and self.meta.collection == self._append_to:
            if current.get("collection") != self._append_to:
                raise ConcurrentPutError(
                    f"{self.name!r} was replaced by another process while this put appended "
                    "to it; the appended rows were removed, put again to append to the new data"
                )
            storage = current.get("storage") or {}
            self._extra_collections = list(dict.fromkeys(
                [*(storage.get("collections") or []), *self._extra_collections]))
            self._extra_files = list(dict.fromkeys(
                [*(storage.get("files") or []), *self._extra_files]))
            rows = storage.get("rows")
            self._committed_rows = merge_ranges(rows) if rows is not None else None
            self.meta.storage = self._storage()
            current_meta = self.store.Metadata._from_son(current)
            for rebase in self._rebase:
                rebase(current_meta)
        else:
            if self._entry is not None:
                replaced = Locations.of(current)
                self._journal.add(self._entry, replaced.collections, replaced.files)
            if self._rebase:
                current_meta = self.store.Metadata._from_son(current)
                for rebase in self._rebase:
                    rebase(current_meta)

    def _committed_as(self, generation: ObjectId) -> bool | None:
        """Whether the metadata now carries ``generation`` (None if the server cannot say)."""
        try:
            doc = self.store._metadata_doc(self.name, projection={"generation": 1})
        except Exception:
            return None
        return doc is not None and doc.get("generation") == generation

    def _interrupted(self, exc: BaseException, committed: bool | None) -> PutInterrupted:
        where = self.store.server_display()
        if committed is True:
            outcome = "the put took effect"
        elif committed is False:
            outcome = (f"the put did not take effect: the previous object of {self.name!r} is "
                       "unchanged, and what the put wrote is removed by the next put of the "
                       "name or `omegacore fsck --repair`")
        else:
            outcome = (f"whether the put took effect is unknown: check "
                       f"store.metadata({self.name!r}).modified once the server answers")
        return PutInterrupted(
            f"the connection to {where} was lost while {self._phase_text()} {self.name!r} "
            f"({type(exc).__name__}: {exc}); {outcome}", committed=committed)

    def _phase_text(self) -> str:
        return {"write": "writing", "commit": "committing", "cleanup": "cleaning up after"}[
            self._phase]

    def rollback(self) -> None:
        """Remove everything this put wrote; the stored object stays as it was."""
        for undo in reversed(self._undo):
            undo()
        for spec in self._reserved:
            self.store.mongodb[spec["collection"]].delete_many(
                {spec["field"]: {"$gte": spec["start"], "$lt": spec["stop"]}})
        for key in self._created_collections:
            self.store.mongodb.drop_collection(key)
        for file_id in self._created_files:
            delete_file(self.store.mongodb, self.store.fs_collection, file_id)
        self._release_pins()
        self._close()

    def _close(self) -> None:
        if self._entry is not None:
            self._journal.close(self._entry)
            self._entry = None

    def _abandon(self) -> None:
        if self._entry is not None:
            try:
                self._journal.abandon(self._entry)
            except Exception:  # the entry's owner will be seen as gone when it exits
                log.debug("could not mark the journal entry of %r", self.name, exc_info=True)
            self._entry = None

    def __enter__(self) -> StagedPut:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self.commit()
                return
            except BaseException as error:
                if self.committed or isinstance(error, PutInterrupted):
                    raise
                exc = error
        if isinstance(exc, _CONNECTION_ERRORS):
            # the server is gone: cleaning up now would wait for it once per location
            self._abandon()
            raise self._interrupted(exc, False) from exc
        try:
            self.rollback()
        except Exception:  # the put's own error is the one to report
            log.warning("could not remove what the failed put of %r wrote; the next put of "
                        "the name or `omegacore fsck --repair` removes it", self.name,
                        exc_info=True)
            self._abandon()
        if isinstance(exc, EntryLost):
            raise PutInterrupted(f"the put of {self.name!r} was abandoned: {exc}",
                                 committed=False) from exc
        if exc_type is None:
            raise exc
