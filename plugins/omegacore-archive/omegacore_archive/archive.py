"""The archive format: a manifest and the object's data, written and read as streams.

An archive is a directory, or the same directory as a gzip-compressed tarball::

    manifest.json           format, the metadata (extended JSON), and per data file its
                            role, size and sha256
    collections/0.bson      the documents of a collection, BSON one after the other
    files/0.bin             the bytes of a GridFS file

Export reads the object's committed documents and its GridFS files (every location the
metadata records, so third-party kinds are covered) and writes them piece by piece.
Import refuses an archive whose members leave the archive (absolute paths, ``..``,
links, devices) or whose checksums differ, before anything is written; then it stores
the object through one staged put, so a failure half way leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from bson import ObjectId, json_util
from bson.raw_bson import RawBSONDocument
from omegacore import OmegaStore
from omegacore.documents import MetadataBase
from omegacore.staging import visible_rows_filter

FORMAT = "omegacore-archive"
VERSION = 1
MANIFEST = "manifest.json"
#: bytes per read when streaming data in or out
PIECE = 4 * 1024 * 1024
#: documents per insert on import (and at most about PIECE bytes)
BATCH = 10_000

Progress = Callable[[str], None]


class ArchiveError(ValueError):
    """An archive is malformed, unsafe or corrupt; nothing was imported."""


def is_tarball(path: str | os.PathLike[str]) -> bool:
    return str(path).endswith((".tar.gz", ".tgz"))


# -- export ----------------------------------------------------------------------------------
def export(store: OmegaStore, meta: MetadataBase, path: str | os.PathLike[str],
           progress: Progress | None = None) -> Path:
    """Write ``meta``'s object to ``path`` (a new directory, or a ``.tar.gz``/``.tgz``)."""
    target = Path(path)
    if target.exists() and (target.is_file() or any(target.iterdir())):
        raise FileExistsError(f"{target} exists; give a new path for the archive")
    if not target.parent.exists():
        raise FileNotFoundError(f"the directory {target.parent} does not exist")
    with tempfile.TemporaryDirectory(prefix="omegacore-export-",
                                     dir=target.parent) as tmp:
        folder = Path(tmp) / "archive"
        (folder / "collections").mkdir(parents=True)
        (folder / "files").mkdir()
        doc = meta.to_mongo().to_dict()
        visible = visible_rows_filter((doc.get("storage") or {}).get("rows"),
                                      (doc.get("storage") or {}).get("rowid_field")
                                      or "_om#rowid")
        entries = []
        locations = meta.locations()
        for i, name in enumerate(locations.collections):
            member = f"collections/{i}.bson"
            query = visible if name == doc.get("collection") else {}
            count, digest, size = _write_collection(store, name, query, folder / member)
            entries.append({"member": member, "type": "collection", "source": name,
                            "count": count, "bytes": size, "sha256": digest})
            _say(progress, f"{meta.name}: collection {i + 1}/{len(locations.collections)}, "
                           f"{count:,} documents")
        for i, file_id in enumerate(locations.files):
            member = f"files/{i}.bin"
            digest, size = _write_file(store, file_id, folder / member)
            entries.append({"member": member, "type": "file", "source": file_id,
                            "bytes": size, "sha256": digest})
            _say(progress, f"{meta.name}: file {i + 1}/{len(locations.files)}, {size:,} bytes")
        gridfile = doc.get("gridfile")
        manifest = {
            "format": FORMAT, "version": VERSION,
            "name": meta.name, "prefix": meta.prefix, "bucket": meta.bucket,
            "kind": meta.kind,
            # a version history names objects that are not in the archive: not exported
            "attributes": {k: v for k, v in (doc.get("attributes") or {}).items()
                           if k != "versions"},
            "kind_meta": doc.get("kind_meta") or {},
            "collection": doc.get("collection"),
            "gridfile": getattr(gridfile, "grid_id", gridfile),
            "entries": entries,
        }
        (folder / MANIFEST).write_text(json_util.dumps(manifest, indent=1,
                                                       json_options=json_util.CANONICAL_JSON_OPTIONS))
        if is_tarball(target):
            with tarfile.open(target, "w:gz") as tar:
                for item in sorted(folder.rglob("*")):
                    tar.add(item, arcname=str(item.relative_to(folder)), recursive=False)
        elif target.exists():  # an empty directory: the archive goes into it
            for item in folder.iterdir():
                shutil.move(str(item), str(target / item.name))
        else:
            shutil.move(str(folder), str(target))
    return target


def _write_collection(store: OmegaStore, name: str, query: dict[str, Any], path: Path
                      ) -> tuple[int, str, int]:
    digest, count, size = hashlib.sha256(), 0, 0
    with open(path, "wb") as out:
        for batch in store.mongodb[name].find_raw_batches(query, sort=[("_id", 1)]):
            out.write(batch)
            digest.update(batch)
            size += len(batch)
            count += _count_documents(batch)
    return count, digest.hexdigest(), size


