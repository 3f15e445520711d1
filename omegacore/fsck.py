"""Checking a database for what interrupted writes left behind, and removing it.

``check(store)`` looks at the store's whole database (every bucket and prefix):

- puts and drops whose process died (journal entries whose owner is gone): what they
  wrote or were about to remove;
- collections, GridFS files and GridFS chunks that no metadata document references
  (only those named the way omegacore names staged data are removed: anything else in
  the database may belong to another program and is only reported);
- rows of appending kinds outside the committed row-id ranges (appends that never
  committed);
- metadata whose GridFS file is missing (reported: nothing can restore it);
- deletion marks a removal left on files still in use when it died (puts do not share
  marked files; see ``omegacore.journal.remove_files``).

With ``repair=True`` it removes what it reports as repairable. It never touches data a
metadata document references, nor data of a put still in progress. See
docs/operations.md.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from omegacore import settings
from omegacore.documents import Locations, utcnow
from omegacore.journal import (
    DELETING_FIELD,
    JOURNAL_COLLECTION,
    ROWID_FIELD,
    Journal,
    cleanup,
    delete_file,
    entry_is_dead,
)
from omegacore.staging import visible_rows_filter

if TYPE_CHECKING:
    from omegacore.store import OmegaStore

#: data written by a staged put: ``<store key>.<ObjectId>``
_STAGED_NAME = re.compile(r"\.([0-9a-f]{24})$")
#: data no journal entry accounts for is removed only when older than this (seconds)
DEFAULT_GRACE = 300.0


@dataclass
class Problem:
    """One finding: what it is, where, and whether ``repair`` removes it."""

    kind: str
    location: str
    detail: str
    repairable: bool


@dataclass
class FsckReport:
    """What ``check`` found (``problems``) and, with ``repair``, removed (``removed``)."""

    database: str
    problems: list[Problem] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    in_progress: int = 0

    @property
    def ok(self) -> bool:
        """True if nothing was found that needs repair."""
        return not any(p.repairable for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "ok": self.ok,
            "problems": [asdict(p) for p in self.problems],
            "removed": list(self.removed),
            "in_progress": self.in_progress,
        }


def _age(oid_text: str) -> float:
    created = ObjectId(oid_text).generation_time.replace(tzinfo=None)
    return (utcnow() - created).total_seconds()


def _age_of(when: Any) -> float:
    """Seconds since ``when`` (a datetime; anything else counts as old)."""
    if not isinstance(when, _dt.datetime):
        return float("inf")
    return (utcnow() - when.replace(tzinfo=None)).total_seconds()


def check(store: OmegaStore, repair: bool = False, grace: float = DEFAULT_GRACE) -> FsckReport:
    """Check the store's database; with ``repair`` remove what interrupted writes left.

    grace: data that no journal entry accounts for (e.g. written by an older release) is
        removed only when it is older than this many seconds.
    """
    db = store.mongodb
    report = FsckReport(store.server_display())
    journal = Journal(db)
    # order matters: a location listed first was recorded in the journal before it was
    # created, and a put removes its entry only after its metadata commit
    collections = set(db.list_collection_names())
    dead, live = _journal_entries(journal, report)
    referenced, ranges = _references(db)
    live_collections = {c for e in live for c in e.get("collections", [])}
    live_collections |= {r["collection"] for e in live for r in e.get("rows", [])}
    live_files = {f for e in live for f in [*e.get("files", []), *e.get("kept", [])]}
    dead_collections = {c for _, e in dead for c in _entry_collections(e)}
    dead_files = {f for _, e in dead for f in _entry_files(e)}

    for key, entry in dead:
        left = cleanup(db, entry, dry_run=True)
        if entry.get("reaped") is None or left:
            owner = entry.get("owner", {})
            what = "; ".join(left) if left else "nothing of it is left"
            report.problems.append(Problem(
                "interrupted-put", key,
                f"a {entry.get('kind', 'put')} of {entry.get('_name', '?')!r} by process "
                f"{owner.get('pid')} on {owner.get('host')} ended without finishing ({what})",
                True))
        if repair:
            report.removed.extend(journal.reap(key, [entry], settle=0.0))

    buckets = _gridfs_buckets(collections)
    internal = {settings.METADATA_COLLECTION, JOURNAL_COLLECTION}
    data = sorted(c for c in collections if c not in internal and not c.startswith("system.")
                  and not any(c in (f"{b}.files", f"{b}.chunks") for b in buckets))
    for name in data:
        if name in referenced.collections or name in live_collections \
                or name in dead_collections:
            continue
        staged = _STAGED_NAME.search(name)
        if staged and _age(staged.group(1)) >= grace:
            report.problems.append(Problem("orphan-collection", name,
                                           "no metadata references it", True))
            if repair:
                db.drop_collection(name)
                report.removed.append(f"collection {name}")
        elif not staged:
            report.problems.append(Problem(
                "unknown-collection", name,
                "no metadata references it and it was not written by omegacore; left alone",
                False))
    # what dead entries hold is reported (and repaired) with them, above
    for bucket in buckets:
        _check_gridfs(db, bucket, referenced, live_files | dead_files, grace, repair, report)
    _check_rows(db, ranges, [*live, *(e for _, e in dead)], repair, report, collections)
    if repair:  # journal documents of names with no put in progress
        journal.collection.delete_many({"intents": {"$size": 0}})
    return report


def _entry_collections(entry: dict[str, Any]) -> list[str]:
    return [*entry.get("collections", []), *(entry.get("replaces") or {}).get("collections", [])]


def _entry_files(entry: dict[str, Any]) -> list[Any]:
    return [*entry.get("files", []), *(entry.get("replaces") or {}).get("files", []),
            *entry.get("kept", [])]


def _journal_entries(journal: Journal, report: FsckReport
                     ) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
    dead: list[tuple[str, dict[str, Any]]] = []
    live: list[dict[str, Any]] = []
    for doc in journal.entries():
        for entry in doc.get("intents", []):
            if entry_is_dead(entry):
                dead.append((doc["_id"], {**entry, "_name": doc.get("name")}))
            else:
                live.append(entry)
    report.in_progress = len(live)
    return dead, live


@dataclass
class _Referenced:
    collections: set[str] = field(default_factory=set)
    files: set[Any] = field(default_factory=set)
    file_owner: dict[Any, str] = field(default_factory=dict)


def _references(db: Any) -> tuple[_Referenced, dict[str, tuple[list[list[int]], str]]]:
    referenced = _Referenced()
    ranges: dict[str, tuple[list[list[int]], str]] = {}
    projection = {"name": 1, "collection": 1, "gridfile": 1, "storage": 1}
    for doc in db[settings.METADATA_COLLECTION].find({}, projection):
        where = Locations.of(doc)
        referenced.collections.update(where.collections)
        referenced.files.update(where.files)
        for file_id in where.files:
            referenced.file_owner[file_id] = doc.get("name", "?")
        storage = doc.get("storage") or {}
        if storage.get("rows") is not None and doc.get("collection"):
            ranges[doc["collection"]] = (storage["rows"], storage.get("rowid_field", ROWID_FIELD))
    return referenced, ranges


def _gridfs_buckets(collections: Iterable[str]) -> list[str]:
    names = set(collections)
    return sorted(n[: -len(".files")] for n in names
                  if n.endswith(".files") and n[: -len(".files")] + ".chunks" in names)


def _check_gridfs(db: Any, bucket: str, referenced: _Referenced, live_files: set[Any],
                  grace: float, repair: bool, report: FsckReport) -> None:
    files = db[f"{bucket}.files"]
    known: set[Any] = set()
    for doc in files.find({}, {"_id": 1, "filename": 1, DELETING_FIELD: 1}):
        file_id = doc["_id"]
        known.add(file_id)
        if file_id in referenced.files and DELETING_FIELD in doc and \
                _age_of(doc[DELETING_FIELD]) >= grace:
            # a removal that died between marking the file and looking for its users
            report.problems.append(Problem(
                "stale-deleting-mark", f"{bucket} file {file_id}",
                "marked for deletion by a removal that did not finish; puts cannot share it",
                True))
            if repair:
                files.update_one({"_id": file_id}, {"$unset": {DELETING_FIELD: ""}})
                report.removed.append(f"the deletion mark of GridFS file {file_id}")
        if file_id in referenced.files or file_id in live_files:
            continue
        filename = str(doc.get("filename", ""))
        staged = _STAGED_NAME.search(filename)
        location = f"{bucket} file {file_id} ({filename})"
        if staged and isinstance(file_id, ObjectId) and _age(str(file_id)) >= grace:
            report.problems.append(Problem("orphan-file", location,
                                           "no metadata references it", True))
            if repair:
                delete_file(db, bucket, file_id)
                report.removed.append(f"GridFS file {file_id} ({bucket})")
        elif not staged:
            report.problems.append(Problem(
                "unknown-file", location,
                "no metadata references it and it was not written by omegacore; left alone",
                False))
    for file_id in db[f"{bucket}.chunks"].distinct("files_id"):
        if file_id in known or file_id in live_files or file_id in referenced.files:
            continue
        old = not isinstance(file_id, ObjectId) or _age(str(file_id)) >= grace
        report.problems.append(Problem(
            "orphan-chunks", f"{bucket} chunks of {file_id}",
            "chunks of an upload that never finished", old))
        if repair and old:
            db[f"{bucket}.chunks"].delete_many({"files_id": file_id})
            report.removed.append(f"GridFS chunks of {file_id} ({bucket})")
    for file_id, name in referenced.file_owner.items():
        if file_id not in known and isinstance(file_id, ObjectId):
            # only files of this bucket can be checked here; others are in their bucket
            if db[f"{bucket}.chunks"].find_one({"files_id": file_id}, {"_id": 1}):
                report.problems.append(Problem(
                    "missing-file", f"{bucket} file {file_id}",
                    f"{name!r} points to a GridFS file whose upload never finished", False))


def _check_rows(db: Any, ranges: dict[str, tuple[list[list[int]], str]],
                entries: list[dict[str, Any]], repair: bool, report: FsckReport,
                collections: set[str]) -> None:
    reserved: dict[str, list[tuple[int, int]]] = {}
    for entry in entries:
        for spec in entry.get("rows", []):
            reserved.setdefault(spec["collection"], []).append((spec["start"], spec["stop"]))
    for name, (rows, rowid_field) in sorted(ranges.items()):
        if name not in collections:
            continue
        visible = visible_rows_filter(rows, rowid_field)
        hidden = {"$and": [{rowid_field: {"$exists": True}}, {"$nor": [visible]}]}
        for lo, hi in reserved.get(name, []):  # rows of appends in progress
            hidden["$and"].append({"$nor": [{rowid_field: {"$gte": lo, "$lt": hi}}]})
        count = db[name].count_documents(hidden)
        if not count:
            continue
        report.problems.append(Problem("uncommitted-rows", name,
                                       f"{count} rows of appends that never committed", True))
        if repair:
            deleted = db[name].delete_many(hidden).deleted_count
            report.removed.append(f"{deleted} uncommitted rows of {name}")


__all__ = ["DEFAULT_GRACE", "FsckReport", "Problem", "check"]
