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
        return matches_types(obj, self.types)


def matches_types(obj: Any, types: tuple[str, ...]) -> bool:
    """Whether ``obj`` is an instance of one of the named types (empty: any object).

    A name matches a class of the same name from the same top-level package, as
    explained for ``KindSpec.types``; nothing is imported to check it.
    """
    if not types:
        return True
    seen = {(t.__module__.split(".", 1)[0], t.__qualname__) for t in type(obj).__mro__}
    return any(_package_and_name(t) in seen for t in types)


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
class FileOption:
    """A command-line option of a file format, e.g. ``--index-col`` for CSV files.

    name: the option without dashes (``"index-col"``); its value reaches the reader or
        writer as a string keyword argument with dashes turned into underscores
        (``index_col="id"``), or ``True`` for a ``flag``.
    help: one line for ``omegacore put --help``.
    applies_to: ``"read"`` (``put``), ``"write"`` (``get``) or ``"both"``.
    flag: True for an option that takes no value.
    """

    name: str
    help: str
    applies_to: str = "read"
    flag: bool = False

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class ReadResult:
    """What a ``FileFormat`` reader returns when storing the object needs put keywords.

    A reader usually returns the object itself; ``ReadResult(obj, {"as_many": True})``
    makes ``omegacore put`` call ``store.put(obj, name, as_many=True, ...)``.
    """

    obj: Any
    put_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileFormat:
    """A file form of a kind, for ``omegacore put FILE NAME`` and ``omegacore get NAME -o FILE``.

    extensions: lower-case file name endings with their dot (``".csv"``, ``".csv.gz"``);
        the longest matching ending wins.
    kind: the kind ``put`` stores what the reader returns as.
    reader: ``"pkg.module:function"`` called as ``reader(path, **options)``; returns the
        object to store (or a ``ReadResult`` with keywords for ``put``). Raise
        ``ValueError`` with a message that says what is wrong with the file (the command
        line shows it as one line).
    writer: ``"pkg.module:function"`` called as ``writer(obj, path, **options)``; writes
        the object to ``path`` (a new file; the command line moves it into place). It may
        return a remark for the user (shown on stderr), e.g. how to read the file back.
    types: type names of the objects ``writer`` accepts, matched like ``KindSpec.types``
        (empty: any object the kind's ``get`` returns).
    text: True if the file is text, so ``get`` may write it to a terminal.
    options: the format's command-line options (``FileOption``).
    requires: import names the reader and writer need beyond the plugin's own
        dependencies, and ``install``: what to tell the user to install when one is missing.
    """

    extensions: tuple[str, ...]
    kind: str
    reader: str | None = None
    writer: str | None = None
    types: tuple[str, ...] = ()
    text: bool = False
    options: tuple[FileOption, ...] = ()
    requires: tuple[str, ...] = ()
    install: str = ""
    description: str = ""
    distribution: str = ""

    def matches(self, filename: str) -> str | None:
        """The extension of this format that ``filename`` ends with (longest), else None."""
        lower = filename.lower()
        found = [ext for ext in self.extensions if lower.endswith(ext)]
        return max(found, key=len) if found else None

    def accepts(self, obj: Any) -> bool:
        """Whether ``writer`` can write ``obj`` (by type name, imports nothing)."""
        return self.writer is not None and matches_types(obj, self.types)

    def missing_requirement(self) -> str | None:
        """The first module in ``requires`` that is not installed, else None."""
        import importlib.util

        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                return module
        return None


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
