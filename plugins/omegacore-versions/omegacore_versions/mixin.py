"""The store methods of versions: every put of a versioned name is a new version.

Each version is a whole object of its own, stored by its kind under the hidden name
``_versions/<name>/<commit>``, so every kind is versioned without code of its own. The
name itself is a metadata document that shares the data of its latest version
(``StagedPut.share_data_of``) and holds the history in ``attributes["versions"]``,
omegaml's layout: a plain ``get(name)`` reads it in one metadata read, like an
unversioned object, and omegaml 0.18 reads the history and the versions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from omegacore import SharedDataGone, StoreMixin
from omegacore.documents import MetadataBase
from omegacore.faults import translate_errors
from omegacore.naming import validate_name
from omegacore.validation import check_flag

from omegacore_versions import history as hist
from omegacore_versions.history import LATEST, VERSION_PREFIX, VERSIONS

#: which names are versioned when put does not say (``versions=``): "models" (omegaml's
#: default: every name in a store whose prefix starts with ``models/``), "all" or "none"
POLICY_ENV = "OMEGA_VERSIONS"
#: how many versions a name keeps when neither put nor the name sets ``keep`` (0: all)
KEEP_ENV = "OMEGA_VERSIONS_KEEP"
_POLICIES = ("models", "all", "none")

#: set while ``get`` reads the latest version under the plain name (see ``_resolved_doc``)
_READING_LATEST: ContextVar[bool] = ContextVar("omegacore_versions_latest", default=False)


def _policy() -> str:
    value = os.environ.get(POLICY_ENV, "models").strip().lower() or "models"
    if value not in _POLICIES:
        raise ValueError(f"{POLICY_ENV}={value!r}: use one of {', '.join(_POLICIES)}")
    return value


def _default_keep() -> int:
    raw = os.environ.get(KEEP_ENV, "0").strip() or "0"
    try:
        keep = int(raw)
    except ValueError:
        raise ValueError(f"{KEEP_ENV}={raw!r}: give a whole number (0 keeps every version)"
                         ) from None
    if keep < 0:
        raise ValueError(f"{KEEP_ENV}={raw!r}: give 0 (keep all) or a positive number")
    return keep


def _check_keep(keep: Any) -> None:
    if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
        raise ValueError(f"keep= takes a positive int (versions to keep), got {keep!r}")


def _history(meta: MetadataBase | dict[str, Any] | None) -> dict[str, Any] | None:
    """The version history of a metadata object or document, or None if unversioned."""
    if meta is None:
        return None
    attributes = meta.get("attributes") if isinstance(meta, dict) else meta.attributes
    found = (attributes or {}).get(VERSIONS)
    return found if isinstance(found, dict) and "commits" in found else None


class VersionsMixin(StoreMixin):
    """``put``/``get``/``metadata``/``drop`` with versions, ``revisions()``, ``versions()``."""

    #: overrides ``OMEGA_VERSIONS`` for this store ("models", "all" or "none")
    versions_policy: str | None = None

    # -- which names are versioned ------------------------------------------------------------
    def _policy_applies(self, name: str) -> bool:
        policy = self.versions_policy or _policy()
        if policy not in _POLICIES:
            raise ValueError(f"versions_policy={policy!r}: use one of {', '.join(_POLICIES)}")
        if policy == "all":
            return True
        if policy == "models":
            return self.prefix.startswith("models/") and not name.startswith("tools/")
        return False

    def _is_versioned(self, base: str, versions: bool | None) -> bool:
        if base.startswith(VERSION_PREFIX):
            return False
        if versions is not None:
            return versions
        if self._policy_applies(base):
            return True
        return _history(self._metadata_doc(base)) is not None  # one read, untranslated

    # -- put ----------------------------------------------------------------------------------
    @translate_errors("storing {0!r}", name_index=1)
    def put(self, obj: Any, name: str, attributes: dict[str, Any] | None = None,
            kind: str | None = None, replace: bool = False, *, tag: str | None = None,
            commit: str | None = None, versions: bool | None = None, keep: int | None = None,
            **kwargs: Any) -> MetadataBase:
        """Store ``obj``; a versioned name gets a new version (tagged ``tag``, with the
        commit id ``commit`` if given), keeping the newest ``keep`` versions.

        versions: True versions this name from now on, False stores it unversioned; by
        default names already versioned are, and so is every name of a ``models/`` store
        (``OMEGA_VERSIONS``). ``name@tag`` is the same as ``tag=``.
        """
        validate_name(name)
        check_flag(versions, "versions", allow_none=True)
        _check_keep(keep)
        base, name_tag, back = hist.parse(str(name)) if ("@" in str(name) or "^" in str(name)) \
            else (name, None, None)
        if not self._is_versioned(base, versions):
            unused = {k: v for k, v in (("tag", tag), ("commit", commit), ("keep", keep))
                      if v is not None}
            if unused:
                raise ValueError(
                    f"{', '.join(f'{k}=' for k in unused)} needs a versioned object, and "
                    f"{name!r} is not versioned: pass versions=True to start its versions")
            return super().put(obj, name, attributes=attributes, kind=kind, replace=replace,
                               **kwargs)
        if back is not None:
            raise ValueError(f"cannot put to {name!r}: '^' names an earlier version; put to "
                             f"{base!r} to add a version")
        if name_tag and tag and name_tag != tag:
            raise ValueError(f"{name!r} names the tag {name_tag!r} but tag={tag!r} was given")
        tag = tag or name_tag
        if tag == LATEST:
            raise ValueError("the tag 'latest' always names the newest version; choose "
                             "another tag")
        start, share = (None, {}) if replace else self._sharing(base, obj, kind, kwargs)
        kwargs = {**share, **kwargs}
        ref = commit or hist.new_ref(base)
        vname = hist.version_name(base, ref)
        if super().metadata(vname) is not None:
            raise ValueError(f"{base!r} has a version with commit {ref!r} already; give "
                             "another commit=")
        if start is not None:  # the new version starts as the latest one's parts
            self._share_parts(start, vname)
            try:
                if len(obj):
                    super().put(obj, vname, attributes=attributes, kind=kind,
                                **{**kwargs, "append": True})
            except BaseException:
                super().drop(vname, force=True)  # its shared parts stay with the latest
                raise
        else:
            try:
                super().put(obj, vname, attributes=attributes, kind=kind, replace=replace,
                            **kwargs)
            except SharedDataGone:
                if not share or kwargs.get("share_with") != share.get("share_with"):
                    raise
                # the latest version was dropped meanwhile: store this one whole
                kwargs.pop("share_with")
                super().put(obj, vname, attributes=attributes, kind=kind, replace=replace,
                            **kwargs)
        try:
            meta = self._commit_base(
                base, lambda h: hist.add(h, ref, base, tag) | ({"keep": keep} if keep else {}),
                attributes=attributes)
        except BaseException:
            super().drop(vname, force=True)  # the history is unchanged: nothing is left
            raise
        self._apply_retention(base, meta)
        return meta

    def _sharing(self, base: str, obj: Any, kind: str | None, kwargs: dict[str, Any]
                 ) -> tuple[MetadataBase | None, dict[str, Any]]:
        """How a new version of ``base`` shares the latest version's data: ``(latest, {})``
        for an append (the new version starts as the latest's parts), ``(None,
        {"share_with": latest})`` for a whole put, ``(None, {})`` if it cannot share.

        Only kinds whose objects share data do (``SHARES_DATA``); other kinds refuse
        appends (ValueError: each version is a whole object). One metadata read for kinds
        that do not share.
        """
        append = bool(kwargs.get("append"))
        current = self._metadata_doc(base)
        history = _history(current)
        if current is None or not history or not history.get("commits"):
            return None, {}  # the first version: a plain put
        stored_kind = str(current.get("kind"))  # the name reads its latest version's kind
        backend = self.get_backend_bykind(stored_kind)
        if not getattr(backend, "SHARES_DATA", False):
            if append:
                raise ValueError(
                    f"{base!r} is versioned and stored as {stored_kind}, whose appends change "
                    "the stored data: each version is a whole object, so append=True cannot "
                    "add to it. Put the whole object (a new version), or put with "
                    "versions=False to a name of its own (kinds such as pandas.parquet do "
                    "take appends to versions)")
            return None, {}
        if not append and self.plugins.choose_kind(obj, base, kind, dict(kwargs))[0] \
                != stored_kind:
            return None, {}
        latest = self._version_meta(hist.resolve(history))
        return (latest, {}) if append else (None, {"share_with": latest.name})

    def _share_parts(self, latest: MetadataBase, vname: str) -> None:
        """Store ``vname`` as an object reading ``latest``'s data (its files, kept by both)."""
        with self.stage(vname, kind=latest.kind,
                        attributes=dict(latest.attributes or {}),
                        kind_meta=dict(latest.kind_meta or {})) as staged:
            staged.meta.gridfile = latest.gridfile
            files = latest.locations().files
            gridfile = getattr(latest.gridfile, "grid_id", latest.gridfile)
            staged.keep_files([f for f in files if f != gridfile])

    def _commit_base(self, base: str, change: Callable[[dict[str, Any]], dict[str, Any]],
                     attributes: dict[str, Any] | None = None) -> MetadataBase:
        """Rewrite ``base``'s history with ``change`` and point it at its latest version's
        data: a compare-and-swap, redone on what another writer committed meanwhile."""
        current = self._metadata_doc(base)
        history = change(_history(current) or hist.empty())
        latest = self._version_meta(hist.resolve(history))
        staged = self.stage(base, kind=latest.kind)

        def apply(doc_attributes: dict[str, Any] | None) -> None:
            new = change(_history({"attributes": doc_attributes}) or hist.empty())
            target = self._version_meta(hist.resolve(new))
            staged.share_data_of(target)
            staged.meta.kind = target.kind
            merged = {k: v for k, v in (doc_attributes or {}).items() if k != VERSIONS}
            staged.meta.attributes = {**merged, **(attributes or {}), VERSIONS: new}

        with staged:
            apply((staged.previous or {}).get("attributes"))
            staged.on_rebase(lambda meta: apply(meta.attributes))
        return staged.meta

    def _version_meta(self, commit: dict[str, Any]) -> MetadataBase:
        meta = super().metadata(commit["name"])
        if meta is None:
            raise KeyError(f"the version object {commit['name']!r} is missing; run "
                           "`omegacore fsck` and put the object again")
        return meta

    def _apply_retention(self, base: str, meta: MetadataBase) -> None:
        history = _history(meta) or hist.empty()
        keep = history.get("keep") or _default_keep()
        if keep:
            old = hist.beyond(history, int(keep))
            if old:
                self._forget(base, old)

    def _forget(self, base: str, refs: list[str]) -> None:
        """Remove the versions ``refs`` from ``base``'s history, then their objects."""
        def change(h: dict[str, Any]) -> dict[str, Any]:
            for ref in refs:
                h = hist.remove(h, ref)
            return h

        current = _history(self._metadata_doc(base)) or hist.empty()
        if not change(current)["commits"]:
            super().drop(base, force=True)
        else:
            self._commit_base(base, change)
        for ref in refs:
            super().drop(hist.version_name(base, ref), force=True)

    # -- get ----------------------------------------------------------------------------------
    @translate_errors("reading {0!r}")
    def get(self, name: str, version: int = -1, force_python: bool = False,
            kind: str | None = None, *, tag: str | None = None, commit: str | None = None,
            **kwargs: Any) -> Any:
        """The object, or one of its versions: ``name@tag``, ``name@<commit>``, ``name^``
        (the one before the latest), ``version=-2``, ``tag=``, ``commit=``."""
        validate_name(name)
        target = self._version_target(name, version, tag, commit)
        if target is None:
            token = _READING_LATEST.set(True)
            try:
                return super().get(name, force_python=force_python, kind=kind, **kwargs)
            finally:
                _READING_LATEST.reset(token)
        return super().get(target, force_python=force_python, kind=kind, **kwargs)

    def _version_target(self, name: str, version: int | None, tag: str | None,
                        commit: str | None) -> str | None:
        """The version object's name for a versioned request, None for a plain read."""
        literal = "@" not in str(name) and "^" not in str(name)
        if literal and tag is None and commit is None and version in (None, -1):
            return None
        base, ref, back = hist.parse(str(name)) if not literal else (name, None, None)
        base_meta = super().metadata(base)
        history = _history(base_meta)
        if history is None:
            if literal or super().metadata(name) is None and base_meta is not None:
                raise ValueError(
                    f"{name!r} (version={version!r}, tag={tag!r}, commit={commit!r}): {base!r} "
                    "has no versions to select from; put it with versions=True to keep "
                    "versions (omegacore-versions)")
            return name  # an object whose name holds '@' or '^'
        ref = tag or commit or ref
        index = back if back is not None else (None if version == -1 else version)
        return str(hist.resolve(history, ref=ref, version=index)["name"])

    def _resolved_doc(self, name: str, bucket: str | None = None, prefix: str | None = None
                      ) -> tuple[dict[str, Any] | None, list[Any]]:
        doc, refs = super()._resolved_doc(name, bucket, prefix)
        if (_READING_LATEST.get() and doc is not None and not refs
                and not (doc.get("storage") or {}).get("external")):
            history = _history(doc)
            if history and history.get("commits"):
                # written by omegaml: its name holds data of its own (python.data appends
                # every version there); omegaml reads the latest version object, so do we
                latest = self._metadata_doc(history["commits"][-1]["name"], bucket, prefix)
                if latest is not None:
                    return latest, refs
        return doc, refs

    # -- metadata -----------------------------------------------------------------------------
    def metadata(self, name: str | None = None, bucket: str | None = None,
                 prefix: str | None = None, version: int = -1, tag: str | None = None,
                 commit: str | None = None, raw: bool = False) -> MetadataBase | None:
        """The metadata of ``name``; of one of its versions with ``raw=True`` (``name@tag``,
        ``name^``, ``version=``, ``tag=``, ``commit=`` select it, as in ``get``)."""
        check_flag(raw, "raw")
        plain = name is None or ("@" not in str(name) and "^" not in str(name))
        if plain and tag is None and commit is None and version in (None, -1) and not raw:
            return super().metadata(name, bucket, prefix)
        assert name is not None
        base = hist.parse(str(name))[0] if not plain else name
        base_meta = super().metadata(base, bucket, prefix)
        history = _history(base_meta)
        if history is None:
            if raw and plain and tag is None and commit is None and version in (None, -1):
                return base_meta
            literal = super().metadata(name, bucket, prefix) if not plain else None
            if literal is not None:
                return literal
            if base_meta is None:
                return None
            raise ValueError(f"{base!r} has no versions to select; put it with versions=True")
        if not raw:
            return base_meta
        target = self._version_target(name, version, tag, commit) or str(
            hist.resolve(history)["name"])
        return super().metadata(target, bucket, prefix)

    # -- drop ---------------------------------------------------------------------------------
    @translate_errors("dropping {0!r}")
    def drop(self, name: str | None = None, force: bool = False, version: int = -1,
             report: bool = False, **kwargs: Any) -> bool | dict[str, bool]:
        """Drop an object with all its versions, or one version (``name@tag``, ``name^``,
        ``version=``): its data goes, the history stays whole (tags on it are removed, the
        name reads the newest version left)."""
        if name is None or kwargs.get("pattern") or kwargs.get("regexp"):
            return super().drop(name, force=force, version=version, report=report, **kwargs)
        literal = "@" not in str(name) and "^" not in str(name)
        base = name if literal else hist.parse(str(name))[0]
        history = _history(super().metadata(base))
        if history is None:
            return super().drop(name, force=force, version=version, report=report, **kwargs)
        if literal and version in (None, -1):
            dropped = super().drop(base, force=force, report=report, **kwargs)
            for ref in hist.refs(history):
                super().drop(hist.version_name(base, ref), force=True)
            return dropped
        target = self._version_target(name, version, None, None)
        ref = str(target).rsplit("/", 1)[-1]
        self._forget(base, [ref])
        return {name: True} if report else True

    # -- listing ------------------------------------------------------------------------------
    def revisions(self, name: str, raw: bool = False) -> list[Any] | None:
        """omegaml's listing: ``name@tag`` for every tag, then ``name@<commit>`` for the
        untagged versions (their metadata with ``raw=True``); None if unversioned."""
        history = _history(super().metadata(name))
        if history is None:
            return super().revisions(name, raw=raw)
        tagged = hist.tags_of(history)
        names = [f"{name}@{t}" for t in history.get("tags") or {}]
        names += [f"{name}@{r}" for r in hist.refs(history) if r not in tagged]
        return [self.metadata(n, raw=True) for n in names] if raw else names

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of ``name``, oldest first: commit, tags, kind, created, size."""
        from omegacore.cli_objects import object_size

        history = _history(super().metadata(name))
        if history is None:
            raise ValueError(f"{name!r} has no versions (put it with versions=True)")
        tags = hist.tags_of(history)
        out = []
        for number, entry in enumerate(history.get("commits") or []):
            meta = super().metadata(entry["name"])
            out.append({
                "version": number,
                "commit": entry["ref"],
                "tags": sorted(tags.get(entry["ref"], [])),
                "kind": meta.kind if meta else None,
                "created": meta.created if meta else None,
                "size": object_size(self, meta) if meta else None,
                "name": entry["name"],
            })
        return out
