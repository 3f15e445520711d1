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

Mistakes raise instead of answering, as pandas would: an ordering or text operator whose
value cannot be compared with the column (``city__gt=2`` on strings) is a TypeError;
``x__gtt=1`` is a ValueError naming the operators. ``a__b`` reaches into sub-documents
only in object columns, and only if some stored value has that sub-field (asked of the
server through ``probe``), so a misspelled operator never becomes a sub-field match.

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
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from omegacore.filters import all_of, check_regex, ensure_no_operators
from omegacore_pandas.codecs import ORDERING_OPS, TEXT_OPS, DatetimeCodec, ObjectCodec
from omegacore_pandas.layout import FieldSpec, FrameLayout
from omegacore_pandas.names import is_plain_name
from omegacore_pandas.values import encode_value, is_missing

OPERATORS = (
    "eq", "ne", "lt", "lte", "gt", "gte", "in", "nin", "between", "contains",
    "startswith", "endswith", "regex", "isnull", "exists",
)
_COMPARE = {"eq": "$eq", "ne": "$ne", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}
_TRUE: dict[str, Any] = {}
_FALSE: dict[str, Any] = {"_id": {"$exists": False}}  # matches no document

#: asks the server whether any stored row matches a filter (on stored field paths)
Probe = Callable[[dict[str, Any]], bool]


class UnknownOperator(ValueError):
    """A filter key ends in something that is neither an operator nor a stored sub-field."""


def collection_probe(collection: Any, base: Mapping[str, Any] | None = None) -> Probe:
    """A ``Probe`` asking ``collection`` (rows matching ``base`` only) with one find_one."""

    def probe(query: dict[str, Any]) -> bool:
        full = combine([dict(base or {}), query])
        return collection.find_one(full, {"_id": 1}) is not None

    return probe


def build_query(criteria: Mapping[Hashable, Any] | None, layout: FrameLayout,
                trusted: bool = False, where: str = "filter", probe: Probe | None = None
                ) -> dict[str, Any]:
    """The MongoDB filter for ``column__op=value`` criteria on a stored frame's layout.

    ``probe`` lets sub-field filters (``a__b=1`` on object columns) and comparisons on
    object columns be checked against the stored rows; without it they are taken as given.
    """
    if not criteria:
        return {}
    ensure_no_operators(dict(criteria), where, trusted=trusted)
    names = layout.lookup()
    clauses: list[dict[str, Any]] = []
    for key, value in criteria.items():
        if trusted and isinstance(key, str) and key.startswith("$"):
            clauses.append({key: value})
            continue
        spec, path, op = resolve_key(key, names, trusted, where, probe)
        clauses.append(condition(spec, path, op, value, trusted, where, probe))
    return combine(clauses)


def resolve_key(key: Hashable, names: Mapping[Any, FieldSpec], trusted: bool = False,
                where: str = "filter", probe: Probe | None = None
                ) -> tuple[FieldSpec | None, str, str]:
    """(column spec or None, field path, operator) for a filter key.

    Raises UnknownOperator if the key names a column followed by something that is
    neither an operator nor a sub-field of its stored values (``x__gtt``).
    """
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
            if not sub:
                return spec, spec.field, op
            path = ".".join([spec.field, *sub])
            _check_sub_field(key, spec, sub, path, op, where, probe)
            return spec, path, op
    if trusted and all(is_plain_name(p) or p.startswith(("_idx#", "_om#")) for p in parts):
        return None, ".".join(parts), op
    raise ValueError(
        f"{where}: {key!r} does not name a stored column or index level; "
        f"use one of {_known(names)}, optionally with __<op> ({', '.join(OPERATORS)})"
    )


def _known(names: Mapping[Any, FieldSpec]) -> list[Any]:
    return [n for n, s in names.items() if n is not None and n == s.name]


