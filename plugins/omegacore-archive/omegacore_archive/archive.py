"""Archives in omegaml 0.18's layout: omegaml reads ours, we read omegaml's.

An archive is a directory, or the same directory inside a gzip-compressed tarball::

    manifest.json                 {"format": "omega", "members": {"data/sales": "data/<key>"},
                                   "omegacore": {checksums and locations, see below}}
    data/<key>/metadata.json      the metadata (extended JSON)
    data/<key>/gridfile.bin       the object's GridFS file, if it has one
    data/<key>/collection.json    the object's documents (a JSON array), if it has them
    data/<key>/files/<n>.bin      further GridFS files the metadata records (e.g. Parquet parts)
    data/<key>/collections/<n>.json  further collections

``<key>`` is the object's store key; a versioned object adds one member per version
(``data/sales@<commit>``). The ``omegacore`` entry of the manifest (a key omegaml does not
read) lists per member every file with its size, document count and sha256: import
verifies them all before anything is written. Archives omegaml wrote have no checksums;
their members are read as omegaml writes them.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import ObjectId, json_util
from omegacore import OmegaStore
from omegacore.documents import MetadataBase
from omegacore.errors import DoesNotExist
from omegacore.staging import visible_rows_filter

from omegacore_archive.streams import (
    ArchiveError,
    HashingWriter,
    copy_stream,
    read_json_documents,
    safe_member,
    sha256,
    unpack,
    write_json_documents,
)

FORMAT = "omega"                 # omegaml's format name
EXTRAS = "omegacore"             # our entry in the manifest
VERSION = 2
MANIFEST = "manifest.json"
METADATA, GRIDFILE, COLLECTION = "metadata.json", "gridfile.bin", "collection.json"
#: documents per insert on import (and at most about 4 MiB)
BATCH = 10_000
_VERSIONS = "versions"           # the attribute holding a version history (omegaml's)

Progress = Callable[[str], None]

__all__ = ["ArchiveError", "export", "open_archive", "restore", "MANIFEST"]


def is_tarball(path: str | os.PathLike[str]) -> bool:
    return str(path).endswith((".tar.gz", ".tgz"))


def base_name(name: str) -> str:
    """``name`` without a version suffix (``@tag``, ``^``)."""
    return name.split("@", 1)[0].rstrip("^")


# -- export ----------------------------------------------------------------------------------
def export(store: OmegaStore, name: str, path: str | os.PathLike[str],
           versions: bool = True, progress: Progress | None = None) -> Path:
    """Write ``name`` (and, if ``versions``, each of its versions) to the archive ``path``.

    ``path`` is a ``.tgz``/``.tar.gz`` tarball (new), a new or empty directory, or an
    archive directory to add the object to (as omegaml's ``to_archive`` does).
    """
    target = Path(path)
    members = _exported(store, name, versions)
    existing: dict[str, Any] | None = None
    if target.exists():
        if target.is_dir() and (target / MANIFEST).is_file():
            existing = _read_manifest(target)
        elif target.is_file() or any(target.iterdir()):
            raise FileExistsError(f"{target} exists and is not an archive directory; give a "
                                  "new path, an empty directory or an archive to add to")
    if not target.parent.exists():
        raise FileNotFoundError(f"the directory {target.parent} does not exist")
    manifest = existing or {"format": FORMAT, "members": {}}
    extras = manifest.setdefault(EXTRAS, {"version": VERSION, "members": {}})
    with tempfile.TemporaryDirectory(prefix="omegacore-export-", dir=target.parent) as tmp:
        top = target.name[: -len(".tar.gz")] if target.name.endswith(".tar.gz") else \
            target.name.removesuffix(".tgz")
        folder = Path(tmp) / top
        folder.mkdir()
        written = []
        for key_name, meta, stored, history in members:
            key = f"{store.prefix}{key_name}"
            reldir = f"{store.prefix}{store.object_store_key(key_name, 'omx')}"
            entries = _write_member(store, meta, key_name, folder, reldir, progress,
                                    {"name": stored} if history else
                                    {"name": stored, "attributes": {
                                        k: v for k, v in (meta.attributes or {}).items()
                                        if k != _VERSIONS}})
            manifest["members"][key] = reldir
            extras["members"][key] = {"prefix": store.prefix, "name": key_name,
                                      "entries": entries}
            written.append(reldir)
        (folder / MANIFEST).write_text(json_util.dumps(
            manifest, json_options=json_util.CANONICAL_JSON_OPTIONS))
        if is_tarball(target):
            with tarfile.open(target, "w:gz") as tar:
                for item in sorted(folder.rglob("*")):
                    tar.add(item, arcname=str(item.relative_to(folder.parent)),
                            recursive=False)
        elif existing is not None:
            for reldir in written:
                (target / reldir).parent.mkdir(parents=True, exist_ok=True)
                shutil.rmtree(target / reldir, ignore_errors=True)
                shutil.move(str(folder / reldir), str(target / reldir))
            os.replace(folder / MANIFEST, target / MANIFEST)
        elif target.exists():  # an empty directory: the archive goes into it
            for item in folder.iterdir():
                shutil.move(str(item), str(target / item.name))
        else:
            shutil.move(str(folder), str(target))
    return target


def _exported(store: OmegaStore, name: str, versions: bool
              ) -> list[tuple[str, MetadataBase, str, bool]]:
    """``(member name, metadata, stored name, keep history)`` of the object and, if it is
    versioned and ``versions``, of each version (stored under its version name)."""
    named_version = name != base_name(name) and hasattr(store, "versions")
    # the versions plugin gives a version's own metadata with raw=True (as omegaml's)
    meta = (store.metadata(name, raw=True)  # type: ignore[call-arg]
            if named_version else store.metadata(name))
    if meta is None:
        raise DoesNotExist(f"{name!r} is not stored in {store!r}; nothing to export")
    history = (meta.attributes or {}).get(_VERSIONS)
    with_versions = bool(versions and history and name == base_name(name))
    # without its versions, a history would name objects that are not in the archive
    members = [(name, meta, base_name(name), with_versions)]
    for commit in (history or {}).get("commits") or [] if with_versions else []:
        version = store.metadata(commit["name"])
        if version is not None:
            members.append((f"{name}@{commit['ref']}", version, commit["name"], True))
    return members


def _write_member(store: OmegaStore, meta: MetadataBase, key_name: str, root: Path,
                  reldir: str, progress: Progress | None, fields: dict[str, Any]
                  ) -> list[dict[str, Any]]:
    """Write one member's data and metadata (with ``fields`` replaced); its entries."""
    folder = root / reldir
    folder.mkdir(parents=True)
    doc = meta.to_mongo().to_dict()
    storage = doc.get("storage") or {}
    visible = visible_rows_filter(storage.get("rows"),
                                  storage.get("rowid_field") or "_om#rowid")
    gridfile = meta.gridfile_id
    locations = meta.locations()
    entries = []
    extra = 0
    for name in locations.collections:
        primary = name == doc.get("collection")
        member = f"{reldir}/{COLLECTION}" if primary else f"{reldir}/collections/{extra}.json"
        extra += not primary
        (root / member).parent.mkdir(exist_ok=True)
        with open(root / member, "wb") as file:
            out = HashingWriter(file)
            cursor = store.mongodb[name].find(visible if primary else {},
                                              projection={"_id": False}, sort=[("_id", 1)])
            count = write_json_documents(cursor, out)
        entries.append({"member": member, "type": "collection", "primary": primary,
                        "source": name, "count": count, "bytes": out.size,
                        "sha256": out.digest.hexdigest()})
        _say(progress, f"{store.prefix}{key_name}: {count:,} documents")
    extra = 0
    for file_id in locations.files:
        primary = file_id == gridfile
        member = f"{reldir}/{GRIDFILE}" if primary else f"{reldir}/files/{extra}.bin"
        extra += not primary
        (root / member).parent.mkdir(exist_ok=True)
        with open(root / member, "wb") as file, \
                store.gridfs_bucket.open_download_stream(file_id) as stream:
            out = HashingWriter(file)
            copy_stream(stream, out)
        entries.append({"member": member, "type": "file", "primary": primary,
                        "source": file_id, "bytes": out.size,
                        "sha256": out.digest.hexdigest()})
        _say(progress, f"{store.prefix}{key_name}: file of {out.size:,} bytes")
    described = {**doc, **fields}
    if gridfile is not None:  # omegaml names the member's file here
        described["gridfile"] = GRIDFILE
    with open(folder / METADATA, "wb") as file:
        out = HashingWriter(file)
        out.write(json_util.dumps(described,
                                  json_options=json_util.CANONICAL_JSON_OPTIONS).encode())
    entries.append({"member": f"{reldir}/{METADATA}", "type": "metadata",
                    "bytes": out.size, "sha256": out.digest.hexdigest()})
    return entries


# -- import ----------------------------------------------------------------------------------
@dataclass
class ArchivedObject:
    """An object in an archive: its member, where it was exported from, and its versions."""

    key: str
    prefix: str
    name: str
    versions: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{self.prefix}{self.name}"


class OpenedArchive:
    """An archive checked and ready to import: its folder, manifest and objects."""

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        self.folder = folder
        self.manifest = manifest
        self.extras: dict[str, Any] = (manifest.get(EXTRAS) or {}).get("members") or {}
        keys = list(manifest["members"])
        bases = [k for k in keys if not any(k.startswith(f"{o}@") for o in keys if o != k)]
        self.objects = [ArchivedObject(k, *self._where(k),
                                       versions=[v for v in keys if v.startswith(f"{k}@")])
                        for k in bases]

    def _where(self, key: str) -> tuple[str, str]:
        """``(prefix, name)`` the member ``key`` was exported from."""
        if key in self.extras:
            return self.extras[key]["prefix"], self.extras[key]["name"]
        prefix = self.metadata(key).get("prefix") or ""
        return (prefix, key[len(prefix):]) if key.startswith(prefix) else ("", key)

    def metadata(self, key: str) -> dict[str, Any]:
        path = self.folder / safe_member(self.manifest["members"][key]) / METADATA
        try:
            doc: dict[str, Any] = json_util.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ArchiveError(f"{key}: cannot read its {METADATA} ({exc})") from exc
        return doc

    def entries(self, key: str) -> list[dict[str, Any]]:
        """The data files of member ``key`` (from our manifest entry, else as omegaml wrote)."""
        if key in self.extras:
            return [e for e in self.extras[key]["entries"] if e["type"] != "metadata"]
        reldir = self.manifest["members"][key]
        doc = self.metadata(key)
        found = []
        if (self.folder / reldir / GRIDFILE).is_file():
            found.append({"member": f"{reldir}/{GRIDFILE}", "type": "file", "primary": True,
                          "source": None})
        if (self.folder / reldir / COLLECTION).is_file():
            found.append({"member": f"{reldir}/{COLLECTION}", "type": "collection",
                          "primary": True, "source": doc.get("collection"), "repair": True})
        return found

    def select(self, name: str | None, prefix: str) -> ArchivedObject:
        """The object called ``name`` (preferring one exported from ``prefix``)."""
        listed = ", ".join(o.path for o in self.objects) or "nothing"
        if name is None:
            if len(self.objects) != 1:
                raise ArchiveError(f"the archive holds {listed}; name the object to import")
            return self.objects[0]
        found = [o for o in self.objects if o.name == name] or \
            [o for o in self.objects if o.path == name]
        if len(found) > 1:
            found = [o for o in found if o.prefix == prefix] or found
        if len(found) != 1:
            raise ArchiveError(f"the archive holds {listed}; no single object {name!r}")
        return found[0]


def open_archive(path: str | os.PathLike[str], workdir: str) -> OpenedArchive:
    """Check ``path`` (unpacking a tarball safely into ``workdir``) and its checksums."""
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"no archive at {source}")
    if source.is_file():
        if not tarfile.is_tarfile(source):
            raise ArchiveError(f"{source} is neither an archive directory nor a tarball")
        folder = Path(workdir) / "archive"
        folder.mkdir()
        unpack(source, folder)
        inner = [d for d in folder.iterdir() if (d / MANIFEST).is_file()]
        if not (folder / MANIFEST).is_file() and len(inner) == 1:
            folder = inner[0]  # omegaml's tarballs hold one directory
    else:
        folder = source
    if not (folder / MANIFEST).is_file():
        raise ArchiveError(f"{source} has no {MANIFEST}; it is not an archive")
    manifest = _read_manifest(folder)
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("members"), dict):
        raise ArchiveError(f"{source} is not an archive in omegaml's format ({FORMAT!r})")
    extras = manifest.get(EXTRAS)
    if extras is not None and extras.get("version") != VERSION:
        raise ArchiveError(f"{source} was written by an omegacore-archive of another format "
                           f"version ({extras.get('version')}); this one reads {VERSION}")
    for key, reldir in manifest["members"].items():
        safe_member(str(reldir))
        described = (manifest.get(EXTRAS) or {}).get("members", {}).get(key, {})
        for entry in described.get("entries", []):
            member = safe_member(str(entry.get("member", "")))
            file = folder / member
            if file.is_symlink() or not file.is_file():
                raise ArchiveError(f"{source}: {member} is missing or not a regular file")
            if sha256(file) != entry.get("sha256"):
                raise ArchiveError(f"{source}: {member} does not match its checksum; the "
                                   "archive is corrupt (nothing was imported)")
    return OpenedArchive(folder, manifest)


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json_util.loads((folder / MANIFEST).read_text())
    except ValueError as exc:
        raise ArchiveError(f"{folder}: {MANIFEST} is not valid JSON ({exc})") from exc
    return manifest


