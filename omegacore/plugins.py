"""The plugin manager: registration, validation, kind and mixin registries, hook calls.

Every plugin, built in or third party, goes through the same path: an entry point in
the group ``omegacore.plugins`` names a module implementing hooks from
``omegacore.hookspecs``. Each store owns a ``PluginRegistry`` (there is no global
manager), so tests and applications can register throwaway plugins and remove them.

A plugin can never break the store: whatever fails in it (its import, a misspelt hook,
a registration hook that raises, a malformed record, a backend or mixin path that does
not import, a ``supports`` that raises, two distributions claiming one kind) is recorded
as a ``LoadError`` naming plugin and distribution, shown by ``omegacore plugins``, warned
about once, and only that plugin (or kind) is left out. ``OMEGA_PLUGINS_STRICT=1`` makes
every such failure raise ``PluginLoadError`` instead.
"""

from __future__ import annotations

import difflib
import functools
import logging
import threading
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy

from omegacore import hookspecs, settings, specs
from omegacore.choosing import SELECTOR_PREFIX, KindChooser, culprit, suggest_distribution
from omegacore.entrypoints import (
    ENTRY_POINT_GROUP,
    entry_points,
    import_plugin,
    refresh_entry_points,
)
from omegacore.errors import (
    InvalidPluginRecord,
    NoKindForObject,
    PluginConflict,
    PluginError,
    PluginHookError,
    PluginLoadError,
    warn,
)
from omegacore.hookspecs import hookimpl
from omegacore.specs import (
    CheckResult,
    DisabledPlugin,
    FileFormat,
    KindSpec,
    LoadError,
    MixinSpec,
    PluginInfo,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginRegistry",
    "refresh_entry_points",
    "suggest_distribution",
]

log = logging.getLogger(__name__)

#: hooks that return MixinSpec records: omega_mixins (store mixins) and any other
#: ``omega_*_mixins`` hook (e.g. mixins of other classes), validated and loaded alike
MIXIN_HOOKS = tuple(sorted(
    n for n in dir(hookspecs) if n.startswith("omega_") and n.endswith("_mixins")))
_RUNTIME_PREFIX = "omegacore.runtime:"
_RUNTIME_DIST = "<runtime>"


