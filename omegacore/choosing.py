"""Choosing the kind that stores an object: keywords first, then ``omega_select_kind``.

``KindChooser`` belongs to one ``PluginRegistry``. Keywords a kind declares in
``KindSpec.selected_by`` decide first; otherwise one selector per kind answers
``omega_select_kind`` in priority order by asking its backend's ``supports``. A backend
that does not import, a ``supports`` or a selection hook that raises is recorded as a load
error of its plugin and skipped, and the object goes to the next kind that takes it.
"""

from __future__ import annotations

import inspect
import logging
import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from omegacore.errors import KindChoiceError, NoKindForObject, PluginError
from omegacore.hookspecs import hookimpl
from omegacore.specs import KindSpec, LoadError

if TYPE_CHECKING:
    from omegacore.plugins import PluginRegistry

log = logging.getLogger(__name__)

#: names under which the per-kind selectors are registered in the plugin manager
SELECTOR_PREFIX = "omegacore.select:"


class _KindSelector:
    """Answers ``omega_select_kind`` for one kind by asking its backend's ``supports``."""

    def __init__(self, spec: KindSpec, chooser: KindChooser):
        self.spec = spec
        self.chooser = chooser

    @hookimpl
    def omega_select_kind(self, obj: Any, name: str, kwargs: dict[str, Any]) -> str | None:
        return self.spec.kind if self.chooser.supports(self.spec, obj, name, kwargs) else None


class KindChooser:
    """The kind choice of one registry (see ``PluginRegistry.choose_kind``)."""

    def __init__(self, registry: PluginRegistry):
        self.registry = registry
        self._lock = threading.Lock()
        self._local = threading.local()
        self._selectors_for: tuple[KindSpec, ...] = ()

    def choose(self, obj: Any, name: str, kind: str | None, kwargs: dict[str, Any]
               ) -> tuple[str, dict[str, Any]]:
        """The kind that stores ``obj`` and the keywords its backend gets."""
        collected = self.registry._collect()
        chosen: dict[str, list[str]] = {}
        backend_kwargs: dict[str, Any] = {}
        for key, value in kwargs.items():
            owner = collected.selectors.get(key)
            if owner is None and key not in collected.ambiguous:
                backend_kwargs[key] = value
                continue
            if value is None or value is False:
                continue  # "not given": no backend sees another kind's keyword
            if owner is None:
                raise KindChoiceError(
                    f"{key}={value!r} would choose a kind, but kinds "
                    f"{' and '.join(collected.ambiguous[key])} both declare {key!r}; "
                    "pass kind=... instead")
            chosen.setdefault(owner, []).append(key)
            backend_kwargs[key] = value
        if len(chosen) > 1:
            said = "; ".join(f"{', '.join(f'{k}={kwargs[k]!r}' for k in keys)} chooses {owner!r}"
                             for owner, keys in chosen.items())
            raise KindChoiceError(f"these keywords choose different kinds: {said}. Pass the "
                                  "keywords of one kind only")
        if chosen:
            selected, keys = next(iter(chosen.items()))
            given = f"{keys[0]}={kwargs[keys[0]]!r}"
            if kind is not None and kind != selected:
                raise KindChoiceError(f"{given} chooses kind {selected!r}, but kind={kind!r} "
                                      "was given: drop one of them")
            if kind is None:
                spec = collected.kinds[selected]
                takes, failures = self._asking(
                    lambda: self.supports(spec, obj, name, backend_kwargs))
                if not takes:
                    raise NoKindForObject(
                        f"{given} chooses kind {selected!r} ({spec.distribution}), which does "
                        f"not store {type_name(obj)}.{_failed(failures)}")
            return selected, backend_kwargs
        if kind is not None:
            return kind, backend_kwargs
        found, failures = self._asking(lambda: self._select(obj, name, backend_kwargs))
        if found is None:
            raise NoKindForObject(self.unsupported_message(obj, failures))
        return found, backend_kwargs

    def supports(self, spec: KindSpec, obj: Any, name: str, kwargs: dict[str, Any]) -> bool:
        """Whether ``spec``'s backend takes ``obj``; a backend that fails is recorded, not fatal."""
        if not spec.may_support(obj):
            return False
        plugin = self.registry._collect().plugin_of.get(spec.kind, spec.distribution)
        try:
            backend: Any = spec.load()
        except Exception as exc:
            self._fail(LoadError(plugin, spec.distribution, str(exc), "backend"), exc)
            return False
        try:
            return bool(backend.supports(obj, name, **kwargs))
        except Exception as exc:
            self._fail(LoadError(
                plugin, spec.distribution,
                f"kind {spec.kind!r}: {spec.backend_path()}.supports() raised "
                f"{type(exc).__name__}: {exc}", "supports"), exc)
            return False

    def unsupported_message(self, obj: Any, failures: list[LoadError] | None = None) -> str:
        """Why no kind stores ``obj``: installed kinds, plugins that failed, what to install."""
        collected = self.registry._collect()
        kinds = collected.kinds
        installed = ", ".join(f"{k} ({s.distribution})" for k, s in kinds.items()) or "none"
        message = (f"no installed kind stores objects of type {type_name(obj)}. "
                   f"Installed kinds: {installed}.")
        message += _failed(failures or [])
        for why in collected.unavailable.values():
            message += f" Disabled: {why}."
        hint = "" if isinstance(obj, str) else suggest_distribution(obj)
        if hint and not any(s.distribution == hint for s in kinds.values()):
            message += f" Install {hint} to store it."
        else:
            message += " Pass kind=... to choose one, or convert the object."
        return message

    # -- asking the plugins -------------------------------------------------------------------
    def _asking(self, ask: Callable[[], Any]) -> tuple[Any, list[LoadError]]:
        """Run ``ask()`` collecting the plugin failures it meets (for the error message)."""
        previous = getattr(self._local, "failures", None)
        failures: list[LoadError] = []
        self._local.failures = failures
        try:
            return ask(), failures
        finally:
            self._local.failures = previous

    def _fail(self, error: LoadError, exc: BaseException) -> None:
        log.debug("%s\n%s", error.error, traceback.format_exc())
        failures = getattr(self._local, "failures", None)
        if failures is not None:
            failures.append(error)
        self.registry._record(error, exc)

    def _select(self, obj: Any, name: str, kwargs: dict[str, Any]) -> str | None:
        """First non-None answer of ``omega_select_kind``; a plugin whose hook raises is skipped."""
        self._sync_selectors()
        pm = self.registry.pm
        caller: Any = pm.hook.omega_select_kind
        removed: list[Any] = []
        while True:
            try:
                result: str | None = caller(obj=obj, name=name, kwargs=kwargs)
                return result
            except PluginError:
                raise
            except Exception as exc:
                plugin = culprit(exc, caller)
                if plugin is None:
                    raise
                self._fail(LoadError(
                    plugin, self.registry.distribution_of(plugin),
                    f"omega_select_kind() raised {type(exc).__name__}: {exc}",
                    "omega_select_kind"), exc)
                removed.append(pm.get_plugin(plugin))
                caller = pm.subset_hook_caller("omega_select_kind", remove_plugins=removed)

    def _sync_selectors(self) -> None:
        """Register one selector per kind so that pluggy asks them in priority order.

        pluggy calls implementations last-registered-first, so registering lowest priority
        first makes ``omega_select_kind`` ask the highest priority first, deterministically.
        """
        pm = self.registry.pm
        with self._lock:
            ordered = tuple(sorted(self.registry.kinds().values(),
                                   key=lambda s: (s.priority, _desc(s.kind))))
            if ordered == self._selectors_for:
                return
            for name, _ in list(pm.list_name_plugin()):
                if name.startswith(SELECTOR_PREFIX):
                    pm.unregister(name=name)
            for spec in ordered:
                pm.register(_KindSelector(spec, self), name=SELECTOR_PREFIX + spec.kind)
            self._selectors_for = ordered


