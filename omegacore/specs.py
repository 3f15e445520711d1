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


def _package_and_name(type_name: str) -> tuple[str, str]:
    """``"pandas.core.frame.DataFrame"`` -> ``("pandas", "DataFrame")``."""
    module, _, name = type_name.rpartition(".")
    return module.split(".", 1)[0], name


@dataclass(frozen=True)
class KindSpec:
    """A data kind a plugin provides.

    kind: the name stored in metadata, e.g. ``"pandas.dfrows"``.
    backend: ``"pkg.module:BackendClass"`` (a subclass of ``omegacore.backend.BaseBackend``)
        or the class itself (for kinds registered at run time).
    types: type names (``"pandas.DataFrame"``) checked against the object's MRO before
        the backend is imported; empty means "ask the backend". A name matches a class of
        the same name from the same top-level package, so both the defining module
        (``pandas.core.frame.DataFrame``) and the public one (``pandas.DataFrame``) work,
        whichever ``__module__`` the library's version reports.
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
        seen = {(t.__module__.split(".", 1)[0], t.__qualname__) for t in type(obj).__mro__}
        return any(_package_and_name(t) in seen for t in self.types)


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
