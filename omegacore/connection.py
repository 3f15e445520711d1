"""Which MongoDB a store talks to, and one shared client per URL.

Resolution order: the ``mongo_url`` argument, else ``OMEGA_MONGO_URL``, else the
embedded default server (started on demand, see ``omegacore.server``).
"""

from __future__ import annotations

import hashlib
import threading

import mongoengine
from mongoengine.connection import get_connection
from pymongo import MongoClient, uri_parser

from omegacore import settings

_lock = threading.Lock()
_aliases: set[str] = set()


def resolve_mongo_url(mongo_url: str | None = None) -> str:
    """The URL to connect to: argument, environment, or the embedded server."""
    if mongo_url:
        return mongo_url
    from_env = settings.mongo_url_from_env()
    if from_env:
        return from_env
    from omegacore.server import ensure_server

    return ensure_server()


def database_name(mongo_url: str) -> str:
    """The database named in the URL's path, or the default database."""
    parsed = uri_parser.parse_uri(mongo_url, validate=False, warn=True)
    return parsed.get("database") or settings.DEFAULT_DATABASE


def server_url(mongo_url: str) -> str:
    """The URL without its database path: stores on one server share a client by it."""
    head, sep, query = mongo_url.partition("?")
    scheme, _, rest = head.partition("://")
    hosts = rest.split("/", 1)[0]
    return f"{scheme}://{hosts}/{sep}{query}"


def display_url(mongo_url: str) -> str:
    """The URL as it may be shown: host(s) and database, without credentials or options."""
    head = mongo_url.partition("?")[0]
    scheme, _, rest = head.partition("://")
    rest = rest.rsplit("@", 1)[-1]
    return f"{scheme}://{rest}" if scheme else rest


def connect(mongo_url: str, dbalias: str | None = None) -> tuple[str, MongoClient]:
    """Register (once) a mongoengine connection for the URL; return its alias and client.

    The alias is derived from the URL; every store on the same server shares one client
    and its connection pool, whatever database it uses.
    """
    alias = dbalias or "omegacore-" + hashlib.sha1(mongo_url.encode()).hexdigest()[:16]
    # OMEGA_SERVER_TIMEOUT bounds waiting for an unreachable server, unless the URL says
    timeouts = {
        option: int(settings.server_timeout() * 1000)
        for option in ("serverSelectionTimeoutMS", "connectTimeoutMS")
        if option.lower() not in mongo_url.lower()
    }
    with _lock:
        try:
            client = get_connection(alias)
        except mongoengine.connection.ConnectionFailure:
            mongoengine.register_connection(
                alias,
                host=server_url(mongo_url),
                db=database_name(mongo_url),
                uuidRepresentation="standard",
                tz_aware=False,
                **timeouts,
            )
            client = get_connection(alias)
            _aliases.add(alias)
    return alias, client


def disconnect_all() -> None:
    """Close the clients stores of this process opened (e.g. before stopping a test server)."""
    with _lock:
        for alias in sorted(_aliases):
            mongoengine.disconnect(alias)
        _aliases.clear()
