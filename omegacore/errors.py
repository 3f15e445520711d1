"""Exceptions raised by omegacore, in one place so callers can catch them precisely."""

from __future__ import annotations

import sys
import warnings

from mongoengine.errors import DoesNotExist as _MongoengineDoesNotExist


class OmegaError(Exception):
    """Base class of every omegacore error."""


class DoesNotExist(OmegaError, KeyError, _MongoengineDoesNotExist):
    """No object of that name is stored (raised by ``drop`` unless ``force=True``).

    A subclass of mongoengine's ``DoesNotExist`` too, which omegaml raises, so code written
    as ``except DoesNotExist`` against omegaml keeps working.
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "object does not exist"


class ConcurrentPutError(OmegaError):
    """Another process replaced an object while this process was appending to it."""


class ServerUnavailable(OmegaError, ConnectionError):
    """The MongoDB server cannot be reached (or the embedded server cannot be started)."""


class PutInterrupted(OmegaError, ConnectionError):
    """The connection to the server was lost during a put.

    ``committed`` says whether the put took effect: False (the previous object is
    unchanged), True (the new object is stored), or None (unknown: the server could not
    be asked). What an interrupted put wrote is removed by the next put of the name or by
    ``omegacore fsck --repair``.
    """

    def __init__(self, message: str, committed: bool | None = None):
        super().__init__(message)
        self.committed = committed


class EntryLost(OmegaError):
    """A put's journal entry was removed by another process that took its owner for gone.

    Raised inside a put (it then fails with ``PutInterrupted``); see ``omegacore.journal``.
    """


class SharedDataGone(OmegaError):
    """Data a put was to share with another object was removed meanwhile (that object was
    dropped or replaced by another process). Nothing was stored; put again."""


class StaleRead(OmegaError):
    """An object was replaced or dropped by another process while it was being read.

    Raised by backends when what they read no longer belongs to the metadata they were
    given; the store then reads again with the current metadata.
    """


class UnsafePattern(OmegaError, ValueError):
    """A regular expression that could take exponential time on the server was refused."""


class NoKindForObject(OmegaError, TypeError):
    """No installed kind supports an object given to ``put``; the message says what to install."""


class KindNotInstalled(OmegaError, LookupError):
    """An object's kind is known from its metadata, but no installed plugin provides it."""


class KindChoiceError(OmegaError, TypeError):
    """Keywords of ``put`` choose different kinds, or contradict ``kind=``."""


class PluginError(OmegaError):
    """Base class of the errors that name a plugin that failed."""


class PluginConflict(PluginError):
    """Two distributions claim the same kind (or the same plugin name)."""


class PluginLoadError(PluginError):
    """A plugin failed to load, validate or answer while ``OMEGA_PLUGINS_STRICT`` is set."""


class InvalidPluginRecord(PluginError, ValueError):
    """A ``KindSpec`` or ``MixinSpec`` given at run time is malformed; the message says how."""


class PluginImportError(PluginError, ImportError):
    """A backend, mixin or predicate path of a plugin does not import.

    The message names the kind or mixin, the distribution and the path;
    ``omegacore plugins --check`` imports every path and lists each failure.
    """


class PluginHookError(PluginError):
    """A plugin's hook (``omega_before_put``, ``omega_after_put``, ...) raised.

    ``plugin`` and ``distribution`` name the plugin, ``hook`` the hook; the exception the
    hook raised is chained as ``__cause__``.
    """

    def __init__(self, message: str, plugin: str, distribution: str, hook: str) -> None:
        super().__init__(message)
        self.plugin = plugin
        self.distribution = distribution
        self.hook = hook


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, pointing at the user's code: the first caller outside omegacore and its plugins.

    A fixed ``stacklevel`` would point into a mixin as soon as one wraps the method, so
    frames of modules named ``omegacore*`` (the core and every ``omegacore_*`` plugin)
    and of pluggy are skipped.
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(_INTERNAL):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level + 1)


_INTERNAL = ("omegacore", "pluggy")
