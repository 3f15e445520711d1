"""The write journal: what every put in progress writes, recorded before it writes it.

A put records each collection, GridFS file and row-id range it is about to write in one
journal document per object name (collection ``omegacore.journal``), *before* writing
there, and removes its entry once it has committed (or failed and cleaned up). If the
writing process dies — SIGKILL at any instruction, a lost connection, a crash — its entry
stays. The next put of that name, or ``omegacore fsck``, finds the entry, sees that its
owner is gone, and removes whatever of it no metadata document references: staged
collections and files, the rows of an uncommitted append, and the data a committed
replace had not yet removed. Data a metadata document references is never touched.

An owner is gone when it ran on this machine and its process no longer exists (pid and
start time), when it gave up on its entry (``abandoned``), or, for a process on another
machine, when it has not shown a sign of life for the lease (``OMEGA_JOURNAL_LEASE``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import logging
import os
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gridfs
from bson import ObjectId
from pymongo import ReturnDocument, WriteConcern
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from omegacore import settings
from omegacore.documents import Locations, utcnow
from omegacore.errors import EntryLost

log = logging.getLogger(__name__)

#: the journal's collection, beside ``metadata`` in the store's database
JOURNAL_COLLECTION = "omegacore.journal"
#: the field appending kinds number their documents by (omegaml's row id)
ROWID_FIELD = "_om#rowid"
#: seconds a reaped entry stays, in case the dead process's last requests land late
SETTLE_SECONDS = 60.0


# -- who writes ---------------------------------------------------------------------------
@functools.cache
def _host() -> str:
    """This machine: its host name and, where known, the id of its current boot."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}"


def _start_ticks(pid: int) -> int:
    """When process ``pid`` started (clock ticks since boot), 0 where this cannot be read.

    Together with the pid it names a process uniquely, so a recycled pid is not mistaken
    for the process that wrote an entry.
    """
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text.rsplit(")", 1)[-1].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return 0


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


@dataclass(frozen=True)
class Owner:
    """The process that writes a journal entry."""

    host: str
    pid: int
    started: int

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()  # not cached: a forked child is another owner
        return cls(_host(), pid, _start_ticks(pid))

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> Owner:
        doc = doc or {}
        return cls(str(doc.get("host", "")), int(doc.get("pid", 0)), int(doc.get("started", 0)))

    def to_doc(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "started": self.started}

    def alive(self) -> bool | None:
        """Whether the process runs; None if it ran on another machine (cannot be told)."""
        if self.host != _host():
            return None
        if not _pid_exists(self.pid):
            return False
        return not self.started or _start_ticks(self.pid) in (0, self.started)


#: the entries this process has open: any other entry of this process is over (e.g. it
#: gave up on it while the server was gone, or the server lost its removal in a crash)
_open: set[ObjectId] = set()


def entry_is_dead(entry: Mapping[str, Any], lease: float | None = None) -> bool:
    """Whether the put that wrote ``entry`` has ended without removing it."""
    if entry.get("abandoned"):
        return True
    owner = Owner.from_doc(entry.get("owner"))
    if owner == Owner.current():
        return entry.get("id") not in _open
    alive = owner.alive()
    if alive is not None:
        return not alive
    lease = settings.journal_lease() if lease is None else lease
    heartbeat = entry.get("heartbeat")
    if not isinstance(heartbeat, _dt.datetime):
        return True
    return (utcnow() - heartbeat).total_seconds() > lease


# -- the journal ----------------------------------------------------------------------------
def name_key(bucket: str, prefix: str, name: str) -> str:
    """The journal document id of one object name."""
    return hashlib.sha1(f"{bucket}\x00{prefix}\x00{name}".encode()).hexdigest()


