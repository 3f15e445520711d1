"""``store.get("name[a,b]")`` reads only columns a and b, through ``omega_resolve_name``.

It works for every kind whose backend takes ``columns=[...]`` on get; slices and
exclusions also need the stored column order, which a backend reports through
``BaseBackend.column_names(meta)``.
"""

from __future__ import annotations

from typing import Any

from omegacore.names import NameRef

from omegacore_projection.spec import Projection, parse_spec, split_name


def resolve(name: str) -> NameRef | None:
    """``name[spec]`` refers to ``name``, read with ``columns=`` from the spec; else None.

    ``name[a,b]`` these columns in this order, ``name[a:]`` from a to the last column,
    ``name[:c]`` up to and including c, ``name[a:c]`` a to c inclusive (like
    ``df.loc[:, "a":"c"]``), ``name[^c,d]`` all but c and d.
    """
    parts = split_name(name)
    if parts is None:
        return None
    base, spec = parts
    try:
        projection = parse_spec(spec, name)
    except ValueError as error:
        return NameRef(base, error=error)
    return NameRef(base, prepare=_Columns(name, projection))


class _Columns:
    """Puts the projection's columns into the get's keyword arguments."""

    def __init__(self, name: str, projection: Projection):
        self.name = name
        self.projection = projection

    def __call__(self, store: Any, meta: Any, kwargs: dict[str, Any]) -> Any:
        if kwargs.get("columns") is not None:
            raise ValueError(
                f"get({self.name!r}, columns=...) names columns twice; give them either in "
                "the name or as columns=, not both"
            )
        kind = kwargs.get("kind") or meta.kind
        available = store.get_backend_bykind(kind).column_names(meta)
        if available is not None:
            kwargs["columns"] = self.projection.resolve(available, self.name)
        elif self.projection.needs_order:
            raise ValueError(
                f"{self.name!r}: {meta.name!r} is stored as {kind}, whose backend does not "
                "report its column order, so slices (a:c) and exclusions (^c) cannot be "
                "resolved; name the columns instead: name[a,b]"
            )
        else:
            kwargs["columns"] = list(self.projection.labels)
        return meta
