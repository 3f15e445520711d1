"""The hooks an omegacore plugin can implement.

A plugin is a module (or object) registered under the entry point group
``omegacore.plugins``. It implements any of the hooks below, marked with
``omegacore.hookimpl``. docs/hooks.md documents the same hooks; a test keeps the two
in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from omegacore.documents import MetadataBase
    from omegacore.specs import FileFormat, KindSpec, MixinSpec
    from omegacore.store import OmegaStore

hookspec = pluggy.HookspecMarker("omegacore")
hookimpl = pluggy.HookimplMarker("omegacore")


@hookspec
def omega_kinds() -> list[KindSpec]:
    """Declare the data kinds this plugin provides.

    Return a list of ``omegacore.KindSpec``. Called once when a store's plugins are loaded;
    must not import heavy libraries (backends are imported on first use).
    """


@hookspec
def omega_mixins() -> list[MixinSpec]:
    """Declare the store mixins this plugin provides.

    Return a list of ``omegacore.MixinSpec``. Mixins are composed into the store class,
    ordered by ``MixinSpec.order``, and must cooperate through ``super()``.
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

    ``kwargs`` are the keyword arguments given to ``put``. The core answers this hook once
    per registered kind, asking kinds in order of ``KindSpec.priority`` (highest first,
    ties by kind name) whether their backend ``supports`` the object. A plugin that wants
    to override that choice implements it with ``tryfirst=True``.
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

    Suited to validation, auditing and quotas. ``kwargs`` may be changed in place.
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
