"""omegacore: a store for data and machine-learning models on MongoDB, built from plugins.

``from omegacore import OmegaStore`` imports no pandas, numpy or scikit-learn; kind
plugins are loaded through entry points and import their libraries on first use.
"""

from __future__ import annotations

from omegacore.backend import BaseBackend
from omegacore.documents import MetadataBase
from omegacore.errors import (
    ConcurrentPutError,
    DoesNotExist,
    KindNotInstalled,
    NoKindForObject,
    OmegaError,
    PluginConflict,
    PluginLoadError,
)
from omegacore.hookspecs import hookimpl, hookspec
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
    "KindNotInstalled",
    "KindSpec",
    "LoadError",
    "MetadataBase",
    "MixinSpec",
    "NoKindForObject",
    "OmegaError",
    "OmegaStore",
    "PluginConflict",
    "PluginLoadError",
    "PluginRegistry",
    "ReadResult",
    "StagedPut",
    "hookimpl",
    "hookspec",
]
