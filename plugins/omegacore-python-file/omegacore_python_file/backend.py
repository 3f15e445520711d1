"""The ``python.file`` backend: files and binary file-like objects, streamed into GridFS.

A put reads the file in slices and writes each to GridFS as it comes
(``StagedPut.put_file``), so a file of any size never sits whole in memory; a get returns
the GridFS file as a readable, seekable file object that fetches a few chunks at a time
as it is read (``omegacore_python_file.stream``), or copies it chunk by chunk to a local
path (``local=``). This is omegaml's layout: the
metadata's ``gridfile`` points at one file in the bucket's GridFS.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, BinaryIO

from gridfs.errors import NoFile
from omegacore import BaseBackend, MetadataBase
from omegacore.validation import check_options

from omegacore_python_file import KIND
from omegacore_python_file.stream import StoredFile


def is_file_object(obj: Any) -> bool:
    """Whether ``obj`` reads like a file (has a callable ``read``)."""
    return callable(getattr(obj, "read", None))


def _source_name(obj: Any) -> str | None:
    """The base name of the file ``obj`` is or was opened from, if it has one."""
    name = obj if isinstance(obj, (str, os.PathLike)) else getattr(obj, "name", None)
    if isinstance(name, (str, os.PathLike)):
        return os.path.basename(os.fspath(name)) or None
    return None


class PythonFileBackend(BaseBackend):
    """Binary file objects and local file paths, streamed into one GridFS file.

    ``put(fileobj, name)`` reads from the file's current position to its end;
    ``put("path/to/file", name)`` reads the local file. ``get(name)`` returns a readable
    file object (close it when done); ``get(name, local="out.bin")`` writes the file
    there instead and returns the path.
    """

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        """File objects, and str/Path values naming an existing local file."""
        if isinstance(obj, (str, os.PathLike)):
            try:
                return os.path.isfile(obj)
            except (TypeError, ValueError, OSError):  # e.g. a string with NUL in it
                return False
        return is_file_object(obj)

    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        **kwargs: Any,
    ) -> MetadataBase:
        """Stream ``obj`` (a binary file object or a local path) into GridFS as ``name``.

        A name stored before is replaced (files are never appended to).
        """
        check_options(kwargs, ("attributes", "replace"), f"{KIND} put() (files are always "
                      "replaced)")
        source = _source_name(obj)
        kind_meta = {"source": source} if source else {}
        stream, opened = self._open(obj)
        try:
            with self.stage(name, attributes, kind_meta=kind_meta) as staged:
                staged.put_file(stream)
        finally:
            if opened:
                stream.close()
        return staged.meta

    @staticmethod
    def _open(obj: Any) -> tuple[BinaryIO, bool]:
        """(a binary stream to read, whether this backend opened it); clear errors first."""
        if isinstance(obj, (str, os.PathLike)):
            path = Path(obj)
            if not path.is_file():
                raise FileNotFoundError(
                    f"{KIND} stores local files: {os.fspath(obj)!r} is not a file; pass an "
                    "existing path or an open binary file"
                )
            return path.open("rb"), True
        if not is_file_object(obj):
            raise TypeError(
                f"{KIND} stores binary file objects and local file paths, got "
                f"{type(obj).__module__}.{type(obj).__qualname__}; wrap bytes in "
                "io.BytesIO(data)"
            )
        if getattr(obj, "closed", False):
            raise ValueError(f"{KIND}: the file {_source_name(obj) or obj!r} is closed")
        if isinstance(obj, io.TextIOBase) or isinstance(obj.read(0), str):
            raise TypeError(
                f"{KIND} stores bytes: the file {_source_name(obj) or obj!r} was opened in "
                "text mode; open it with mode 'rb' (or pass its path), or wrap text in "
                "io.BytesIO(text.encode())"
            )
        return obj, False

    def get(
        self,
        name: str,
        version: int = -1,
        meta: MetadataBase | None = None,
        local: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> StoredFile | str:
        """The stored file: a readable file object, or with ``local`` the path written to.

        The file object (``StoredFile``) reads the file's chunks from the server as it is
        read (``read(n)``, ``readline()``, iteration by line, ``seek``, ``readchunk()``),
        a few at a time; close it when done.
        """
        check_options(kwargs, ("local",), f"{KIND} get()")
        meta = self.metadata(name, meta)
        stream = self.open_stored_file(meta)
        if local is None:
            return stream
        target = Path(local)
        if target.is_dir():
            raise IsADirectoryError(
                f"local={os.fspath(local)!r} is a directory; name the file to write, e.g. "
                f"{os.fspath(target / (meta.kind_meta or {}).get('source', 'file'))!r}"
            )
        with stream, target.open("wb") as out:
            while chunk := stream.readchunk():
                out.write(chunk)
        return os.fspath(local)

    def open_stored_file(self, meta: MetadataBase) -> StoredFile:
        """The GridFS file of ``meta`` as a ``StoredFile``; NoFile if it is gone."""
        file_id = meta.gridfile_id
        if file_id is None:
            raise ValueError(f"{meta.name!r} ({meta.kind}) has no GridFS file")
        db, fs = self.store.mongodb, self.store.fs_collection
        file_doc = db[f"{fs}.files"].find_one({"_id": file_id})
        if file_doc is None:
            raise NoFile(f"the file of {meta.name!r} is gone (replaced or dropped meanwhile)")
        return StoredFile(db[f"{fs}.chunks"], file_doc)
