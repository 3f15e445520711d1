"""What ``mdf.apply(fn)`` passes to ``fn``: the frame's columns, pandas-like, building
server-side expressions instead of computing.

``fn(ctx)`` may return the context (or None: what it set on the context counts), one
column expression, a dict ``{name: expression}``, or a list of aggregation stages (run
after the frame's own). Forms (omegaml's, with pandas' results):

    ctx["x"] * 2 + ctx["y"]            a column        ctx * 5      every column
    ctx["s"].str.lower()               strings         ctx["t"].dt.year   datetimes
    ctx["z"] = ctx["x"] ** 2           a new column    dict(a=..., b=...) several columns
    ctx.groupby("k").agg({"x": "sum"}) x_sum per k     ctx.mean()         x_mean, ... one row
    ctx.project(z={"$multiply": ["$x", 2]}), ctx.add({"$match": ...})   raw MongoDB
"""

from __future__ import annotations

import builtins
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from omegacore_pandas.expressions import LazyExpression

from omegacore_mdf_apply.columns import ApplyColumn

#: the statistics of groupby/agg, and the names omegaml gives them in column names
STATISTICS = ("sum", "mean", "min", "max", "std", "var", "count", "avg")


@dataclass
class Grouping:
    """A ``groupby``/``agg`` inside apply: keys (None: the whole frame), statistics per
    column, and raw ``$group`` accumulators."""

    by: list[Hashable] | None
    stats: dict[Hashable, list[builtins.str]] = field(default_factory=dict)
    raw: dict[builtins.str, Any] = field(default_factory=dict)


class _State:
    """What an apply built, shared by a context and its sub-contexts."""

    def __init__(self) -> None:
        self.assigned: dict[Hashable, Any] = {}
        self.projected: dict[builtins.str, Any] = {}
        self.stages: list[dict[builtins.str, Any]] = []
        self.grouping: Grouping | None = None


class ApplyContext:
    """The lazy frame inside ``apply`` (see the module doc)."""

    def __init__(self, frame: Any, columns: Sequence[Hashable] | None = None,
                 state: _State | None = None):
        self._frame = frame
        self._state = state or _State()
        self.columns = list(columns) if columns is not None else \
            [s.name for s in frame._selected.columns]

    # -- columns -----------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (list, tuple)):
            return ApplyContext(self._frame, list(key), self._state)
        if key in self._state.assigned:
            value = self._state.assigned[key]
            if isinstance(value, LazyExpression):
                return value
        return ApplyColumn.of(self._frame, key)

    def __setitem__(self, key: Hashable, value: Any) -> None:
        self._state.assigned[key] = value
        if key not in self.columns:
            self.columns.append(key)

    def __iter__(self) -> Any:
        return iter(self.columns)

    def _each(self, fn: Any) -> ApplyContext:
        for name in self.columns:
            self._state.assigned[name] = fn(self[name])
        return self

    def __add__(self, other: Any) -> ApplyContext:
        return self._each(lambda c: c + other)

    def __sub__(self, other: Any) -> ApplyContext:
        return self._each(lambda c: c - other)

    def __mul__(self, other: Any) -> ApplyContext:
        return self._each(lambda c: c * other)

    def __truediv__(self, other: Any) -> ApplyContext:
        return self._each(lambda c: c / other)

    def __pow__(self, other: Any) -> ApplyContext:
        return self._each(lambda c: c ** other)

    def __abs__(self) -> ApplyContext:
        return self._each(abs)

    @property
    def str(self) -> _Broadcast:
        """String methods on every column of the context."""
        return _Broadcast(self, "str")

    @property
    def dt(self) -> _Broadcast:
        """Datetime fields of every column of the context."""
        return _Broadcast(self, "dt")

    # -- raw MongoDB (your own code only) ----------------------------------------------------
    def project(self, expr: dict[builtins.str, Any] | None = None, **kwargs: Any) -> ApplyContext:
        """Add fields from MongoDB aggregation expressions (``{"z": {"$add": [...]}}``);
        the result is read as documents (types as the server gives them)."""
        self._state.projected.update(expr or kwargs)
        return self

    def add(self, stage: dict[builtins.str, Any]) -> ApplyContext:
        """Append an aggregation stage (after the frame's own stages and computations)."""
        if not isinstance(stage, dict) or len(stage) != 1:
            raise TypeError(f"an aggregation stage is a dict with one operator, got {stage!r}")
        self._state.stages.append(stage)
        return self

    # -- grouping ----------------------------------------------------------------------------
    def groupby(self, by: Hashable | Sequence[Hashable],
                expr: dict[builtins.str, Any] | None = None, **kwargs: Any) -> ApplyGroupBy:
        """Group by columns; ``.agg``, ``.sum()`` etc. name results ``<column>_<stat>``;
        ``expr``/keywords add raw ``$group`` accumulators."""
        keys = list(by) if isinstance(by, (list, tuple)) else [by]
        self._state.grouping = Grouping(keys, raw=dict(expr or kwargs))
        return ApplyGroupBy(self)

    def agg(self, spec: dict[Hashable, Any] | None = None, **kwargs: Any) -> ApplyContext:
        """Statistics of the whole frame (one row), named ``<column>_<stat>``."""
        if self._state.grouping is None:
            self._state.grouping = Grouping(None)
        return ApplyGroupBy(self).agg(spec, **kwargs)._context

    def _stat(self, stat: builtins.str) -> ApplyContext:
        if self._state.grouping is None:
            self._state.grouping = Grouping(None)
        return ApplyGroupBy(self)._stat(stat)._context

    def sum(self) -> ApplyContext:
        return self._stat("sum")

    def mean(self) -> ApplyContext:
        return self._stat("mean")

    def avg(self) -> ApplyContext:
        return self._stat("avg")

    def min(self) -> ApplyContext:
        return self._stat("min")

    def max(self) -> ApplyContext:
        return self._stat("max")

    def std(self) -> ApplyContext:
        return self._stat("std")

    def __repr__(self) -> builtins.str:
        return f"ApplyContext(columns={self.columns!r})"


