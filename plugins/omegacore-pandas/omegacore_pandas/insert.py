"""Inserting pre-encoded documents: one ``insert`` command per chunk, no object per row.

pymongo's ``insert_many`` takes one Python object per document and spends a few
microseconds on each (about 3-5 s of client CPU for a million rows). An ``insert``
command sends its documents as an OP_MSG document sequence: BSON documents one after
the other. ``insert_raw`` hands pymongo the already concatenated documents as that
sequence through ``Database.command``, using bson's raw-document protocol (an object
with ``_type_marker = 101`` whose ``raw`` bytes are written unchanged), so a chunk of
100,000 rows costs one object and one copy.

The server's reply is checked: the number of documents inserted must equal the number
sent, and write errors raise ``BulkInsertError``. Set ``RAW_INSERT = False`` to use
``insert_many`` with one ``RawBSONDocument`` per row instead (slower, same documents).
"""

from __future__ import annotations

from typing import Any

from bson.raw_bson import RawBSONDocument
from bson.son import SON
from pymongo.collection import Collection

#: send chunks as one raw document sequence (False: insert_many, one object per row)
RAW_INSERT = True


class BulkInsertError(RuntimeError):
    """The server did not insert every document of a chunk."""


class _DocumentSequence:
    """Concatenated BSON documents that bson writes as they are (raw-document protocol)."""

    __slots__ = ("raw",)
    _type_marker = 101

    def __init__(self, raw: bytes):
        self.raw = raw


def insert_raw(collection: Collection, data: bytes, count: int) -> None:
    """Insert ``count`` documents given as concatenated BSON bytes into ``collection``.

    Keep ``data`` below the server's message size (48 MB) and ``count`` at most 100,000.
    """
    if count == 0:
        return
    if not RAW_INSERT:
        _insert_each(collection, data, count)
        return
    command: SON[str, Any] = SON(
        [("insert", collection.name), ("documents", [_DocumentSequence(data)]),
         ("ordered", False)]
    )
    write_concern = collection.write_concern.document
    if write_concern:
        command["writeConcern"] = write_concern
    reply = collection.database.command(command)
    errors = reply.get("writeErrors")
    if errors:
        first = errors[0]
        raise BulkInsertError(
            f"{len(errors)} of {count} rows were not inserted into {collection.name}: "
            f"{first.get('errmsg', first)}"
        )
    if reply.get("n") != count:
        raise BulkInsertError(
            f"the server inserted {reply.get('n')} of {count} rows into {collection.name}"
        )


def _insert_each(collection: Collection, data: bytes, count: int) -> None:
    view = memoryview(data)
    docs, pos = [], 0
    while pos < len(view):
        size = int.from_bytes(view[pos:pos + 4], "little")
        docs.append(RawBSONDocument(bytes(view[pos:pos + size])))
        pos += size
    if len(docs) != count:
        raise BulkInsertError(f"expected {count} documents, found {len(docs)}")
    collection.insert_many(docs, ordered=False)
