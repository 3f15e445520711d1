"""Staged puts: write new data aside, switch the metadata atomically, then remove old data.

This is the one place that implements the store's promise that a failed put leaves
the previous object of that name readable and unchanged, with no orphans behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, BinaryIO

from bson import ObjectId
from mongoengine.fields import GridFSProxy
from pymongo.collection import Collection

from omegacore.errors import ConcurrentPutError

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from omegacore.documents import MetadataBase
    from omegacore.store import OmegaStore


#: a bytes-like object GridFS data can be written from
Buffer = bytes | bytearray | memoryview
#: how much of a buffer is copied at a time on its way to GridFS
_SLICE = 8 * 1024 * 1024


def _write_buffer(upload: Any, data: Buffer) -> None:
    if isinstance(data, bytes):
        upload.write(data)
        return
    view = memoryview(data).cast("B")
    for start in range(0, len(view), _SLICE):
        upload.write(view[start : start + _SLICE].tobytes())


class StagedPut:
    """One put in progress. Use as a context manager; it commits on success.

    ``meta`` is the metadata to commit (from ``store.make_metadata``); set
    ``meta.kind_meta`` or other fields before the block ends.
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
        existing = store.metadata(name)
        #: the kind stored under the name before this put, or None for a new name
        self.previous_kind: str | None = existing.kind if existing is not None else None
        self.kind = kind
        self.meta: MetadataBase = store.merge_metadata(existing, name, kind, attributes=attributes)
        #: the metadata as stored before this put, or None for a new name
        self.previous_collection: str | None = self.meta.collection if self.meta.id else None
        self.previous_gridfile: Any = self.meta.gridfile_id if self.meta.id else None
        self._expected: dict[str, Any] | None = None
        if self.meta.id is not None:
            self._expected = {
                "_id": self.meta.id,
                "generation": self.meta.generation,
                "collection": self.previous_collection,
                "gridfile": self.previous_gridfile,
            }
        self.meta.kind_meta = dict(kind_meta or {})
        self.meta.collection = None
        self.meta.gridfile = None
        self._new_collections: list[str] = []
        self._new_files: list[ObjectId] = []
        self._undo: list[Callable[[], None]] = []
        self.committed = False

    @property
    def exists(self) -> bool:
        """Whether an object of this name was stored before this put."""
        return self.meta.id is not None

    # -- where the data goes ----------------------------------------------------------------
    def new_collection(self, ext: str = "datastore") -> Collection:
        """A fresh, empty collection for this put's data; removed again if the put fails."""
        key = self.store.new_data_key(self.name, ext)
        self._new_collections.append(key)
        self.meta.collection = key
        return self.store.mongodb[key]

    def previous_collection_for_append(self) -> Collection | None:
        """The stored object's collection, to append to; None for a new name.

        Returns None too if the name was stored as another kind: a put never appends to
        another kind's data. Appended documents are not removed automatically if the put
        fails: register their removal with ``on_failure``.
        """
        if not self.previous_collection or self.previous_kind != self.kind:
            return None
        self.meta.collection = self.previous_collection
        return self.store.mongodb[self.previous_collection]

    def put_file(self, data: Buffer | BinaryIO | Iterable[Buffer], ext: str = "data") -> ObjectId:
        """Write to GridFS: bytes-like data, a readable file, or an iterable of such chunks.

        Bytes-like objects (``memoryview`` of an array, say) are written in slices, so at
        most one slice is copied at a time.
        """
        key = self.store.new_data_key(self.name, ext)
        bucket = self.store.gridfs_bucket
        with bucket.open_upload_stream(key) as upload:
            self._new_files.append(upload._id)
            if isinstance(data, (bytes, bytearray, memoryview)):
                _write_buffer(upload, data)
            elif hasattr(data, "read"):
                while chunk := data.read(_SLICE):
                    upload.write(chunk)
            else:
                for chunk in data:
                    _write_buffer(upload, chunk)
        file_id = upload._id
        self.meta.gridfile = GridFSProxy(
            grid_id=file_id, db_alias=self.store.dbalias, collection_name=self.store.fs_collection
        )
        return file_id

    def on_failure(self, undo: Callable[[], None]) -> None:
        """Run ``undo`` if this put fails (e.g. to delete documents appended to old data)."""
        self._undo.append(undo)

    # -- ending ---------------------------------------------------------------------------
    def commit(self) -> MetadataBase:
        """Switch the metadata to the new data, then remove the data it replaced."""
        previous = self.store._commit_metadata(self.meta, self._expected, self._check_conflict)
        self.committed = True
        if previous is not None:
            self.store._drop_data(previous, keep=self.meta)
        return self.meta

    def _check_conflict(self, current: dict[str, Any]) -> None:
        """Refuse to commit an append whose collection another put has replaced meanwhile."""
        appending = self.meta.collection and self.meta.collection == self.previous_collection
        if appending and current.get("collection") != self.previous_collection:
            raise ConcurrentPutError(
                f"{self.name!r} was replaced by another process while this put appended to "
                "it; the appended data was removed, put again to append to the new data"
            )

    def rollback(self) -> None:
        """Remove everything this put wrote; the stored object stays as it was."""
        for undo in reversed(self._undo):
            undo()
        for key in self._new_collections:
            self.store.mongodb.drop_collection(key)
        for file_id in self._new_files:
            self.store._delete_file(file_id)

    def __enter__(self) -> StagedPut:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            try:
                self.rollback()
            except Exception:  # the put's own error is the one to report
                log.exception("could not remove what the failed put of %r wrote", self.name)
            return
        try:
            self.commit()
        except BaseException:
            if not self.committed:
                try:
                    self.rollback()
                except Exception:
                    log.exception("could not remove what the failed put of %r wrote", self.name)
            raise
