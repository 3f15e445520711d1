"""The base class of store mixins: typed as the store, nothing at run time.

A mixin is composed in front of ``OmegaStore`` and calls the store's methods on
``self`` (``self.put``, ``self.metadata``, ``super().get``). Deriving from
``StoreMixin`` lets a type checker see them, without ``type: ignore`` comments; at run
time ``StoreMixin`` is ``object``, so composing mixins in any order stays possible::

    from omegacore import StoreMixin

    class AuditMixin(StoreMixin):
        def get(self, name, *args, **kwargs):
            log.info("get %s", name)
            return super().get(name, *args, **kwargs)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omegacore.store import OmegaStore

    StoreMixin = OmegaStore
else:
    StoreMixin = object

__all__ = ["StoreMixin"]
