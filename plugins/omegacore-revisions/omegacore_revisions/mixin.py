"""The store methods of data revisions, in omegaml 0.18's layout.

A revised frame ``name`` is two ``pandas.dfrows`` objects: ``name`` holds the current
state (every changeset applied, with the columns ``_delete_`` and ``_om#revision``), and
``.revisions.<name>`` holds every changeset. ``kind_meta["revisions"]`` of ``name``
records them: ``{"seq": N, "name": ".revisions.<name>", "changes": [{"dt", "seq",
"tags", "delete"}, ...]}``. Earlier states are rebuilt from the changesets.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from omegacore import StoreMixin, hookimpl
from omegacore.documents import MetadataBase
from omegacore.errors import DoesNotExist
from omegacore.faults import translate_errors
from omegacore.naming import validate_name
from omegacore.validation import check_flag

#: the key of the revision record in ``kind_meta`` (omegaml's)
REVISIONS = "revisions"


def changes_name(name: str) -> str:
    """The name of the object holding ``name``'s changesets (omegaml's naming)."""
    return f".revisions.{name}"


def _record(meta: MetadataBase | None) -> dict[str, Any] | None:
    found = (meta.kind_meta or {}).get(REVISIONS) if meta is not None else None
    return found if isinstance(found, dict) and "changes" in found else None


class _RecordOnCommit:
    """Adds the revision record to ``name``'s metadata as its put commits (one commit)."""

    def __init__(self, store: Any, name: str, record: dict[str, Any]):
        self.store, self.name, self.record = store, name, record

    @hookimpl
    def omega_before_commit(self, store: Any, meta: MetadataBase, name: str, kind: str
                            ) -> None:
        if store is self.store and name == self.name:
            meta.kind_meta = {**(meta.kind_meta or {}), REVISIONS: self.record}


