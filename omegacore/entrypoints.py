"""Finding installed plugins (entry points) and importing them, once per process.

Finding and importing are separate, so a plugin switched off with
``OMEGA_PLUGINS_DISABLE`` is never imported, and a plugin whose import fails is tried
once per process, not once per store.
"""

from __future__ import annotations

import functools
import logging
import threading
import traceback
from dataclasses import dataclass
from typing import Any

import importlib_metadata

from omegacore import specs

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "omegacore.plugins"


@dataclass(frozen=True)
class Found:
    """An installed entry point, not yet imported."""

    name: str
    distribution: str
    version: str
    entry_point: Any


@functools.lru_cache(maxsize=1)
def entry_points() -> tuple[Found, ...]:
    """Every entry point of the group, sorted by name (nothing imported)."""
    eps = importlib_metadata.entry_points(group=ENTRY_POINT_GROUP)
    found = []
    for ep in sorted(eps, key=lambda ep: (ep.name, ep.value)):
        dist = ep.dist.name if ep.dist is not None else "(unknown)"
        version = ep.dist.version if ep.dist is not None else ""
        found.append(Found(ep.name, dist, version, ep))
    return tuple(found)


_imported: dict[tuple[str, str], tuple[Any, str | None]] = {}
_imported_lock = threading.Lock()


def import_plugin(found: Found) -> tuple[Any, str | None]:
    """The entry point's object, imported once per process: (plugin, None) or (None, error)."""
    key = (found.name, found.entry_point.value)
    with _imported_lock:
        if key not in _imported:
            try:
                _imported[key] = (found.entry_point.load(), None)
            except (Exception, SystemExit) as exc:  # a broken plugin must not break the store
                log.debug("plugin %s failed to import:\n%s", found.name, traceback.format_exc())
                _imported[key] = (None, f"{type(exc).__name__}: {exc}")
        return _imported[key]


def refresh_entry_points() -> None:
    """Forget discovered entry points, e.g. after installing a plugin in a running process."""
    entry_points.cache_clear()
    with _imported_lock:
        _imported.clear()
    specs.forget_installed()
