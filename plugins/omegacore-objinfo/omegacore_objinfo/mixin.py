"""``summary``, ``stats`` and ``dbstats``: what is stored, how large, since when.

Sizes count every location of an object (its collection, its GridFS file, and the
further collections and files its kind records), so third-party kinds are measured
without code of their own.
"""

from __future__ import annotations

from typing import Any

from omegacore import StoreMixin
from omegacore.errors import DoesNotExist, PluginError
from omegacore.staging import ROWID_FIELD, visible_rows_filter

#: ``scale`` names (powers of 1024)
SCALES = {"b": 1.0, "k": 1024.0, "m": 1024.0 ** 2, "g": 1024.0 ** 3, "t": 1024.0 ** 4}


def _scale(scale: float | str) -> float:
    """A divisor for sizes: a number (1e6, or 1e-6 for the same), or b/k/m/g/t."""
    if isinstance(scale, str):
        found = SCALES.get(scale[:1].lower())
        if found is None:
            raise ValueError(f"scale={scale!r}: use a number or one of b, k, m, g, t")
        return found
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0:
        raise ValueError(f"scale must be a positive number or b/k/m/g/t, got {scale!r}")
    return float(scale) if scale >= 1 else 1.0 / float(scale)


class ObjectInfoMixin(StoreMixin):
    """Adds ``summary``, ``stats`` and ``dbstats`` to the store."""

    def summary(self, name: str) -> dict[str, Any]:
        """What ``name`` is: kind, size in bytes, rows (``count``), columns or shape,
        created, modified, attributes, revisions; DoesNotExist if nothing is stored."""
        from omegacore.cli_objects import object_size

        meta = self.metadata(name)
        if meta is None:
            raise DoesNotExist(f"{name!r} is not stored in {self!r}")
        rows = self._rows(meta)
        out: dict[str, Any] = {
            "name": name,
            "kind": meta.kind,
            "created": meta.created,
            "modified": meta.modified,
            "docs": (meta.attributes or {}).get("docs"),
            "revisions": self.revisions(name),
            "size": object_size(self, meta),
            "count": max(rows, 1),
            "attributes": dict(meta.attributes or {}),
        }
        try:
            columns = self.get_backend_bykind(meta.kind).column_names(meta)
        except (PluginError, LookupError):  # the kind is not installed here: no columns
            columns = None
        if columns is not None:
            out["columns"] = list(columns)
        shape = (meta.kind_meta or {}).get("shape")
        if shape is not None:
            out["shape"] = list(shape)
        return out

    def _rows(self, meta: Any) -> int:
        """Documents of the object's collection (committed ones), else 1 (one file)."""
        if not meta.collection:
            return 1
        storage = meta.storage or {}
        visible = visible_rows_filter(storage.get("rows"), storage.get("rowid_field",
                                                                        ROWID_FIELD))
        return int(self.mongodb[meta.collection].count_documents(visible))

    def stats(self, pattern: str | None = None, scale: float | str = 1.0,
              as_dict: bool = False) -> Any:
        """``count`` and ``totalSize`` (divided by ``scale``) of every listed object (or
        those ``pattern`` matches): a DataFrame with each as a share of the total too
        (``count%``, ``totalSize%``) and the ``units``, or a dict with ``as_dict``."""
        from omegacore.cli_objects import object_size

        divisor = _scale(scale)
        found: dict[str, dict[str, float]] = {}
        for name in self.list(pattern=pattern) if pattern else self.list():
            meta = self.metadata(name)
            if meta is None:  # dropped meanwhile
                continue
            found[name] = {"count": max(self._rows(meta), 1),
                           "totalSize": object_size(self, meta) / divisor}
        return found if as_dict else _table(found, divisor)

    def dbstats(self, scale: float | str = 1.0, as_dict: bool = False) -> Any:
        """The database's ``totalSize`` and the file system's used, total and available
        sizes (divided by ``scale``), as the server reports them (zeros where it does not)."""
        divisor = _scale(scale)
        try:
            raw = self.mongodb.command("dbstats")
        except Exception:  # noqa: BLE001 - a server without dbstats: sizes unknown
            raw = {}
        total = raw.get("totalSize", (raw.get("dataSize") or 0) + (raw.get("indexSize") or 0))
        fs_total, fs_used = raw.get("fsTotalSize") or 0, raw.get("fsUsedSize") or 0
        stats = {"totalSize": total / divisor, "fsUsedSize": fs_used / divisor,
                 "fsTotalSize": fs_total / divisor,
                 "fsAvailableSize": (fs_total - fs_used) / divisor}
        if as_dict:
            return stats
        import pandas as pd

        frame = pd.DataFrame(stats, index=["db"])
        frame["units"] = divisor
        return frame


def _table(found: dict[str, dict[str, float]], divisor: float) -> Any:
    import pandas as pd

    if not found:
        return pd.DataFrame(columns=["count", "totalSize", "count%", "totalSize%", "units"])
    frame = pd.DataFrame(found).T
    totals = frame.sum()
    shares = (frame / totals.where(totals != 0)).fillna(0.0).add_suffix("%")
    out = pd.concat([frame, shares], axis=1)
    out["units"] = divisor
    return out