class RevisionsMixin(StoreMixin):
    """``put(..., revisions=True)`` and changesets; ``get(revision=, changeset=,
    trace_revisions=)``; ``revisions(name)``."""

    # -- put ----------------------------------------------------------------------------------
    @translate_errors("storing {0!r}", name_index=1)
    def put(self, obj: Any, name: str, attributes: dict[str, Any] | None = None,
            kind: str | None = None, replace: bool = False, *, revisions: bool | None = None,
            revision_dt: _dt.datetime | None = None, delete: bool | None = None,
            **kwargs: Any) -> MetadataBase:
        """Store a frame; with revisions, a changeset merged into the current state.

        revisions: True starts revisions for ``name`` (later puts need not say it).
        delete: remove the changeset's rows by index (else rows flagged ``_delete_``).
        revision_dt: the changeset's time (default: now, UTC). ``tag=`` names it.
        append=False (or replace=True) starts the revisions again.
        """
        validate_name(name)
        check_flag(revisions, "revisions", allow_none=True)
        check_flag(delete, "delete", allow_none=True)
        doc = self._metadata_doc(name)  # one read, its faults reported as "storing"
        found = ((doc or {}).get("kind_meta") or {}).get(REVISIONS)
        record = found if isinstance(found, dict) and "changes" in found else None
        if record is None and not revisions:
            unused = [k for k, v in (("revision_dt", revision_dt), ("delete", delete))
                      if v is not None]
            if unused:
                raise ValueError(f"{', '.join(f'{k}=' for k in unused)} needs a revised "
                                 f"frame: put {name!r} with revisions=True first")
            return super().put(obj, name, attributes=attributes, kind=kind, replace=replace,
                               **kwargs)
        if kind is not None and kind != "pandas.dfrows":
            raise ValueError(f"revisions keep frames as pandas.dfrows, not {kind}")
        tag = kwargs.pop("tag", None)
        append = kwargs.pop("append", True)
        check_flag(append, "append", allow_none=True)
        if doc is not None and record is None and append is not False and not replace:
            raise ValueError(f"{name!r} exists without revisions: put with append=False to "
                             "replace it and start its revisions")
        from omegacore_revisions import changes

        restart = record is None or append is False or replace
        seq = 0 if restart else int(record["seq"]) + 1  # type: ignore[index]
        changeset = changes.as_changeset(obj, seq, bool(delete))
        if restart:
            state = changes.replay([changeset])
            history: list[dict[str, Any]] = []
        else:
            current = super().get(name)
            changes.check_columns(current, changeset)
            state = changes.apply(current, changeset[list(current.columns)])
            history = list(record["changes"])  # type: ignore[index]
        history.append({"dt": revision_dt or _dt.datetime.now(_dt.timezone.utc)
                        .replace(tzinfo=None), "seq": seq, "tags": [tag] if tag else [],
                        "delete": bool(delete)})
        new_record = {"seq": seq, "name": changes_name(name), "changes": history}
        # the changesets first: until the state commits, no record points past them
        self._store_changeset(name, changeset, restart)
        with self._recording(name, new_record):
            return super().put(state, name, attributes=attributes, append=False, **kwargs)

    def _store_changeset(self, name: str, changeset: Any, restart: bool) -> None:
        from omegacore_revisions import changes

        target = changes_name(name)
        seq = int(changeset[changes.REVISION].iloc[0]) if len(changeset) else 0
        if not restart:
            stored = super().get(target)
            if stored is not None and (stored[changes.REVISION] >= seq).any():
                # left by a put that failed before its state committed: not part of history
                super().put(stored[stored[changes.REVISION] < seq], target, append=False)
        super().put(changeset, target, append=not restart)

    @contextmanager
    def _recording(self, name: str, record: dict[str, Any]) -> Iterator[None]:
        plugin = _RecordOnCommit(self, name, record)
        registered = self.plugins.register(plugin, name=f"omegacore-revisions-{id(plugin)}")
        try:
            yield
        finally:
            self.plugins.unregister(registered)

    # -- get ----------------------------------------------------------------------------------
    @translate_errors("reading {0!r}")
    def get(self, name: str, version: int = -1, force_python: bool = False,
            kind: str | None = None, *, revision: Any = None, changeset: int | None = None,
            trace_revisions: bool = False, **kwargs: Any) -> Any:
        """The frame; with revisions: ``revision=N | datetime | tag`` (or ``name@N``) the
        state as at that revision, ``changeset=N`` one changeset, ``trace_revisions=True``
        the rows with their ``_om#revision`` and ``_delete_`` (deleted rows kept)."""
        validate_name(name)
        check_flag(trace_revisions, "trace_revisions")
        asked = revision is not None or changeset is not None or trace_revisions
        base = name
        if "@" in str(name):
            candidate, _, at = str(name).partition("@")
            if _record(super().metadata(candidate)) is not None:
                base, revision, asked = candidate, _parse_revision(at), True
        if not asked:
            result = super().get(name, version=version, force_python=force_python, kind=kind,
                                 **kwargs)
            if _has_internal_columns(result) and _record(super().metadata(name)) is not None:
                from omegacore_revisions.changes import clean

                return clean(result)
            return result
        record = _record(super().metadata(base))
        if record is None:
            raise ValueError(f"{base!r} has no revisions, so revision=, changeset= and "
                             "trace_revisions= do not apply; put it with revisions=True")
        return self._read_revision(base, record, revision, changeset, trace_revisions,
                                   kwargs)

    def _read_revision(self, name: str, record: dict[str, Any], revision: Any,
                       changeset: int | None, trace: bool, kwargs: dict[str, Any]) -> Any:
        from omegacore_revisions import changes

        if kwargs:
            raise TypeError(f"reading a revision takes no other options, got {sorted(kwargs)}")
        if not super().exists(record["name"]):
            raise DoesNotExist(f"{name!r} records revisions in {record['name']!r}, which is "
                               "not stored (e.g. an import of the object without it); the "
                               "latest state reads without revision=/changeset=")
        latest = int(record["seq"])
        if changeset is not None:
            rows = super().get(record["name"], filter={changes.REVISION: int(changeset)})
            if rows is None or not len(rows):
                raise KeyError(f"{name!r} has no changeset {changeset!r} (0 to {latest})")
            return changes.clean(rows, trace)
        seq = _resolve(record, revision)
        if seq == latest and not trace:
            return changes.clean(super().get(name))
        stored = super().get(record["name"])
        parts = [stored[stored[changes.REVISION] == s] for s in range(seq + 1)]
        return changes.clean(changes.replay([p for p in parts if len(p)], trace=trace), trace)

    # -- listing ------------------------------------------------------------------------------
    def revisions(self, name: str, raw: bool = False) -> Any:
        """``name@<seq>`` for every changeset (their records with ``raw=True``); other
        mixins answer for names without data revisions."""
        record = _record(super().metadata(name))
        if record is None:
            return super().revisions(name, raw=raw)
        if raw:
            return [dict(change) for change in record["changes"]]
        return [f"{name}@{change['seq']}" for change in record["changes"]]

    # -- drop ---------------------------------------------------------------------------------
    @translate_errors("dropping {0!r}")
    def drop(self, name: str | None = None, force: bool = False, version: int = -1,
             report: bool = False, **kwargs: Any) -> bool | dict[str, bool]:
        """Drop a frame; a revised one with its changesets."""
        record = _record(super().metadata(name)) if name and not kwargs.get("pattern") \
            and not kwargs.get("regexp") else None
        dropped = super().drop(name, force=force, version=version, report=report, **kwargs)
        if record is not None:
            super().drop(record["name"], force=True)
        return dropped


def _has_internal_columns(result: Any) -> bool:
    columns = getattr(result, "columns", None)
    return columns is not None and "_delete_" in columns and "_om#revision" in columns


def _parse_revision(text: str) -> Any:
    """``name@2`` -> 2, ``name@2024-05-01`` -> a datetime, else the text (a tag)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return _dt.datetime.fromisoformat(text)
    except ValueError:
        return text


def _resolve(record: dict[str, Any], revision: Any) -> int:
    """The sequence number ``revision`` (int, datetime or tag) names."""
    changes = record["changes"]
    latest = int(record["seq"])
    if revision is None:
        return latest
    if isinstance(revision, bool):
        raise TypeError("revision= takes an int, a datetime or a tag")
    if isinstance(revision, int):
        if revision < 0:
            if -revision > len(changes):
                raise KeyError(f"no revision {revision}: there are {len(changes)}")
            return int(changes[revision]["seq"])
        return min(revision, latest)
    if isinstance(revision, _dt.datetime):
        found = int(changes[0]["seq"])
        for change in changes:
            if change["dt"] >= revision.replace(tzinfo=None):
                return found
            found = int(change["seq"])
        return latest
    for change in changes:
        if revision in (change.get("tags") or []):
            return int(change["seq"])
    raise KeyError(f"no revision tagged {revision!r}; tags: "
                   f"{sorted(t for c in changes for t in c.get('tags') or [])}")
