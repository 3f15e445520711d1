"""Entry point of omegacore-opspec: the ``name#op:k=v`` syntax (imports nothing heavy)."""

from __future__ import annotations

from typing import Any

from omegacore import hookimpl
from omegacore.names import NameRef


@hookimpl
def omega_resolve_name(store: Any, name: str) -> NameRef | None:
    """``name#``, ``name#iterchunks:chunksize=N``, ``name#rows:start=S,end=E``, ..."""
    if "#" not in name:
        return None
    from omegacore_opspec.resolver import resolve

    return resolve(name)
