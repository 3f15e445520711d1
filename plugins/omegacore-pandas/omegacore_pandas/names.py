"""Column and index names as MongoDB field names, and back.

pandas allows any hashable as a column or index name; a MongoDB field name must be a
string without dots, must not start with ``$`` and must not be ``_id``. A name that
already is a safe string (the usual case: ``"price"``) is used unchanged, so stored
documents stay readable and ``price__gt=5`` finds the field ``price``. Every other name
is written as ``%`` + a one-letter type tag + an escaped payload, which decodes back to
the exact name (type included)::

    encode_name("price")       -> "price"
    encode_name("a.b")         -> "%sa%2Eb"
    encode_name("$x")          -> "%s$x"
    encode_name("_id")         -> "%s_id"
    encode_name(3)             -> "%i3"
    encode_name(None)          -> "%n"
    encode_name(("a", 1))      -> "%t..."   (a tuple, e.g. a MultiIndex column)

Names starting with ``_idx#`` or ``_om#`` are reserved for the row layout (index levels,
row ids) and names starting with ``%`` for this encoding; such user names are encoded
too, so they never collide with layout fields.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Hashable
from typing import Any

#: the document id field
ID_FIELD = "_id"
#: row position field: restores the row order on read (omegaml's name)
ROWID_FIELD = "_om#rowid"
#: prefix of index level fields: ``_idx#<level>_<name>`` (omegaml's layout)
INDEX_PREFIX = "_idx#"
#: prefix of the sub-millisecond remainder field that goes with a datetime field
NS_PREFIX = "_om#ns_"
#: prefixes a plain user name must not start with
RESERVED_PREFIXES = (INDEX_PREFIX, "_om#", "%", "$")
#: columns omegaml writes as plain fields although they start with "_om#" (its data
#: revisions' ``_om#revision``): kept plain, so omegaml finds them in what we write
OMEGAML_PLAIN = frozenset({"_om#revision"})

_ESCAPES = (("%", "%25"), (".", "%2E"), ("\x00", "%00"))


def _escape(text: str) -> str:
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def _unescape(text: str) -> str:
    for raw, escaped in reversed(_ESCAPES):
        text = text.replace(escaped, raw)
    return text


def is_plain_name(name: Any) -> bool:
    """True if ``name`` can be used as a field name unchanged (a safe, unreserved str)."""
    return (
        type(name) is str
        and name != ""
        and name != ID_FIELD
        and "." not in name
        and "\x00" not in name
        and (not name.startswith(RESERVED_PREFIXES) or name in OMEGAML_PLAIN)
    )


def encode_name(name: Hashable) -> str:
    """The MongoDB-safe field name for a column or index name (see the module doc).

    Supported names: str, int, float, bool, None, datetime/Timestamp, timedelta/Timedelta
    and tuples of these. Anything else raises TypeError saying what to do.
    """
    if is_plain_name(name):
        return name  # type: ignore[return-value]
    return "%" + _tagged(name)


def _tagged(name: Any) -> str:
    """Type tag + escaped payload (no leading ``%``)."""
    if name is None:
        return "n"
    if isinstance(name, bool) or type(name).__name__ == "bool_":
        return "b1" if name else "b0"
    if isinstance(name, str):
        return "s" + _escape(name)
    if isinstance(name, int) or _is_np_integer(name):
        return "i" + str(int(name))
    if isinstance(name, float) or _is_np_floating(name):
        value = float(name)
        return "f" + _escape("nan" if math.isnan(value) else repr(value))
    if isinstance(name, tuple):
        return "t" + _escape(json.dumps([_tagged(item) for item in name]))
    if isinstance(name, _dt.datetime) or type(name).__name__ == "datetime64":
        import pandas as pd

        ts = pd.Timestamp(name)
        if ts is pd.NaT:
            return "T" + "NaT"
        tz = "" if ts.tz is None else str(ts.tz)
        return "T" + _escape(json.dumps([ts.as_unit("ns").value, tz]))
    if isinstance(name, _dt.timedelta) or type(name).__name__ == "timedelta64":
        import pandas as pd

        return "D" + str(pd.Timedelta(name).as_unit("ns").value)
    raise TypeError(
        f"a column or index name of type {type(name).__name__} ({name!r}) cannot be stored; "
        "rename it to a str, int, float, bool, None, datetime or a tuple of these"
    )


def decode_name(field: str) -> Hashable:
    """The original name for a field written by ``encode_name`` (inverse function)."""
    if not field.startswith("%"):
        return field
    return _untagged(field[1:])


def _untagged(text: str) -> Hashable:
    tag, payload = text[:1], text[1:]
    if tag == "n":
        return None
    if tag == "b":
        return payload == "1"
    if tag == "s":
        return _unescape(payload)
    if tag == "i":
        return int(payload)
    if tag == "f":
        return float(_unescape(payload))
    if tag == "t":
        return tuple(_untagged(item) for item in json.loads(_unescape(payload)))
    if tag == "T":
        import pandas as pd

        if payload == "NaT":
            return pd.NaT
        value, tz = json.loads(_unescape(payload))
        ts = pd.Timestamp(value, unit="ns")
        return ts.tz_localize("UTC").tz_convert(tz) if tz else ts
    if tag == "D":
        import pandas as pd

        return pd.Timedelta(int(payload), unit="ns")
    raise ValueError(f"field {('%' + text)!r} is not an encoded name")


def index_field(level: int, name: Hashable) -> str:
    """The field of index level ``level``: ``_idx#<level>_<name>`` (omegaml's layout).

    An unnamed level is ``_idx#<level>_<level>``, as omegaml writes it.
    """
    return f"{INDEX_PREFIX}{level}_{level if name is None else encode_name(name)}"


def remainder_field(field: str) -> str:
    """The field holding the sub-millisecond part (ns) of the datetime field ``field``."""
    return NS_PREFIX + field


def display_name(name: Hashable) -> Any:
    """``name`` as a BSON-friendly value (for the omegaml-compatible ``columns`` pairs)."""
    if name is None or isinstance(name, (str, bool, int, float)):
        return name
    if _is_np_integer(name):
        return int(name)  # type: ignore[call-overload]
    if _is_np_floating(name):
        return float(name)  # type: ignore[arg-type]
    return str(name)


def _is_np_integer(value: Any) -> bool:
    return hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu" and (
        getattr(value, "ndim", 1) == 0
    )


def _is_np_floating(value: Any) -> bool:
    return hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f" and (
        getattr(value, "ndim", 1) == 0
    )