# -- what a registry knows after asking its plugins -----------------------------------------------
@dataclass
class _Collected:
    """The kinds and mixins the registered plugins declared, and what went wrong."""

    kinds: dict[str, KindSpec] = field(default_factory=dict)
    plugin_of: dict[str, str] = field(default_factory=dict)  # kind -> plugin
    mixins: dict[str, list[MixinSpec]] = field(default_factory=dict)  # hook -> records
    mixin_plugin: dict[tuple[str, str], str] = field(default_factory=dict)  # (hook, path)
    selectors: dict[str, str] = field(default_factory=dict)  # put keyword -> kind
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # keyword -> kinds
    unavailable: dict[str, str] = field(default_factory=dict)  # kind -> why
    notes: dict[str, list[str]] = field(default_factory=dict)  # distribution -> lines
    errors: list[LoadError] = field(default_factory=list)
    warnings: list[LoadError] = field(default_factory=list)


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
        self.disabled: list[DisabledPlugin] = []
        self._origin: dict[str, tuple[str, str]] = {}
        self._errors: list[LoadError] = []  # import, registration and use; kept
        self._warnings: list[LoadError] = []
        self._reported: set[LoadError] = set()
        self._collected: _Collected | None = None
        self._lock = threading.RLock()
        self._chooser = KindChooser(self)
        self._runtime_count = 0
        if load_entry_points:
            self.load_entry_points()

    # -- registration -------------------------------------------------------------------
    def load_entry_points(self) -> None:
        """Register every installed plugin not switched off; broken ones become load errors.

        ``OMEGA_PLUGINS_DISABLE`` names entry points or distributions to leave out; they
        are not even imported.
        """
        switched_off = set(settings.plugins_disabled())
        matched: set[str] = set()
        found = entry_points()
        for entry in found:
            hit = {entry.name, entry.distribution} & switched_off
            if hit:
                matched |= hit
                self.pm.set_blocked(entry.name)
                self.disabled.append(DisabledPlugin(
                    entry.name, entry.distribution,
                    f"OMEGA_PLUGINS_DISABLE names {', '.join(sorted(hit))}"))
                continue
            if self.pm.has_plugin(entry.name) or self.pm.is_blocked(entry.name):
                continue
            plugin, error = import_plugin(entry)
            if error is not None:
                self._record(LoadError(entry.name, entry.distribution, error, "import"))
                continue
            try:
                self.register(plugin, name=entry.name, distribution=entry.distribution,
                              version=entry.version)
            except (PluginLoadError, KeyboardInterrupt):
                raise
            except Exception as exc:
                self._record(LoadError(entry.name, entry.distribution,
                                       f"{type(exc).__name__}: {exc}", "register"), exc)
        known = sorted({e.name for e in found} | {e.distribution for e in found})
        for name in sorted(switched_off - matched):
            self._record(LoadError(
                name, "", f"OMEGA_PLUGINS_DISABLE names {name!r}, which is no installed plugin "
                f"or distribution (installed: {', '.join(known) or 'none'})", "disabled"),
                warning=True)

    def register(
        self, plugin: Any, name: str | None = None, distribution: str = "", version: str = ""
    ) -> str:
        """Register a plugin module or object; returns the name it is registered under.

        Raises PluginConflict if the name is taken or switched off, and pluggy's
        ``PluginValidationError`` if a hook has arguments its specification lacks or a
        hook of that name does not exist (a misspelt ``omega_kind``).
        """
        try:
            registered = self.pm.register(plugin, name=name)
        except ValueError as exc:
            raise PluginConflict(f"plugin {name!r} cannot be registered: {exc}") from exc
        if registered is None:
            raise PluginConflict(
                f"plugin {name!r} is switched off (OMEGA_PLUGINS_DISABLE) and cannot be registered"
            )
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=registered)
            raise pluggy.PluginValidationError(exc.plugin, self._unknown_hooks(plugin)) from exc
        self._origin[registered] = (distribution or registered, version)
        self._collected = None
        return registered

    def _unknown_hooks(self, plugin: Any) -> str:
        """Why pluggy's ``check_pending`` refused ``plugin``: its hooks without specification."""
        known = sorted(n for n in dir(hookspecs) if n.startswith("omega_"))
        unknown = []
        for hook_name in dir(plugin):
            opts = self.pm.parse_hookimpl_opts(plugin, hook_name)
            if opts is not None and hook_name not in known and not opts.get("optionalhook"):
                close = difflib.get_close_matches(hook_name, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                unknown.append(f"{hook_name!r}{hint}")
        return (f"implements unknown hook {', '.join(unknown)}; the hooks are "
                f"{', '.join(known)} (or mark an extra hook optionalhook=True)")

    def unregister(self, name: str) -> None:
        """Remove a plugin by the name it was registered under."""
        self.pm.unregister(name=name)
        self._origin.pop(name, None)
        self._collected = None

    def register_runtime(
        self, kinds: list[KindSpec] | None = None, mixins: list[MixinSpec] | None = None
    ) -> str:
        """Register kinds or mixins given at run time (``register_backend``/``register_mixin``).

        The records are validated at once: a malformed one raises InvalidPluginRecord.
        """
        checked_kinds = [_valid(k, KindSpec) for k in kinds or []]
        checked_mixins = [_valid(m, MixinSpec) for m in mixins or []]
        for spec in checked_kinds:
            if not isinstance(spec.backend, str):
                problem = specs.backend_class_problem(spec.backend, spec.kind)
                if problem:
                    raise InvalidPluginRecord(f"kind {spec.kind!r}: {problem}")
        self._runtime_count += 1
        name = f"{_RUNTIME_PREFIX}{self._runtime_count}"
        for spec in checked_kinds:
            for problem in spec.type_warnings():
                self._record(LoadError(name, _RUNTIME_DIST, f"kind {spec.kind!r}: {problem}",
                                       "types"), warning=True)
        plugin = _RuntimePlugin(
            [replace(k, distribution=_RUNTIME_DIST) for k in checked_kinds],
            [replace(m, distribution=_RUNTIME_DIST) for m in checked_mixins],
        )
        return self.register(plugin, name=name, distribution=_RUNTIME_DIST)

    def _plugins(self) -> Iterable[tuple[str, Any]]:
        for name, plugin in self.pm.list_name_plugin():
            if not name.startswith(SELECTOR_PREFIX):
                yield name, plugin

    def distribution_of(self, plugin_name: str) -> str:
        """The distribution a registered plugin came from (its own name if unknown)."""
        return self._origin.get(plugin_name, (plugin_name, ""))[0]

    # -- failures -------------------------------------------------------------------------
    @property
    def load_errors(self) -> list[LoadError]:
        """Every failure of a plugin found so far (loading, validation, conflicts, use)."""
        collected = self._collect()
        return list(dict.fromkeys([*self._errors, *collected.errors]))

    @property
    def load_warnings(self) -> list[LoadError]:
        """Findings that disable nothing (a type name that matches nothing, ...)."""
        collected = self._collect()
        return list(dict.fromkeys([*self._warnings, *collected.warnings]))

    def _record(self, error: LoadError, exc: BaseException | None = None,
                warning: bool = False, into: list[LoadError] | None = None) -> None:
        """Keep a failure (once), warn about it, or raise it in strict mode."""
        target = into if into is not None else (self._warnings if warning else self._errors)
        if error not in target:
            target.append(error)
        self._report(error, exc, warning)

    def _report(self, error: LoadError, exc: BaseException | None = None,
                warning: bool = False) -> None:
        if error in self._reported:
            return
        self._reported.add(error)
        who = f"omegacore plugin {error.plugin!r}"
        if error.distribution and error.distribution != error.plugin:
            who += f" from distribution {error.distribution!r}"
        if warning:
            warn(f"{who}: {error.error}", RuntimeWarning)
            return
        if error.stage == "conflict":
            message = f"omegacore plugins {error.plugin}: {error.error}"
        else:
            what = error.error
            if error.stage in ("import", "register"):
                what = f"could not be loaded and is skipped: {what}. Reinstall or upgrade it"
            message = f"{who}: {what} (OMEGA_PLUGINS_DISABLE={error.plugin} switches it off)"
        if settings.plugins_strict():
            raise PluginLoadError(message + " (fatal because OMEGA_PLUGINS_STRICT is set)") from exc
        warn(message, RuntimeWarning)

    # -- asking plugins -------------------------------------------------------------------
    def _call_each(self, hook_name: str, errors: list[LoadError], **kwargs: Any
                   ) -> list[tuple[str, Any]]:
        """Call every implementation of a hook separately, to know who returned what.

        Implementations are called in pluggy's order; one that raises is recorded in
        ``errors`` and left out, the others still run.
        """
        caller = getattr(self.pm.hook, hook_name)
        results = []
        for impl in reversed(caller.get_hookimpls()):
            if impl.plugin_name.startswith(SELECTOR_PREFIX):
                continue
            dist = self.distribution_of(impl.plugin_name)
            if impl.hookwrapper or impl.wrapper:
                self._record(LoadError(impl.plugin_name, dist,
                                       f"{hook_name} cannot be a wrapper", hook_name),
                             into=errors)
                continue
            try:
                result = impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as exc:
                log.debug("%s of %s raised:\n%s", hook_name, impl.plugin_name,
                          traceback.format_exc())
                self._record(LoadError(impl.plugin_name, dist,
                                       f"{hook_name}() raised {type(exc).__name__}: {exc}",
                                       hook_name), exc, into=errors)
                continue
            results.append((impl.plugin_name, result))
        return results

    def call_each(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook's implementations one by one; one that raises is recorded, not fatal.

        For hooks whose failure must not stop the caller, e.g. ``omega_cli_commands``
        (``omegacore plugins`` must run to show what is broken). Returns the results that
        are not None.
        """
        return [r for _, r in self._call_each(hook_name, self._errors, **kwargs) if r is not None]

    def call_hook(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook as pluggy does; an exception of a plugin becomes PluginHookError.

        The error names the plugin, its distribution and the hook, and chains what the
        plugin raised. The store calls ``omega_before_put``, ``omega_after_put`` and
        ``omega_after_drop`` through this.
        """
        caller = getattr(self.pm.hook, hook_name)
        try:
            result: list[Any] = caller(**kwargs)
        except PluginError:
            raise
        except Exception as exc:
            plugin = culprit(exc, caller)
            if plugin is None:
                raise
            dist = self.distribution_of(plugin)
            raise PluginHookError(
                f"{hook_name} of plugin {plugin!r} (distribution {dist!r}) raised "
                f"{type(exc).__name__}: {exc}",
                plugin=plugin, distribution=dist, hook=hook_name,
            ) from exc
        return result

    def _records(self, hook_name: str, record_type: type, collected: _Collected
                 ) -> list[tuple[str, list[Any]]]:
        """The valid records each plugin returned from a registration hook.

        A hook that raises, returns something other than a list of records, or returns a
        malformed record is recorded as an error; only the bad part is left out.
        """
        out = []
        for plugin_name, result in self._call_each(hook_name, collected.errors):
            dist = self.distribution_of(plugin_name)

            def fail(message: str, stage: str = hook_name, exc: BaseException | None = None,
                     plugin_name: str = plugin_name, dist: str = dist) -> None:
                self._record(LoadError(plugin_name, dist, message, stage), exc,
                             into=collected.errors)

            if result is None:
                continue
            if isinstance(result, (str, bytes, dict, record_type)) or not isinstance(
                    result, Iterable):
                fail(f"{hook_name}() returned {type(result).__name__}; return a list of "
                     f"{record_type.__name__}")
                continue
            try:
                items = list(result)
            except Exception as exc:  # a generator hook that raises half way
                fail(f"{hook_name}() raised {type(exc).__name__}: {exc}", exc=exc)
                continue
            records = []
            for item in items:
                if not isinstance(item, record_type):
                    fail(f"{hook_name}() returned a {type(item).__name__} where a "
                         f"{record_type.__name__} belongs: {item!r}", "record")
                    continue
                record: Any = item
                item = record.normalized()
                problems = item.problems()
                if problems:
                    fail(f"{_label(item)} is skipped: {'; '.join(problems)}", "record")
                    continue
                records.append(replace(item, distribution=dist))
            out.append((plugin_name, records))
        return out

    def _collect(self) -> _Collected:
        """Ask every plugin for its kinds and mixins (once per set of plugins)."""
        with self._lock:
            if self._collected is not None:
                return self._collected
            collected = _Collected()
            claims: dict[str, list[tuple[str, KindSpec]]] = {}
            for plugin_name, records in self._records("omega_kinds", KindSpec, collected):
                for spec in records:
                    claims.setdefault(spec.kind, []).append((plugin_name, spec))
            for kind in sorted(claims):
                winner = self._resolve(kind, claims[kind], collected)
                if winner is not None:
                    collected.plugin_of[kind], collected.kinds[kind] = winner
            self._collect_selectors(collected)
            for kind, spec in collected.kinds.items():
                for problem in spec.type_warnings():
                    self._record(LoadError(collected.plugin_of[kind], spec.distribution,
                                           f"kind {kind!r}: {problem}", "types"),
                                 warning=True, into=collected.warnings)
            for hook in MIXIN_HOOKS:
                self._collect_mixins(hook, collected)
            self._collected = collected
            return collected

    def _collect_mixins(self, hook: str, collected: _Collected) -> None:
        """The valid records of a mixin hook in composition order, each path once."""
        mixins: dict[str, MixinSpec] = {}
        for plugin_name, records in self._records(hook, MixinSpec, collected):
            for mixin in records:
                first = collected.mixin_plugin.get((hook, mixin.path()))
                if first is not None:
                    self._record(LoadError(
                        plugin_name, mixin.distribution,
                        f"mixin {mixin.path()!r} is declared again (first by {first}); "
                        "the first declaration is used", "record"),
                        warning=True, into=collected.warnings)
                    continue
                mixins[mixin.path()] = mixin
                collected.mixin_plugin[(hook, mixin.path())] = plugin_name
        collected.mixins[hook] = sorted(mixins.values(), key=lambda m: (m.order, m.path()))

    def _resolve(self, kind: str, claims: list[tuple[str, KindSpec]], collected: _Collected
                 ) -> tuple[str, KindSpec] | None:
        """Which of the plugins claiming ``kind`` provides it, or None (a conflict).

        A kind registered at run time overrides installed ones (the latest wins). Between
        installed distributions: the one ``OMEGA_PLUGINS_PREFER`` names, else the one whose
        ``KindSpec.replaces`` names all the others; else the kind is disabled.
        """
        unique: list[tuple[str, KindSpec]] = []
        for plugin_name, spec in sorted(claims, key=lambda c: (c[1].distribution, c[0])):
            if any(p == plugin_name for p, _ in unique):
                self._record(LoadError(plugin_name, spec.distribution,
                                       f"declares kind {kind!r} twice; the first is used",
                                       "record"), into=collected.errors)
                continue
            unique.append((plugin_name, spec))
        runtime = [c for c in unique if c[1].distribution == _RUNTIME_DIST]
        if runtime:
            return max(runtime, key=lambda c: int(c[0].rpartition(":")[2] or 0))
        if len(unique) == 1:
            return unique[0]
        preferred = _preferred(kind)
        chosen = [c for c in unique if c[1].distribution in preferred]
        reason = "OMEGA_PLUGINS_PREFER"
        if len(chosen) != 1:
            chosen = [c for c in unique
                      if all(o[1].distribution in c[1].replaces for o in unique if o is not c)]
            reason = "its KindSpec.replaces"
        if len(chosen) == 1:
            winner = chosen[0]
            for _, spec in unique:
                if spec is not winner[1]:
                    collected.notes.setdefault(spec.distribution, []).append(
                        f"kind {kind!r} is provided by {winner[1].distribution} instead "
                        f"({reason})")
            return winner
        described = " and ".join(f"{s.distribution} ({p}: {s.backend_path()})" for p, s in unique)
        message = (f"kind {kind!r} is claimed by {described}, so it is disabled: uninstall "
                   f"one of them, or set OMEGA_PLUGINS_PREFER={kind}=<distribution>")
        collected.unavailable[kind] = message
        self._record(LoadError(", ".join(p for p, _ in unique),
                               ", ".join(s.distribution for _, s in unique), message,
                               "conflict"), into=collected.errors)
        return None

    def _collect_selectors(self, collected: _Collected) -> None:
        """Map each ``selected_by`` keyword to its kind; one declared by two kinds is ambiguous."""
        owners: dict[str, list[str]] = {}
        for kind, spec in collected.kinds.items():
            for keyword in spec.selected_by:
                owners.setdefault(keyword, []).append(kind)
        for keyword, kinds in owners.items():
            if len(kinds) == 1:
                collected.selectors[keyword] = kinds[0]
                continue
            collected.ambiguous[keyword] = kinds
            plugins = [collected.plugin_of[k] for k in kinds]
            self._record(LoadError(
                ", ".join(plugins), ", ".join(collected.kinds[k].distribution for k in kinds),
                f"keyword {keyword!r} is declared in selected_by of kinds {', '.join(kinds)}; "
                f"put(..., {keyword}=...) is refused until one of them drops it", "conflict"),
                into=collected.errors)

    # -- kinds ----------------------------------------------------------------------------
    def kinds(self) -> dict[str, KindSpec]:
        """Every available kind by name (kinds in conflict are left out, see load_errors)."""
        return self._collect().kinds

    def kind(self, kind: str) -> KindSpec | None:
        return self.kinds().get(kind)

    def unavailable(self, kind: str) -> str | None:
        """Why an installed kind cannot be used (a conflict), or None."""
        return self._collect().unavailable.get(kind)

    def select_kind(self, obj: Any, name: str, kwargs: dict[str, Any]) -> str | None:
        """The kind that should store ``obj`` (see ``choose_kind``), or None if none does."""
        try:
            return self.choose_kind(obj, name, None, dict(kwargs))[0]
        except NoKindForObject:
            return None

    def choose_kind(self, obj: Any, name: str, kind: str | None, kwargs: dict[str, Any]
                    ) -> tuple[str, dict[str, Any]]:
        """The kind that stores ``obj`` and the keywords its backend gets (``put`` calls this).

        Keywords declared in a ``KindSpec.selected_by`` are consumed here: a value other
        than None or False chooses that kind and is passed on to its backend; None or False
        is dropped, so no backend sees another kind's keywords. Two kinds chosen at once, or
        a choice that contradicts ``kind``, raise KindChoiceError. Without a choosing
        keyword and without ``kind``, ``omega_select_kind`` decides; NoKindForObject says
        that no kind takes the object and which plugins failed while asked.
        """
        return self._chooser.choose(obj, name, kind, kwargs)

    def unsupported_message(self, obj: Any, failures: list[LoadError] | None = None) -> str:
        """Why no kind stores ``obj``: installed kinds, plugins that failed, what to install."""
        return self._chooser.unsupported_message(obj, failures)

    # -- mixins ---------------------------------------------------------------------------
    def mixins(self, store: Any = None, hook: str = "omega_mixins") -> list[MixinSpec]:
        """Every mixin registered through ``hook``, in composition order (``order``, then path).

        With ``store``, only those that apply to it (``MixinSpec.prefixes`` and
        ``applies_to``); a predicate that fails is recorded and its mixin left out.
        """
        collected = self._collect()
        records = collected.mixins.get(hook, [])
        if store is None:
            return list(records)
        out = []
        for spec in records:
            try:
                applies = spec.applies(store)
            except Exception as exc:
                message = str(exc) if isinstance(exc, PluginError) else (
                    f"applies_to {specs.object_path(spec.applies_to)!r} of mixin "
                    f"{spec.path()!r} raised {type(exc).__name__}: {exc}")
                plugin = collected.mixin_plugin.get((hook, spec.path()), spec.distribution)
                self._record(LoadError(plugin, spec.distribution, message, "applies_to"), exc)
                continue
            if applies:
                out.append(spec)
        return out

    def mixin_classes(self, store: Any = None, hook: str = "omega_mixins",
                      base: type | None = None) -> tuple[type, ...]:
        """The mixin classes to compose in front of ``base``, outermost first.

        For ``omega_mixins`` the base is the store's class. A mixin that does not import,
        is not a class, or cannot be composed with the others (an inconsistent MRO) is
        recorded and left out; the store (or ``base``) still works. Without ``store``,
        every mixin of the hook is imported (``omegacore plugins`` does this).
        """
        if base is None:
            base = getattr(store, "_base_class", type(store)) if store is not None else object
        collected = self._collect()
        classes: list[type] = []
        for spec in self.mixins(store, hook):
            plugin = collected.mixin_plugin.get((hook, spec.path()), spec.distribution)
            try:
                cls = spec.load()
            except Exception as exc:
                self._record(LoadError(plugin, spec.distribution, str(exc), "mixin"), exc)
                continue
            if cls in classes:
                continue
            problem = _composition_problem(base, (*classes, cls))
            if problem:
                self._record(LoadError(plugin, spec.distribution,
                                       f"mixin {spec.path()!r} cannot be composed with "
                                       f"{[c.__qualname__ for c in classes]}: {problem}",
                                       "mixin"))
                continue
            classes.append(cls)
        return tuple(classes)

    # -- file formats ---------------------------------------------------------------------
    def file_formats(self) -> list[FileFormat]:
        """Every declared file format (``omegacore put``/``get``), in the plugins' order.

        A hook that raises or returns something other than ``FileFormat`` records is a
        load error, and only its formats are left out. Two distributions whose formats read
        the same extension is an error naming both: ``put`` could not know which kind to
        store the file as.
        """
        formats: list[FileFormat] = []
        readers: dict[str, FileFormat] = {}
        for plugin_name, result in self._call_each("omega_file_formats", self._errors):
            dist = self.distribution_of(plugin_name)
            items = list(result or []) if isinstance(result, (list, tuple)) else [result]
            for fmt in items:
                if not isinstance(fmt, FileFormat):
                    self._record(LoadError(plugin_name, dist,
                                           f"omega_file_formats() returned {fmt!r} where a "
                                           "FileFormat belongs", "record"))
                    continue
                fmt = replace(fmt, distribution=dist)
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

    # -- listing and checking ---------------------------------------------------------------
    def info(self) -> list[PluginInfo]:
        """One record per registered plugin: distribution, version, kinds, mixins, hooks."""
        collected = self._collect()
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
                kinds=[s for k, s in collected.kinds.items() if collected.plugin_of[k] == name],
                mixins=[m for hook, records in collected.mixins.items() for m in records
                        if collected.mixin_plugin[(hook, m.path())] == name],
                hooks=hooks,
                notes=list(collected.notes.get(dist, [])),
            ))
        return sorted(infos, key=lambda i: i.name)

    def check(self) -> list[CheckResult]:
        """Import every backend, mixin and ``applies_to`` predicate, and check type names.

        What ``omegacore plugins --check`` reports; imports the plugins' libraries.
        """
        results = []
        for kind, spec in self.kinds().items():
            try:
                cls = spec.load()
                problems = spec.type_warnings(import_modules=True)
                from omegacore.backend import BaseBackend

                missing = [m for m in ("supports", "put", "get")
                           if getattr(cls, m) is getattr(BaseBackend, m)
                           or getattr(getattr(cls, m), "__func__", None)
                           is getattr(getattr(BaseBackend, m), "__func__", False)]
                if missing:
                    problems.append(f"backend does not implement {', '.join(missing)}")
                error = "; ".join(problems)
            except Exception as exc:
                error = str(exc)
            results.append(CheckResult("kind", kind, spec.distribution, spec.backend_path(),
                                       error))
        for mixin in (m for hook in MIXIN_HOOKS for m in self.mixins(hook=hook)):
            try:
                mixin.load()
                mixin.predicate()
                error = ""
            except Exception as exc:
                error = str(exc)
            results.append(CheckResult("mixin", mixin.path(), mixin.distribution, mixin.path(),
                                       error))
        return results