class ApplyGroupBy:
    """``ctx.groupby(keys)``: statistics per group, named ``<column>_<stat>`` (omegaml)."""

    def __init__(self, context: ApplyContext):
        self._context = context

    def _targets(self) -> list[Hashable]:
        grouping = self._context._state.grouping
        keys = grouping.by or [] if grouping else []
        return [c for c in self._context.columns if c not in keys]

    def agg(self, spec: dict[Hashable, Any] | None = None, **kwargs: Any) -> ApplyGroupBy:
        grouping = self._context._state.grouping
        assert grouping is not None
        for column, stats in dict(spec or kwargs).items():
            if isinstance(stats, dict):  # a raw accumulator for the column
                grouping.raw[str(column)] = stats
                continue
            names = [stats] if isinstance(stats, str) else list(stats)
            unknown = [s for s in names if s not in STATISTICS]
            if unknown:
                raise ValueError(f"unknown statistic {unknown}; use {list(STATISTICS)} or "
                                 "a raw accumulator such as {'$sum': '$x'}")
            grouping.stats.setdefault(column, []).extend(names)
        return self

    def _stat(self, stat: builtins.str) -> ApplyGroupBy:
        return self.agg({column: stat for column in self._targets()})

    def sum(self) -> ApplyGroupBy:
        return self._stat("sum")

    def mean(self) -> ApplyGroupBy:
        return self._stat("mean")

    def avg(self) -> ApplyGroupBy:
        return self._stat("avg")

    def min(self) -> ApplyGroupBy:
        return self._stat("min")

    def max(self) -> ApplyGroupBy:
        return self._stat("max")

    def std(self) -> ApplyGroupBy:
        return self._stat("std")

    def count(self) -> ApplyGroupBy:
        return self._stat("count")


class _Broadcast:
    """``ctx.str.lower()``, ``ctx.dt.year``: the method on every column of the context."""

    def __init__(self, context: ApplyContext, accessor: builtins.str):
        self._context = context
        self._accessor = accessor

    def __getattr__(self, name: builtins.str) -> Any:
        context = self._context
        methods = {c: getattr(getattr(context[c], self._accessor), name) for c in context.columns}
        if not methods or not callable(next(iter(methods.values()))):  # a property: .dt.year
            for column, value in methods.items():
                context._state.assigned[column] = value
            return context

        def call(*args: Any, **kwargs: Any) -> ApplyContext:
            for column, method in methods.items():
                context._state.assigned[column] = method(*args, **kwargs)
            return context

        return call
