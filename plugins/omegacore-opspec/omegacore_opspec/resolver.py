"""``store.get("name#op:k=v")``: the object ``name``, read lazily, and the op run on it."""

from __future__ import annotations

from typing import Any

from omegacore.names import NameRef

from omegacore_opspec.ops import DEFAULT_OP, OPS, parse_params, split_opspec


def resolve(name: str) -> NameRef | None:
    """``rest#op:params`` refers to ``rest``; the op turns the lazy frame into the result.

    ``name#`` (no op) is ``name#iterchunks``, as omegaml reads it. The rest of the name
    may carry other syntax (``sales[a,b]#rows:end=5``), resolved by its plugin.
    """
    parts = split_opspec(name)
    if parts is None:
        return None
    rest, op_name, params = parts
    where = f"get({name!r})"
    try:
        op = OPS.get(op_name or DEFAULT_OP, where=where)
        values = op.bind(parse_params(params, where), where)
    except ValueError as error:
        return NameRef(rest, error=error)

    def finish(store: Any, lazy: Any, kwargs: dict[str, Any]) -> Any:
        return op.handler(lazy, **values)

    return NameRef(rest, finish=finish, lazy=True)
