"""Store methods of omegacore-python-data (the reference API's python data methods)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omegacore_python_data import KIND

if TYPE_CHECKING:
    from omegacore import MetadataBase
    from omegacore.store import OmegaStore

    _Base = OmegaStore
else:
    _Base = object


class PythonDataMixin(_Base):
    """Adds ``put_pyobj_as_document``, ``get_python_data`` and ``get_object_as_python``.

    Overrides nothing of the store, so it needs no ``super()`` calls.
    """

    def put_pyobj_as_document(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        append: bool = True,
        index: Any = None,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store a dict, list or tuple as a document under ``name``.

        By default the object is appended to those stored before under ``name``;
        ``append=False`` replaces them. ``index=["x", "-y"]`` creates an index on those
        fields of the stored objects. Same as ``store.put(obj, name, kind="python.data")``.
        """
        return self.put(
            obj, name, attributes=attributes, kind=KIND, append=append, index=index, **kwargs
        )

    def get_python_data(self, name: str, version: int = -1, **kwargs: Any) -> Any:
        """The list of python objects stored under ``name`` (None if nothing is stored).

        kwargs are those of ``get``: ``field=value`` filters, ``filter={...}``,
        ``lazy=True``, ``trusted=True``.
        """
        meta = self.metadata(name)
        if meta is None:
            return None
        backend = self.get_backend_bykind(KIND)
        return backend.get(name, version=version, meta=meta, **kwargs)

    def get_object_as_python(self, meta: MetadataBase, version: int = -1) -> Any:
        """The data of any stored object as plain python (``store.get(name, force_python=True)``).

        python.data: the list of stored objects; other kinds with a collection: its
        documents as dicts without ``_id``; kinds with a GridFS file: the file's bytes.
        """
        if meta.kind == KIND:
            return self.get_backend_bykind(KIND).get(meta.name, version=version, meta=meta)
        if meta.collection:
            return list(self.mongodb[meta.collection].find({}, {"_id": 0}))
        if meta.gridfile_id is not None:
            with self.gridfs_bucket.open_download_stream(meta.gridfile_id) as stream:
                return stream.read()
        raise TypeError(
            f"{meta.name!r} (kind {meta.kind!r}) has neither a collection nor a GridFS file, "
            "so it has no raw python form; read it with store.get(name)"
        )
