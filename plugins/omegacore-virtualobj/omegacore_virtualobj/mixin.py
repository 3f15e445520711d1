"""Calls a stored virtual object for ``put`` and ``drop`` of its name, as omegaml does.

``get`` needs no mixin: the store reads the kind from the metadata and the backend calls
the handler. A ``put`` of anything that is not itself a ``@virtualobj`` to a virtual
object's name calls the handler with ``method="put"`` and ``data=obj`` (``replace=True``
replaces the virtual object instead). ``drop`` calls it with ``method="drop"`` and
returns whether it answered truthy; the virtual object stays, unless ``force=True``,
which removes it after calling the handler (whatever the handler did). A versioned name
is left to its versions (omegaml's rule). The kind is read from the metadata (one small
read per put and drop of any name).
"""

from __future__ import annotations

from typing import Any

from omegacore.errors import OmegaError
from omegacore.naming import validate_name

from omegacore_virtualobj import KIND, VirtualObject


class VirtualObjectMixin:
    """``put``/``drop`` of a virtual object's name go to the stored handler."""

    def put(self, obj: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(obj, VirtualObject) and not kwargs.get("replace"):
            meta = self._virtual_meta(name)
            if meta is not None:
                handler = self._handler(meta)
                return handler(data=obj, method="put", meta=meta, store=self, **kwargs)
        return super().put(obj, name, *args, **kwargs)  # type: ignore[misc]

    def drop(self, name: str | None = None, force: bool = False, *args: Any,
             **kwargs: Any) -> Any:
        meta = self._virtual_meta(name) if isinstance(name, str) else None
        if meta is not None:
            handler = self._handler(meta)
            if not force:
                return bool(handler(method="drop", meta=meta, store=self, force=False))
            try:
                handler(method="drop", meta=meta, store=self, force=True)
            except Exception:  # noqa: BLE001 - force: the virtual object goes regardless
                pass
        return super().drop(name, force, *args, **kwargs)  # type: ignore[misc]

    def _virtual_meta(self, name: Any) -> Any:
        """The metadata of ``name`` if it is a virtual object, else None.

        Anything that is not a plain valid name (patterns, versions, op-specs, invalid
        names), or a metadata read that fails, is left to the store's own put and drop,
        which report it as they report any put or drop.
        """
        if not isinstance(name, str) or any(c in name for c in "*?[]@#^"):
            return None
        try:
            validate_name(name)
            meta = self.metadata(name)  # type: ignore[attr-defined]
        except (ValueError, TypeError, OmegaError):
            return None
        if meta is None or meta.kind != KIND:
            return None
        # a versioned name is managed by its versions (put adds one, drop removes them),
        # as omegaml bypasses handlers for versioned models
        return None if "versions" in (meta.attributes or {}) else meta

    def _handler(self, meta: Any) -> VirtualObject:
        backend = self.get_backend_bykind(KIND)  # type: ignore[attr-defined]
        handler: VirtualObject = backend.load(meta)
        return handler
