"""Settings read from the environment, each with the default a user expects.

Only this module reads ``OMEGA_*`` environment variables, so every switch is
documented in one place (see docs/configuration.md).
"""

from __future__ import annotations

import os

#: Bucket used when a store is created without one (omegaml's default too).
DEFAULT_BUCKET = "omegaml"
#: Database used when the MongoDB URL names none.
DEFAULT_DATABASE = "omega"
#: Collection holding one metadata document per stored object (omegaml's name).
METADATA_COLLECTION = "metadata"
#: GridFS collection of the default bucket; other buckets use ``omegaml_<bucket>``.
GRIDFS_COLLECTION = "omegaml"


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def mongo_url_from_env() -> str | None:
    """The MongoDB URL named by ``OMEGA_MONGO_URL``, or None to use the embedded server."""
    return os.environ.get("OMEGA_MONGO_URL") or None


def server_dir_from_env() -> str | None:
    """The embedded server's directory named by ``OMEGA_SERVER_DIR``, or None for the default."""
    return os.environ.get("OMEGA_SERVER_DIR") or None


def hashed_names() -> bool:
    """Whether store keys are sha1-hashed (``OMEGA_STORE_HASHEDNAMES``, default on)."""
    return _flag("OMEGA_STORE_HASHEDNAMES", True)


def plugins_strict() -> bool:
    """Whether a plugin that fails to load is fatal (``OMEGA_PLUGINS_STRICT``, set in CI)."""
    return _flag("OMEGA_PLUGINS_STRICT", False)


def _names(name: str) -> tuple[str, ...]:
    """A comma-separated list from the environment, stripped, empty entries dropped."""
    return tuple(part.strip() for part in os.environ.get(name, "").split(",") if part.strip())


def plugins_disabled() -> tuple[str, ...]:
    """Plugins switched off (``OMEGA_PLUGINS_DISABLE``): entry-point or distribution names.

    A disabled plugin is not imported; ``omegacore plugins`` lists it as disabled.
    """
    return _names("OMEGA_PLUGINS_DISABLE")


def plugins_preferred() -> tuple[str, ...]:
    """Winners of kind conflicts (``OMEGA_PLUGINS_PREFER``).

    Entries are ``kind=distribution`` (that distribution provides that kind) or a bare
    ``distribution`` (it wins every kind it claims together with another distribution).
    """
    return _names("OMEGA_PLUGINS_PREFER")


def progress_enabled() -> bool:
    """Whether long puts and gets may show a progress bar (``OMEGA_PROGRESS``, default on)."""
    return _flag("OMEGA_PROGRESS", True)


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if seconds <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return seconds


def server_timeout() -> float:
    """Seconds to wait for an unreachable server before giving up (``OMEGA_SERVER_TIMEOUT``, 5)."""
    return _seconds("OMEGA_SERVER_TIMEOUT", 5.0)


def journal_lease() -> float:
    """Seconds without a sign of life after which a put of another machine counts as gone.

    ``OMEGA_JOURNAL_LEASE``, default one hour. Puts on this machine are known to be gone
    as soon as their process is; a long put refreshes its lease as it writes.
    """
    return _seconds("OMEGA_JOURNAL_LEASE", 3600.0)


def journaled_commits() -> bool:
    """Whether commits wait for the server's journal (``OMEGA_JOURNALED_COMMITS``, default on).

    With it, an acknowledged put survives a crash of the server: the commit is written
    with ``j=True``, and the journal holds everything written before it.
    """
    return _flag("OMEGA_JOURNALED_COMMITS", True)
