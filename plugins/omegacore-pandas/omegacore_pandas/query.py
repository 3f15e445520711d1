"""``column__op=value`` filters as MongoDB queries that run on the server.

``build_query({"price__gte": 10, "city": "Bern"}, layout)`` returns a MongoDB filter on
the stored fields. Names are the frame's column names or index level names (not the
encoded field names); ``a__b__op`` reaches into sub-documents (``a.b``). Values are
converted like the column's stored values (e.g. Timestamps to BSON datetimes, with the
sub-millisecond part checked exactly).

A filter given by a user is data: values are compared literally (``$eq``), unknown
column names raise, and ``$`` keys anywhere raise unless the caller passes
``trusted=True`` (then raw MongoDB operators and top-level ``$and``/``$or`` pass; code
operators such as ``$where`` never do, see ``omegacore.filters``).

========================  ====================================================
operator                  meaning
========================  ====================================================
``col=v``, ``col__eq``    equal (literal: a dict value is matched as a dict)
``__ne``                  not equal
``__lt`` ``__lte``        less than (or equal)
``__gt`` ``__gte``        greater than (or equal)
``__in`` ``__nin``        in / not in a list of values
``__between``             ``lo <= col <= hi`` for ``(lo, hi)``
``__contains``            string contains the text (not a pattern)
``__startswith``          string starts with the text
``__endswith``            string ends with the text
``__regex``               string matches the regular expression
``__isnull``              missing (None, NaN, NaT, NA) if True, present if False
``__exists``              the field exists in the document (True/False)
========================  ====================================================
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from typing import Any

from omegacore.filters import check_regex, ensure_no_operators
from omegacore_pandas.codecs import DatetimeCodec
from omegacore_pandas.layout import FieldSpec, FrameLayout
from omegacore_pandas.names import is_plain_name
from omegacore_pandas.values import encode_value

OPERATORS = (
    "eq", "ne", "lt", "lte", "gt", "gte", "in", "nin", "between", "contains",
    "startswith", "endswith", "regex", "isnull", "exists",
)
_COMPARE = {"eq": "$eq", "ne": "$ne", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}
_TRUE: dict[str, Any] = {}
_FALSE: dict[str, Any] = {"_id": {"$exists": False}}  # matches no document


def build_query(criteria: Mapping[Hashable, Any] | None, layout: FrameLayout,
                trusted: bool = False, where: str = "filter") -> dict[str, Any]:
    """The MongoDB filter for ``column__op=value`` criteria on a stored frame's layout."""
    if not criteria:
        return {}
    ensure_no_operators(dict(criteria), where, trusted=trusted)
    names = layout.lookup()
    clauses: list[dict[str, Any]] = []
    for key, value in criteria.items():
        if trusted and isinstance(key, str) and key.startswith("$"):
            clauses.append({key: value})
            continue
        spec, path, op = resolve_key(key, names, trusted, where)
        clauses.append(condition(spec, path, op, value, trusted, where))
    return combine(clauses)


def resolve_key(key: Hashable, names: Mapping[Any, FieldSpec], trusted: bool = False,
                where: str = "filter") -> tuple[FieldSpec | None, str, str]:
    """(column spec or None, field path, operator) for a filter key."""
    if key in names:
        return names[key], names[key].field, "eq"
    if not isinstance(key, str):
        raise ValueError(f"{where}: {key!r} is not a stored column; columns: {_known(names)}")
    parts = key.split("__")
    op = "eq"
    if len(parts) > 1 and parts[-1] in OPERATORS:
        op, parts = parts[-1], parts[:-1]
    for i in range(len(parts), 0, -1):
        name = "__".join(parts[:i])
        if name in names:
            spec, sub = names[name], parts[i:]
            for part in sub:
                if not is_plain_name(part):
                    raise ValueError(f"{where}: {part!r} in {key!r} is not a valid sub-field")
            return spec, ".".join([spec.field, *sub]), op
    if trusted and all(is_plain_name(p) or p.startswith(("_idx#", "_om#")) for p in parts):
        return None, ".".join(parts), op
    raise ValueError(
        f"{where}: {key!r} does not name a stored column or index level; "
        f"use one of {_known(names)}, optionally with __<op> ({', '.join(OPERATORS)})"
    )


def _known(names: Mapping[Any, FieldSpec]) -> list[Any]:
    return [n for n, s in names.items() if n is not None and n == s.name]


