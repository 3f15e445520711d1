"""Writing GridFS files in bounded memory.

pymongo's GridFS upload buffers up to 32 MB of chunk documents before sending them, and
encodes the whole buffer again to send it: a 48 MB file peaks above 100 MB. This writer
sends the chunks in batches of ``BATCH_BYTES`` (8 MiB) and writes the file document
last, exactly as the GridFS specification lays them out, so any GridFS reader
(``GridFSBucket``, omegaml, ``mongofiles``) reads the file.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

from bson import Binary, Int64, ObjectId
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure

#: bytes of file data per chunk document (GridFS's default)
CHUNK_SIZE = 255 * 1024
#: bytes of chunk data sent per insert command
BATCH_BYTES = 8 * 1024 * 1024

_indexed: set[tuple[str, str, str]] = set()


def ensure_indexes(db: Database, fs: str) -> None:
    """The indexes GridFS readers rely on (created once per process and bucket)."""
    key = (str(id(db.client)), db.name, fs)
    if key in _indexed:
        return
    ensure_index(db[f"{fs}.chunks"], [("files_id", ASCENDING), ("n", ASCENDING)], unique=True)
    ensure_index(db[f"{fs}.files"], [("filename", ASCENDING), ("uploadDate", ASCENDING)])
    _indexed.add(key)


#: server error codes for "an index on these keys exists under another name or options"
_INDEX_CONFLICTS = (85, 86)


def ensure_index(collection: Collection, keys: list[tuple[str, Any]], **options: Any) -> None:
    """Create the index on ``keys`` unless the collection has one on the same keys.

    omegaml names its indexes by a hash of their keys; creating the same index under
    pymongo's default name fails with IndexOptionsConflict, which here means "exists".
    """
    try:
        collection.create_index(keys, **options)
    except OperationFailure as exc:
        if exc.code not in _INDEX_CONFLICTS:
            raise
        wanted = [(field, direction) for field, direction in keys]
        if not any(list(ix["key"].items()) == wanted for ix in collection.list_indexes()):
            raise


def write_file(db: Database, fs: str, file_id: Any, filename: str,
               pieces: Iterable[bytes | bytearray | memoryview]) -> int:
    """Write ``pieces`` (in order) as the GridFS file ``file_id``; returns its length.

    At most ``BATCH_BYTES`` of chunks (plus one piece being cut) are held at a time.
    """
    ensure_indexes(db, fs)
    chunks = db[f"{fs}.chunks"]
    batch: list[dict[str, Any]] = []
    batch_bytes = 0
    number = 0
    length = 0
    pending = bytearray()

    def emit(data: bytes) -> None:
        nonlocal batch_bytes, number
        batch.append({"_id": ObjectId(), "files_id": file_id, "n": number, "data": Binary(data)})
        number += 1
        batch_bytes += len(data)
        if batch_bytes >= BATCH_BYTES:
            flush()

    def flush() -> None:
        nonlocal batch, batch_bytes
        if batch:
            chunks.insert_many(batch, ordered=True)
        batch, batch_bytes = [], 0

    for piece in pieces:
        view = memoryview(piece).cast("B")
        length += len(view)
        offset = 0
        if pending:
            take = min(CHUNK_SIZE - len(pending), len(view))
            pending += view[:take]
            offset = take
            if len(pending) == CHUNK_SIZE:
                emit(bytes(pending))
                pending = bytearray()
        while len(view) - offset >= CHUNK_SIZE:
            emit(view[offset:offset + CHUNK_SIZE].tobytes())
            offset += CHUNK_SIZE
        if offset < len(view):
            pending += view[offset:]
    if pending:
        emit(bytes(pending))
    flush()
    db[f"{fs}.files"].insert_one({
        "_id": file_id,
        "length": Int64(length),
        "chunkSize": CHUNK_SIZE,
        "uploadDate": _dt.datetime.now(_dt.timezone.utc),
        "filename": filename,
    })
    return length
