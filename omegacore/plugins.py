"""The plugin manager: entry-point discovery, kind and mixin registries, backend choice.

Every plugin, built in or third party, goes through the same path: an entry point in
the group ``omegacore.plugins`` names a module implementing hooks from
``omegacore.hookspecs``. Each store owns a ``PluginRegistry`` (there is no global
manager), so tests and applications can register throwaway plugins and remove them.
"""

from __future__ import annotations

import functools
import logging
import traceback
import warnings
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import importlib_metadata
import pluggy

from omegacore import hookspecs, settings
from omegacore.errors import PluginConflict, PluginLoadError
from omegacore.hookspecs import hookimpl
from omegacore.specs import FileFormat, KindSpec, LoadError, MixinSpec, PluginInfo

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "omegacore.plugins"
_SELECTOR_PREFIX = "omegacore.select:"
_RUNTIME_DIST = "<runtime>"


@functools.lru_cache(maxsize=1)
def _discovered() -> tuple[tuple[str, str, str, Any, LoadError | None], ...]:
    """Load every entry point once per process: (name, dist, version, plugin, error)."""
    found: list[tuple[str, str, str, Any, LoadError | None]] = []
    eps = importlib_metadata.entry_points(group=ENTRY_POINT_GROUP)
    for ep in sorted(eps, key=lambda ep: (ep.name, ep.value)):
        dist = ep.dist.name if ep.dist is not None else "(unknown)"
        version = ep.dist.version if ep.dist is not None else ""
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must not break the store
            error = LoadError(ep.name, dist, f"{type(exc).__name__}: {exc}")
            log.debug("plugin %s failed to load:\n%s", ep.name, traceback.format_exc())
            found.append((ep.name, dist, version, None, error))
        else:
            found.append((ep.name, dist, version, plugin, None))
    return tuple(found)


def refresh_entry_points() -> None:
    """Forget discovered entry points, e.g. after installing a plugin in a running process."""
    _discovered.cache_clear()


class _KindSelector:
    """Answers ``omega_select_kind`` for one kind by asking its backend's ``supports``."""

    def __init__(self, spec: KindSpec):
        self.spec = spec

    @hookimpl
    def omega_select_kind(self, obj: Any, name: str, kwargs: dict[str, Any]) -> str | None:
        if not self.spec.may_support(obj):
            return None
        backend: Any = self.spec.load()
        return self.spec.kind if backend.supports(obj, name, **kwargs) else None


class _RuntimePlugin:
    """Holds kinds and mixins registered through ``register_backend`` / ``register_mixin``."""

    def __init__(self, kinds: list[KindSpec] | None = None, mixins: list[MixinSpec] | None = None):
        self.kinds = kinds or []
        self.mixins = mixins or []

    @hookimpl
    def omega_kinds(self) -> list[KindSpec]:
        return self.kinds

    @hookimpl
    def omega_mixins(self) -> list[MixinSpec]:
        return self.mixins


