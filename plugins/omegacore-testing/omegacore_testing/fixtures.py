"""pytest fixtures: a real server for the session, a fresh database per test.

The server is the one ``OMEGA_MONGO_URL`` names, or a SecantusDB process started for
the test session in a temporary directory and stopped at its end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient, uri_parser

from omegacore import OmegaStore
from omegacore.connection import disconnect_all


def _with_database(url: str, database: str) -> str:
    """``url`` with its path set to ``database`` (query options kept)."""
    head, sep, query = url.partition("?")
    parsed = uri_parser.parse_uri(url, validate=False, warn=True)
    if parsed.get("database"):
        head = head.rsplit("/", 1)[0]
    return f"{head.rstrip('/')}/{database}{sep}{query}"


@pytest.fixture(scope="session")
def omega_mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the server the tests use: ``OMEGA_MONGO_URL`` or a session SecantusDB."""
    url = os.environ.get("OMEGA_MONGO_URL")
    if url:
        yield url
        return
    from omegacore.server import start_server, stop_server

    directory: Path = tmp_path_factory.mktemp("secantusdb")
    state = start_server(directory)
    try:
        yield state["url"]
    finally:
        disconnect_all()  # while the server still answers, so closing is quick
        stop_server(directory)


@pytest.fixture
def omega_database_url(omega_mongo_url: str) -> Iterator[str]:
    """URL of a database of its own for one test, dropped afterwards."""
    name = f"omegatest_{uuid.uuid4().hex[:12]}"
    url = _with_database(omega_mongo_url, name)
    yield url
    client: MongoClient = MongoClient(omega_mongo_url)
    try:
        client.drop_database(name)
    finally:
        client.close()


@pytest.fixture
def omega_store_factory(omega_database_url: str) -> Iterator[Callable[..., OmegaStore]]:
    """Make stores on the test's database: ``omega_store_factory(prefix='models/')``."""
    made: list[OmegaStore] = []

    def make(**kwargs: Any) -> OmegaStore:
        kwargs.setdefault("mongo_url", omega_database_url)
        store = OmegaStore(**kwargs)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def omega_store(omega_store_factory: Callable[..., OmegaStore]) -> OmegaStore:
    """An OmegaStore with all installed plugins, on a database of its own."""
    return omega_store_factory()
