"""``to_archive`` and ``from_archive`` on the store (see ``omegacore_archive.archive``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegacore.errors import DoesNotExist


class ArchiveMixin:
    """Adds ``to_archive`` and ``from_archive`` to the store."""

    def to_archive(self, name: str, path: str | os.PathLike[str],
                   progress: Callable[[str], None] | None = None) -> Path:
        """Write the object ``name`` (metadata and data) to ``path``; returns the path.

        ``path`` ending in ``.tar.gz`` or ``.tgz`` gives a compressed tarball, anything else
        a new directory. A versioned object exports its current version.
        """
        from omegacore_archive.archive import export

        meta = self.metadata(name)  # type: ignore[attr-defined]
        if meta is None:
            raise DoesNotExist(f"{name!r} is not stored in {self!r}; nothing to export")
        return export(self, meta, path, progress=progress)  # type: ignore[arg-type]

    def from_archive(self, path: str | os.PathLike[str], name: str | None = None,
                     progress: Callable[[str], None] | None = None) -> Any:
        """Store the object archived at ``path`` as ``name`` (default: its archived name).

        Checksums are verified and unsafe members refused before anything is written; the
        object is stored with one put, replacing an object of that name atomically.
        """
        from omegacore_archive.archive import open_archive, restore

        with tempfile.TemporaryDirectory(prefix="omegacore-import-") as work:
            opened = open_archive(path, work)
            target = name or opened.manifest["name"]
            return restore(self, opened, target, progress=progress)  # type: ignore[arg-type]
