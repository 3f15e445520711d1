"""``mdf.apply(fn)``: pandas-like expressions compiled to one aggregation pipeline.

Row-wise results (columns computed from columns) are lazy frames again: filter, sort,
group, merge or apply them further. Grouped and raw results are ``ApplyResult``s
(``.value``). ``persist()`` caches a result in the store (a hidden object named after the
pipeline, the object's collection and its rows), and an equal apply later reads the cache,
as omegaml's apply cache does; a new put or append of the object changes the key, so a
stale cache is never read. ``reset_cache()`` removes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pandas as pd
from bson import json_util
from omegacore_pandas.expressions import LazyExpression, assigned
from omegacore_pandas.plan import compile_plan

from omegacore_mdf_apply.context import ApplyContext, ApplyGroupBy, Grouping

#: hidden names of cached results: ``<CACHE_PREFIX><collection>/<key>``
CACHE_PREFIX = ".apply_cache/"
#: pandas' names of the statistics (omegaml's ``avg`` is pandas' ``mean``)
_PANDAS_STAT = {"avg": "mean"}


class ApplyMixin:
    """Adds ``apply``, ``persist`` and ``reset_cache`` to lazy frames."""

    def apply(self, fn: Callable[[ApplyContext], Any], inplace: bool = False) -> Any:
        """The result of ``fn(ctx)`` computed on the server (see ``context``): a lazy frame
        for row-wise results, else an ``ApplyResult``."""
        if not callable(fn):
            raise TypeError(f"apply takes a function of the lazy frame, got {fn!r}")
        if inplace:
            raise TypeError("apply(inplace=True) is not supported: use the returned frame")
        context = ApplyContext(self)
        returned = fn(context)
        result = resolve(self, context, returned)
        if hasattr(result, "_source"):
            result._apply_cached = True
        return result

    # -- cache -------------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The rows (see ``MDataFrame.value``); a persisted apply result from the cache."""
        if getattr(self, "_apply_cached", False):
            cached = read_cache(self)
            if cached is not None:
                return cached
        return super().value  # type: ignore[misc]

    def persist(self) -> Any:
        """Compute this result and keep it in the store's apply cache; returns self."""
        return persist(self, lambda: super(ApplyMixin, self).value)  # type: ignore[misc]

    def reset_cache(self, full: bool = False) -> Any:
        """Remove this result from the cache (``full``: every cached apply of the object)."""
        reset_cache(self, full)
        return self


class ApplyResult:
    """A grouped or raw apply result: ``.value`` computes it (or reads the cache)."""

    def __init__(self, frame: Any, context: ApplyContext):
        self._frame = frame
        self._context = context

    def _describe(self) -> dict[str, Any]:
        state = self._context._state
        grouping = state.grouping
        return {"frame": self._frame.explain(), "projected": state.projected,
                "stages": state.stages,
                "grouping": None if grouping is None else
                {"by": [str(k) for k in grouping.by] if grouping.by is not None else None,
                 "stats": {str(k): v for k, v in grouping.stats.items()},
                 "raw": grouping.raw}}

    def _compute(self) -> pd.DataFrame:
        state = self._context._state
        grouping = state.grouping
        if grouping is not None and not grouping.raw and not state.projected \
                and not state.stages:
            return _grouped(self._frame, grouping)
        return _documents(self._frame, self._context)

    @property
    def value(self) -> pd.DataFrame:
        cached = read_cache(self)
        return cached if cached is not None else self._compute()

    def explain(self) -> dict[str, Any]:
        """What the server is asked (the frame's plan and the apply's own parts)."""
        return self._describe()

    def persist(self) -> ApplyResult:
        return persist(self, self._compute)

    def reset_cache(self, full: bool = False) -> ApplyResult:
        reset_cache(self, full)
        return self

    def __repr__(self) -> str:
        return f"ApplyResult({self._describe()!r})"


