"""Aggregations of lazy frames, run as MongoDB aggregation pipelines.

``mdf.groupby(keys).agg({...})``, ``count()``, ``unique()`` and the Series reductions
(``sum``, ``mean``, ...) put a ``$group`` stage after the frame's own stages and read
only the aggregated rows. Results are shaped as pandas shapes them: the shape, the
column labels (a MultiIndex for ``agg({'x': ['sum', 'mean']})``) and the result dtypes
come from running the same pandas call on an empty frame of the stored dtypes; the
values come from the server and are decoded with the same column codecs as rows, so
group keys keep their dtypes (categories, time zones, nanoseconds).

pandas semantics kept: missing values are skipped (NaN is turned into null before
``$sum``/``$avg``/``$min``...), ``std``/``var`` are sample statistics (ddof=1), groups
with missing keys are dropped unless ``dropna=False``, keys are sorted unless
``sort=False`` (then in order of first appearance), only observed categories appear.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from omegacore_pandas.codecs import (
    CategoryCodec,
    DatetimeCodec,
    NumberCodec,
    TimedeltaCodec,
)
from omegacore_pandas.decode import decode_frame
from omegacore_pandas.dtypes import describe_dtype
from omegacore_pandas.layout import FieldSpec, FrameLayout
from omegacore_pandas.names import ROWID_FIELD
from omegacore_pandas.plan import (
    TEMP_PREFIX,
    batch_size,
    compile_plan,
    empty_frame,
    missing_expr,
    spec_of,
)

if TYPE_CHECKING:
    from omegacore_pandas.mdataframe import MDataFrame, MSeries

#: the aggregation functions computed on the server
FUNCTIONS = ("count", "size", "sum", "mean", "min", "max", "std", "var")
_NUMERIC = ("sum", "mean", "std", "var")
_INT64 = {"kind": "numpy", "name": "int64"}
_NAN = float("nan")


@dataclass(frozen=True)
class AggItem:
    """One output column: ``func`` of the column ``column``, labelled ``label``."""

    label: Hashable
    column: Hashable
    func: str


# ------------------------------------------------------------------------------------------
# the public objects
# ------------------------------------------------------------------------------------------
class MGroupBy:
    """A lazy frame grouped by columns or index levels (``mdf.groupby(...)``).

    Reductions (``count``, ``size``, ``sum``, ``mean``, ``min``, ``max``, ``std``,
    ``var``, ``agg``) run one aggregation pipeline and return pandas objects shaped as
    pandas' groupby returns them. ``grouped['x']`` / ``grouped[['x', 'y']]`` select
    columns.
    """

    def __init__(self, frame: MDataFrame, by: Hashable | Sequence[Hashable], sort: bool = True,
                 dropna: bool = True, observed: bool = True,
                 selection: Hashable | list[Hashable] | None = None):
        if not observed:
            raise ValueError(
                "observed=False (a group for every category, also unused ones) is not "
                "supported lazily; use observed=True, or group the DataFrame (.value)"
            )
        self.frame = frame
        self.keys: list[Hashable] = list(by) if isinstance(by, (list, tuple)) else [by]
        if not self.keys:
            raise ValueError("groupby needs at least one key")
        self.key_specs = [spec_of(frame._layout, k, "groupby") for k in self.keys]
        self.sort = sort
        self.dropna = dropna
        self.selection = selection

    def __getitem__(self, key: Hashable | list[Hashable]) -> MGroupBy:
        columns = key if isinstance(key, list) else [key]
        for column in columns:
            spec_of(self.frame._layout, column, "groupby selection")
        return MGroupBy(self.frame, self.keys, self.sort, self.dropna, True,
                        selection=list(key) if isinstance(key, list) else key)

    def __getattr__(self, name: str) -> MGroupBy:
        """``grouped.x``: the column ``x`` (as ``grouped['x']``)."""
        if name.startswith("_") or name not in [s.name for s in self.frame._layout.columns]:
            raise AttributeError(f"{type(self).__name__!r} has no attribute or column {name!r}")
        return self[name]

    def __iter__(self) -> Iterator[tuple[Any, MDataFrame]]:
        """(key, the group's rows as a lazy frame) for each group, keys in sorted order
        (a tuple for several keys), as iterating a pandas groupby gives them."""
        keys = self.frame[self.keys].value.drop_duplicates() if all(
            k in [s.name for s in self.frame._layout.columns] for k in self.keys) else None
        if keys is None:
            raise TypeError("iterating groups by index levels is not supported lazily; "
                            "group by columns, or iterate the DataFrame's groupby (.value)")
        if self.dropna:
            keys = keys.dropna()
        if self.sort:
            keys = keys.sort_values(list(self.keys), kind="stable")
        for row in keys.itertuples(index=False, name=None):
            condition = None
            for key, value in zip(self.keys, row, strict=True):
                part = self.frame[key] == value
                condition = part if condition is None else condition & part
            group = self.frame[condition]
            yield (row[0] if len(self.keys) == 1 else tuple(row)), group

    def __repr__(self) -> str:
        return f"MGroupBy({self.frame!r}, by={self.keys!r})"

    # -- pandas' view of the result ------------------------------------------------------
    def _value_columns(self) -> list[Hashable]:
        if self.selection is not None:
            return self.selection if isinstance(self.selection, list) else [self.selection]
        keys = set(_hashable(k) for k in self.keys)
        return [s.name for s in self.frame._selected.columns if _hashable(s.name) not in keys]

    def _template(self, call: Callable[[Any], Any]) -> Any:
        """``call`` applied to pandas' groupby of an empty frame of the stored dtypes."""
        layout = self.frame._layout
        names = [s.name for s in layout.columns]
        wanted = [*self._value_columns()]
        for key in self.keys:
            if key in names and key not in wanted:
                wanted.append(key)
        empty = pd.DataFrame(empty_frame(self.frame._source, [c for c in names if c in wanted]))
        grouped = empty.groupby(self.keys, sort=self.sort, dropna=self.dropna, observed=True)
        if self.selection is not None:
            grouped = grouped[self.selection]
        return call(grouped)

    # -- reductions ----------------------------------------------------------------------
    def count(self) -> Any:
        """Non-missing values per group and column."""
        return self._reduce("count")

    def size(self) -> Any:
        """Rows per group."""
        template = self._template(lambda g: g.size())
        items = [AggItem(template.name, self.keys[0], "size")]
        return self._run(items, template, series=True)

    def sum(self) -> Any:
        """Sum per group (missing values skipped)."""
        return self._reduce("sum")

    def mean(self) -> Any:
        """Mean per group (missing values skipped)."""
        return self._reduce("mean")

    def min(self) -> Any:
        """Smallest value per group."""
        return self._reduce("min")

    def max(self) -> Any:
        """Largest value per group."""
        return self._reduce("max")

    def std(self) -> Any:
        """Sample standard deviation per group (ddof=1)."""
        return self._reduce("std")

    def var(self) -> Any:
        """Sample variance per group (ddof=1)."""
        return self._reduce("var")

    def _reduce(self, func: str) -> Any:
        columns = self._value_columns()
        self._check([(c, func) for c in columns])
        template = self._template(lambda g: getattr(g, func)())
        if isinstance(template, pd.Series):
            items = [AggItem(template.name, columns[0], func)]
            return self._run(items, template, series=True)
        items = [AggItem(label, label, func) for label in template.columns]
        return self._run(items, template)

    def agg(self, spec: str | list[str] | dict[Hashable, str | list[str]],
            names: str = "omegaml") -> Any:
        """Aggregate as ``DataFrameGroupBy.agg``: a function name, a list of names, or
        ``{column: name or [names]}``; functions: count, size, sum, mean, min, max,
        std, var.

        ``{column: ...}`` names the result columns ``<column>_<function>``, as omegaml
        does (``names="pandas"``: pandas' labels, a MultiIndex for lists); the other
        forms are labelled as pandas labels them.
        """
        if names not in ("omegaml", "pandas"):
            raise ValueError(f"names must be 'omegaml' or 'pandas', got {names!r}")
        pairs = _normalize(spec, self._value_columns())
        single = self.selection is not None and not isinstance(self.selection, list)
        if isinstance(spec, dict) and names == "omegaml" and not single:
            result = self.agg(spec, names="pandas")
            result.columns = [f"{column}_{func}" for column, func in pairs]
            return result
        self._check(pairs)
        template = self._template(lambda g: g.agg(spec))
        if isinstance(template, pd.Series):
            column, func = pairs[0]
            return self._run([AggItem(template.name, column, func)], template, series=True)
        labels = list(template.columns)
        if len(labels) != len(pairs):
            raise ValueError(f"agg({spec!r}) gives {len(labels)} columns in pandas, "
                             f"expected {len(pairs)}")
        items = [AggItem(label, column, func)
                 for label, (column, func) in zip(labels, pairs, strict=True)]
        return self._run(items, template)

    aggregate = agg

    def _check(self, pairs: list[tuple[Hashable, str]]) -> None:
        layout = self.frame._layout
        for column, func in pairs:
            check_function(spec_of(layout, column, "agg"), func)

    def _run(self, items: list[AggItem], template: Any, series: bool = False) -> Any:
        result = run_aggregation(self.frame, self.key_specs, items, template,
                                 sort=self.sort, dropna=self.dropna)
        if series and isinstance(result, pd.DataFrame):
            out = result.iloc[:, 0]
            out.name = template.name
            return out
        return result


def frame_count(frame: MDataFrame) -> pd.Series:
    """``DataFrame.count()`` of a lazy frame, counted on the server."""
    template = frame._empty().count()
    items = [AggItem(s.name, s.name, "count") for s in frame._selected.columns]
    if not items:
        return template
    row = run_aggregation(frame, [], items, None)
    if row is None:
        return template
    return pd.Series(row.iloc[0].to_numpy(dtype="int64"), index=template.index)


def series_aggregate(series: MSeries, func: str) -> Any:
    """A reduction of a lazy Series (``sum``, ``mean``, ...), computed on the server."""
    spec = series._spec
    check_function(spec, func)
    empty = series._empty()
    template = getattr(empty, func)()
    keeps_dtype = func in ("min", "max") or isinstance(spec.codec, TimedeltaCodec)
    dtype = empty.dtype if keeps_dtype else pd.Series([template]).dtype
    result = run_aggregation(series, [], [AggItem(spec.name, spec.name, func)], None,
                             dtypes={0: dtype})
    if result is None:
        return template
    return result.iat[0, 0]


def series_unique(series: MSeries) -> Any:
    """``Series.unique()`` of a lazy Series: distinct values in order of appearance."""
    spec = series._spec
    compiled = compile_plan(series._source, series._stages, client_take=False)
    pipe = list(compiled.pipeline)
    first = _first_position(pipe, compiled.order)
    group_id = {f"v{j}": "$" + f for j, f in enumerate(spec.codec.fields)}
    out = FieldSpec.make(spec.name, TEMP_PREFIX + "u", spec.desc)
    project: dict[str, Any] = {"_id": 0, ROWID_FIELD: "$" + TEMP_PREFIX + "first"}
    for j, f in enumerate(out.codec.fields):
        project[f] = f"$_id.v{j}"
    pipe += [{"$group": {"_id": group_id, TEMP_PREFIX + "first": first}},
             {"$project": project}]
    layout = FrameLayout("Series", [FieldSpec.make(None, ROWID_FIELD, _INT64)], [out],
                         {"type": "index", "freq": None}, {})
    values = _decode(series._source.collection, pipe, layout, as_series=True)
    return series._source.finish(values).unique()


# ------------------------------------------------------------------------------------------
# building the pipeline
# ------------------------------------------------------------------------------------------
def check_function(spec: FieldSpec, func: str) -> None:
    """ValueError if ``func`` cannot be computed on the server for this column."""
    if not isinstance(func, str) or func not in FUNCTIONS:
        raise ValueError(f"aggregation {func!r} is not supported lazily; use one of "
                         f"{', '.join(FUNCTIONS)}")
    codec = spec.codec
    if func in ("count", "size"):
        return
    if isinstance(codec, CategoryCodec):
        raise ValueError(f"{func} of the categorical column {spec.name!r} is not supported "
                         "lazily; count or group by it instead")
    if func in ("min", "max"):
        return
    if isinstance(codec, TimedeltaCodec):
        if func == "sum":
            return
    elif isinstance(codec, NumberCodec):
        return
    raise ValueError(f"{func} needs a numeric column; {spec.name!r} has dtype {codec.dtype}")


def _numeric(spec: FieldSpec) -> Any:
    """The column's values as numbers, with NaN as null (so $sum/$avg skip them)."""
    path = "$" + spec.field
    codec = spec.codec
    if codec.storage == "double":
        return {"$cond": [{"$eq": [path, _NAN]}, None, path]}
    if codec.storage == "bool":
        return {"$cond": [{"$eq": [{"$ifNull": [path, None]}, None]}, None,
                          {"$cond": [path, 1, 0]}]}
    return path


def accumulator(spec: FieldSpec, func: str) -> Any:
    """The ``$group`` accumulator computing ``func`` of the column ``spec``."""
    codec = spec.codec
    if func == "count":
        return {"$sum": {"$cond": [missing_expr(codec, spec.field), 0, 1]}}
    if func == "size":
        return {"$sum": 1}
    if func in ("min", "max"):
        op = "$" + func
        if isinstance(codec, DatetimeCodec) and codec.has_remainder:
            # milliseconds and the remainder compared together, as one sub-document
            whole = {"v": "$" + spec.field, "r": {"$ifNull": ["$" + codec.rem_field, 0]}}
            return {op: {"$cond": [missing_expr(codec, spec.field), None, whole]}}
        if codec.storage == "double":
            return {op: _numeric(spec)}
        return {op: "$" + spec.field}
    op = {"sum": "$sum", "mean": "$avg", "std": "$stdDevSamp", "var": "$stdDevSamp"}[func]
    return {op: _numeric(spec)}


def _outputs(source: FieldSpec, func: str, out: FieldSpec, acc: str) -> dict[str, Any]:
    """$project entries filling the output fields of ``out`` from the accumulator ``acc``."""
    fields = out.codec.fields
    ref = "$" + acc
    if func in ("min", "max") and isinstance(source.codec, DatetimeCodec) \
            and source.codec.has_remainder:
        values: dict[str, Any] = {fields[0]: ref + ".v"}
        if len(fields) > 1:
            values[fields[1]] = ref + ".r"
        return values
    if func == "var":
        return {fields[0]: {"$multiply": [ref, ref]}}
    return {fields[0]: ref}


def _first_position(pipe: list[dict[str, Any]], order: Any) -> dict[str, Any]:
    """The accumulator for each group's first row position (appends stages if needed)."""
    if order is None:
        return {"$min": "$" + ROWID_FIELD}
    pos = TEMP_PREFIX + "pos"
    pipe.append({"$setWindowFields": {"sortBy": dict(order),
                                      "output": {pos: {"$documentNumber": {}}}}})
    return {"$min": "$" + pos}


def run_aggregation(frame: MDataFrame, key_specs: list[FieldSpec], items: list[AggItem],
                    template: Any, sort: bool = True, dropna: bool = True,
                    dtypes: dict[int, Any] | None = None) -> Any:
    """Group ``frame``'s rows by ``key_specs`` and compute ``items`` on the server.

    With keys: a DataFrame shaped like ``template`` (pandas' result on an empty frame).
    Without keys: a one-row DataFrame of the values, or None when there are no rows.
    ``dtypes`` overrides result dtypes by item position.
    """
    source = frame._source
    layout = source.layout
    compiled = compile_plan(source, frame._stages, client_take=False)
    pipe = list(compiled.pipeline)
    for spec in key_specs:
        if dropna:
            pipe.append({"$match": {spec.field: {"$nin": spec.codec.missing_values()}}})
    first = _first_position(pipe, compiled.order) if key_specs else {"$min": 0}
    group_id: Any = None
    key_outputs: list[FieldSpec] = []
    project: dict[str, Any] = {"_id": 0, ROWID_FIELD: "$" + TEMP_PREFIX + "first"}
    if key_specs:
        group_id = {}
        for i, spec in enumerate(key_specs):
            out = FieldSpec.make(spec.name, f"{TEMP_PREFIX}k{i}", spec.desc)
            key_outputs.append(out)
            for j, (field, out_field) in enumerate(zip(spec.codec.fields, out.codec.fields,
                                                       strict=True)):
                value: Any = "$" + field
                if j == 0 and not dropna:  # one group for every kind of missing value
                    value = {"$cond": [missing_expr(spec.codec, field), None, value]}
                group_id[f"k{i}_{j}"] = value
                project[out_field] = f"$_id.k{i}_{j}"
    else:
        key_outputs = [FieldSpec.make(None, TEMP_PREFIX + "k", _INT64)]
        project[TEMP_PREFIX + "k"] = {"$literal": 0}
    group: dict[str, Any] = {"_id": group_id, TEMP_PREFIX + "first": first}
    columns: list[FieldSpec] = []
    for n, item in enumerate(items):
        spec = spec_of(layout, item.column, "agg")
        acc = f"{TEMP_PREFIX}a{n}"
        group[acc] = accumulator(spec, item.func)
        out = FieldSpec.make(item.label, acc + "_out",
                             _result_desc(spec, item, template, n, dtypes))
        columns.append(out)
        project.update(_outputs(spec, item.func, out, acc))
    pipe += [{"$group": group}, {"$project": project}]
    out_layout = FrameLayout(
        "DataFrame", key_outputs, columns,
        {"type": "multi" if len(key_outputs) > 1 else "index", "freq": None},
        {"type": "infer"},
    )
    result = _decode(source.collection, pipe, out_layout, as_series=False)
    if not key_specs:
        return result if len(result) else None
    if len(result) == 0:
        return template
    if isinstance(template, pd.DataFrame):
        result.columns = template.columns
    if sort:
        result = result.sort_index()
    return result


def _result_desc(spec: FieldSpec, item: AggItem, template: Any, n: int,
                 dtypes: dict[int, Any] | None) -> dict[str, Any]:
    """The dtype description of an output column (pandas' result dtype)."""
    if dtypes and n in dtypes:
        return describe_dtype(dtypes[n], "aggregate")
    if isinstance(template, pd.DataFrame):
        return describe_dtype(template.dtypes.iloc[n], "aggregate")
    if isinstance(template, pd.Series):
        return describe_dtype(template.dtype, "aggregate")
    return _INT64 if item.func in ("count", "size") else spec.desc


def _decode(collection: Any, pipe: list[dict[str, Any]], layout: FrameLayout,
            as_series: bool) -> Any:
    batches = collection.aggregate_raw_batches(pipe, batchSize=batch_size(layout),
                                               allowDiskUse=True)
    return decode_frame(batches, layout, as_series=as_series, sort_rows=True)


def _normalize(spec: Any, columns: list[Hashable]) -> list[tuple[Hashable, str]]:
    """(column, function) pairs of an ``agg`` spec, in pandas' output order."""
    if isinstance(spec, str):
        return [(c, spec) for c in columns]
    if isinstance(spec, (list, tuple)):
        return [(c, f) for c in columns for f in spec]
    if isinstance(spec, dict):
        pairs: list[tuple[Hashable, str]] = []
        for column, funcs in spec.items():
            for func in (funcs if isinstance(funcs, (list, tuple)) else [funcs]):
                pairs.append((column, func))
        return pairs
    raise TypeError(f"agg takes a function name, a list of names or a dict, got {spec!r}")


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


# ------------------------------------------------------------------------------------------
# pairwise statistics and quantiles
# ------------------------------------------------------------------------------------------
def _numeric_specs(frame: MDataFrame, what: str) -> list[FieldSpec]:
    specs = [s for s in frame._selected.columns
             if isinstance(s.codec, NumberCodec) and not isinstance(s.codec, CategoryCodec)]
    if not specs:
        raise ValueError(f"{what} needs numeric columns; the frame has none")
    return specs


def pairwise(frame: MDataFrame, how: str, min_periods: int = 1) -> pd.DataFrame:
    """``DataFrame.corr()`` (Pearson) or ``.cov()`` of the numeric columns, from sums
    computed by one ``$group`` on the server over each pair's complete rows."""
    specs = _numeric_specs(frame, how)
    values = {s.field: _numeric(s) for s in specs}
    group: dict[str, Any] = {"_id": None}
    pairs = [(i, j) for i in range(len(specs)) for j in range(i, len(specs))]
    for i, j in pairs:
        a, b = values[specs[i].field], values[specs[j].field]
        both = {"$and": [{"$ne": [{"$ifNull": [a, None]}, None]},
                         {"$ne": [{"$ifNull": [b, None]}, None]}]}

        def when(expr: Any, both: Any = both) -> Any:
            return {"$sum": {"$cond": [both, expr, 0]}}

        group[f"n{i}_{j}"] = when(1)
        group[f"a{i}_{j}"] = when(a)
        group[f"b{i}_{j}"] = when(b)
        group[f"aa{i}_{j}"] = when({"$multiply": [a, a]})
        group[f"bb{i}_{j}"] = when({"$multiply": [b, b]})
        group[f"ab{i}_{j}"] = when({"$multiply": [a, b]})
    compiled = compile_plan(frame._source, frame._stages, client_take=False)
    found = list(frame._source.collection.aggregate(
        [*compiled.pipeline, {"$group": group}], allowDiskUse=True))
    sums = found[0] if found else {}
    names = [s.name for s in specs]
    out = np.full((len(specs), len(specs)), np.nan)
    for i, j in pairs:
        n = float(sums.get(f"n{i}_{j}", 0))
        if n < max(min_periods, 2 if how == "corr" or i != j else 2):
            continue
        sa, sb = float(sums[f"a{i}_{j}"]), float(sums[f"b{i}_{j}"])
        cov = (float(sums[f"ab{i}_{j}"]) - sa * sb / n) / (n - 1)
        if how == "cov":
            out[i, j] = out[j, i] = cov
            continue
        var_a = (float(sums[f"aa{i}_{j}"]) - sa * sa / n) / (n - 1)
        var_b = (float(sums[f"bb{i}_{j}"]) - sb * sb / n) / (n - 1)
        if var_a <= 0 or var_b <= 0:
            continue
        out[i, j] = out[j, i] = 1.0 if i == j else max(-1.0, min(1.0, cov / np.sqrt(
            var_a * var_b)))
    return pd.DataFrame(out, index=pd.Index(names), columns=pd.Index(names))


def quantiles(frame: MDataFrame, q: float | Sequence[float]) -> Any:
    """``DataFrame.quantile(q)`` (linear interpolation) of the numeric columns: for each
    column, the two values around each position are found by a sorted, windowed query on
    the server (missing values left out)."""
    many = not isinstance(q, (int, float))
    qs = [float(v) for v in q] if not isinstance(q, (int, float)) else [float(q)]
    if any(not 0 <= v <= 1 for v in qs):
        raise ValueError(f"quantiles must be between 0 and 1, got {q!r}")
    specs = _numeric_specs(frame, "quantile")
    compiled = compile_plan(frame._source, frame._stages, client_take=False)
    base = list(compiled.pipeline)
    table: dict[Any, list[float]] = {}
    for spec in specs:
        value = _numeric(spec)
        present = [*base, {"$project": {"v": value}}, {"$match": {"v": {"$ne": None}}}]
        counted = list(frame._source.collection.aggregate([*present, {"$count": "n"}]))
        n = int(counted[0]["n"]) if counted else 0
        column = []
        for v in qs:
            if n == 0:
                column.append(np.nan)
                continue
            pos = v * (n - 1)
            lo = int(np.floor(pos))
            got = [d["v"] for d in frame._source.collection.aggregate(
                [*present, {"$sort": {"v": 1}}, {"$skip": lo}, {"$limit": 2}])]
            low = float(got[0])
            high = float(got[1]) if len(got) > 1 else low
            column.append(low + (high - low) * (pos - lo))
        table[spec.name] = column
    result = pd.DataFrame(table, index=pd.Index(qs))
    return result if many else result.iloc[0].rename(qs[0])
