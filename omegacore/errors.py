"""Exceptions raised by omegacore, in one place so callers can catch them precisely."""

from __future__ import annotations


class OmegaError(Exception):
    """Base class of every omegacore error."""


class DoesNotExist(OmegaError, KeyError):
    """No object of that name is stored (raised by ``drop`` unless ``force=True``)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "object does not exist"


class ConcurrentPutError(OmegaError):
    """Another process replaced an object while this process was appending to it."""


class NoKindForObject(OmegaError, TypeError):
    """No installed kind supports an object given to ``put``; the message says what to install."""


class KindNotInstalled(OmegaError, LookupError):
    """An object's kind is known from its metadata, but no installed plugin provides it."""


class PluginConflict(OmegaError):
    """Two distributions claim the same kind (or the same plugin name)."""


class PluginLoadError(OmegaError):
    """A plugin failed to load while ``OMEGA_PLUGINS_STRICT`` is set."""