def resolve(frame: Any, context: ApplyContext, returned: Any) -> Any:
    """The result of an apply from what ``fn`` set on ``context`` and returned."""
    state = context._state
    if isinstance(returned, list):
        for stage in returned:
            context.add(stage)
        returned = None
    if isinstance(returned, LazyExpression):
        name = returned.name if returned.name is not None else 0
        state.assigned = {name: returned}
        context = ApplyContext(frame, [name], state)
    elif isinstance(returned, dict):
        state.assigned.update(returned)
        context = ApplyContext(frame, list(returned), state)
    elif isinstance(returned, ApplyGroupBy):
        context = returned._context
    elif isinstance(returned, ApplyContext):
        context = returned
    elif returned is not None:
        raise TypeError(f"apply's function returned {type(returned).__name__}; return the "
                        "context, a column expression, a dict of them or a list of stages")
    result = frame
    for key, value in state.assigned.items():
        result = assigned(result, key, value)
    if state.grouping is not None or state.projected or state.stages:
        return ApplyResult(result, context)
    return result[list(context.columns)]


def _grouped(frame: Any, grouping: Grouping) -> pd.DataFrame:
    """Statistics per group (or of the whole frame), columns ``<column>_<stat>``."""
    spec = {col: [_PANDAS_STAT.get(s, s) for s in stats]
            for col, stats in grouping.stats.items()}
    names = [f"{col}_{stat}" for col, stats in grouping.stats.items() for stat in stats]
    if grouping.by is None:
        values = [getattr(frame[col], _PANDAS_STAT.get(stat, stat))()
                  for col, stats in grouping.stats.items() for stat in stats]
        return pd.DataFrame([values], columns=names)
    result = frame.groupby(grouping.by).agg(spec, names="pandas")
    result.columns = names
    return result


def _documents(frame: Any, context: ApplyContext) -> pd.DataFrame:
    """Raw projections and stages: the documents the server returns, as a frame."""
    state = context._state
    compiled = compile_plan(frame._source, frame._stages, client_take=False)
    pipe = list(compiled.pipeline)
    selected = frame._layout.select(list(context.columns)) if context.columns else None
    if state.grouping is not None:
        if state.grouping.stats:
            raise TypeError("raw $group accumulators and statistics by name do not mix in "
                            "one apply; use agg({'x': {'$sum': '$x'}}) for both")
        by = state.grouping.by
        group_id = None if not by else {str(k): "$" + frame._layout.lookup()[k].field
                                        for k in by}
        pipe.append({"$group": {"_id": group_id, **state.grouping.raw}})
    elif state.projected:
        keep = {spec.field: 1 for spec in selected.columns} if selected else {}
        pipe.append({"$project": {**keep, **state.projected}})
    pipe.extend(state.stages)
    rows = list(frame._source.collection.aggregate(pipe, allowDiskUse=True))
    out = pd.DataFrame.from_records(rows)
    if state.grouping is not None and "_id" in out.columns and state.grouping.by:
        keys = pd.DataFrame.from_records(list(out.pop("_id")))
        out = pd.concat([keys, out], axis=1).set_index([str(k) for k in state.grouping.by])
        return out.sort_index()
    fields = {spec.field: spec.name for spec in (selected.columns if selected else [])}
    return out.drop(columns=[c for c in out.columns if c == "_id" or str(c).startswith("_om#")
                             and c not in fields]).rename(columns=fields)


# -- the cache ---------------------------------------------------------------------------------
def _cache_name(result: Any) -> tuple[Any, str]:
    """The store and the hidden name a result is cached under (see the module doc)."""
    frame = result._frame if isinstance(result, ApplyResult) else result
    store = frame._source.store
    if store is None:
        raise TypeError("persist() caches results in the store: open the frame with "
                        "store.getl(name)")
    source = frame._source
    described = result._describe() if isinstance(result, ApplyResult) else result.explain()
    text = json.dumps({"plan": json.loads(json_util.dumps(described)), "rows": source.rows},
                      sort_keys=True, default=str)
    key = hashlib.sha256(text.encode()).hexdigest()[:32]
    return store, f"{CACHE_PREFIX}{source.collection.name}/{key}"


def read_cache(result: Any) -> Any:
    """The cached value of ``result``, or None."""
    frame = result._frame if isinstance(result, ApplyResult) else result
    if frame._source.store is None:
        return None
    store, name = _cache_name(result)
    return store.get(name)  # None if nothing is cached


def persist(result: Any, compute: Callable[[], Any]) -> Any:
    store, name = _cache_name(result)
    store.put(compute(), name, append=False)
    return result


def reset_cache(result: Any, full: bool) -> None:
    store, name = _cache_name(result)
    if full:
        folder = name.rsplit("/", 1)[0] + "/"
        for cached in store.list(pattern=f"{folder}*", hidden=True):
            store.drop(cached, force=True)
    else:
        store.drop(name, force=True)
