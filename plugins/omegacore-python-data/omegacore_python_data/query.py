"""Filters on stored python data: ``get(name, x=1)``, ``x__gt=1`` and ``filter={...}``.

Field names refer to the stored object's fields; they are looked up under the
document's ``data`` field, where the object is kept. omegaml's filters name the
document's fields, so a ``filter`` key starting with ``data.`` (``{"data.x": 2}``) is
taken as that path as it is; every other key names a field of the stored objects
(``{"x": 2}``, ``{"a.b": 2}``).

``field__op=value`` takes the operators in ``OPERATORS``; a key whose last ``__`` part is
not one of them names a field of that exact name if a stored object has it (asked of the
server through ``probe``), and is a ValueError naming the operators otherwise, so a
misspelled operator never silently matches nothing.

A filter given by a user is data: ``$`` operators only pass where the caller says
``trusted=True``, and operators that run code on the server never pass
(``omegacore.filters.ensure_no_operators``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omegacore.filters import ensure_no_operators

from omegacore_python_data.encoding import encode

#: ``field__op=value`` suffixes and the MongoDB operators they stand for
OPERATORS = {
    "eq": "$eq",
    "ne": "$ne",
    "gt": "$gt",
    "gte": "$gte",
    "lt": "$lt",
    "lte": "$lte",
    "in": "$in",
    "nin": "$nin",
    "exists": "$exists",
}
_LOGICAL = ("$and", "$or", "$nor")


#: the document field holding the stored object
DATA = "data"
#: asks the server whether any stored document matches a filter
Probe = Callable[[dict[str, Any]], bool]


class UnknownOperator(ValueError):
    """A filter key ends in ``__<x>`` where x is neither an operator nor part of a field."""


def data_field(field: str, where: str, trusted: bool = False) -> str:
    """The document path of ``field``: ``a.b`` -> ``data.a.b``; ``data.x`` stays as it is."""
    if not isinstance(field, str) or not field:
        raise ValueError(f"{where}: field names must be non-empty strings, got {field!r}")
    if not trusted and any(part.startswith("$") for part in field.split(".")):
        raise ValueError(
            f"{where}: {field!r} holds a MongoDB operator; user filters are data. Use "
            "field__op=value filters, or pass trusted=True if this filter comes from your "
            "own code"
        )
    if field.startswith(DATA + "."):
        return field  # omegaml's document path
    return f"{DATA}.{field}"


def _split_op(key: str, where: str, probe: Probe | None, trusted: bool = False
              ) -> tuple[str, str | None]:
    """(field, MongoDB operator or None) of a filter key; UnknownOperator for ``x__gtt``."""
    field, sep, op = key.rpartition("__")
    if not (sep and field and op):
        return key, None
    if op in OPERATORS:
        return field, OPERATORS[op]
    path = data_field(key, where, trusted)
    if probe is not None and probe({path: {"$exists": True}}):
        return key, None  # a stored field whose name has "__" in it
    raise UnknownOperator(
        f"{where}: {key!r}: {op!r} is not an operator (valid: {', '.join(OPERATORS)}) and no "
        f"stored object has a field {key!r}{_suggestion(field, op)}"
    )


def _suggestion(field: str, op: str) -> str:
    import difflib

    match = difflib.get_close_matches(op, list(OPERATORS), n=1)
    return f"; did you mean {field}__{match[0]}?" if match else ""


def _condition(op: str | None, value: Any, where: str) -> Any:
    if op is None or op == "$eq":
        encoded = encode(value, where)
        return {"$eq": encoded} if op else encoded
    if op == "$exists":
        return {op: bool(value)}
    if op in ("$in", "$nin"):
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise ValueError(f"{where}: __in and __nin need a list of values, got {value!r}")
        return {op: [encode(v, where) for v in value]}
    return {op: encode(value, where)}


def _untrusted(filters: dict[str, Any], where: str, probe: Probe | None) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for key, value in filters.items():
        field, op = _split_op(key, where, probe)
        path = data_field(field, where)
        condition = _condition(op, value, f"{where}[{key!r}]")
        if path in query and isinstance(query[path], dict) and isinstance(condition, dict) \
                and all(k.startswith("$") for k in (*query[path], *condition)):
            query[path] = {**query[path], **condition}  # x__gt=1, x__lt=5
        else:
            query[path] = condition
    return query


def _trusted(filters: dict[str, Any], where: str, probe: Probe | None) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for key, value in filters.items():
        if key in _LOGICAL:
            query[key] = [_trusted(part, where, probe) for part in value]
        elif key.startswith("$"):
            query[key] = value  # e.g. $text; code operators were refused already
        else:
            field, op = _split_op(key, where, probe, trusted=True)
            path = data_field(field, where, trusted=True)
            query[path] = value if op is None else {op: value}
    return query


def build_query(
    filter: dict[str, Any] | None, kwargs: dict[str, Any], trusted: bool = False,
    probe: Probe | None = None,
) -> dict[str, Any]:
    """The MongoDB query for keyword filters and a ``filter`` dict (which wins on conflicts).

    Untrusted filter values are encoded like stored values, so equality matches sets,
    datetimes with time zones and other tagged values exactly (and a tuple matches the
    list it is stored as).
    """
    if filter is not None and not isinstance(filter, dict):
        raise TypeError(f"filter must be a dict of field: value, got {type(filter).__name__}")
    query: dict[str, Any] = {}
    for source, where in ((kwargs, "get(**filters)"), (filter or {}, "get(filter=...)")):
        if not source:
            continue
        ensure_no_operators(source, where, trusted=trusted)
        query.update(_trusted(source, where, probe) if trusted
                     else _untrusted(source, where, probe))
    return query


def filter_fields(kwargs: dict[str, Any]) -> dict[str, str]:
    """The document path of each keyword filter's field, by keyword (operators removed)."""
    out = {}
    for key in kwargs:
        field, sep, op = key.rpartition("__")
        name = field if sep and field and op in OPERATORS else key
        out[key] = data_field(name, "get(**filters)", trusted=True)
    return out


def sort_spec(key_or_list: Any, direction: int | None = None) -> list[tuple[str, int]]:
    """pymongo-style sort keys on the stored object's fields (``_id`` is insertion order)."""
    if isinstance(key_or_list, str):
        keys = [(key_or_list, 1 if direction is None else direction)]
    else:
        keys = [(k, d) for k, d in key_or_list]
    where = "sort()"
    return [(k if k == "_id" else data_field(k, where), d) for k, d in keys]
