"""A name's version history, in omegaml's layout (``attributes["versions"]``)::

    {"tags": {"latest": <ref>, <tag>: <ref>, ...},
     "commits": [{"name": "_versions/<name>/<ref>", "ref": <ref>}, ...],   # oldest first
     "tree": {<ref>: <parent ref or None>, ...}}

plus ``"keep"`` when a retention was set for the name. Every function here returns a new
history and leaves the one it was given unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import os
import time
from typing import Any

#: the attribute holding the history (omegaml's name)
VERSIONS = "versions"
#: names of version objects start with this (omegaml's naming; hidden from list())
VERSION_PREFIX = "_versions/"
#: the tag of the newest version
LATEST = "latest"


def empty() -> dict[str, Any]:
    """A history without versions."""
    return {"tags": {}, "commits": [], "tree": {}}


def version_name(base: str, ref: str) -> str:
    """The name the version ``ref`` of ``base`` is stored under."""
    return f"{VERSION_PREFIX}{base}/{ref}"


def new_ref(base: str) -> str:
    """A commit id no other put of ``base`` gets (the time and 8 random bytes, hashed)."""
    seed = f"{base}\0{time.time_ns()}\0{os.urandom(8).hex()}".encode()
    return hashlib.sha1(seed, usedforsecurity=False).hexdigest()


def parse(name: str) -> tuple[str, str | None, int | None]:
    """``(base, tag or commit, version)`` of ``name``: ``x@prod`` -> (x, prod, None),
    ``x^`` -> (x, None, -2), ``x^^`` -> (x, None, -3), ``x`` -> (x, None, None)."""
    if "^" in name:
        base = name.split("^")[0].split("@")[0]
        return base, None, -(name.count("^") + 1)
    if "@" in name:
        base, _, ref = name.partition("@")
        return base, ref, None
    return name, None, None


def refs(history: dict[str, Any]) -> list[str]:
    """The commit ids, oldest first."""
    return [c["ref"] for c in history.get("commits") or []]


def add(history: dict[str, Any], ref: str, base: str, tag: str | None = None
        ) -> dict[str, Any]:
    """``history`` with the new latest version ``ref`` (tagged ``tag`` too)."""
    out = copy.deepcopy(history or empty())
    for key, value in empty().items():
        out.setdefault(key, value)
    parent = out["tags"].get(LATEST)
    out["commits"].append({"name": version_name(base, ref), "ref": ref})
    out["tree"][ref] = parent
    out["tags"][LATEST] = ref
    if tag:
        out["tags"][tag] = ref
    return out


def resolve(history: dict[str, Any], ref: str | None = None, version: int | None = None
            ) -> dict[str, Any]:
    """The commit entry ``ref`` (a tag or commit id) or ``version`` (-1 latest, -2 the one
    before, 0 the first) names; KeyError saying which exist."""
    commits = history.get("commits") or []
    if ref is not None:
        target = (history.get("tags") or {}).get(ref, ref)
        for commit in commits:
            if commit["ref"] == target:
                return dict(commit)
        raise KeyError(
            f"no version {ref!r}; tags: {sorted(history.get('tags') or {})}, commits: "
            f"{[c['ref'][:12] for c in commits]}")
    index = -1 if version is None else version
    if not isinstance(index, int) or isinstance(index, bool) or not (
            -len(commits) <= index < len(commits)):
        raise KeyError(f"no version {version!r}: there are {len(commits)} versions "
                       f"(-1 is the latest, -{len(commits)} or 0 the first)")
    return dict(commits[index])


def remove(history: dict[str, Any], ref: str) -> dict[str, Any]:
    """``history`` without the version ``ref``: its tags go (``latest`` moves to the newest
    version left), its children get its parent."""
    out = copy.deepcopy(history)
    out["commits"] = [c for c in out.get("commits") or [] if c["ref"] != ref]
    tree = out.get("tree") or {}
    parent = tree.pop(ref, None)
    for child, up in list(tree.items()):
        if up == ref:
            tree[child] = parent
    out["tree"] = tree
    out["tags"] = {t: r for t, r in (out.get("tags") or {}).items() if r != ref}
    if out["commits"]:
        out["tags"][LATEST] = out["commits"][-1]["ref"]
    return out


def beyond(history: dict[str, Any], keep: int) -> list[str]:
    """The oldest commit ids past the newest ``keep`` (never the latest)."""
    all_refs = refs(history)
    return all_refs[: max(0, len(all_refs) - max(1, keep))]


def tags_of(history: dict[str, Any]) -> dict[str, list[str]]:
    """Tag names by commit id."""
    out: dict[str, list[str]] = {}
    for tag, ref in (history.get("tags") or {}).items():
        out.setdefault(ref, []).append(tag)
    return out
