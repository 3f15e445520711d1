"""Restore the database omegaml 0.18 wrote (omegaml-0.18.json.gz) into a test database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaml018_dump import read_dump, restore_database
from pymongo import MongoClient

HERE = Path(__file__).parent
#: the dump make_fixture.py wrote
FIXTURE = HERE / "omegaml-0.18.json.gz"


def read_fixture(path: Path = FIXTURE) -> dict[str, Any]:
    """The dump: ``written_by``, ``cases`` and ``database``."""
    return read_dump(path)


def restore_fixture(database_url: str, path: Path = FIXTURE) -> list[dict[str, Any]]:
    """Write the dumped database (metadata, collections, GridFS) into the database of
    ``database_url``, which must be empty; return the recorded cases."""
    dump = read_fixture(path)
    client: MongoClient = MongoClient(database_url)
    try:
        db = client.get_default_database()
        existing = db.list_collection_names()
        if existing:
            raise ValueError(f"database {db.name} is not empty: {sorted(existing)[:5]}")
        restore_database(db, dump["database"])
    finally:
        client.close()
    return dump["cases"]
