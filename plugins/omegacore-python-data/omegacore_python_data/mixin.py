"""Store methods of omegacore-python-data (the reference API's python data methods)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omegacore import StoreMixin

from omegacore_python_data import KIND

if TYPE_CHECKING:
    from omegacore import MetadataBase


class PythonDataMixin(StoreMixin):
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
        """The data of a stored object as plain python (``store.get(name, force_python=True)``).

        What omegaml 0.18 gives, kind by kind: ``python.data`` the object put last;
        ``pandas.dfrows`` the rows as dicts of column values (without the internal
        ``_id``, ``_idx#...`` and ``_om#...`` fields omegaml shows); model and HDF files a
        readable file. A kind provides it with a backend method
        ``get_object_as_python(meta, version=-1)``; for other kinds, as in omegaml, it is
        a TypeError.
        """
        backend = self.get_backend_bykind(meta.kind)
        as_python = getattr(backend, "get_object_as_python", None)
        if as_python is None:
            raise TypeError(
                f"cannot return kind {meta.kind} as a python object ({meta.name!r}); read it "
                "with store.get(name)"
            )
        return as_python(meta, version=version)
