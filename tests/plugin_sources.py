"""Source code of throwaway plugin distributions (installed with the ``install_dist`` fixture).

Each kind keeps a ``str`` as UTF-8 bytes in GridFS through the public backend API, so a
test can put and get through it on the real server.
"""

from __future__ import annotations

KIND_SOURCE = """
from omegacore import BaseBackend, KindSpec, hookimpl

class {cls}(BaseBackend):
    KIND = "{kind}"

    @classmethod
    def supports(cls, obj, name, **kwargs):
        {supports}

    def put(self, obj, name, attributes=None, replace=False, **kwargs):
        if kwargs:
            raise TypeError(f"{kind} put() takes no options, got {{sorted(kwargs)}}")
        with self.stage(name, attributes) as staged:
            staged.put_file(obj.encode())
        return staged.meta

    def get(self, name, version=-1, meta=None, **kwargs):
        meta = self.metadata(name, meta)
        return self.open_file(meta).read().decode()

@hookimpl
def omega_kinds():
    return [KindSpec("{kind}", "{backend}", types={types!r}, priority={priority},
                     selected_by={selected_by!r}, replaces={replaces!r})]
"""


def kind_source(
    module: str,
    kind: str,
    cls: str = "Backend",
    priority: int = 0,
    types: tuple[str, ...] = ("builtins.str",),
    supports: str = "return isinstance(obj, str)",
    selected_by: tuple[str, ...] = (),
    replaces: tuple[str, ...] = (),
    backend: str | None = None,
    extra: str = "",
) -> str:
    """A plugin module declaring one kind for ``str`` objects (``backend`` overrides the path)."""
    source = KIND_SOURCE.format(
        module=module, kind=kind, cls=cls, priority=priority, types=types, supports=supports,
        selected_by=selected_by, replaces=replaces, backend=backend or f"{module}:{cls}",
    )
    return source + extra
