"""Dump a whole MongoDB database into one gzip'ed extended-JSON file, and restore it.

A dump keeps every collection of the database as it is stored: the metadata documents,
the objects' collections, GridFS files and chunks (``<bucket>.files``/``<bucket>.chunks``),
and each collection's secondary indexes. Canonical extended JSON keeps BSON types exactly
(int32 vs int64, doubles, dates, ObjectIds, binary chunks). Needs only pymongo, so it
runs in omegaml's environment (to write) and in this project's (to restore).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from bson import json_util
from pymongo.database import Database

_JSON = json_util.CANONICAL_JSON_OPTIONS


def dump_database(db: Database) -> dict[str, Any]:
    """Every collection of ``db``: its documents (by ``_id``) and secondary indexes."""
    collections: dict[str, Any] = {}
    for name in sorted(db.list_collection_names()):
        if name.startswith("system."):
            continue
        indexes = [
            {"name": ix["name"], "key": list(ix["key"].items()),
             **({"unique": True} if ix.get("unique") else {})}
            for ix in db[name].list_indexes() if ix["name"] != "_id_"
        ]
        collections[name] = {"indexes": indexes,
                             "documents": list(db[name].find().sort("_id", 1))}
    return collections


def restore_database(db: Database, collections: dict[str, Any]) -> None:
    """Write the collections of a dump into ``db`` (which should not hold them yet)."""
    for name, content in collections.items():
        coll = db[name]
        if content["documents"]:
            coll.insert_many(content["documents"], ordered=True)
        for ix in content["indexes"]:
            coll.create_index([tuple(k) for k in ix["key"]], name=ix["name"],
                              unique=ix.get("unique", False))


def write_dump(path: str | Path, content: dict[str, Any]) -> int:
    """Write ``content`` as gzip'ed canonical extended JSON; return the file's size."""
    data = json_util.dumps(content, json_options=_JSON, sort_keys=False).encode()
    with open(path, "wb") as fh:
        fh.write(gzip.compress(data, compresslevel=9, mtime=0))
    return Path(path).stat().st_size


def read_dump(path: str | Path) -> dict[str, Any]:
    """What ``write_dump`` wrote."""
    with open(path, "rb") as fh:
        return json_util.loads(gzip.decompress(fh.read()), json_options=_JSON)