def culprit(exc: BaseException, caller: Any) -> str | None:
    """The plugin whose implementation of a hook raised ``exc`` (from the traceback), or None.

    pluggy raises what an implementation raised without saying which one; the frame whose
    code object is an implementation's function tells.
    """
    codes = {}
    for impl in caller.get_hookimpls():
        func = inspect.unwrap(impl.function)
        func = getattr(func, "__func__", func)
        code = getattr(func, "__code__", None)
        if code is not None:
            codes[code] = impl.plugin_name
    tb = exc.__traceback__
    while tb is not None:
        found = codes.get(tb.tb_frame.f_code)
        if found is not None:
            return found
        tb = tb.tb_next
    return None


def _failed(failures: list[LoadError]) -> str:
    if not failures:
        return ""
    return " Plugins that failed while asked: " + "; ".join(
        f"{e.distribution} ({e.plugin}): {e.error}" for e in failures) + "."


def type_name(obj: Any) -> str:
    """``module.Qualname`` of the object's type, as error messages show it."""
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _desc(text: str) -> tuple[int, ...]:
    """Sort key that orders strings in reverse (ties registered so that 'a' is asked first)."""
    return tuple(-ord(c) for c in text) + (1,)


#: distributions providing the kinds of the reference API, for "install X" hints
KNOWN_DISTRIBUTIONS = {
    "pandas.dfrows": "omegacore-pandas-dfrows",
    "pandas.dfgroup": "omegacore-pandas-dfgroup",
    "pandas.hdf": "omegacore-pandas-hdf",
    "ndarray.bin": "omegacore-ndarray",
    "python.data": "omegacore-python-data",
    "sklearn.joblib": "omegacore-sklearn",
    "pandas.rawdict": "omegacore-pandas-rawdict",
    "python.file": "omegacore-python-file",
    "python.model": "omegacore-python-model",
    "pandas.parquet": "omegacore-pandas-parquet",
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