def restore(store: OmegaStore, opened: OpenedArchive, obj: ArchivedObject, name: str,
            progress: Progress | None = None) -> MetadataBase:
    """Store ``obj`` (and its versions) as ``name``; on failure nothing of it stays."""
    renamed: dict[Any, Any] = {}
    restored: list[str] = []
    old_base = base_name(obj.name)
    try:
        for key in obj.versions:
            stored = opened.metadata(key).get("name") or key
            if stored in renamed:  # omegaml archives a version once per tag
                continue
            new = stored.replace(f"/{old_base}/", f"/{name}/", 1) if name != old_base \
                else stored
            existed = store.exists(new)
            _restore_member(store, opened, key, new, {}, progress)
            renamed[stored] = new
            if not existed:
                restored.append(new)
        return _restore_member(store, opened, obj.key, name, renamed, progress)
    except BaseException:
        for done in restored:
            store.drop(done, force=True)
        raise


def _restore_member(store: OmegaStore, opened: OpenedArchive, key: str, name: str,
                    renamed_names: dict[Any, Any], progress: Progress | None) -> MetadataBase:
    doc = opened.metadata(key)
    entries = opened.entries(key)
    renamed = dict(renamed_names)
    attributes = _renamed(doc.get("attributes") or {}, renamed)
    with store.stage(name, kind=doc["kind"], attributes=attributes,
                     kind_meta=doc.get("kind_meta")) as staged:
        for entry in entries:
            file = opened.folder / entry["member"]
            if entry["type"] == "collection":
                collection = staged.new_collection(primary=entry["primary"])
                count = _insert_documents(collection, file, entry.get("repair", False))
                if entry.get("count") not in (None, count):
                    raise ArchiveError(f"{entry['member']}: {count} documents, the manifest "
                                       f"says {entry['count']}")
                new: Any = collection.name
            elif entry["type"] == "file":
                with open(file, "rb") as data:
                    new = staged.put_file(data, ext="data", primary=entry["primary"])
            else:
                raise ArchiveError(f"{entry['member']}: unknown entry type {entry['type']!r}")
            if entry.get("source") is not None:
                renamed[entry["source"]] = new
            _say(progress, f"{store.prefix}{name}: imported {entry['member']}")
        staged.meta.kind_meta = _renamed(doc.get("kind_meta") or {}, renamed)
    return staged.meta


def _insert_documents(collection: Any, path: Path, repair: bool) -> int:
    count = 0
    batch: list[dict[str, Any]] = []
    for doc in read_json_documents(path, repair=repair):
        batch.append(doc)
        if len(batch) >= BATCH:
            collection.insert_many(batch)
            count, batch = count + len(batch), []
    if batch:
        collection.insert_many(batch)
        count += len(batch)
    return count


def _renamed(value: Any, renamed: dict[Any, Any]) -> Any:
    """``value`` with every old collection name, file id or version name replaced."""
    if isinstance(value, dict):
        return {k: _renamed(v, renamed) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, renamed) for v in value]
    if isinstance(value, (ObjectId, str)) and value in renamed:
        return renamed[value]
    return value


def _say(progress: Progress | None, text: str) -> None:
    if progress is not None:
        progress(text)
