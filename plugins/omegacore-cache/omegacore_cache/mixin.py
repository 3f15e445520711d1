"""``get`` answered from memory for objects that have not changed since they were read.

Objects named ``cached/...`` or put with ``attributes={"cached": True}`` (omegaml's rules)
are kept, after a read, in a process-wide LRU cache keyed by the database, bucket,
prefix, name and the metadata's ``generation``, which every put and drop changes: a
newer object is never answered from an older copy. The check costs nothing extra: it
uses the metadata document the read looks up anyway (one round trip on a hit).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from omegacore import StoreMixin
from omegacore.validation import check_flag

#: names under this prefix are cached (omegaml's rule)
CACHED_PREFIX = "cached/"
ITEMS_ENV = "OMEGA_CACHE_ITEMS"
MB_ENV = "OMEGA_CACHE_MB"


def _limit(env: str, default: int) -> int:
    raw = os.environ.get(env, str(default)).strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{env}={raw!r}: give a whole number") from None
    if value < 0:
        raise ValueError(f"{env}={raw!r}: give 0 (no caching) or a positive number")
    return value


class ObjectCache:
    """An LRU of objects bounded by count (``OMEGA_CACHE_ITEMS``, 64) and by stored size
    (``OMEGA_CACHE_MB``, 1024); thread-safe."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple[Any, ...]) -> tuple[bool, Any]:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return False, None
            self._items.move_to_end(key)
            self.hits += 1
            return True, found[0]

    def put(self, key: tuple[Any, ...], value: Any, size: int) -> None:
        items, budget = _limit(ITEMS_ENV, 64), _limit(MB_ENV, 1024) * 1024 * 1024
        if not items or size > budget:
            return
        with self._lock:
            stale = [k for k in self._items if k[:-1] == key[:-1]]  # older generations
            for k in stale:
                del self._items[k]
            self._items[key] = (value, size)
            total = sum(s for _, s in self._items.values())
            while len(self._items) > items or total > budget:
                _, (_, dropped) = self._items.popitem(last=False)
                total -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


#: the cache of this process, shared by every store
CACHE = ObjectCache()


class _Hit(Exception):
    def __init__(self, value: Any):
        self.value = value


@dataclass
class _Request:
    store: Any
    force: bool
    key: tuple[Any, ...] | None = None
    doc: dict[str, Any] | None = None


_REQUEST: ContextVar[_Request | None] = ContextVar("omegacore_cache_request", default=None)


def is_cached(doc: dict[str, Any]) -> bool:
    """Whether the object of this metadata document is cached (omegaml's rules)."""
    return str(doc.get("name", "")).startswith(CACHED_PREFIX) or (
        (doc.get("attributes") or {}).get("cached") is True)


class CacheMixin(StoreMixin):
    """``get`` from the in-process cache for unchanged cached objects; ``force=True``
    reads anew (and refreshes the cache)."""

    def get(self, name: str, version: int = -1, force_python: bool = False,
            kind: str | None = None, *, force: bool = False, **kwargs: Any) -> Any:
        check_flag(force, "force")
        if force_python or kind is not None or kwargs or version not in (None, -1):
            # filters, projections, lazy frames and versions are read as asked
            return super().get(name, version=version, force_python=force_python, kind=kind,
                               **kwargs)
        request = _Request(self, force)
        token = _REQUEST.set(request)
        try:
            value = super().get(name)
        except _Hit as hit:
            return hit.value
        finally:
            _REQUEST.reset(token)
        if request.key is not None and request.doc is not None and value is not None:
            CACHE.put(request.key, value, self._stored_size(request.doc))
        return value

    def _resolved_doc(self, name: str, bucket: str | None = None, prefix: str | None = None
                      ) -> tuple[dict[str, Any] | None, list[Any]]:
        doc, refs = super()._resolved_doc(name, bucket, prefix)
        request = _REQUEST.get()
        if request is None or request.store is not self or doc is None or refs:
            return doc, refs
        _REQUEST.set(None)  # the lookup of this get only, not of reads it makes
        if not is_cached(doc):
            return doc, refs
        key = (self.mongodb.name, doc.get("bucket"), doc.get("prefix"), doc.get("name"),
               doc.get("generation"))
        if not request.force:
            found, value = CACHE.get(key)
            if found:
                raise _Hit(value)
        request.key, request.doc = key, doc
        return doc, refs

    def _stored_size(self, doc: dict[str, Any]) -> int:
        from omegacore.cli_objects import object_size

        return object_size(self, self.Metadata._from_son(doc))
