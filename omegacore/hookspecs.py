"""The hooks an omegacore plugin can implement.

A plugin is a module (or object) registered under the entry point group
``omegacore.plugins``. It implements any of the hooks below, marked with
``omegacore.hookimpl``; a function named ``omega_*`` that is no hook below (a misspelt
``omega_kind``) makes the plugin fail to load. docs/hooks.md documents the same hooks;
a test keeps the two in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from omegacore.documents import MetadataBase
    from omegacore.names import NameRef
    from omegacore.specs import FileFormat, KindSpec, MixinSpec
    from omegacore.store import OmegaStore

hookspec = pluggy.HookspecMarker("omegacore")
hookimpl = pluggy.HookimplMarker("omegacore")


@hookspec
def omega_kinds() -> list[KindSpec]:
    """Declare the data kinds this plugin provides.

    Return a list of ``omegacore.KindSpec``. Called once when a store's plugins are loaded;
    must not import heavy libraries (backends are imported on first use). Each record is
    validated (kind name, import path, type names, priority, ``selected_by``): a malformed
    record, a hook that raises or returns no list is recorded as a load error of this
    plugin and left out; the plugin's other records and other plugins stay. A kind claimed
    by two distributions is disabled until one is uninstalled, ``OMEGA_PLUGINS_PREFER``
    names the winner, or one declares ``KindSpec.replaces``.
    """


@hookspec
def omega_mixins() -> list[MixinSpec]:
    """Declare the store mixins this plugin provides.

    Return a list of ``omegacore.MixinSpec``. Mixins are composed into the store class,
    ordered by ``MixinSpec.order``, and must cooperate through ``super()``. A mixin is
    composed only into the stores it applies to: ``MixinSpec(..., prefixes=("models/",))``
    limits it to stores of these prefixes, ``applies_to="package.module:function"`` to the
    stores for which ``function(store)`` returns True (both may be given). A mixin that
    does not import, or whose ``applies_to`` fails, is recorded as a load error and left
    out; the store still opens.
    """


@hookspec
def omega_mdf_mixins() -> list[MixinSpec]:
    """Declare mixins of lazy frames (``MDataFrame``, what ``store.getl`` returns).

    Return a list of ``omegacore.MixinSpec``. They are composed in front of the lazy frame
    and lazy Series classes of the plugin that provides lazy frames (``omegacore-pandas``),
    ordered by ``MixinSpec.order``, for the stores they apply to (``prefixes``,
    ``applies_to``), exactly as store mixins are; every lazy frame derived from one
    (filtered, projected, sorted) keeps them. A mixin that does not import or cannot be
    composed is recorded as a load error and left out; lazy frames still work.
    """


@hookspec
def omega_file_formats() -> list[FileFormat]:
    """Declare the file forms of this plugin's kinds, for ``omegacore put`` and ``get``.

    Return a list of ``omegacore.FileFormat``: file name extensions, the kind that
    ``put`` stores, and reader and writer functions as import paths (imported only when
    a file of that format is read or written). Two formats claiming one extension for
    reading is an error that names both distributions.
    """


@hookspec(firstresult=True)
def omega_select_kind(obj: Any, name: str, kwargs: dict[str, Any]) -> str | None:
    """Name the kind that should store ``obj`` under ``name``; stops at first non-None result.

    ``kwargs`` are the keyword arguments given to ``put``, without the keywords that choose
    a kind (``KindSpec.selected_by``): when one of them is given, that kind is chosen and
    this hook is not called. The core answers this hook once per registered kind, asking
    kinds in order of ``KindSpec.priority`` (highest first, ties by kind name) whether their
    backend ``supports`` the object. A plugin that wants to override that choice implements
    it with ``tryfirst=True``. A backend that does not import, a ``supports`` or an
    implementation of this hook that raises is recorded as a load error naming the plugin
    and skipped; the put fails only if no other kind takes the object.
    """


@hookspec(firstresult=True)
def omega_resolve_name(store: OmegaStore, name: str) -> NameRef | None:
    """Parse a name in this plugin's syntax; stops at first non-None result.

    Return an ``omegacore.names.NameRef`` naming the object ``name`` refers to (e.g.
    ``"sales"`` for ``"sales[a,b]"``) and how reading it differs (``prepare``, ``finish``,
    ``lazy``), or None if ``name`` is not in this plugin's syntax. Must not touch the
    database: the store reads the metadata once, after every plugin has resolved the name.
    """


@hookspec
def omega_cli_commands(subparsers: Any) -> None:
    """Add sub-commands to the ``omegacore`` command line.

    ``subparsers`` is argparse's sub-parser action: call ``subparsers.add_parser(...)`` and
    ``set_defaults(func=run)`` where ``run(args, store) -> int`` returns the exit code.
    """


@hookspec
def omega_before_put(
    store: OmegaStore, obj: Any, name: str, kind: str, kwargs: dict[str, Any]
) -> None:
    """Called before a backend stores ``obj``; may raise to refuse the put.

    Suited to validation, auditing and quotas. ``kwargs`` may be changed in place. The
    store calls this hook (and the two below) through ``PluginRegistry.call_hook``: an
    exception of an implementation reaches the caller as ``omegacore.errors.PluginHookError``
    naming the plugin and distribution, with the exception chained.
    """


@hookspec
def omega_before_commit(store: OmegaStore, meta: MetadataBase, name: str, kind: str) -> None:
    """Called when a put has written its data, just before its metadata switches to it.

    ``meta`` is the metadata about to be committed. Raising aborts the put: what it wrote
    is removed and the previous object of ``name`` stays as it was. Suited to checks that
    need the written object (sizes, quotas) and to injecting faults in tests.
    """


@hookspec
def omega_after_put(store: OmegaStore, meta: MetadataBase, name: str, kind: str) -> None:
    """Called after an object was stored under ``name`` and its metadata ``meta`` committed."""


@hookspec
def omega_after_drop(store: OmegaStore, name: str, meta: MetadataBase) -> None:
    """Called after the object ``name`` (whose former metadata is ``meta``) was dropped."""