def _write_file(store: OmegaStore, file_id: Any, path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "wb") as out, store.gridfs_bucket.open_download_stream(file_id) as stream:
        while chunk := stream.readchunk():
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _count_documents(data: bytes) -> int:
    count, pos = 0, 0
    while pos < len(data):
        pos += int.from_bytes(data[pos:pos + 4], "little")
        count += 1
    return count


# -- import ----------------------------------------------------------------------------------
class OpenedArchive:
    """An archive checked and ready to import: its manifest and its folder."""

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        self.folder = folder
        self.manifest = manifest


def open_archive(path: str | os.PathLike[str], workdir: str) -> OpenedArchive:
    """Check ``path`` (unpacking a tarball safely into ``workdir``) and its checksums."""
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"no archive at {source}")
    if source.is_file():
        if not is_tarball(source) and not tarfile.is_tarfile(source):
            raise ArchiveError(f"{source} is neither an archive directory nor a tarball")
        folder = Path(workdir) / "archive"
        folder.mkdir()
        _unpack(source, folder)
    else:
        folder = source
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ArchiveError(f"{source} has no {MANIFEST}; it is not an omegacore archive")
    try:
        manifest = json_util.loads(manifest_path.read_text())
    except ValueError as exc:
        raise ArchiveError(f"{source}: {MANIFEST} is not valid JSON ({exc})") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ArchiveError(f"{source} is not an {FORMAT} archive of version {VERSION}")
    for entry in manifest.get("entries") or []:
        member = _safe_member(str(entry.get("member", "")))
        file = folder / member
        if file.is_symlink() or not file.is_file():
            raise ArchiveError(f"{source}: {member} is missing or not a regular file")
        if _sha256(file) != entry.get("sha256"):
            raise ArchiveError(f"{source}: {member} does not match its checksum; the "
                               "archive is corrupt (nothing was imported)")
    return OpenedArchive(folder, manifest)


def _unpack(tarball: Path, folder: Path) -> None:
    """Extract regular files and directories only, each inside ``folder``."""
    with tarfile.open(tarball, "r:*") as tar:
        for member in tar.getmembers():
            name = _safe_member(member.name)
            if member.isdir():
                (folder / name).mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                raise ArchiveError(f"{tarball}: {member.name!r} is a link or special file; "
                                   "archives hold regular files only")
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            extracted = tar.extractfile(member)
            assert extracted is not None
            with extracted, open(target, "wb") as out:
                shutil.copyfileobj(extracted, out, PIECE)


def _safe_member(name: str) -> str:
    """``name`` if it stays inside the archive, else ArchiveError."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or \
            name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"archive member {name!r} points outside the archive; refused")
    return str(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while piece := file.read(PIECE):
            digest.update(piece)
    return digest.hexdigest()


def restore(store: OmegaStore, opened: OpenedArchive, name: str,
            progress: Progress | None = None) -> MetadataBase:
    """Store the archived object as ``name`` (one staged put; nothing on failure)."""
    manifest = opened.manifest
    renamed: dict[Any, Any] = {}
    with store.stage(name, kind=manifest["kind"], attributes=manifest.get("attributes"),
                     kind_meta=manifest.get("kind_meta")) as staged:
        for entry in manifest.get("entries") or []:
            file = opened.folder / entry["member"]
            primary_collection = entry["source"] == manifest.get("collection")
            if entry["type"] == "collection":
                collection = staged.new_collection(primary=primary_collection)
                count = _insert_documents(collection, file)
                if count != entry.get("count"):
                    raise ArchiveError(f"{entry['member']}: {count} documents, the manifest "
                                       f"says {entry.get('count')}")
                renamed[entry["source"]] = collection.name
            elif entry["type"] == "file":
                with open(file, "rb") as data:
                    new_id = staged.put_file(data, ext="data",
                                             primary=entry["source"] == manifest.get("gridfile"))
                renamed[entry["source"]] = new_id
            else:
                raise ArchiveError(f"{entry['member']}: unknown entry type {entry['type']!r}")
            _say(progress, f"{name}: imported {entry['member']}")
        staged.meta.kind_meta = _renamed(manifest.get("kind_meta") or {}, renamed)
    return staged.meta


def _insert_documents(collection: Any, path: Path) -> int:
    count = 0
    batch: list[RawBSONDocument] = []
    size = 0
    for raw in _documents(path):
        batch.append(RawBSONDocument(raw))
        size += len(raw)
        if len(batch) >= BATCH or size >= PIECE:
            collection.insert_many(batch, ordered=False)
            count, batch, size = count + len(batch), [], 0
    if batch:
        collection.insert_many(batch, ordered=False)
        count += len(batch)
    return count


def _documents(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as file:
        while head := file.read(4):
            if len(head) < 4:
                raise ArchiveError(f"{path.name} ends inside a document")
            size = int.from_bytes(head, "little")
            rest = file.read(size - 4)
            if size < 5 or len(rest) != size - 4:
                raise ArchiveError(f"{path.name} holds a truncated document")
            yield head + rest


def _renamed(value: Any, renamed: dict[Any, Any]) -> Any:
    """``value`` with every old collection name or file id replaced by the new one."""
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
