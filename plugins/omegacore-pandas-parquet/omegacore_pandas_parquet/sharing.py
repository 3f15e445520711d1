"""Whole puts that share unchanged row groups with a stored object (``share_with=``).

Every row group carries a digest of its encoded bytes (its column chunks, and its index:
a column, or the first value of an index stored as a range). A put that shares with a
stored object cuts its rows where that object's row groups end (as far as they fit),
encodes them the same way (same dictionary columns), and stores only the row groups
whose digest the object does not have; the others are referenced where they are. A part
may then list only some of its file's row groups, each with its ``index`` in the file::

    "parts": [{"file": A, "groups": [{"index": 0, ...}, {"index": 1, ...}]},  # shared
              {"file": B, "groups": [{"index": 0, ...}]},                       # new
              {"file": A, "groups": [{"index": 3, ...}]}]                       # shared

Rows inserted in the middle shift every later boundary: from there on the row groups
are new (fixed-size groups, as Arctic's chunks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def bounds(rows: int, size: int, like: Sequence[Mapping[str, Any]] = ()) -> list[tuple[int, int]]:
    """Row ranges ``[start, stop)`` of the row groups of ``rows`` rows: the row counts of
    the groups of the parts ``like`` as long as they fit, then groups of ``size`` rows."""
    ranges: list[tuple[int, int]] = []
    start = 0
    for group in (g for part in like for g in part.get("groups") or []):
        count = int(group.get("rows") or 0)
        if count < 1 or start + count > rows:
            break
        ranges.append((start, start + count))
        start += count
    while start < rows:
        ranges.append((start, min(start + size, rows)))
        start += size
    return ranges or [(0, 0)]


def digest(data: bytes | memoryview, ranges: Sequence[tuple[int, int]], rows: int,
           start: int | None = None) -> str:
    """The digest of a row group: its row count, its first index value (for frames stored
    without an index) and the bytes of its column chunks."""
    view = memoryview(data)
    hashed = hashlib.sha256(f"{rows}:{start}".encode())
    for start, stop in ranges:
        hashed.update(view[start:stop])
    return hashed.hexdigest()


@dataclass(frozen=True)
class Placed:
    """Where one row group of an object is stored: a file and its index there."""

    file: Any
    index: int
    group: dict[str, Any]


def stored(parts: Sequence[Mapping[str, Any]]) -> dict[str, tuple[Any, int]]:
    """Where the row groups of ``parts`` that have a digest are: ``(file, index)`` by
    digest."""
    found: dict[str, tuple[Any, int]] = {}
    for part in parts:
        for position, group in enumerate(part.get("groups") or []):
            if group.get("digest"):
                found.setdefault(group["digest"],
                                 (part["file"], int(group.get("index", position))))
    return found


def compose(placed: Sequence[Placed]) -> list[dict[str, Any]]:
    """Parts listing ``placed`` in order: one part per run of consecutive row groups of
    one file, each group with its ``index`` in the file."""
    parts: list[dict[str, Any]] = []
    for where in placed:
        group = {**where.group, "index": where.index}
        last = parts[-1] if parts else None
        if last is not None and last["file"] == where.file and \
                last["groups"][-1]["index"] == where.index - 1:
            last["groups"].append(group)
            last["rows"] += int(group["rows"])
            last["bytes"] += int(group.get("bytes") or 0)
        else:
            parts.append({"file": where.file, "rows": int(group["rows"]),
                          "bytes": int(group.get("bytes") or 0), "groups": [group]})
    return parts


def files_of(parts: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The files ``parts`` read, each once, in order."""
    return list(dict.fromkeys(part["file"] for part in parts))
