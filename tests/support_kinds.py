"""Small kinds used by the core's own tests (the core ships no kind).

``test.bytes`` keeps bytes in GridFS, ``test.lines`` keeps a list of strings as rows.
Both use only the public backend API, as a plugin would.
"""

from __future__ import annotations

from typing import Any

from omegacore import BaseBackend, KindSpec, hookimpl
from omegacore.journal import ROWID_FIELD


class BytesBackend(BaseBackend):
    """Bytes in one GridFS file."""

    KIND = "test.bytes"

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        return isinstance(obj, bytes)

    def put(self, obj: bytes, name: str, attributes: Any = None, **kwargs: Any) -> Any:
        fail_after_write = kwargs.get("fail_after_write", False)
        with self.stage(name, attributes, kind_meta={"size": len(obj)}) as staged:
            staged.put_file(obj)
            if fail_after_write:
                raise RuntimeError("failed after writing data")
        return staged.meta

    def get(self, name: str, version: int = -1, meta: Any = None, **kwargs: Any) -> bytes:
        meta = self.metadata(name, meta)
        return self.open_file(meta).read()


class LinesBackend(BaseBackend):
    """A list of strings, one document per line, appended unless replaced."""

    KIND = "test.lines"

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        return isinstance(obj, list) and all(isinstance(x, str) for x in obj)

    def put(self, obj: list[str], name: str, attributes: Any = None, replace: bool = False,
            fail_after: int | None = None, **kwargs: Any) -> Any:
        with self.stage(name, attributes) as staged:
            coll = None if replace else staged.append_target()
            if coll is None:
                coll = staged.new_collection()
            start = staged.reserve_rows(len(obj))
            for i, line in enumerate(obj[:fail_after]):
                coll.insert_one({"line": line, ROWID_FIELD: start + i})
            if fail_after is not None:
                raise RuntimeError(f"failed after {fail_after} lines")
        return staged.meta

    def get(self, name: str, version: int = -1, meta: Any = None, **kwargs: Any) -> list[str]:
        meta = self.metadata(name, meta)
        found = self.store.mongodb[meta.collection].find(self.visible_rows(meta))
        return [d["line"] for d in found.sort(ROWID_FIELD, 1)]


class SupportKindsPlugin:
    """Registers both kinds through the same hook a distribution would implement."""

    @hookimpl
    def omega_kinds(self) -> list[KindSpec]:
        return [
            KindSpec("test.bytes", BytesBackend, types=("builtins.bytes",), priority=20),
            KindSpec("test.lines", LinesBackend, types=("builtins.list",), priority=20),
        ]
