"""The store mixin: ``store.get("name[a,b]")`` reads only columns a and b.

It works for every kind whose backend takes ``columns=[...]`` on get; slices and
exclusions also need the stored column order, which a backend reports through
``BaseBackend.column_names(meta)``.
"""

from __future__ import annotations

from typing import Any

from omegacore_projection.spec import parse_spec, split_name


class ProjectionMixin:
    """Column projection in object names, on ``get`` and ``getl``.

    ``name[a,b]`` these columns in this order, ``name[a:]`` from a to the last column,
    ``name[:c]`` up to and including c, ``name[a:c]`` a to c inclusive (like
    ``df.loc[:, "a":"c"]``), ``name[^c,d]`` all but c and d. A name without brackets is
    passed on untouched. If an object is stored under exactly the given name, brackets
    and all, that object is read as is.
    """

    def get(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``super().get`` with the bracketed column spec of ``name`` as ``columns=[...]``."""
        parts = split_name(name) if isinstance(name, str) else None
        if parts is None:
            return super().get(name, *args, **kwargs)  # type: ignore[misc]
        if self.metadata(name) is not None:  # type: ignore[attr-defined]
            return super().get(name, *args, **kwargs)  # type: ignore[misc]
        base, spec = parts
        projection = parse_spec(spec, name)
        if kwargs.get("columns") is not None:
            raise ValueError(
                f"get({name!r}, columns=...) names columns twice; give them either in the "
                "name or as columns=, not both"
            )
        kwargs.pop("columns", None)
        meta = self.metadata(base)  # type: ignore[attr-defined]
        if meta is None:
            return None  # as store.get does for a name that is not stored
        kind = kwargs.get("kind") or meta.kind
        available = self.get_backend_bykind(kind).column_names(meta)  # type: ignore[attr-defined]
        if available is not None:
            columns = projection.resolve(available, name)
        elif projection.needs_order:
            raise ValueError(
                f"{name!r}: {base!r} is stored as {kind}, whose backend does not report its "
                "column order, so slices (a:c) and exclusions (^c) cannot be resolved; "
                "name the columns instead: name[a,b]"
            )
        else:
            columns = list(projection.labels)
        return super().get(base, *args, columns=columns, **kwargs)  # type: ignore[misc]
