"""Names with syntax: ``name[a,b]``, ``name#op:k=v``, ``name@tag`` and whatever plugins add.

A plugin that gives names a syntax implements ``omega_resolve_name``: given a name, it
returns a ``NameRef`` saying which stored name it refers to and what reading it
involves, or None if the name is not in its syntax. The store resolves a name before it
reads any metadata (syntax may nest: ``x[a,b]#iterchunks`` is an op-spec on a
projection) and then reads the metadata of the stored name and of the literal name in
one round trip: an object stored under exactly the given name, brackets and all, is
read as is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omegacore.documents import MetadataBase
    from omegacore.store import OmegaStore

#: ``prepare(store, meta, kwargs) -> meta``: adjust the get's keyword arguments in place
#: (e.g. ``columns=``) and return the metadata to read (e.g. a version's)
Prepare = Callable[["OmegaStore", "MetadataBase", dict[str, Any]], "MetadataBase"]
#: ``finish(store, result, kwargs) -> result``: what the name asks for, from what was read
Finish = Callable[["OmegaStore", Any, dict[str, Any]], Any]

#: deepest nesting of name syntax resolved
MAX_DEPTH = 8


@dataclass(frozen=True)
class NameRef:
    """What a name with syntax refers to.

    name: the name it refers to (which may carry syntax of another plugin).
    prepare: called with the stored object's metadata before it is read.
    finish: called with what was read; its result is what ``get`` returns.
    lazy: read the object lazily (``finish`` receives a lazy frame).
    error: the name is in the plugin's syntax but malformed; raised when the object is
        about to be read (not before: an object stored under exactly the name, or a name
        on the way, is read as is).
    """

    name: str
    prepare: Prepare | None = None
    finish: Finish | None = None
    lazy: bool = False
    error: Exception | None = None


def resolve(store: OmegaStore, name: str) -> tuple[str, list[NameRef]]:
    """The stored name ``name`` refers to, and the references on the way (outermost first)."""
    refs: list[NameRef] = []
    current = name
    for _ in range(MAX_DEPTH):
        ref: Any = store.plugins.call_hook("omega_resolve_name", store=store, name=current)
        if ref is None or ref.name == current:
            break
        if not isinstance(ref, NameRef):
            raise TypeError(f"omega_resolve_name returned {ref!r} for {current!r}, not a NameRef")
        refs.append(ref)
        current = ref.name
    return current, refs


def prepared(store: OmegaStore, meta: MetadataBase, refs: list[NameRef],
             kwargs: dict[str, Any]) -> MetadataBase:
    """``meta`` after every reference's ``prepare`` (innermost first); updates ``kwargs``."""
    for ref in reversed(refs):
        if ref.error is not None:
            raise ref.error
        if ref.lazy:
            kwargs["lazy"] = True
        if ref.prepare is not None:
            meta = ref.prepare(store, meta, kwargs)
    return meta


def finished(store: OmegaStore, result: Any, refs: list[NameRef], kwargs: dict[str, Any]) -> Any:
    """``result`` after every reference's ``finish`` (innermost first)."""
    for ref in reversed(refs):
        if ref.finish is not None:
            result = ref.finish(store, result, kwargs)
    return result
