"""The metadata document: one per stored object, as omegaml 0.18 lays it out.

The field names and the collection name (``metadata``) are omegaml's, so a database
written by omegaml reads unchanged. A class is made per connection alias because
mongoengine binds a document class to one alias.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from mongoengine import DynamicDocument, fields

from omegacore import settings


def utcnow() -> datetime:
    """Current UTC time, naive as BSON stores it, at millisecond precision."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class MetadataBase(DynamicDocument):
    """Information about one stored object; the object itself lives where its kind puts it.

    name: the object's name; bucket and prefix scope it (one document per triple).
    kind: the kind whose plugin stores and reads the object, e.g. ``pandas.dfrows``.
    attributes: user attributes, never interpreted by the store.
    kind_meta: the kind plugin's technical attributes (dtypes, index layout, versions).
    collection: for row-like kinds, the collection holding the data.
    gridfile: for blob kinds, the GridFS file holding the data.
    storage: what else the store keeps for the object (see ``Locations``): further
        collections and GridFS files, the committed row-id ranges of an appending kind,
        and whether the data belongs to someone else (``external``: never removed).
    objid, uri, s3file: kept for omegaml compatibility.
    created, modified: maintained by the store (naive UTC datetimes).
    generation: changes with every commit; commits compare-and-swap on it.
    """

    name = fields.StringField(required=True)
    bucket = fields.StringField()
    prefix = fields.StringField()
    kind = fields.StringField()
    attributes = fields.DictField()
    kind_meta = fields.DictField()
    objid = fields.ObjectIdField()
    gridfile = fields.FileField()
    collection = fields.StringField()
    uri = fields.StringField()
    s3file = fields.DictField()
    storage = fields.DictField()
    created = fields.DateTimeField(default=utcnow)
    modified = fields.DateTimeField(default=utcnow)
    generation = fields.ObjectIdField()

    meta: dict[str, Any] = {"abstract": True, "allow_inheritance": False}

    def __repr__(self) -> str:
        return (
            f"Metadata(name={self.name!r}, bucket={self.bucket!r}, prefix={self.prefix!r}, "
            f"kind={self.kind!r}, collection={self.collection!r})"
        )

    __str__ = __repr__

    @property
    def gridfile_id(self) -> Any:
        """The GridFS file id, or None."""
        proxy = self.gridfile
        return getattr(proxy, "grid_id", None) if proxy is not None else None

    def locations(self) -> Locations:
        """Every collection and GridFS file holding this object's data."""
        return Locations.of(self.to_mongo().to_dict())


@dataclass(frozen=True)
class Locations:
    """Where an object's data lives: collections and GridFS file ids.

    Read from a stored metadata document (``Locations.of(doc)``): ``collection`` and
    ``gridfile`` (omegaml's fields) plus ``storage.collections`` and ``storage.files``.
    ``external`` data (e.g. a collection registered as a dataset) is never removed.
    """

    collections: tuple[str, ...] = ()
    files: tuple[Any, ...] = ()
    external: bool = False

    @classmethod
    def of(cls, doc: Mapping[str, Any] | None) -> Locations:
        if not doc:
            return cls()
        storage = doc.get("storage") or {}
        collections = [doc.get("collection"), *(storage.get("collections") or [])]
        gridfile = doc.get("gridfile")
        gridfile = getattr(gridfile, "grid_id", gridfile)
        files = [gridfile, *(storage.get("files") or [])]
        return cls(
            tuple(dict.fromkeys(c for c in collections if c)),
            tuple(dict.fromkeys(f for f in files if f is not None)),
            bool(storage.get("external")),
        )

    def __bool__(self) -> bool:
        return bool(self.collections or self.files)

    def without(self, other: Locations) -> Locations:
        """These locations less those ``other`` holds too."""
        return Locations(
            tuple(c for c in self.collections if c not in other.collections),
            tuple(f for f in self.files if f not in other.files),
            self.external,
        )


@functools.cache
def metadata_class(db_alias: str, fs_collection: str) -> type[MetadataBase]:
    """The Metadata document class bound to a mongoengine connection alias."""
    return type(
        "Metadata",
        (MetadataBase,),
        {
            "gridfile": fields.FileField(db_alias=db_alias, collection_name=fs_collection),
            "meta": {
                "db_alias": db_alias,
                "collection": settings.METADATA_COLLECTION,
                "indexes": [
                    {"fields": ["bucket", "prefix", "name"], "unique": True},
                    "kind",
                ],
                "auto_create_index": False,
                "strict": False,
            },
        },
    )