def _valid(record: Any, record_type: type) -> Any:
    """A run-time record, normalized, or InvalidPluginRecord saying what is wrong."""
    if not isinstance(record, record_type):
        raise InvalidPluginRecord(f"expected a {record_type.__name__}, got {record!r}")
    record = record.normalized()  # type: ignore[attr-defined]
    problems = record.problems()
    if problems:
        raise InvalidPluginRecord(f"{_label(record)} is invalid: {'; '.join(problems)}")
    return record


def _label(record: Any) -> str:
    if isinstance(record, KindSpec):
        return f"KindSpec {record.kind!r}"
    return f"MixinSpec {specs.object_path(record.mixin)!r}"


def _preferred(kind: str) -> set[str]:
    """Distributions ``OMEGA_PLUGINS_PREFER`` names for ``kind`` (``kind=dist`` over ``dist``)."""
    entries = settings.plugins_preferred()
    for_kind = {e.partition("=")[2].strip() for e in entries
                if "=" in e and e.partition("=")[0].strip() == kind}
    return for_kind or {e for e in entries if "=" not in e}


@functools.lru_cache(maxsize=256)
def _composition_problem(base: type, mixins: tuple[type, ...]) -> str | None:
    """Why ``mixins`` cannot be put in front of ``base`` (e.g. an inconsistent MRO), or None."""
    try:
        type(base.__name__, (*mixins, base), {"__module__": base.__module__})
    except TypeError as exc:
        return " ".join(str(exc).split())
    return None