class PluginRegistry:
    """One pluggy plugin manager plus the kinds and mixins its plugins declare."""

    def __init__(self, load_entry_points: bool = True):
        self.pm = pluggy.PluginManager("omegacore")
        self.pm.add_hookspecs(hookspecs)
        self.load_errors: list[LoadError] = []
        self._origin: dict[str, tuple[str, str]] = {}
        self._kinds: dict[str, KindSpec] | None = None
        self._selectors_for: tuple[KindSpec, ...] = ()
        self._runtime_count = 0
        if load_entry_points:
            self.load_entry_points()

    # -- registration -------------------------------------------------------------------
    def load_entry_points(self) -> None:
        """Register every installed plugin; broken ones become load errors and warnings."""
        for name, dist, version, plugin, error in _discovered():
            if error is not None:
                self._record_error(error)
                continue
            if self.pm.has_plugin(name):
                continue
            self.register(plugin, name=name, distribution=dist, version=version)
        self.pm.check_pending()

    def _record_error(self, error: LoadError) -> None:
        self.load_errors.append(error)
        message = (
            f"omegacore plugin {error.plugin!r} from distribution {error.distribution!r} "
            f"could not be loaded and is skipped: {error.error}. Reinstall or upgrade it, "
            "or uninstall it to silence this warning."
        )
        if settings.plugins_strict():
            raise PluginLoadError(message + " (fatal because OMEGA_PLUGINS_STRICT is set)")
        warnings.warn(message, RuntimeWarning, stacklevel=3)

    def register(
        self, plugin: Any, name: str | None = None, distribution: str = "", version: str = ""
    ) -> str:
        """Register a plugin module or object; returns the name it is registered under."""
        registered = self.pm.register(plugin, name=name)
        if registered is None:
            raise PluginConflict(f"plugin {name!r} is already registered or blocked")
        self._origin[registered] = (distribution or registered, version)
        self._kinds = None
        return registered

    def unregister(self, name: str) -> None:
        """Remove a plugin by the name it was registered under."""
        self.pm.unregister(name=name)
        self._origin.pop(name, None)
        self._kinds = None

    def register_runtime(
        self, kinds: list[KindSpec] | None = None, mixins: list[MixinSpec] | None = None
    ) -> str:
        """Register kinds or mixins given at run time (``register_backend``/``register_mixin``)."""
        self._runtime_count += 1
        name = f"omegacore.runtime:{self._runtime_count}"
        kinds = [replace(k, distribution=_RUNTIME_DIST) for k in kinds or []]
        mixins = [replace(m, distribution=_RUNTIME_DIST) for m in mixins or []]
        return self.register(_RuntimePlugin(kinds, mixins), name=name, distribution=_RUNTIME_DIST)

    def _plugins(self) -> Iterable[tuple[str, Any]]:
        for name, plugin in self.pm.list_name_plugin():
            if not name.startswith(_SELECTOR_PREFIX):
                yield name, plugin

    def _call_each(self, hook_name: str) -> list[tuple[str, list[Any]]]:
        """Call a registration hook on each plugin separately, to know who returned what."""
        results = []
        for name, plugin in self._plugins():
            impl = getattr(plugin, hook_name, None)
            if impl is None or self.pm.parse_hookimpl_opts(plugin, hook_name) is None:
                continue
            results.append((name, list(impl() or [])))
        return results

    # -- kinds ----------------------------------------------------------------------------
    def kinds(self) -> dict[str, KindSpec]:
        """Every registered kind by name; two distributions claiming one kind is an error."""
        if self._kinds is not None:
            return self._kinds
        kinds: dict[str, KindSpec] = {}
        for plugin_name, specs in self._call_each("omega_kinds"):
            dist = self._origin.get(plugin_name, (plugin_name, ""))[0]
            for spec in specs:
                spec = spec if spec.distribution else replace(spec, distribution=dist)
                other = kinds.get(spec.kind)
                if other is not None and spec.distribution != _RUNTIME_DIST:
                    if other.distribution == _RUNTIME_DIST:
                        continue  # a run-time registration overrides the installed kind
                    raise PluginConflict(
                        f"kind {spec.kind!r} is provided by two distributions: "
                        f"{other.distribution!r} ({other.backend_path()}) and "
                        f"{spec.distribution!r} ({spec.backend_path()}); uninstall one of them"
                    )
                kinds[spec.kind] = spec
        self._kinds = dict(sorted(kinds.items()))
        return self._kinds

    def kind(self, kind: str) -> KindSpec | None:
        return self.kinds().get(kind)

    def _sync_selectors(self) -> None:
        """Register one selector per kind so that pluggy asks them in priority order.

        pluggy calls implementations last-registered-first, so registering lowest priority
        first makes ``omega_select_kind`` ask the highest priority first, deterministically.
        """
        ordered = tuple(sorted(self.kinds().values(), key=lambda s: (s.priority, _desc(s.kind))))
        if ordered == self._selectors_for:
            return
        for name, _ in list(self.pm.list_name_plugin()):
            if name.startswith(_SELECTOR_PREFIX):
                self.pm.unregister(name=name)
        for spec in ordered:
            self.pm.register(_KindSelector(spec), name=_SELECTOR_PREFIX + spec.kind)
        self._selectors_for = ordered

    def select_kind(self, obj: Any, name: str, kwargs: dict[str, Any]) -> str | None:
        """The kind that should store ``obj``: first non-None answer of ``omega_select_kind``."""
        self._sync_selectors()
        result: str | None = self.pm.hook.omega_select_kind(obj=obj, name=name, kwargs=kwargs)
        return result

    # -- mixins ---------------------------------------------------------------------------
    def mixins(self) -> list[MixinSpec]:
        """Every registered mixin, in composition order (``order``, then import path)."""
        specs: dict[str, MixinSpec] = {}
        for plugin_name, found in self._call_each("omega_mixins"):
            dist = self._origin.get(plugin_name, (plugin_name, ""))[0]
            for spec in found:
                specs.setdefault(spec.path(), spec if spec.distribution else replace(
                    spec, distribution=dist))
        return sorted(specs.values(), key=lambda m: (m.order, m.path()))

    # -- file formats ---------------------------------------------------------------------
    def file_formats(self) -> list[FileFormat]:
        """Every declared file format (``omegacore put``/``get``), by distribution then kind.

        Two distributions whose formats read the same extension is an error naming both:
        ``put`` could not know which kind to store the file as.
        """
        formats: list[FileFormat] = []
        readers: dict[str, FileFormat] = {}
        for plugin_name, found in self._call_each("omega_file_formats"):
            dist = self._origin.get(plugin_name, (plugin_name, ""))[0]
            for fmt in found:
                fmt = fmt if fmt.distribution else replace(fmt, distribution=dist)
                if fmt.reader is not None:
                    for ext in fmt.extensions:
                        other = readers.setdefault(ext, fmt)
                        if other is not fmt and other.distribution != fmt.distribution:
                            raise PluginConflict(
                                f"files ending in {ext!r} are read by two distributions: "
                                f"{other.distribution!r} (kind {other.kind}) and "
                                f"{fmt.distribution!r} (kind {fmt.kind}); uninstall one of them"
                            )
                formats.append(fmt)
        return formats

    # -- listing --------------------------------------------------------------------------
    def info(self) -> list[PluginInfo]:
        """One record per registered plugin: distribution, version, kinds, mixins, hooks."""
        kinds = self.kinds()
        mixins = self.mixins()
        infos = []
        for name, plugin in self._plugins():
            dist, version = self._origin.get(name, (name, ""))
            hooks = sorted(
                h.name for h in self.pm.get_hookcallers(plugin) or [] if h.name.startswith("omega_")
            )
            infos.append(PluginInfo(
                name=name,
                distribution=dist,
                version=version,
                kinds=[k for k in kinds.values() if k.distribution == dist],
                mixins=[m for m in mixins if m.distribution == dist],
                hooks=hooks,
            ))
        return sorted(infos, key=lambda i: i.name)


