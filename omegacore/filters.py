"""Guarding user filters: a filter a user gives is data, never server-side code.

Kinds translate ``column__op=value`` filters into MongoDB queries themselves; a raw
filter dict that reaches the server is checked here first, so ``$where``,
``$function`` and other operators only get through where the caller says the filter
is trusted.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from omegacore.errors import UnsafePattern

if sys.version_info >= (3, 11):
    from re import _constants as _sre  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
else:  # pragma: no cover - Python 3.10
    import sre_constants as _sre
    import sre_parse as _sre_parse

#: operators that run code on the server, refused even in trusted filters
CODE_OPERATORS = frozenset({"$where", "$function", "$accumulator", "$expr"})


def ensure_no_operators(filter: Any, where: str, trusted: bool = False) -> None:
    """Raise ValueError if ``filter`` holds ``$`` operators (code operators even if trusted).

    ``where`` names the call in the error so the user knows which argument to change.
    """
    for key, _value in _walk(filter):
        if not isinstance(key, str) or not key.startswith("$"):
            continue
        if key in CODE_OPERATORS:
            raise ValueError(
                f"{where}: {key!r} runs code on the server and is not accepted in a filter; "
                "use column__op=value filters instead"
            )
        if not trusted:
            raise ValueError(
                f"{where}: {key!r} is a MongoDB operator; user filters are data. Use "
                "column__op=value filters, or pass trusted=True if this filter comes from "
                "your own code"
            )


def _walk(obj: Any):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _walk(item)


#: longest regular expression accepted from a user
MAX_PATTERN_LENGTH = 1000
_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", _sre.MAX_REPEAT)}


def check_regex(pattern: str, where: str) -> str:
    """Return ``pattern`` if the server can match it in time linear in the text, else raise.

    MongoDB matches ``$regex`` with a backtracking engine, and a pattern such as
    ``^(a+)+$`` takes time exponential in the length of a non-matching value, stalling the
    server for every client (``maxTimeMS`` does not stop the embedded server). Refused are:
    a repeated group that contains another repetition (``(a+)+``, ``(a*)*``, ``(.*a){20}``)
    or alternatives (``(a|aa)+``), and patterns longer than ``MAX_PATTERN_LENGTH``. Python's
    own parser reads the pattern, so its syntax is checked too (MongoDB's PCRE accepts the
    same syntax for these constructs).
    """
    if not isinstance(pattern, str):
        raise TypeError(f"{where}: a regular expression must be a str, got {pattern!r}")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(
            f"{where}: regular expressions are limited to {MAX_PATTERN_LENGTH} characters")
    try:
        parsed = _sre_parse.parse(pattern)
    except re.error as exc:
        raise ValueError(f"{where}: {pattern!r} is not a valid regular expression: {exc}"
                         ) from None
    if _nested_repeat(parsed, inside_repeat=False):
        raise UnsafePattern(
            f"{where}: {pattern!r} repeats a group that itself repeats or has alternatives "
            "(like (a+)+ or (a|b)*); such patterns can take exponential time on the server. "
            "Write it without the nested repetition, e.g. a+ instead of (a+)+")
    return pattern


def _nested_repeat(items: Any, inside_repeat: bool) -> bool:
    for op, arg in items:
        if op in _REPEATS:
            low, high, sub = arg
            repeats = high is _sre.MAXREPEAT or high > 1
            if repeats and inside_repeat:
                return True
            if _nested_repeat(sub, inside_repeat or repeats):
                return True
        elif op is _sre.BRANCH:
            if inside_repeat:
                return True
            if any(_nested_repeat(branch, inside_repeat) for branch in arg[1]):
                return True
        elif op is _sre.SUBPATTERN:
            if _nested_repeat(arg[-1], inside_repeat):
                return True
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            if _nested_repeat(arg[1], inside_repeat):
                return True
        elif op is getattr(_sre, "ATOMIC_GROUP", None):
            if _nested_repeat(arg, inside_repeat):
                return True
    return False


def all_of(*filters: dict[str, Any] | None) -> dict[str, Any]:
    """One MongoDB filter requiring every non-empty one of ``filters``.

    Filters on different fields are merged into one document rather than joined with
    ``$and``: the same query, but some servers (SecantusDB) use indexes only for the
    merged form.
    """
    present = [f for f in filters if f]
    if not present:
        return {}
    merged: dict[str, Any] = {}
    for part in present:
        if any(key in merged for key in part):
            return {"$and": present}
        merged.update(part)
    return merged
