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
