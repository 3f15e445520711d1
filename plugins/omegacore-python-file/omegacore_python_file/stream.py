"""A stored file as a readable, seekable file object that holds a few chunks at a time.

pymongo's ``GridOut`` reads a file's chunks through a cursor with the server's default
batches (101 chunks of 255 KiB at first: about 26 MB, then up to 16 MB), so reading a
large file holds tens of megabytes. ``StoredFile`` asks for ``BATCH_CHUNKS`` chunks per
round trip instead and keeps only the chunk being read; ``seek`` starts a new cursor at
the chunk holding the position.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from gridfs.errors import CorruptGridFile
from pymongo.collection import Collection

#: chunks per round trip (4 MiB with GridFS's default chunk size)
BATCH_CHUNKS = 16


class _Chunks(io.RawIOBase):
    """The raw stream: reads the file's chunks in order, from any position."""

    def __init__(self, chunks: Collection, file_doc: dict[str, Any]) -> None:
        super().__init__()
        self._chunks = chunks
        self._id = file_doc["_id"]
        self.length = int(file_doc["length"])
        self.chunk_size = int(file_doc["chunkSize"])
        self._pos = 0
        self._iter: Iterator[dict[str, Any]] | None = None
        self._cursor: Any = None
        self._data = b""  # the current chunk
        self._data_start = 0  # its offset in the file

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.length}[whence]
        position = base + offset
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._pos = position
        return position

    def _chunk_at(self, position: int) -> bytes:
        """The chunk holding ``position`` (continuing the cursor when reading on)."""
        number = position // self.chunk_size
        start = number * self.chunk_size
        if self._data and self._data_start == start:
            return self._data
        if self._iter is None or start != self._data_start + self.chunk_size:
            self._close_cursor()
            self._cursor = self._chunks.find(
                {"files_id": self._id, "n": {"$gte": number}}, {"n": 1, "data": 1},
                sort=[("n", 1)], batch_size=BATCH_CHUNKS,
            )
            self._iter = iter(self._cursor)
        doc = next(self._iter, None)
        if doc is None or doc["n"] != number:
            raise CorruptGridFile(f"chunk {number} of file {self._id} is missing")
        expected = min(self.chunk_size, self.length - start)
        if len(doc["data"]) != expected:
            raise CorruptGridFile(
                f"chunk {number} of file {self._id} has {len(doc['data'])} bytes, "
                f"expected {expected}")
        self._data, self._data_start = bytes(doc["data"]), start
        return self._data

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on a closed file")
        if self._pos >= self.length:
            return 0
        view = memoryview(buffer).cast("B")
        chunk = self._chunk_at(self._pos)
        offset = self._pos - self._data_start
        count = min(len(view), len(chunk) - offset)
        view[:count] = chunk[offset:offset + count]
        self._pos += count
        return count

    def _close_cursor(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
        self._cursor = self._iter = None

    def close(self) -> None:
        self._close_cursor()
        self._data = b""
        super().close()


class StoredFile(io.BufferedReader):
    """A stored file, read on demand: ``read``, ``readline``, iteration, ``seek``, ``tell``.

    ``length`` is its size in bytes, ``filename`` the GridFS file name, ``file_id`` its
    GridFS id. Close it (or use ``with``) to release the server cursor.
    """

    def __init__(self, chunks: Collection, file_doc: dict[str, Any]) -> None:
        raw = _Chunks(chunks, file_doc)
        super().__init__(raw, buffer_size=raw.chunk_size)
        self._file_doc = file_doc

    @property
    def length(self) -> int:
        """The file's size in bytes."""
        return int(self._file_doc["length"])

    @property
    def filename(self) -> str | None:
        """The file's name in GridFS (its store key)."""
        return self._file_doc.get("filename")

    @property
    def file_id(self) -> Any:
        """The file's GridFS id."""
        return self._file_doc["_id"]

    def readchunk(self) -> bytes:
        """The rest of the current chunk (or the next one): reads without joining chunks."""
        return self.read1(self.raw.chunk_size)  # type: ignore[attr-defined]
