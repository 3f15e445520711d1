"""Entry point of omegacore-projection: the ``name[a,b]`` syntax (imports nothing heavy)."""

from __future__ import annotations

from typing import Any

from omegacore import hookimpl
from omegacore.names import NameRef


@hookimpl
def omega_resolve_name(store: Any, name: str) -> NameRef | None:
    """``name[a,b]``, ``name[a:c]``, ``name[^c]``: the object ``name``, these columns."""
    if not name.endswith("]"):
        return None
    from omegacore_projection.resolver import resolve

    return resolve(name)
