"""Typed records that plugins return from registration hooks, and their validation.

They hold import paths as strings, so that listing plugins (``omegacore plugins``)
or opening a store imports no heavy library; a backend or mixin class is imported
only when it is first used. ``problems()`` says what is wrong with a record before
anything is imported; the registry skips a record that has problems and records why.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from omegacore.errors import InvalidPluginRecord, PluginImportError

#: ``family.format``: letters, digits and ``_`` (``-`` after the first dot too)
_KIND_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)+")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
#: ``package.module:Attribute`` (the attribute may be dotted: ``module:Class.method``)
_PATH_RE = re.compile(rf"{_IDENT}(\.{_IDENT})*:{_IDENT}(\.{_IDENT})*")
#: ``module.Class``: at least one dot, so the name says where the class is defined
_TYPE_RE = re.compile(rf"{_IDENT}(\.{_IDENT})+")
#: keywords ``store.put`` takes itself; no kind may be selected by one of them
RESERVED_PUT_KEYWORDS = frozenset({"obj", "name", "attributes", "kind", "replace"})


def load_object(path: str) -> Any:
    """Import ``"package.module:attribute"`` and return the attribute."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"expected 'package.module:Attribute', got {path!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def object_path(obj: Any) -> str:
    """``"package.module:Qualname"`` of a class or function, the inverse of ``load_object``."""
    if isinstance(obj, str):
        return obj
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', repr(obj))}"


def _package_and_name(type_name: str) -> tuple[str, str]:
    """``"pandas.core.frame.DataFrame"`` -> ``("pandas", "DataFrame")``."""
    module, _, name = type_name.rpartition(".")
    return module.split(".", 1)[0], name


def _as_tuple(value: Any) -> Any:
    """Lists become tuples (records are frozen); anything else is left for ``problems``."""
    return tuple(value) if isinstance(value, list) else value


def _strings_problem(label: str, value: Any, pattern: re.Pattern[str] | None, example: str,
                     ) -> str | None:
    if isinstance(value, str):
        return f"{label} must be a tuple of names, got the string {value!r}; write ({value!r},)"
    if not isinstance(value, tuple):
        return f"{label} must be a tuple of names such as {example}, got {type(value).__name__}"
    bad = [v for v in value if not isinstance(v, str) or (pattern and not pattern.fullmatch(v))]
    if bad:
        return f"{label} must be names such as {example}; these are not: {bad!r}"
    return None


@functools.lru_cache(maxsize=256)
def _installed(top: str) -> bool:
    """Whether the top-level package ``top`` can be imported (without importing it)."""
    if top in sys.modules:
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def forget_installed() -> None:
    """Forget which packages are installed (after installing one in a running process)."""
    _installed.cache_clear()


def type_name_problem(name: str, import_modules: bool = False) -> str | None:
    """What is wrong with a ``KindSpec.types`` entry, or None.

    A name without a module (``"str"``) can never match. With ``import_modules`` the
    module is imported to check that it defines the class; without, only modules already
    imported are checked, so validating records imports no heavy library. A package that
    is not installed is no problem: no object can be of its types.
    """
    if not isinstance(name, str) or not name:
        return f"type name {name!r} is not a string"
    if "." not in name:
        if isinstance(getattr(builtins, name, None), type):
            return (f"type name {name!r} names no module and matches nothing: "
                    f"write 'builtins.{name}'")
        return (f"type name {name!r} names no module and matches nothing: write the module "
                f"and the class, e.g. 'package.module.{name}'")
    if not _TYPE_RE.fullmatch(name):
        return f"type name {name!r} is not of the form 'package.module.Class'"
    module, _, attr = name.rpartition(".")
    if not _installed(name.split(".", 1)[0]):
        return None
    if not import_modules and module not in sys.modules:
        return None
    try:
        found = importlib.import_module(module)
    except Exception as exc:  # a module that fails to import is a finding, not a crash
        return (f"type name {name!r}: module {module!r} does not import "
                f"({type(exc).__name__}: {exc})")
    if not isinstance(getattr(found, attr, None), type):
        return f"type name {name!r}: module {module!r} defines no class {attr!r}"
    return None


@dataclass(frozen=True)
class KindSpec:
    """A data kind a plugin provides.

    kind: the name stored in metadata, ``family.format`` such as ``"pandas.dfrows"``
        (letters, digits, ``_``; ``-`` after the first dot).
    backend: ``"package.module:BackendClass"`` (a subclass of ``omegacore.BaseBackend``
        whose ``KIND`` is ``kind``), or the class itself (for kinds registered at run time).
    types: fully qualified type names, ``"module.Class"`` (``"builtins.dict"``,
        ``"pandas.DataFrame"``), checked against the object's MRO before the backend is
        imported; empty means "ask the backend about every object". A name matches a class
        of the same name from the same top-level package, so both the defining module
        (``pandas.core.frame.DataFrame``) and the public one (``pandas.DataFrame``) work,
        whichever ``__module__`` the library's version reports. A bare ``"str"`` matches
        nothing (it is reported when the plugin loads).
    priority: higher is asked first when choosing a backend for an object; ties are
        broken by kind name, so the choice never depends on installation order.
    selected_by: keywords of ``put`` that choose this kind (``("as_hdf",)``): a value other
        than None or False chooses it and is passed to its backend; None or False means
        "not given" and is removed before any backend sees it.
    replaces: distributions whose kind of the same name this one replaces, so installing
        both is no conflict (``("omegacore-pandas-dfrows",)``).
    description: one line shown by ``omegacore plugins``.
    distribution: filled in by the loader with the distribution that registered it.
    """

    kind: str
    backend: Any
    types: tuple[str, ...] = ()
    priority: int = 0
    description: str = ""
    distribution: str = ""
    selected_by: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()

    def load(self) -> type:
        """The backend class (imported on first use); PluginImportError names what failed."""
        try:
            cls = load_object(self.backend) if isinstance(self.backend, str) else self.backend
        except Exception as exc:
            raise PluginImportError(
                f"kind {self.kind!r} of distribution {self.distribution or '?'!r}: backend "
                f"{self.backend_path()!r} cannot be imported ({type(exc).__name__}: {exc}). "
                "Reinstall or fix the plugin; `omegacore plugins --check` lists every path "
                "that fails"
            ) from exc
        problem = backend_class_problem(cls, self.kind)
        if problem:
            raise InvalidPluginRecord(
                f"kind {self.kind!r} of distribution {self.distribution or '?'!r}: {problem}"
            )
        return cls

    def backend_path(self) -> str:
        return object_path(self.backend)

    def may_support(self, obj: Any) -> bool:
        """Cheap pre-check by type name, so unrelated backends are never imported."""
        return matches_types(obj, self.types)


    def normalized(self) -> KindSpec:
        """The same record with lists given for tuples turned into tuples."""
        return replace(self, **{
            f.name: _as_tuple(getattr(self, f.name))
            for f in fields(self) if f.name in ("types", "selected_by", "replaces")
        })

    def problems(self) -> list[str]:
        """What makes this record unusable (empty if it is valid); imports nothing."""
        out: list[str] = []
        if not isinstance(self.kind, str) or not _KIND_RE.fullmatch(self.kind):
            out.append(f"kind must be a dotted name such as 'acme.widget', got {self.kind!r}")
        if isinstance(self.backend, str):
            if not _PATH_RE.fullmatch(self.backend):
                out.append(f"backend must be an import path 'package.module:Class', "
                           f"got {self.backend!r}")
        elif not isinstance(self.backend, type):
            out.append("backend must be an import path 'package.module:Class' or a class, "
                       f"got {type(self.backend).__name__}")
        if isinstance(self.types, tuple):
            bad = [t for t in self.types if not isinstance(t, str)]
            if bad:
                out.append(f"types must be type names such as 'builtins.dict', not {bad!r}")
        else:
            out.append(_strings_problem("types", self.types, None, "'builtins.dict'") or "")
        if type(self.priority) is not int:
            out.append(f"priority must be an int, got {self.priority!r}")
        for label in ("description", "distribution"):
            if not isinstance(getattr(self, label), str):
                out.append(f"{label} must be a string, got {getattr(self, label)!r}")
        problem = _strings_problem("selected_by", self.selected_by, re.compile(_IDENT),
                                   "'as_hdf'")
        if problem:
            out.append(problem)
        elif RESERVED_PUT_KEYWORDS.intersection(self.selected_by):
            out.append(f"selected_by cannot use put's own keywords "
                       f"{sorted(RESERVED_PUT_KEYWORDS.intersection(self.selected_by))}")
        problem = _strings_problem("replaces", self.replaces, None, "'omegacore-pandas-dfrows'")
        if problem:
            out.append(problem)
        return [p for p in out if p]

    def type_warnings(self, import_modules: bool = False) -> list[str]:
        """Type names that can never match (see ``type_name_problem``)."""
        if not isinstance(self.types, tuple):
            return []
        found = (type_name_problem(t, import_modules) for t in self.types)
        return [p for p in found if p]


def backend_class_problem(cls: Any, kind: str) -> str | None:
    """What makes ``cls`` unusable as the backend of ``kind``, or None."""
    from omegacore.backend import BaseBackend

    if not isinstance(cls, type):
        return f"backend {object_path(cls)!r} is a {type(cls).__name__}, not a class"
    if not issubclass(cls, BaseBackend):
        return f"backend {object_path(cls)!r} does not subclass omegacore.BaseBackend"
    if cls.KIND != kind:
        return (f"backend {object_path(cls)!r} declares KIND = {cls.KIND!r}; set it to "
                f"{kind!r}, the kind it is registered for")
    return None


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

    mixin: ``"package.module:MixinClass"`` or the class itself. Mixins are composed into
        the store class and must cooperate through ``super()``.
    order: lower comes first in the MRO (wraps the others); ties are broken by path.
    prefixes: compose the mixin only into stores whose prefix is one of these
        (``("models/",)``); empty means every store.
    applies_to: ``"package.module:function"`` (or the function), called with the store
        before mixins are composed; the mixin is composed only if it returns True.
        Together with ``prefixes`` both must hold.
    description: one line shown by ``omegacore plugins``.
    distribution: filled in by the loader with the distribution that registered it.
    """

    mixin: Any
    order: int = 100
    description: str = ""
    distribution: str = ""
    prefixes: tuple[str, ...] = ()
    applies_to: Any = None

    def load(self) -> type:
        """The mixin class (imported on first use); PluginImportError names what failed."""
        try:
            cls = load_object(self.mixin) if isinstance(self.mixin, str) else self.mixin
        except Exception as exc:
            raise PluginImportError(
                f"mixin {self.path()!r} of distribution {self.distribution or '?'!r} cannot "
                f"be imported ({type(exc).__name__}: {exc}). Reinstall or fix the plugin; "
                "`omegacore plugins --check` lists every path that fails"
            ) from exc
        if not isinstance(cls, type):
            raise InvalidPluginRecord(
                f"mixin {self.path()!r} of distribution {self.distribution or '?'!r} is a "
                f"{type(cls).__name__}, not a class"
            )
        return cls

    def path(self) -> str:
        return object_path(self.mixin)

    def predicate(self) -> Callable[[Any], Any] | None:
        """The ``applies_to`` function (imported on first use), or None."""
        if self.applies_to is None:
            return None
        try:
            func = (load_object(self.applies_to) if isinstance(self.applies_to, str)
                    else self.applies_to)
        except Exception as exc:
            raise PluginImportError(
                f"applies_to {object_path(self.applies_to)!r} of mixin {self.path()!r} "
                f"(distribution {self.distribution or '?'!r}) cannot be imported "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        if not callable(func):
            raise InvalidPluginRecord(
                f"applies_to {object_path(self.applies_to)!r} of mixin {self.path()!r} is not "
                "callable"
            )
        return func

    def applies(self, store: Any) -> bool:
        """Whether this mixin is composed into ``store`` (by ``prefixes``, then ``applies_to``)."""
        if self.prefixes and store.prefix not in self.prefixes:
            return False
        func = self.predicate()
        if func is None:
            return True
        answer = func(store)
        if not isinstance(answer, bool):
            raise InvalidPluginRecord(
                f"applies_to {object_path(self.applies_to)!r} of mixin {self.path()!r} must "
                f"return True or False, returned {answer!r}"
            )
        return answer

    def normalized(self) -> MixinSpec:
        """The same record with a list of prefixes turned into a tuple."""
        return replace(self, prefixes=_as_tuple(self.prefixes))

    def problems(self) -> list[str]:
        """What makes this record unusable (empty if it is valid); imports nothing."""
        out: list[str] = []
        if isinstance(self.mixin, str):
            if not _PATH_RE.fullmatch(self.mixin):
                out.append(f"mixin must be an import path 'package.module:Class', "
                           f"got {self.mixin!r}")
        elif not isinstance(self.mixin, type):
            out.append("mixin must be an import path 'package.module:Class' or a class, "
                       f"got {type(self.mixin).__name__}")
        if type(self.order) is not int:
            out.append(f"order must be an int, got {self.order!r}")
        for label in ("description", "distribution"):
            if not isinstance(getattr(self, label), str):
                out.append(f"{label} must be a string, got {getattr(self, label)!r}")
        problem = _strings_problem("prefixes", self.prefixes, None, "'models/'")
        if problem:
            out.append(problem)
        if isinstance(self.applies_to, str):
            if not _PATH_RE.fullmatch(self.applies_to):
                out.append(f"applies_to must be an import path 'package.module:function', "
                           f"got {self.applies_to!r}")
        elif self.applies_to is not None and not callable(self.applies_to):
            out.append("applies_to must be an import path 'package.module:function' or a "
                       f"function, got {type(self.applies_to).__name__}")
        return out


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
    """A plugin that failed, recorded instead of breaking the store.

    stage: what failed: ``import``, ``register`` (hook validation), ``omega_kinds`` /
        ``omega_mixins`` (the hook raised or returned something else than records),
        ``record`` (a record's fields), ``conflict``, ``backend``, ``mixin``,
        ``applies_to``, ``supports``, ``omega_select_kind``, ``types`` (a warning), ...
    """

    plugin: str
    distribution: str
    error: str
    stage: str = "import"


@dataclass(frozen=True)
class DisabledPlugin:
    """A plugin switched off (``OMEGA_PLUGINS_DISABLE``): not imported, not registered."""

    plugin: str
    distribution: str
    reason: str


@dataclass(frozen=True)
class CheckResult:
    """One line of ``omegacore plugins --check``: a path imported, and what failed."""

    what: str  # "kind" or "mixin"
    name: str  # the kind, or the mixin's path
    distribution: str
    path: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class PluginInfo:
    """What ``omegacore plugins`` shows about one registered plugin."""

    name: str
    distribution: str
    version: str
    kinds: list[KindSpec] = field(default_factory=list)
    mixins: list[MixinSpec] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
    #: e.g. that another distribution provides one of its kinds instead
    notes: list[str] = field(default_factory=list)
