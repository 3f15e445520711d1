"""Injecting faults into puts through the store's public hooks, for conformance tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from omegacore import OmegaStore, hookimpl


class InjectedFault(RuntimeError):
    """The failure ``fail_before_commit`` injects."""


class _FailBeforeCommit:
    def __init__(self, names: set[str] | None):
        self.names = names

    @hookimpl
    def omega_before_commit(self, store: Any, meta: Any, name: str, kind: str) -> None:
        if self.names is None or name in self.names:
            raise InjectedFault(f"injected failure before the metadata switch of {name!r}")


@contextmanager
def fail_before_commit(store: OmegaStore, *names: str) -> Iterator[None]:
    """Make puts of ``names`` (all puts if none given) fail after writing their data.

    The fault is raised from ``omega_before_commit``, so a put writes everything and then
    fails just before its metadata would switch: the store must remove what it wrote and
    leave the previous object unchanged. The put raises ``omegacore.errors.PluginHookError``
    (a plugin's hook failed) with the ``InjectedFault`` as its cause.
    """
    plugin = _FailBeforeCommit(set(names) or None)
    registered = store.plugins.register(plugin, name=f"omegacore-testing-fault-{id(plugin)}")
    try:
        yield
    finally:
        store.plugins.unregister(registered)
