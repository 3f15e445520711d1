"""Parsing and resolving column specs: ``name[a,b]``, ``name[a:c]``, ``name[^c,d]``.

Grammar of a projected name (the part in brackets is the *spec*)::

    name[item, item, ...]       these columns/slices, in this order
    name[^item, item, ...]      every stored column except these
    item   := label | label ':' label | label ':' | ':' label | ':'
    label  := text without , : [ ] (spaces around it are dropped) | 'quoted' | "quoted"

Slices are label slices, inclusive of both ends like ``DataFrame.loc[:, "a":"c"]``. A
name that ends in an op-spec (``#op:k=v``, see omegacore-opspec) is not parsed here: the
op-spec plugin resolves its tail first and the rest (``name[a,b]``) comes back here.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

#: the tail an op-spec adds to a name: ``#``, ``#op`` or ``#op:k=v,...`` (see omegacore-opspec)
OPSPEC_TAIL = re.compile(r"#(?:[A-Za-z_]\w*(?::[^#\[\]]*)?)?$")
#: ``base[spec]`` at the end of a name; the spec holds no brackets, so the last group counts
_PROJECTED = re.compile(r"^(?P<base>.+?)\[(?P<spec>[^\[\]]*)\]$", re.DOTALL)


class UnknownColumnError(KeyError):
    """A column named in a spec is not stored; the message lists the stored columns."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class ColumnSlice:
    """``start:stop`` by label, both ends included; None is the first/last column."""

    start: str | None
    stop: str | None

    def __str__(self) -> str:
        return f"{self.start or ''}:{self.stop or ''}"


Item = str | ColumnSlice


@dataclass(frozen=True)
class Projection:
    """A parsed spec: ``items`` (labels and slices) and whether they are excluded."""

    items: tuple[Item, ...]
    exclude: bool = False

    @property
    def needs_order(self) -> bool:
        """True if resolving needs the stored column order (slices or exclusion)."""
        return self.exclude or any(isinstance(i, ColumnSlice) for i in self.items)

    @property
    def labels(self) -> list[str]:
        """The columns as given, for a spec of plain labels (no slice, no exclusion)."""
        return [i for i in self.items if isinstance(i, str)]

    def resolve(self, available: Sequence[Hashable], name: str) -> list[Hashable]:
        """The stored columns this spec selects, in order; clear errors for unknown columns."""
        columns = list(available)
        picked: list[Hashable] = []
        for item in self.items:
            if isinstance(item, ColumnSlice):
                start = 0 if item.start is None else _position(item.start, columns, name)
                stop = len(columns) - 1 if item.stop is None else _position(
                    item.stop, columns, name)
                if start > stop:
                    raise ValueError(
                        f"{name!r}: the slice [{item}] selects no columns: {item.start!r} comes "
                        f"after {item.stop!r} in the stored order {columns}"
                    )
                picked.extend(columns[start : stop + 1])
            else:
                picked.append(columns[_position(item, columns, name)])
        seen: set[Hashable] = set()
        for column in picked:
            if column in seen:
                raise ValueError(f"{name!r}: column {column!r} is selected twice")
            seen.add(column)
        if self.exclude:
            picked = [c for c in columns if c not in seen]
        if not picked:
            raise ValueError(f"{name!r} selects no columns (stored columns: {columns})")
        return picked


def split_name(name: str) -> tuple[str, str] | None:
    """``(base, spec)`` for ``base[spec]``; None for a plain name or one with an op-spec tail."""
    if "[" not in name or OPSPEC_TAIL.search(name):
        return None
    match = _PROJECTED.match(name)
    if match is None:
        return None
    return match.group("base"), match.group("spec")


def parse_spec(spec: str, name: str = "") -> Projection:
    """Parse the text between the brackets; ValueError saying what is wrong."""
    text = spec.strip()
    exclude = text.startswith("^")
    if exclude:
        text = text[1:]
    parts = _split(text, ",", name)
    if not text.strip() or any(not p.strip() for p in parts):
        raise ValueError(
            f"{name!r}: empty column in [{spec}]; write name[a,b], name[a:c] or name[^c]"
        )
    items: list[Item] = []
    for part in parts:
        bounds = _split(part, ":", name)
        if len(bounds) == 1:
            items.append(_label(part, name))
        elif len(bounds) == 2:
            start, stop = (_label(b, name) if b.strip() else None for b in bounds)
            items.append(ColumnSlice(start, stop))
        else:
            raise ValueError(
                f"{name!r}: [{part.strip()}] has more than one ':'; slices are start:stop "
                "(quote column names that contain ':')"
            )
    return Projection(tuple(items), exclude)


def _split(text: str, sep: str, name: str) -> list[str]:
    """Split ``text`` at ``sep`` outside of single or double quotes."""
    parts, current, quote = [], [], ""
    for char in text:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quote:
        raise ValueError(f"{name!r}: unclosed quote {quote} in the column spec")
    parts.append("".join(current))
    return parts


def _label(text: str, name: str) -> str:
    """A column label: stripped, or the content of its quotes taken literally."""
    label = text.strip()
    if len(label) >= 2 and label[0] == label[-1] and label[0] in "'\"":
        return label[1:-1]
    if any(q in label for q in "'\""):
        raise ValueError(
            f"{name!r}: misplaced quote in column {label!r}; quote the whole column name"
        )
    return label


def _position(label: str, columns: list[Hashable], name: str) -> int:
    """Where ``label`` is in ``columns``: equal, else the one column whose str() equals it."""
    for i, column in enumerate(columns):
        if column == label:
            return i
    matches = [i for i, column in enumerate(columns) if str(column) == label]
    if len(matches) == 1:
        return matches[0]
    raise UnknownColumnError(
        f"column {label!r} is not stored in {name!r}; its columns are: {columns}"
    )