def _check_sub_field(key: str, spec: FieldSpec, sub: list[str], path: str, op: str,
                     where: str, probe: Probe | None) -> None:
    """Accept ``column__sub`` only as a sub-field that stored object values have."""
    operators = ", ".join(OPERATORS)
    guess = sub[-1] if len(sub) == 1 and op == "eq" else None
    if not isinstance(spec.codec, ObjectCodec):
        if guess is not None:
            raise UnknownOperator(
                f"{where}: unknown operator {guess!r} in {key!r}; valid operators are "
                f"{operators}")
        raise UnknownOperator(
            f"{where}: {key!r}: column {spec.name!r} holds {spec.codec.dtype} values, which "
            f"have no sub-fields; valid operators are {operators}")
    for part in sub:
        if not is_plain_name(part):
            raise UnknownOperator(f"{where}: {part!r} in {key!r} is not a valid sub-field")
    if probe is not None and not probe({path: {"$exists": True}}):
        if guess is not None:
            raise UnknownOperator(
                f"{where}: {guess!r} in {key!r} is neither an operator (valid: {operators}) "
                f"nor a sub-field of any stored value of column {spec.name!r}")
        raise UnknownOperator(
            f"{where}: {'.'.join(sub)!r} in {key!r} is not a sub-field of any stored value "
            f"of column {spec.name!r}; valid operators are {operators}")


def combine(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    """One filter from several (all must hold), dropping always-true clauses.

    Clauses on different fields are merged into one document (see
    ``omegacore.filters.all_of``), else joined with ``$and``.
    """
    return all_of(*[c for c in clauses if c != _TRUE])


def condition(spec: FieldSpec | None, path: str, op: str, value: Any, trusted: bool = False,
              where: str = "filter", probe: Probe | None = None) -> dict[str, Any]:
    """The MongoDB condition for one ``path op value``.

    TypeError if an ordering or text operator cannot compare ``value`` with the column.
    """
    codec = spec.codec if spec is not None and path == spec.field else None
    if trusted and isinstance(value, dict) and any(str(k).startswith("$") for k in value):
        if op != "eq":
            raise ValueError(f"{where}: {path}__{op} takes a value, not an operator dict")
        return {path: value}
    if op in ORDERING_OPS or op in TEXT_OPS:
        bounds = _as_pair(value, path, where) if op == "between" else (value,)
        for bound in bounds:
            if codec is not None:
                codec.check_comparable(op, bound, f"{where} {path}__{op}")
            if (codec is None or isinstance(codec, ObjectCodec)) and probe is not None:
                _check_mixed(path, op, bound, where, probe)
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
    raise UnknownOperator(f"{where}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}")


#: BSON types that MongoDB compares with each other (its comparison brackets)
_BRACKETS: dict[str, list[str]] = {
    "number": ["double", "int", "long", "decimal"],
    "string": ["string", "symbol"],
    "date": ["date"],
    "bool": ["bool"],
}


def _bracket(value: Any) -> str | None:
    import datetime as _dt
    import decimal
    import numbers

    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (numbers.Real, decimal.Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, _dt.datetime):
        return "date"
    return None


def _check_mixed(path: str, op: str, value: Any, where: str, probe: Probe) -> None:
    """In an object column (or sub-field), refuse a comparison no stored value can answer.

    MongoDB compares only values of one type bracket (numbers with numbers, strings with
    strings) and silently matches nothing otherwise; pandas raises TypeError. So if no
    stored value is of ``value``'s bracket but some are of another, raise TypeError.
    """
    bracket = _bracket(value)
    if op in TEXT_OPS:
        bracket = "string"
    if bracket is None or probe({path: {"$type": _BRACKETS[bracket]}}):
        return
    others = [b for b in _BRACKETS if b != bracket and probe({path: {"$type": _BRACKETS[b]}})]
    if others:
        raise TypeError(
            f"{where} {path}__{op}: the stored values are {' and '.join(o + 's' for o in others)}"
            f", none is a {bracket}, so they cannot be compared with {type(value).__name__} "
            f"{value!r:.40}; compare them with a value of their type"
        )


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
    if value is not None and not codec.is_datetime_like(value) and not is_missing(value):
        return _FALSE  # a number or other value is equal to no datetime, as in pandas
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
