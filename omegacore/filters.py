"""Guarding user filters: a filter a user gives is data, never server-side code.

Kinds translate ``column__op=value`` filters into MongoDB queries themselves; a raw
filter dict that reaches the server is checked here first, so ``$where``,
``$function`` and other operators only get through where the caller says the filter
is trusted.
"""

from __future__ import annotations

from typing import Any

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