#: distributions providing the kinds of the reference API, for "install X" hints
KNOWN_DISTRIBUTIONS = {
    "pandas.dfrows": "omegacore-pandas-dfrows",
    "pandas.dfgroup": "omegacore-pandas-dfgroup",
    "pandas.hdf": "omegacore-pandas-hdf",
    "ndarray.bin": "omegacore-ndarray",
    "python.data": "omegacore-python-data",
    "sklearn.joblib": "omegacore-sklearn",
}
#: which distribution usually stores objects from which top-level module
_BY_MODULE = {
    "pandas": "omegacore-pandas-dfrows",
    "numpy": "omegacore-ndarray",
    "sklearn": "omegacore-sklearn",
    "builtins": "omegacore-python-data",
}


def suggest_distribution(kind_or_obj: Any) -> str:
    """The distribution to install for a kind name, or for an object nobody can store."""
    if isinstance(kind_or_obj, str):
        return KNOWN_DISTRIBUTIONS.get(
            kind_or_obj, f"the distribution that provides kind {kind_or_obj!r}"
        )
    for cls in type(kind_or_obj).__mro__:
        top = cls.__module__.split(".", 1)[0]
        if top in _BY_MODULE and cls is not object:
            return _BY_MODULE[top]
    return ""


def _desc(text: str) -> tuple[int, ...]:
    """Sort key that orders strings in reverse (ties registered so that 'a' is asked first)."""
    return tuple(-ord(c) for c in text) + (1,)
