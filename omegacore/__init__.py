"""omegacore: a store for data and machine-learning models on MongoDB, built from plugins.

``from omegacore import OmegaStore`` imports no pandas, numpy or scikit-learn; kind
plugins are loaded through entry points and import their libraries on first use.

``omegacore.datasets`` and ``omegacore.models`` are stores with the prefixes ``data/``
and ``models/`` on the default connection (``OMEGA_MONGO_URL``, else the embedded
server), made on first use, so ``om.datasets.put(df, "sales")`` reads as with omegaml.
"""

from __future__ import annotations

import threading as _threading
from typing import Any as _Any

from omegacore.backend import BaseBackend
from omegacore.documents import MetadataBase
from omegacore.errors import (
    ConcurrentPutError,
    DoesNotExist,
    InvalidPluginRecord,
    KindChoiceError,
    KindNotInstalled,
    NoKindForObject,
    OmegaError,
    PluginConflict,
    PluginError,
    PluginHookError,
    PluginImportError,
    PluginLoadError,
    PutInterrupted,
    ServerUnavailable,
    SharedDataGone,
    StaleRead,
    UnsafePattern,
)
from omegacore.hookspecs import hookimpl, hookspec
from omegacore.mixin import StoreMixin
from omegacore.plugins import PluginRegistry
from omegacore.specs import (
    FileFormat,
    FileOption,
    KindSpec,
    LoadError,
    MixinSpec,
    ReadResult,
)
from omegacore.staging import StagedPut
from omegacore.store import OmegaStore

__version__ = "0.1.0"

__all__ = [
    "BaseBackend",
    "ConcurrentPutError",
    "DoesNotExist",
    "FileFormat",
    "FileOption",
    "InvalidPluginRecord",
    "KindChoiceError",
    "KindNotInstalled",
    "KindSpec",
    "LoadError",
    "MetadataBase",
    "MixinSpec",
    "NoKindForObject",
    "OmegaError",
    "OmegaStore",
    "PluginConflict",
    "PluginError",
    "PluginHookError",
    "PluginImportError",
    "PluginLoadError",
    "PutInterrupted",
    "ServerUnavailable",
    "SharedDataGone",
    "StaleRead",
    "UnsafePattern",
    "PluginRegistry",
    "ReadResult",
    "StagedPut",
    "StoreMixin",
    "hookimpl",
    "hookspec",
]

#: Stores made on first access, by module attribute: the prefix each one uses.
DEFAULT_STORES = {"datasets": "data/", "models": "models/"}
_default_lock = _threading.Lock()


def __getattr__(name: str) -> _Any:
    """``omegacore.datasets`` / ``omegacore.models``: made on first access, then kept."""
    prefix = DEFAULT_STORES.get(name)
    if prefix is None:
        raise AttributeError(f"module 'omegacore' has no attribute {name!r}")
    with _default_lock:
        store = globals().get(name)
        if store is None:
            store = OmegaStore(prefix=prefix)
            globals()[name] = store
    return store


def __dir__() -> list[str]:
    return sorted([*globals(), *DEFAULT_STORES])
