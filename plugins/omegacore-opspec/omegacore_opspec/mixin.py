"""The store mixin: ``store.get("name#op:k=v")`` runs op ``op`` on the object ``name``."""

from __future__ import annotations

from typing import Any

from omegacore_opspec.ops import OPS, parse_params, split_opspec


class OpSpecMixin:
    """Op-specs in object names, on ``get`` and ``getl``.

    ``name#`` is a plain get of ``name``; ``name#iterchunks:chunksize=N`` an iterator of
    DataFrames of N rows; ``name#rows:start=S,end=E`` rows S..E-1 as a DataFrame. The rest
    of the name (with any ``[...]`` projection) is read back through ``self.get`` /
    ``self.getl``, so every mixin, in whatever order, sees it. If an object is stored under
    exactly the given name, ``#`` and all, that object is read as is.
    """

    def get(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run the op-spec at the end of ``name``, or ``super().get`` for other names."""
        parts = split_opspec(name) if isinstance(name, str) else None
        if parts is None or self.metadata(name) is not None:  # type: ignore[attr-defined]
            return super().get(name, *args, **kwargs)  # type: ignore[misc]
        rest, op_name, params = parts
        if op_name is None:
            return self.get(rest, *args, **kwargs)
        op = OPS.get(op_name, where=f"get({name!r})")
        values = op.bind(parse_params(params, f"get({name!r})"), f"get({name!r})")
        return op.handler(self, rest, args, kwargs, **values)
