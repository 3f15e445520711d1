"""Op-specs: parsing ``name#op:k=v,...`` and the registry of op handlers.

Grammar of the tail (at the very end of the name)::

    #                       no op: a plain get of the rest of the name
    #op                     op without parameters
    #op:key=value,...       values are int, float, true/false, none, or text
                            ('quoted' or "quoted" keeps text as text, e.g. '1')

``name#`` without an op runs ``DEFAULT_OP`` (``iterchunks``), as omegaml does. Ops are
looked up in ``OPS``; a handler receives the object as a lazy frame and the op's
parameters. A plugin or application adds one with::

    @OPS.register("sample", params={"n": Param(int, required=True)}, description="...")
    def sample(lazy, n):
        return lazy.head(n).value
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: the op-spec tail; ``[^#\[\]]`` keeps ``df[a#b]`` (a column name) out of it
TAIL = re.compile(r"#(?:(?P<op>[A-Za-z_]\w*)(?::(?P<params>[^#\[\]]*))?)?$")
_KEY = re.compile(r"^[A-Za-z_]\w*$")

#: ``handler(lazy, **params)``: the object as a lazy frame (with any ``[...]`` projection
#: and the filters given to get applied), params the validated values
Handler = Callable[..., Any]
#: the op ``name#`` runs
DEFAULT_OP = "iterchunks"
#: rows per chunk when an op that iterates is given no chunksize (omegaml's default)
DEFAULT_CHUNKSIZE = 100


def split_opspec(name: str) -> tuple[str, str | None, str | None] | None:
    """``(rest, op, params)`` for ``rest#op:params``; None if the name has no op-spec tail."""
    if "#" not in name:
        return None
    match = TAIL.search(name)
    if match is None or match.start() == 0:
        return None
    return name[: match.start()], match.group("op"), match.group("params")


def parse_value(text: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, ``"none"`` -> None, else the text."""
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            pass
    return value


def parse_params(text: str | None, where: str = "") -> dict[str, Any]:
    """``"a=1,b=x"`` -> ``{"a": 1, "b": "x"}``; ValueError for malformed or repeated keys."""
    if text is None or not text.strip():
        return {}
    params: dict[str, Any] = {}
    for part in _split_commas(text, where):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            raise ValueError(f"{where}: expected key=value in the op-spec, got {part.strip()!r}")
        if key in params:
            raise ValueError(f"{where}: parameter {key!r} is given twice")
        params[key] = parse_value(value)
    return params


def _split_commas(text: str, where: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote:
        raise ValueError(f"{where}: unclosed quote {quote} in the op-spec")
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class Param:
    """A parameter an op accepts: its types, whether it is required, its default."""

    types: type | tuple[type, ...]
    required: bool = False
    default: Any = None
    minimum: int | None = None

    def check(self, op: str, key: str, value: Any, where: str) -> Any:
        """``value`` if it fits (``none`` for an optional one), else a ValueError saying why."""
        if value is None and not self.required:
            return None
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ValueError(f"{where}: {op} {key} must be {_type_names(types)}, got {value!r}")
        minimum = self.minimum
        if minimum is not None and isinstance(value, (int, float)) and value < minimum:
            raise ValueError(f"{where}: {op} {key} must be >= {self.minimum}, got {value!r}")
        return value


@dataclass(frozen=True)
class Op:
    """A registered op: its handler and the parameters it accepts."""

    name: str
    handler: Handler
    params: Mapping[str, Param] = field(default_factory=dict)
    description: str = ""

    def bind(self, given: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The handler's keyword arguments: ``given`` checked, defaults filled in."""
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            accepted = ", ".join(self.params) or "no parameters"
            raise ValueError(f"{where}: {self.name} does not take {unknown}; it takes {accepted}")
        missing = [k for k, p in self.params.items() if p.required and k not in given]
        if missing:
            raise ValueError(f"{where}: {self.name} needs {', '.join(missing)}, e.g. "
                             f"#{self.name}:{missing[0]}=...")
        return {
            key: param.check(self.name, key, given[key], where) if key in given else param.default
            for key, param in self.params.items()
        }

    def usage(self) -> str:
        """``op:key=<type>,...`` as shown in error messages."""
        if not self.params:
            return self.name
        keys = ",".join(f"{k}=<{_type_names(p.types, '|')}>" for k, p in self.params.items())
        return f"{self.name}:{keys}"


def _type_names(types: type | tuple[type, ...], sep: str = " or ") -> str:
    return sep.join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))


class OpRegistry:
    """Op handlers by name; ``OPS`` is the one the mixin uses."""

    def __init__(self) -> None:
        self._ops: dict[str, Op] = {}

    def register(
        self,
        name: str,
        params: Mapping[str, Param] | None = None,
        description: str = "",
        replace: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Decorator adding ``handler`` as op ``name``; ``replace=True`` to override one."""
        if not _KEY.match(name):
            raise ValueError(f"op names are identifiers (letters, digits, _), got {name!r}")

        def add(handler: Handler) -> Handler:
            if name in self._ops and not replace:
                raise ValueError(f"op {name!r} is registered already; pass replace=True")
            self._ops[name] = Op(name, handler, dict(params or {}), description)
            return handler

        return add

    def unregister(self, name: str) -> None:
        """Remove op ``name`` (KeyError if it is not registered)."""
        del self._ops[name]

    def names(self) -> list[str]:
        return sorted(self._ops)

    def get(self, name: str, where: str = "") -> Op:
        """The op ``name``; ValueError listing the known ops if there is none."""
        op = self._ops.get(name)
        if op is None:
            known = ", ".join(self._ops[n].usage() for n in self.names())
            raise ValueError(f"{where}: unknown op {name!r}; known ops: {known}")
        return op


OPS = OpRegistry()


@OPS.register(
    "iterchunks",
    params={"chunksize": Param(int, default=DEFAULT_CHUNKSIZE, minimum=1)},
    description="an iterator of DataFrames of chunksize rows each (default 100)",
)
def iterchunks(lazy: Any, chunksize: int | None = DEFAULT_CHUNKSIZE) -> Any:
    """``lazy.iterchunks(chunksize)``: the object as an iterator of DataFrames."""
    return lazy.iterchunks(chunksize=chunksize or DEFAULT_CHUNKSIZE)


@OPS.register(
    "rows",
    params={"start": Param(int, default=0), "end": Param(int),
            "chunksize": Param(int, default=DEFAULT_CHUNKSIZE, minimum=1)},
    description="rows start..end-1 by position, as an iterator of DataFrames of chunksize rows",
)
def rows(lazy: Any, start: int | None = 0, end: int | None = None,
         chunksize: int | None = DEFAULT_CHUNKSIZE) -> Any:
    """``lazy.iloc[start:end].iterchunks(chunksize)`` (end omitted: to the last row)."""
    return lazy.iloc[start or 0:end].iterchunks(chunksize=chunksize or DEFAULT_CHUNKSIZE)


@OPS.register(
    "head",
    params={"limit": Param(int, default=5, minimum=0)},
    description="the first limit rows, as a lazy frame",
)
def head(lazy: Any, limit: int | None = 5) -> Any:
    """``lazy.head(limit)``."""
    return lazy.head(5 if limit is None else limit)


@OPS.register(
    "tail",
    params={"limit": Param(int, default=5, minimum=0)},
    description="the last limit rows, as a lazy frame",
)
def tail(lazy: Any, limit: int | None = 5) -> Any:
    """``lazy.tail(limit)``."""
    return lazy.tail(5 if limit is None else limit)
