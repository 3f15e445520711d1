"""Promotion: copy an object from this store to another one.

``promote(name, other_store)`` reads the object here and stores it there with one put,
so the target is replaced atomically or not at all. The methods follow omegaml's:

- ``getput`` (default): get, then put as the same kind; the target's attributes are the
  source's, or with ``drop=False`` (the default in ``models/``) the target's earlier ones
  updated with the source's;
- ``data``: the same copy, keeping the target's earlier attributes as they were;
- ``metadata``: only the source's attributes, merged into the existing target's;
- ``export``: through an archive (``to_archive``/``from_archive``), when a plugin
  provides them.

``drop`` is omegaml's: it concerns the target (replace rather than merge), never the
source. ``other_store`` may use another prefix, bucket or database (another ``mongo_url``). A
name with versions promotes its current version, ``name@tag`` that version. The source's
version history stays with the source.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omegacore.errors import DoesNotExist

#: the promotion methods, as omegaml names them
METHODS = ("getput", "data", "metadata", "export")
#: ``drop``'s default by the target's prefix (else True): a models store keeps the
#: target's attributes, as the promotion adds a version there (omegaml's default)
DEFAULT_DROP = {"models/": False}
#: attributes that describe the source object's own history, never copied
_OWN_ATTRIBUTES = ("versions",)


class PromotionMixin:
    """Adds ``promote`` to the store."""

    def promote(self, name: str, other: Any, asname: str | None = None,
                drop: bool | None = None, method: str | Sequence[str] = "getput",
                get: dict[str, Any] | None = None, put: dict[str, Any] | None = None,
                **kwargs: Any) -> Any:
        """Copy ``name`` to the store ``other`` (as ``asname``); returns its metadata there.

        drop: the target's earlier attributes are discarded (True) or kept and updated
        (False); default True, False in a ``models/`` store, where a promotion adds a
        version (omegaml's default). The source always stays.
        method: one of getput, data, metadata, export, or several (``"data,metadata"``
        or a list), each applied in turn (``metadata`` last).
        get / put: keyword arguments for the source's ``get`` and the target's ``put``;
        other keyword arguments go to the target's ``put`` too (e.g. ``row_group_size=``).
        """
        methods = _methods(method)
        if drop not in (None, True, False):
            raise TypeError(f"drop takes True or False, got {drop!r}")
        for label, value in (("get", get), ("put", put)):
            if value is not None and not isinstance(value, dict):
                raise TypeError(f"{label}= takes a dict of keyword arguments, got {value!r}")
        if not hasattr(other, "put") or not hasattr(other, "metadata"):
            raise TypeError(f"promote needs a store to promote to, not {type(other).__name__}")
        if drop is None:
            drop = DEFAULT_DROP.get(other.prefix, True)
        target = asname or _base_name(name)
        source = self.metadata(_base_name(name))  # type: ignore[attr-defined]
        if source is None:
            raise DoesNotExist(f"{name!r} is not stored in {self!r}; nothing to promote")
        attributes = {k: v for k, v in (source.attributes or {}).items()
                      if k not in _OWN_ATTRIBUTES}
        result = None
        for each in methods:
            existing = other.metadata(target)
            if each == "metadata":
                result = _merge_attributes(existing, attributes, target, other)
            elif each == "export":
                result = self._promote_by_archive(name, other, target, {**(put or {}),
                                                                        **kwargs})
            else:
                kept = dict(existing.attributes or {}) if existing is not None else {}
                kept = {k: v for k, v in kept.items() if k not in _OWN_ATTRIBUTES}
                if each == "data":
                    merged = kept
                else:
                    merged = attributes if drop else {**kept, **attributes}
                obj = self.get(name, **(get or {}))  # type: ignore[attr-defined]
                if obj is None:
                    raise DoesNotExist(f"{name!r} could not be read from {self!r}")
                backend = self.get_backend_bykind(source.kind)  # type: ignore[attr-defined]
                options = {**backend.put_options(source), **(put or {}), **kwargs}
                result = other.put(obj, target, attributes=merged or None, kind=source.kind,
                                   replace=True, **options)
                own = {k: v for k, v in (result.attributes or {}).items()
                       if k in _OWN_ATTRIBUTES}  # the target's history stays its own
                if drop and each == "getput" and (result.attributes or {}) != {**own, **merged}:
                    result.attributes = {**own, **merged}  # put keeps earlier attributes
                    result.save()
        return result

    def _promote_by_archive(self, name: str, other: Any, target: str,
                            kwargs: dict[str, Any]) -> Any:
        if not hasattr(self, "to_archive") or not hasattr(other, "from_archive"):
            raise NotImplementedError(
                "method='export' promotes through an archive: install a plugin that adds "
                "to_archive/from_archive to the store (omegacore-archive), or use "
                "method='getput'"
            )
        import tempfile

        with tempfile.TemporaryDirectory(prefix="omegacore-promote-") as tmp:
            path = self.to_archive(name, tmp, versions=False)
            return other.from_archive(path, asname=target, **kwargs)


def _methods(method: str | Sequence[str]) -> list[str]:
    """The methods to apply, in order (``metadata`` after those that store data)."""
    given = method.split(",") if isinstance(method, str) else list(method)
    names = [("getput" if m.strip() == "default" else m.strip()) for m in given]
    unknown = [m for m in names if m not in METHODS]
    if unknown or not names:
        raise ValueError(f"unknown promotion method {method!r}; use one of "
                         f"{', '.join(METHODS)} (or several: 'data,metadata')")
    return sorted(dict.fromkeys(names), key=lambda m: m == "metadata")


def _base_name(name: str) -> str:
    """``name`` without a version suffix (``@tag``, ``^``)."""
    return name.split("@", 1)[0].rstrip("^")


def _merge_attributes(existing: Any, attributes: dict[str, Any], target: str,
                      other: Any) -> Any:
    """The target's metadata with the source's attributes merged in (data unchanged)."""
    if existing is None:
        raise DoesNotExist(
            f"method='metadata' copies attributes onto an existing object, and {target!r} is "
            f"not stored in {other!r}; promote with method='getput' first"
        )
    existing.attributes = {**(existing.attributes or {}), **attributes}
    existing.save()
    return other.metadata(target)
