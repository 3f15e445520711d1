"""``to_archive`` and ``from_archive`` on the store (see ``omegacore_archive.archive``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


class ArchiveMixin:
    """Adds ``to_archive`` and ``from_archive`` to the store (omegaml 0.18's archives)."""

    def to_archive(self, name: str, path: str | os.PathLike[str], versions: bool = True,
                   progress: Callable[[str], None] | None = None) -> Path:
        """Write the object ``name`` (metadata and data) to ``path``; returns the path.

        ``path`` ending in ``.tgz`` (omegaml's) or ``.tar.gz`` gives a compressed tarball;
        an archive directory gets the object added, any other path becomes a new archive
        directory. A versioned object brings every version along unless ``versions=False``
        (or a version is named: ``name@tag``).
        """
        from omegacore_archive.archive import export

        return export(self, name, path, versions=versions,  # type: ignore[arg-type]
                      progress=progress)

    def from_archive(self, path: str | os.PathLike[str], name: str | None = None,
                     asname: str | None = None,
                     progress: Callable[[str], None] | None = None) -> Any:
        """Store the object ``name`` of the archive at ``path`` (and its versions).

        ``name`` may be left out when the archive holds one object; ``asname`` stores it
        under another name (default: its own, without a version suffix). Checksums are
        verified and unsafe members refused before anything is written; each object is
        stored with one put, and a failure removes whatever the import stored.
        """
        from omegacore_archive.archive import base_name, open_archive, restore

        with tempfile.TemporaryDirectory(prefix="omegacore-import-") as work:
            opened = open_archive(path, work)
            obj = opened.select(name, self.prefix)  # type: ignore[attr-defined]
            target = asname or base_name(obj.name)
            return restore(self, opened, obj, target, progress=progress)  # type: ignore[arg-type]