@dataclass(frozen=True)
class Reservation:
    """Row ids to reserve: ``count`` ids in ``collection`` above ``base`` (the committed top).

    One counter per name (``next_rowid`` of the name's journal document) numbers the rows
    of the collection it was last used for (``rowid_collection``); a put to a new
    collection starts it again at ``base``. Reserving is one atomic update.
    """

    collection: str
    count: int
    base: int
    field: str = ROWID_FIELD

    def counter_update(self) -> dict[str, Any]:
        same = {"$eq": ["$rowid_collection", {"$literal": self.collection}]}
        current = {"$max": [{"$ifNull": ["$next_rowid", 0]}, self.base]}
        return {
            "next_rowid": {"$add": [{"$cond": [same, current, self.base]}, self.count]},
            "rowid_collection": {"$literal": self.collection},
        }

    def spec_static(self) -> dict[str, Any]:
        return {"collection": self.collection, "field": self.field}

    def spec(self) -> dict[str, Any]:
        """The entry's record of the ids, computed in the same update as the reservation."""
        return {"collection": {"$literal": self.collection}, "field": {"$literal": self.field},
                "start": {"$subtract": ["$next_rowid", self.count]}, "stop": "$next_rowid"}


@dataclass
class Entry:
    """One put's journal entry, as the put keeps it."""

    key: str
    id: ObjectId
    heartbeat: float = field(default_factory=time.monotonic)