def combine(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    """One filter from several (``$and``), dropping always-true clauses."""
    clauses = [c for c in clauses if c != _TRUE]
    if not clauses:
        return {}
    if len(clauses) == 1:
        return clauses[0]
    return {"$and": clauses}


def condition(spec: FieldSpec | None, path: str, op: str, value: Any, trusted: bool = False,
              where: str = "filter") -> dict[str, Any]:
    """The MongoDB condition for one ``path op value``."""
    codec = spec.codec if spec is not None and path == spec.field else None
    if trusted and isinstance(value, dict) and any(str(k).startswith("$") for k in value):
        if op != "eq":
            raise ValueError(f"{where}: {path}__{op} takes a value, not an operator dict")
        return {path: value}
    if isinstance(codec, DatetimeCodec) and op not in ("isnull", "exists"):
        return _datetime_condition(codec, op, value, where)

    def convert(v: Any) -> Any:
        if codec is not None:
            return codec.query_value(v)
        return encode_value(v, f"{where} value for {path!r}")

    if op in _COMPARE:
        return {path: {_COMPARE[op]: convert(value)}}
    if op in ("in", "nin"):
        return {path: {"$" + op: [convert(v) for v in _as_list(value, path, op, where)]}}
    if op == "between":
        lo, hi = _as_pair(value, path, where)
        return {path: {"$gte": convert(lo), "$lte": convert(hi)}}
    if op in ("contains", "startswith", "endswith"):
        text = re.escape(_as_text(value, path, op, where))
        pattern = {"contains": text, "startswith": "^" + text, "endswith": text + "$"}[op]
        return {path: {"$regex": pattern}}
    if op == "regex":
        if isinstance(value, re.Pattern):
            value = value.pattern
        return {path: {"$regex": check_regex(_as_text(value, path, op, where), where)}}
    if op == "isnull":
        missing = codec.missing_values() if codec is not None else [None, float("nan")]
        return {path: {"$in" if value else "$nin": missing}}
    if op == "exists":
        return {path: {"$exists": bool(value)}}
    raise ValueError(f"{where}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}")


def _as_list(value: Any, path: str, op: str, where: str) -> list[Any]:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{where}: {path}__{op} needs a list of values, got {value!r}")
    return list(value)


def _as_pair(value: Any, path: str, where: str) -> tuple[Any, Any]:
    items = _as_list(value, path, "between", where)
    if len(items) != 2:
        raise ValueError(f"{where}: {path}__between needs (low, high), got {value!r}")
    return items[0], items[1]


def _as_text(value: Any, path: str, op: str, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: {path}__{op} needs a string, got {value!r}")
    return value


# -- datetimes: BSON datetime (ms) + the sub-millisecond remainder in ns --------------------
def _datetime_condition(codec: DatetimeCodec, op: str, value: Any, where: str
                        ) -> dict[str, Any]:
    f = codec.field
    if op in ("in", "nin"):
        items = [_dt_eq(codec, v) for v in _as_list(value, f, op, where)]
        if op == "in":
            return {"$or": items} if items else _FALSE
        return {"$nor": items} if items else _TRUE
    if op == "between":
        lo, hi = _as_pair(value, f, where)
        return combine([_dt_compare(codec, "gte", lo), _dt_compare(codec, "lte", hi)])
    if op == "eq":
        return _dt_eq(codec, value)
    if op == "ne":
        return {"$nor": [_dt_eq(codec, value)]}
    if op in ("lt", "lte", "gt", "gte"):
        return _dt_compare(codec, op, value)
    raise ValueError(f"{where}: {op!r} does not apply to the datetime column {f!r}")


def _dt_parts(codec: DatetimeCodec, value: Any) -> tuple[Any, int] | None:
    from bson.datetime_ms import DatetimeMS

    parts = codec.to_ms(value)
    if parts is None:
        return None
    return DatetimeMS(parts[0]), parts[1]


def _rem(codec: DatetimeCodec, op: str, x: int) -> dict[str, Any] | bool:
    """Condition ``remainder op x`` (a missing remainder counts as 0), or a constant."""
    r = codec.rem_field
    if not codec.has_remainder:
        return {"gt": 0 > x, "gte": 0 >= x, "lt": 0 < x, "lte": 0 <= x, "eq": x == 0}[op]
    if op == "gt":
        return {r: {"$gt": x}}
    if op == "gte":
        return True if x == 0 else {r: {"$gte": x}}
    if op == "lt":
        return False if x == 0 else {r: {"$not": {"$gte": x}}}
    if op == "lte":
        return {r: {"$not": {"$gt": x}}}
    return {r: {"$in": [0, None]}} if x == 0 else {r: x}


def _dt_eq(codec: DatetimeCodec, value: Any) -> dict[str, Any]:
    parts = _dt_parts(codec, value)
    if parts is None:
        return {codec.field: None}
    ms, x = parts
    rem = _rem(codec, "eq", x)
    if rem is False:
        return _FALSE
    return {codec.field: ms} if rem is True else {codec.field: ms, **rem}


def _dt_compare(codec: DatetimeCodec, op: str, value: Any) -> dict[str, Any]:
    f = codec.field
    parts = _dt_parts(codec, value)
    if parts is None:
        return _FALSE  # comparisons with NaT are false, as in pandas
    ms, x = parts
    strict = {"gt": "$gt", "gte": "$gt", "lt": "$lt", "lte": "$lt"}[op]
    rem = _rem(codec, op, x)
    if rem is True:  # ms op= X is enough
        return {f: {strict + "e": ms}}
    if rem is False:
        return {f: {strict: ms}}
    return {"$or": [{f: {strict: ms}}, {f: ms, **rem}]}
