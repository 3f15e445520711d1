"""Typed records that plugins return from registration hooks.

They hold import paths as strings, so that listing plugins (``omegacore plugins``)
or opening a store imports no heavy library; a backend or mixin class is imported
only when it is first used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any


def load_object(path: str) -> Any:
    """Import ``"package.module:attribute"`` and return the attribute."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"expected 'package.module:Attribute', got {path!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class KindSpec:
    """A data kind a plugin provides.

    kind: the name stored in metadata, e.g. ``"pandas.dfrows"``.
    backend: ``"pkg.module:BackendClass"`` (a subclass of ``omegacore.backend.BaseBackend``)
        or the class itself (for kinds registered at run time).
    types: fully qualified type names (``"pandas.core.frame.DataFrame"``) checked against
        the object's MRO before the backend is imported; empty means "ask the backend".
    priority: higher is asked first when choosing a backend for an object; ties are
        broken by kind name, so the choice never depends on installation order.
    distribution: filled in by the loader with the distribution that registered it.
    """

    kind: str
    backend: Any
    types: tuple[str, ...] = ()
    priority: int = 0
    description: str = ""
    distribution: str = ""

    def load(self) -> type:
        """The backend class (imported on first use)."""
        return load_object(self.backend) if isinstance(self.backend, str) else self.backend

    def backend_path(self) -> str:
        if isinstance(self.backend, str):
            return self.backend
        return f"{self.backend.__module__}:{self.backend.__qualname__}"

    def may_support(self, obj: Any) -> bool:
        """Cheap pre-check by type name, so unrelated backends are never imported."""
        if not self.types:
            return True
        names = {f"{t.__module__}.{t.__qualname__}" for t in type(obj).__mro__}
        return any(t in names for t in self.types)


@dataclass(frozen=True)
class MixinSpec:
    """A store mixin a plugin provides.

    mixin: ``"pkg.module:MixinClass"`` or the class itself. Mixins are composed into the
        store class and must cooperate through ``super()``.
    order: lower comes first in the MRO (wraps the others); ties are broken by path.
    """

    mixin: Any
    order: int = 100
    description: str = ""
    distribution: str = ""

    def load(self) -> type:
        """The mixin class (imported on first use)."""
        return load_object(self.mixin) if isinstance(self.mixin, str) else self.mixin

    def path(self) -> str:
        if isinstance(self.mixin, str):
            return self.mixin
        return f"{self.mixin.__module__}:{self.mixin.__qualname__}"


@dataclass(frozen=True)
class LoadError:
    """A plugin that could not be loaded, recorded instead of breaking the store."""

    plugin: str
    distribution: str
    error: str


@dataclass
class PluginInfo:
    """What ``omegacore plugins`` shows about one registered plugin."""

    name: str
    distribution: str
    version: str
    kinds: list[KindSpec] = field(default_factory=list)
    mixins: list[MixinSpec] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
