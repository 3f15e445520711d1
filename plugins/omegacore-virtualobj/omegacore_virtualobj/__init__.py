"""Virtual objects: a callable stored under a name answers ``get``, ``put`` and ``drop``.

::

    @virtualobj
    def squares(data=None, method=None, meta=None, store=None, **kwargs):
        if method == "get":
            return [i * i for i in range(kwargs.get("n", 5))]

    store.put(squares, "squares")    # stores the function (kind virtualobj.dill)
    store.get("squares", n=3)        # calls it: [0, 1, 4]

Loading a virtual object runs the code stored with it: read only stores whose writers
you trust (docs/security.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

#: the kind virtual objects are stored as
KIND = "virtualobj.dill"

__all__ = ["KIND", "VirtualObject", "virtualobj"]


class VirtualObject:
    """A callable marked as a virtual object (what ``@virtualobj`` returns).

    Called as ``handler(data=None, method=None, meta=None, store=None, **kwargs)`` with
    ``method`` one of ``"get"``, ``"put"``, ``"drop"``.
    """

    def __init__(self, handler: Callable[..., Any]):
        if not callable(handler):
            raise TypeError(f"virtualobj takes a callable, not {type(handler).__name__}")
        self.handler = handler
        functools.update_wrapper(self, handler)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.handler(*args, **kwargs)

    def __repr__(self) -> str:
        return f"virtualobj({getattr(self.handler, '__qualname__', self.handler)!r})"


def virtualobj(handler: Callable[..., Any]) -> VirtualObject:
    """Mark ``handler`` as a virtual object, to be stored with ``store.put``."""
    return handler if isinstance(handler, VirtualObject) else VirtualObject(handler)
