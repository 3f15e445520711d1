"""Python data as JSON files for ``omegacore put`` and ``omegacore get``.

``get`` writes what the kind returns, the array of objects put so far; ``put`` of a file
holding an array stores each element as an object of its own, so the two round-trip.
A file holding one JSON object stores that object (and comes back as an array of one).
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from omegacore import ReadResult


def read_json(path: Path) -> Any:
    """Read a JSON file: an object is one object to store, an array one object per element."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except UnicodeDecodeError as exc:
        raise ValueError("not UTF-8 text: JSON files are UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column "
                         f"{exc.colno})") from exc
    if not isinstance(data, (dict, list)):
        raise ValueError(f"holds a {type(data).__name__}; python.data stores a JSON object "
                         "or array")
    if isinstance(data, list):
        if not data:
            raise ValueError("holds an empty array: there is nothing to store")
        return ReadResult(data, {"as_many": True})
    return data


def _default(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} values cannot be written as JSON")


def write_json(obj: Any, path: Path) -> None:
    """Write dicts and lists as indented JSON (tuples become arrays, dates ISO strings)."""
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False, default=_default)
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from exc
    path.write_text(text + "\n", encoding="utf-8")