class Journal:
    """The journal of one database."""

    def __init__(self, db: Database):
        self.db = db
        self.collection: Collection = db[JOURNAL_COLLECTION]
        self._unacknowledged = self.collection.with_options(write_concern=WriteConcern(w=0))

    # -- a put's own entry ------------------------------------------------------------------
    def open(
        self,
        bucket: str,
        prefix: str,
        name: str,
        kind: str,
        fs: str,
        replaces: Locations,
        collections: Sequence[str] = (),
        files: Sequence[Any] = (),
        reserve: Reservation | None = None,
    ) -> tuple[Entry, list[dict[str, Any]], int | None]:
        """Add an entry for a put of ``name`` with its first locations; one round trip.

        With ``reserve``, row ids are reserved in the same update (and recorded in the
        entry). Returns the entry, the entries other puts of the name left, and the first
        reserved row id (None without ``reserve``).
        """
        entry = Entry(name_key(bucket, prefix, name), ObjectId())
        doc = {
            "id": entry.id,
            "kind": kind,
            "owner": Owner.current().to_doc(),
            "heartbeat": utcnow(),
            "fs": fs,
            "collections": list(collections),
            "files": list(files),
            "replaces": {
                "collections": list(replaces.collections),
                "files": list(replaces.files),
            },
        }
        pipeline: list[dict[str, Any]] = []
        new_entry: dict[str, Any] = {"$literal": {**doc, "rows": []}}
        if reserve is not None:
            pipeline.append({"$set": reserve.counter_update()})
            new_entry = {"$mergeObjects": [{"$literal": doc}, {"rows": [reserve.spec()]}]}
        pipeline.append({"$set": {
            "intents": {"$concatArrays": [{"$ifNull": ["$intents", []]}, [new_entry]]},
            "bucket": {"$literal": bucket}, "prefix": {"$literal": prefix},
            "name": {"$literal": name},
        }})
        _open.add(entry.id)
        try:
            found = self._upsert(entry, pipeline)
        except BaseException:
            _open.discard(entry.id)  # if the entry was stored after all, it is over
            raise
        others = [e for e in found.get("intents", []) if e.get("id") != entry.id]
        start = int(found["next_rowid"]) - reserve.count if reserve is not None else None
        return entry, others, start

    def _upsert(self, entry: Entry, pipeline: list[dict[str, Any]]) -> dict[str, Any]:
        """Apply ``pipeline`` to the name's journal document, creating it if needed.

        Two processes creating the document at once: SecantusDB 0.7 may then answer one of
        them with no document (MongoDB raises DuplicateKeyError or retries itself). Either
        way the update is tried again on the document that now exists, unless it was
        applied after all (the entry is there).
        """
        for _ in range(5):
            try:
                found = self.collection.find_one_and_update(
                    {"_id": entry.key}, pipeline, upsert=True,
                    return_document=ReturnDocument.AFTER)
            except DuplicateKeyError:
                continue
            if found is None:
                found = self.collection.find_one({"_id": entry.key, "intents.id": entry.id})
            if found is not None:
                return found
        raise RuntimeError(f"could not record the put in the journal document {entry.key}")

    def add(
        self,
        entry: Entry,
        collections: Sequence[str] = (),
        files: Sequence[Any] = (),
        rows: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Record more locations in ``entry`` (before writing there); refreshes its heartbeat."""
        push: dict[str, Any] = {}
        if collections:
            push["intents.$.collections"] = {"$each": list(collections)}
        if files:
            push["intents.$.files"] = {"$each": list(files)}
        if rows:
            push["intents.$.rows"] = {"$each": [dict(r) for r in rows]}
        self._update(entry, {"$push": push, "$set": {"intents.$.heartbeat": utcnow()}})

    def pin(self, entry: Entry, files: Sequence[Any]) -> None:
        """Record that the put shares ``files`` of other objects (``kept``): removals
        keep them until the put ends (see ``remove_files``)."""
        self._update(entry, {"$addToSet": {"intents.$.kept": {"$each": list(files)}},
                             "$set": {"intents.$.heartbeat": utcnow()}})

    def heartbeat(self, entry: Entry) -> None:
        """Show that the put is alive (long puts on other machines outlive the lease otherwise)."""
        self._update(entry, {"$set": {"intents.$.heartbeat": utcnow()}})

    def _update(self, entry: Entry, update: dict[str, Any]) -> None:
        result = self.collection.update_one({"_id": entry.key, "intents.id": entry.id}, update)
        if result.matched_count != 1:
            raise EntryLost(
                "this put's journal entry was removed by another process, which took this "
                "process for gone (it showed no sign of life for OMEGA_JOURNAL_LEASE seconds)"
            )
        entry.heartbeat = time.monotonic()

    def close(self, entry: Entry) -> None:
        """Remove ``entry``: the put is over, and nothing of it is left to clean up."""
        _open.discard(entry.id)
        self.collection.update_one({"_id": entry.key}, {"$pull": {"intents": {"id": entry.id}}})

    def abandon(self, entry: Entry) -> None:
        """Leave ``entry`` for the next put of the name or fsck to clean up."""
        _open.discard(entry.id)
        self._unacknowledged.update_one(
            {"_id": entry.key, "intents.id": entry.id}, {"$set": {"intents.$.abandoned": True}}
        )

    # -- row ids ----------------------------------------------------------------------------
    def reserve_rows(self, entry: Entry, reserve: Reservation) -> int:
        """Reserve row ids for ``entry`` (a further reservation of a put); returns the first.

        The ids are recorded in the entry before this returns, so they are cleaned up if
        the put's process dies while writing them.
        """
        found = self.collection.find_one_and_update(
            {"_id": entry.key}, [{"$set": reserve.counter_update()}],
            projection={"next_rowid": 1}, return_document=ReturnDocument.AFTER)
        if found is None:
            raise EntryLost("this put's journal document was removed by another process")
        start = int(found["next_rowid"]) - reserve.count
        self.add(entry, rows=[{**reserve.spec_static(), "start": start,
                               "stop": start + reserve.count}])
        return start

    # -- other puts' entries ----------------------------------------------------------------
    def reap(self, key: str, entries: Iterable[Mapping[str, Any]], lease: float | None = None,
             settle: float = SETTLE_SECONDS) -> list[str]:
        """Clean up after the entries of ``key`` whose puts have ended; returns what was removed.

        A dead process's last requests may still be running on the server when it is found
        dead, and may recreate a collection or add rows after the cleanup. So a reaped entry
        stays (marked ``reaped``) for ``settle`` seconds, and is cleaned up once more and
        removed by the first reap after that (``settle=0``, as fsck uses: at once).
        """
        removed: list[str] = []
        for entry in entries:
            if not entry_is_dead(entry, lease):
                continue
            reaped = entry.get("reaped")
            if reaped is None:
                if not self._claim(key, entry):
                    continue  # another process reaps it, or its owner just finished
                removed.extend(cleanup(self.db, entry))
                if settle > 0:
                    self.collection.update_one({"_id": key, "intents.id": entry["id"]},
                                               {"$set": {"intents.$.reaped": utcnow()}})
                    continue
            elif (utcnow() - reaped).total_seconds() < settle:
                continue
            else:
                removed.extend(cleanup(self.db, entry))
            self.collection.update_one({"_id": key}, {"$pull": {"intents": {"id": entry["id"]}}})
        return removed

    def _claim(self, key: str, entry: Mapping[str, Any]) -> bool:
        """Take over a dead entry (compare-and-swap on its heartbeat), so one process reaps it."""
        claimed = self.collection.update_one(
            {"_id": key, "intents": {"$elemMatch": {"id": entry["id"],
                                                    "heartbeat": entry.get("heartbeat")}}},
            {"$set": {"intents.$.owner": Owner.current().to_doc(),
                      "intents.$.heartbeat": utcnow(), "intents.$.abandoned": True}},
        )
        return claimed.modified_count == 1

    def entries(self) -> list[dict[str, Any]]:
        """Every journal document of the database (fsck)."""
        return list(self.collection.find())


# -- what metadata references ------------------------------------------------------------------
def referenced(db: Database, collections: Sequence[str] = (), files: Sequence[Any] = (),
               pinned_except: Any = None,
               ) -> tuple[set[str], set[Any], dict[str, list[list[int]]]]:
    """Which of ``collections`` and ``files`` a metadata document references, or a put
    in progress shares (its journal entry's ``kept``, other than the entry
    ``pinned_except``'s).

    Also returns, per referenced collection, the committed row-id ranges of the object
    that holds it (absent: every row is committed).
    """
    clauses: list[dict[str, Any]] = []
    if collections:
        clauses += [{"collection": {"$in": list(collections)}},
                    {"storage.collections": {"$in": list(collections)}}]
    if files:
        clauses += [{"gridfile": {"$in": list(files)}}, {"storage.files": {"$in": list(files)}}]
    if not clauses:
        return set(), set(), {}
    cols: set[str] = set()
    ids: set[Any] = set()
    ranges: dict[str, list[list[int]]] = {}
    projection = {"collection": 1, "gridfile": 1, "storage": 1}
    for doc in db[settings.METADATA_COLLECTION].find({"$or": clauses}, projection):
        where = Locations.of(doc)
        cols.update(c for c in where.collections if c in collections)
        ids.update(f for f in where.files if f in files)
        rows = (doc.get("storage") or {}).get("rows")
        if rows is not None and doc.get("collection"):
            ranges[doc["collection"]] = rows
    if files:
        ids.update(pinned(db, files, pinned_except))
    return cols, ids, ranges


def pinned(db: Database, files: Sequence[Any], pinned_except: Any = None) -> set[Any]:
    """Which of ``files`` a put in progress shares (entries not yet reaped)."""
    found: set[Any] = set()
    for doc in db[JOURNAL_COLLECTION].find({"intents.kept": {"$in": list(files)}},
                                           {"intents.id": 1, "intents.kept": 1,
                                            "intents.reaped": 1}):
        for intent in doc.get("intents", []):
            if intent.get("id") != pinned_except and not intent.get("reaped"):
                found.update(f for f in intent.get("kept", []) if f in files)
    return found


#: field of a GridFS file document while a removal decides whether to delete the file
DELETING_FIELD = "omegacore_deleting"


def remove_files(db: Database, fs: str, files: Sequence[Any], pinned_except: Any = None
                 ) -> list[Any]:
    """Delete those of ``files`` that no metadata references and no put shares; returns
    the deleted ones.

    A put that shares a file pins it, then checks the file is not being deleted
    (``live_files``); a removal marks the files, then looks for references and pins,
    then deletes. Whichever comes second sees the other: the put its mark (it does not
    share), or the removal its pin (it keeps the file).
    """
    _, used, _ = referenced(db, (), files, pinned_except)
    files = [f for f in files if f not in used]  # marked, these would fail a sharing put
    if not files:
        return []
    marks = db[f"{fs}.files"]
    marks.update_many({"_id": {"$in": list(files)}}, {"$set": {DELETING_FIELD: utcnow()}})
    _, used, _ = referenced(db, (), files, pinned_except)
    deleted = [f for f in files if f not in used]
    for file_id in deleted:
        delete_file(db, fs, file_id)
    kept = [f for f in files if f in used]
    if kept:
        marks.update_many({"_id": {"$in": kept}}, {"$unset": {DELETING_FIELD: ""}})
    return deleted


def live_files(db: Database, fs: str, files: Sequence[Any]) -> bool:
    """Whether every one of ``files`` exists and no removal is deleting it."""
    unique = list(dict.fromkeys(files))
    return db[f"{fs}.files"].count_documents(
        {"_id": {"$in": unique}, DELETING_FIELD: {"$exists": False}}) == len(unique)


def covered(ranges: Sequence[Sequence[int]] | None, start: int, stop: int) -> bool:
    """Whether committed ``ranges`` (None: everything) include row ids ``start..stop-1``."""
    if ranges is None:
        return True
    return any(lo <= start and stop <= hi for lo, hi in ranges)


def cleanup(db: Database, entry: Mapping[str, Any], dry_run: bool = False) -> list[str]:
    """Remove what a finished put's ``entry`` wrote or replaced that nothing references.

    Returns what was (with ``dry_run``: what would be) removed; nothing if it is all gone.
    """
    replaces = entry.get("replaces") or {}
    collections = list(dict.fromkeys([*entry.get("collections", []),
                                      *replaces.get("collections", [])]))
    # files it shared too: a removal may have left them to it (see ``remove_files``)
    files = list(dict.fromkeys([*entry.get("files", []), *replaces.get("files", []),
                                *entry.get("kept", [])]))
    rows = list(entry.get("rows") or [])
    cols_in_use, files_in_use, ranges = referenced(
        db, [*collections, *(r["collection"] for r in rows)], files, entry.get("id"))
    removed: list[str] = []
    for spec in rows:
        coll = spec["collection"]
        if coll in cols_in_use and covered(ranges.get(coll), spec["start"], spec["stop"]):
            continue  # the append committed
        uncommitted = {spec.get("field", ROWID_FIELD): {"$gte": spec["start"],
                                                         "$lt": spec["stop"]}}
        count = (db[coll].count_documents(uncommitted) if dry_run
                 else db[coll].delete_many(uncommitted).deleted_count)
        if count:
            removed.append(f"{count} uncommitted rows of {coll}")
    unused = [c for c in collections if c not in cols_in_use]
    if unused:
        for name in db.list_collection_names(filter={"name": {"$in": unused}}):
            if not dry_run:
                db.drop_collection(name)
            removed.append(f"collection {name}")
    fs = entry.get("fs")
    unused_files = []
    for file_id in files:
        if file_id in files_in_use or not fs:
            continue
        if db[f"{fs}.chunks"].find_one({"files_id": file_id}, {"_id": 1}) is None and \
                db[f"{fs}.files"].find_one({"_id": file_id}, {"_id": 1}) is None:
            continue
        unused_files.append(file_id)
    if unused_files and not dry_run:
        assert fs is not None
        unused_files = remove_files(db, fs, unused_files, entry.get("id"))
    removed += [f"GridFS file {file_id} ({fs})" for file_id in unused_files]
    return removed


def delete_file(db: Database, fs: str, file_id: Any) -> None:
    """Delete a GridFS file and its chunks (also chunks whose file document was never written)."""
    try:
        gridfs.GridFSBucket(db, bucket_name=fs).delete(file_id)
    except gridfs.errors.NoFile:
        pass
