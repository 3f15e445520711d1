"""Filters on raw documents: ``get(name, n=2)``, ``n__gt=1``, ``filter={"user.id": 2}``.

Names are the documents' own field paths (``user.id`` for nested fields, in ``filter``
dicts or as ``**{"user.id": 2}``). ``field__op=value`` takes the operators in
``OPERATORS``; a key whose last ``__`` part is no operator names a field of that exact
name if a document has it (asked of the server through ``probe``), and is a ValueError
naming the operators otherwise. ``$`` operators pass only with ``trusted=True`` (code
operators never: ``omegacore.filters.ensure_no_operators``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from omegacore.filters import all_of, ensure_no_operators

#: ``field__op=value`` suffixes and the MongoDB operators they stand for
OPERATORS = {
    "eq": "$eq", "ne": "$ne", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte",
    "in": "$in", "nin": "$nin", "exists": "$exists",
}
#: asks the server whether any document matches a filter
Probe = Callable[[dict[str, Any]], bool]


class UnknownOperator(ValueError):
    """A filter key ends in ``__<x>`` where x is neither an operator nor part of a field."""


def split_key(key: str, where: str, probe: Probe | None) -> tuple[str, str | None]:
    """(field path, MongoDB operator or None) of a filter key."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"{where}: field names must be non-empty strings, got {key!r}")
    field, sep, op = key.rpartition("__")
    if not (sep and field and op):
        return key, None
    if op in OPERATORS:
        return field, OPERATORS[op]
    if probe is not None and probe({key: {"$exists": True}}):
        return key, None  # a field whose name has "__" in it
    match = difflib.get_close_matches(op, list(OPERATORS), n=1)
    hint = f"; did you mean {field}__{match[0]}?" if match else ""
    raise UnknownOperator(
        f"{where}: {key!r}: {op!r} is not an operator (valid: {', '.join(OPERATORS)}) and no "
        f"document has a field {key!r}{hint}"
    )


def _condition(op: str | None, value: Any, key: str, where: str) -> Any:
    if op is None:
        return value
    if op == "$exists":
        return {op: bool(value)}
    if op in ("$in", "$nin"):
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            raise ValueError(f"{where}: {key} needs a list of values, got {value!r}")
        return {op: list(value)}
    return {op: value}


def build_query(filter: dict[str, Any] | None, kwargs: dict[str, Any], trusted: bool = False,
                probe: Probe | None = None) -> dict[str, Any]:
    """The MongoDB filter for keyword filters and a ``filter`` dict (which wins on a field)."""
    if filter is not None and not isinstance(filter, dict):
        raise TypeError(f"filter must be a dict of field: value, got {type(filter).__name__}")
    parts: dict[str, list[dict[str, Any]]] = {}
    for source, where in ((kwargs, "get(**filters)"), (filter or {}, "get(filter=...)")):
        if not source:
            continue
        ensure_no_operators(source, where, trusted=trusted)
        fields: dict[str, list[dict[str, Any]]] = {}
        for key, value in source.items():
            if trusted and key.startswith("$"):
                fields.setdefault(key, []).append({key: value})
                continue
            field, op = split_key(key, where, probe)
            fields.setdefault(field, []).append({field: _condition(op, value, key, where)})
        parts.update(fields)  # the filter dict wins over keywords on the same field
    return all_of(*[clause for clauses in parts.values() for clause in clauses])


def filter_fields(kwargs: dict[str, Any]) -> dict[str, str]:
    """The field path of each keyword filter, by keyword (operators removed)."""
    out = {}
    for key in kwargs:
        field, sep, op = key.rpartition("__")
        out[key] = field if sep and field and op in OPERATORS else key
    return out
