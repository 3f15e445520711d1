"""Archive members as streams: JSON arrays of documents, file copies with checksums, and the
safety checks every member path and tarball passes before anything is stored."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from bson import json_util

#: bytes per read or write when streaming data in or out
PIECE = 4 * 1024 * 1024
_CANONICAL = json_util.CANONICAL_JSON_OPTIONS


class ArchiveError(ValueError):
    """An archive is malformed, unsafe or corrupt; nothing was imported."""


class HashingWriter:
    """A binary file that counts and hashes what is written to it."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)
        self.size += len(data)


def write_json_documents(documents: Iterable[dict[str, Any]], out: HashingWriter) -> int:
    """Write ``documents`` as a JSON array (canonical extended JSON, one per line).

    The array is the form omegaml's archives hold; canonical extended JSON keeps every BSON
    type (int64, decimal, datetime, binary) exact.
    """
    count = 0
    pending: list[str] = []
    pending_size = 0
    for doc in documents:
        text = json_util.dumps(doc, json_options=_CANONICAL)
        pending.append(("[" if count == 0 else ",\n") + text)
        pending_size += len(text)
        count += 1
        if pending_size >= PIECE:
            out.write("".join(pending).encode())
            pending, pending_size = [], 0
    pending.append("[]" if count == 0 else "]\n")
    out.write("".join(pending).encode())
    return count


def read_json_documents(path: Path, repair: bool = False) -> Iterator[dict[str, Any]]:
    """The documents of a JSON array file, parsed a piece at a time (never whole in memory).

    ``repair`` undoes omegaml 0.18's double encoding of some values (a datetime written as
    the *string* ``'{"$date": ...}'``).
    """
    decoder = json.JSONDecoder(object_pairs_hook=partial(json_util.object_pairs_hook,
                                                         json_options=json_util.DEFAULT_JSON_OPTIONS))
    with open(path, encoding="utf-8") as file:
        buf, pos = file.read(PIECE), 0

        def ahead() -> str:
            """The next non-blank character (reading more as needed), '' at the end."""
            nonlocal buf, pos
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n":
                    pos += 1
                if pos < len(buf):
                    return buf[pos]
                more = file.read(PIECE)
                if not more:
                    return ""
                buf, pos = more, 0

        if ahead() != "[":
            raise ArchiveError(f"{path.name} is not a JSON array of documents")
        pos += 1
        expect_item = True
        while True:
            char = ahead()
            if char == "]":
                return
            if char == "," and not expect_item:
                pos += 1
                expect_item = True
                continue
            if char != "{" or not expect_item:
                raise ArchiveError(f"{path.name}: expected a document at character {pos}")
            try:
                doc, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                more = file.read(PIECE)
                if not more:
                    raise ArchiveError(f"{path.name} ends inside a document") from None
                buf, pos = buf[pos:] + more, 0
                continue
            pos, expect_item = end, False
            yield _repaired(doc) if repair else doc


def _repaired(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _repaired(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_repaired(v) for v in value]
    if isinstance(value, str) and value.startswith('{"$') and value.endswith("}"):
        try:
            decoded = json_util.loads(value)
        except ValueError:
            return value
        return value if isinstance(decoded, (dict, str)) else decoded
    return value


def copy_stream(source: BinaryIO, out: HashingWriter) -> None:
    while piece := source.read(PIECE):
        out.write(piece)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while piece := file.read(PIECE):
            digest.update(piece)
    return digest.hexdigest()


def safe_member(name: str) -> str:
    """``name`` if it stays inside the archive, else ArchiveError."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or \
            name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"archive member {name!r} points outside the archive; refused")
    return str(path)


def unpack(tarball: Path, folder: Path) -> None:
    """Extract regular files and directories only, each inside ``folder``."""
    with tarfile.open(tarball, "r:*") as tar:
        for member in tar.getmembers():
            name = safe_member(member.name)
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
