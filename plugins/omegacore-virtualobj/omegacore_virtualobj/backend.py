"""The ``virtualobj.dill`` backend: a ``VirtualObject`` serialized with dill in GridFS.

``get(name, raw=True)`` returns the stored callable; any other ``get`` calls it with
``method="get"`` and the get's keyword arguments and returns what it returns. dill (not
pickle) serializes functions defined in scripts and notebooks by value, so the handler
loads in processes that do not have its module.
"""

from __future__ import annotations

from typing import Any

from omegacore import BaseBackend
from omegacore.documents import MetadataBase
from omegacore.validation import check_flag

from omegacore_virtualobj import KIND, VirtualObject


class VirtualObjectBackend(BaseBackend):
    """``@virtualobj`` callables: stored with dill, called on ``get`` of their name."""

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        return isinstance(obj, VirtualObject)

    def put(self, obj: Any, name: str, attributes: dict[str, Any] | None = None,
            replace: bool = False, **kwargs: Any) -> MetadataBase:
        """Store the virtual object itself (a new handler replaces the stored one)."""
        if kwargs:
            raise TypeError(f"unexpected keyword arguments for {KIND}: "
                            f"{', '.join(sorted(kwargs))}; it accepts attributes=")
        if not isinstance(obj, VirtualObject):
            raise TypeError(f"{KIND} stores @virtualobj callables, not {type(obj).__name__}; "
                            "decorate the function with omegacore_virtualobj.virtualobj")
        import dill

        try:
            data = dill.dumps(obj, recurse=True)
        except Exception as exc:
            raise ValueError(f"the virtual object {name!r} cannot be serialized with dill "
                             f"({type(exc).__name__}: {exc})") from exc
        kind_meta = {"serializer": "dill", "dill_version": dill.__version__,
                     "handler": getattr(obj, "__qualname__", repr(obj))}
        with self.stage(name, attributes, kind_meta=kind_meta) as staged:
            staged.put_file(data, ext="dill")
        return staged.meta

    def get(self, name: str, version: int = -1, meta: MetadataBase | None = None,
            raw: bool = False, **kwargs: Any) -> Any:
        """What the handler returns for ``method="get"`` (``raw=True``: the handler)."""
        check_flag(raw, "raw")
        meta = self.metadata(name, meta)
        handler = self.load(meta)
        if raw:
            return handler
        return handler(method="get", meta=meta, store=self.store, **kwargs)

    def load(self, meta: MetadataBase) -> VirtualObject:
        """The stored handler (runs the code stored with it)."""
        import dill

        with self.open_file(meta) as stream:
            handler = dill.loads(stream.read())
        if not isinstance(handler, VirtualObject):
            raise TypeError(f"{meta.name!r} does not hold a virtual object")
        return handler

    def get_object_as_python(self, meta: MetadataBase, version: int = -1) -> Any:
        """The stored handler itself (``force_python=True``)."""
        return self.load(meta)
