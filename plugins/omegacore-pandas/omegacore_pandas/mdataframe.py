"""Lazy frames: ``MDataFrame`` and ``MSeries``, pandas-like views of stored rows.

``store.getl(name)`` (or ``store.get(name, lazy=True)``) returns one for objects of kind
``pandas.dfrows``. Nothing is read until asked: filters, column selection, sorting,
windows (head, tail, iloc), grouping and merges build a query that the server runs when
``.value`` (or ``len``, ``iterchunks``, an aggregate, ...) asks for data::

    mdf = store.getl("sales")
    mdf.columns                                   # names, from the metadata only
    big = mdf[(mdf.price > 10) & mdf.city.isin(["Bern", "Basel"])]
    big.sort(["-price", "city"]).head(5).value    # one query; a DataFrame
    mdf.query(when__gte="2024-06-01")[["price"]].value
    mdf.groupby("city").agg({"price": ["sum", "mean"]})   # an aggregation pipeline
    mdf.merge(store.getl("cities"), on="city", how="left").value   # $lookup
    for chunk in mdf.iterchunks(100_000): ...

Every operation returns a new lazy object; the original is unchanged. ``.value`` of an
unmodified lazy frame is exactly what ``store.get(name)`` returns.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pymongo.collection import Collection

from omegacore_pandas.codecs import DatetimeCodec
from omegacore_pandas.expressions import COMPARISONS, LazyExpression, Q, any_column, assigned
from omegacore_pandas.layout import FieldSpec, FrameLayout
from omegacore_pandas.plan import (
    NOTHING,
    Compiled,
    Match,
    Source,
    Stage,
    Take,
    Window,
    add_stage,
    compile_plan,
    count_rows,
    empty_frame,
    explain_plan,
    iter_plan,
    read_plan,
    sort_stage,
)
from omegacore_pandas.query import build_query, combine, condition

if TYPE_CHECKING:
    from omegacore_pandas.aggregate import MGroupBy


class Condition:
    """A row mask (``mdf.x > 3``): a MongoDB filter, combined with ``&``, ``|`` and ``~``.

    Use it to select rows: ``mdf[cond]``, ``mdf.loc[cond]``, ``mdf.query(cond)``.
    """

    __slots__ = ("filter", "source_key")

    def __init__(self, filter: dict[str, Any], source_key: str):
        self.filter = filter
        self.source_key = source_key

    def _other(self, other: Any) -> Condition:
        if not isinstance(other, Condition):
            raise TypeError(
                f"cannot combine a lazy condition with {type(other).__name__}; combine "
                "conditions of the same lazy frame, e.g. (mdf.x > 1) & (mdf.y < 2)"
            )
        if other.source_key != self.source_key:
            raise ValueError("cannot combine conditions on different lazy frames")
        return other

    def __and__(self, other: Any) -> Condition:
        return Condition(combine([self.filter, self._other(other).filter]), self.source_key)

    def __or__(self, other: Any) -> Condition:
        right = self._other(other).filter
        if not self.filter or not right:  # always true
            return Condition({}, self.source_key)
        return Condition({"$or": [self.filter, right]}, self.source_key)

    def __invert__(self) -> Condition:
        if not self.filter:
            return Condition(dict(NOTHING), self.source_key)
        return Condition({"$nor": [self.filter]}, self.source_key)

    def __bool__(self) -> bool:
        raise ValueError(
            "the truth value of a lazy condition is ambiguous: combine conditions with "
            "& (and), | (or), ~ (not) instead of and/or/not, and use mdf[condition]"
        )

    def __repr__(self) -> str:
        return f"Condition({self.filter!r})"


class LazyValues:
    """Values computed on the server when read: ``.value`` (also iterable, ``len()``,
    and usable as an array)."""

    def __init__(self, compute: Callable[[], Any]):
        self._compute = compute

    @property
    def value(self) -> Any:
        return self._compute()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.value, dtype=dtype)

    def __repr__(self) -> str:
        return "LazyValues(read with .value)"


class MDataFrame:
    """A lazy DataFrame over stored rows (kind ``pandas.dfrows``); see the module doc.

    Attributes that read nothing: ``columns``, ``dtypes``, ``explain()``. Everything that
    returns rows or numbers runs one server query (sometimes two: ``tail`` and negative
    positions count the rows first).
    """

    def __init__(self, source: Source | Collection, stages: Sequence[Stage] = (),
                 columns: Sequence[Hashable] | None = None, chunksize: int | None = None,
                 immediate_loc: bool = False, query: dict[str, Any] | None = None):
        if isinstance(source, Collection):  # MDataFrame(collection), as omegaml allows
            from omegacore_pandas.documents import collection_source

            source = collection_source(source, columns)
            stages = (*stages, *((Match(dict(query)),) if query else ()))
        elif query is not None:
            raise TypeError("query= applies to MDataFrame(collection); filter a stored "
                            "frame with mdf.query(...) or mdf[condition]")
        self._source = source
        #: what ``value`` gives for a single label or position: "row" a Series, "scalar"
        #: one value (set by ``loc``/``iloc``, as pandas shapes its results)
        self._squeeze: str | None = None
        self._immediate = immediate_loc
        self._stages: tuple[Stage, ...] = tuple(stages)
        self._columns: tuple[Hashable, ...] | None = (
            tuple(columns) if columns is not None else None
        )
        self._chunksize = chunksize
        if columns is not None:
            source.layout.select(list(columns))  # KeyError for unknown columns, now

    # -- building ----------------------------------------------------------------------------
    def _with(self, cls: type[MDataFrame] | None = None, **changes: Any) -> Any:
        args: dict[str, Any] = {"source": self._source, "stages": self._stages,
                                "columns": self._columns, "chunksize": self._chunksize,
                                "immediate_loc": self._immediate}
        args.update(changes)
        return composed(args["source"], cls or type(self))(**args)

    def _add(self, stage: Stage) -> Any:
        return self._with(stages=add_stage(self._stages, stage))

    def _frame(self, columns: Sequence[Hashable] | None) -> MDataFrame:
        return self._with(MDataFrame, columns=columns)

    def _series(self, name: Hashable) -> MSeries:
        return self._with(MSeries, columns=(name,))

    @property
    def _layout(self) -> FrameLayout:
        return self._source.layout

    @property
    def _selected(self) -> FrameLayout:
        return self._layout.select(list(self._columns) if self._columns is not None else None)

    @property
    def _as_series(self) -> bool:
        return False

    def _compile(self, client_take: bool = True) -> Compiled:
        return compile_plan(self._source, self._stages, client_take=client_take)

    def _read_columns(self) -> list[Hashable] | None:
        return list(self._columns) if self._columns is not None else None

    # -- metadata ----------------------------------------------------------------------------
    @property
    def columns(self) -> pd.Index:
        """The column names (from the stored layout; reads no data)."""
        return self._selected.build_columns()

    @property
    def dtypes(self) -> pd.Series:
        """The dtypes of the columns (from the stored layout; reads no data)."""
        return self._empty().dtypes

    @property
    def name(self) -> str:
        """The name of the stored object (or a description, for merged frames)."""
        return self._source.name

    def _empty(self) -> Any:
        return empty_frame(self._source, self._read_columns(), as_series=self._as_series)

    def __repr__(self) -> str:
        cols = [s.name for s in self._selected.columns]
        return (f"{type(self).__name__}({self._source.name!r}, columns={cols!r}, "
                f"stages={len(self._stages)})")

    def explain(self) -> dict[str, Any]:
        """What the server will be asked: ``{"find": ...}`` or ``{"aggregate": [...]}``.

        Reads no rows; counts rows where the plan needs it (negative positions, and the
        row id checks of windows on stored rows).
        """
        return explain_plan(self._source, self._compile(), self._read_columns())

    # -- reading -----------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The rows as a pandas DataFrame (a Series for ``MSeries``), read now; after
        ``loc``/``iloc`` with one label or position, shaped as pandas shapes it."""
        result = read_plan(self._source, self._compile(), self._read_columns(),
                           self._as_series)
        return _squeezed(result, self._squeeze)

    def _squeezing(self, how: str | None) -> Any:
        """This lazy result, whose ``value`` gives one row or one value (``how``)."""
        out = self._with()
        out._squeeze = how
        return out.value if self._immediate else out

    def __len__(self) -> int:
        return count_rows(self._source, self._compile())

    @property
    def shape(self) -> tuple[int, ...]:
        """(rows, columns); counts the rows on the server."""
        return (len(self), len(self._selected.columns))

    def iterchunks(self, chunksize: int | None = None) -> Iterator[Any]:
        """DataFrames (Series for MSeries) of ``chunksize`` rows each, read batch by batch.

        ``chunksize`` defaults to the one given to ``getl(..., chunksize=N)``, else 10,000.
        An empty result yields one empty frame.
        """
        size = chunksize if chunksize is not None else (self._chunksize or 10_000)
        return iter_plan(self._source, self._compile(), self._read_columns(),
                         self._as_series, size)

    def iterrows(self, chunksize: int | None = None) -> Iterator[tuple[Hashable, pd.Series]]:
        """(index, row as a Series) for each row, reading in chunks."""
        for chunk in self.iterchunks(chunksize):
            yield from chunk.iterrows()

    def itertuples(self, index: bool = True, name: str | None = "Pandas",
                   chunksize: int | None = None) -> Iterator[Any]:
        """Rows as namedtuples (as ``DataFrame.itertuples``), reading in chunks."""
        for chunk in self.iterchunks(chunksize):
            yield from chunk.itertuples(index=index, name=name)

    def items(self) -> Iterator[tuple[Hashable, pd.Series]]:
        """(column name, column as a Series), reading one column at a time."""
        for spec in self._selected.columns:
            yield spec.name, self._series(spec.name).value

    def __iter__(self) -> Iterator[Any]:
        """The column names, as iterating a DataFrame gives them; with
        ``getl(name, chunksize=N)``, DataFrames of N rows, as omegaml iterates them."""
        if self._chunksize:
            return self.iterchunks()
        return iter(self.columns)

    def keys(self) -> pd.Index:
        """The column names (as ``DataFrame.keys``)."""
        return self.columns

    # -- rows --------------------------------------------------------------------------------
    def head(self, n: int = 5) -> Any:
        """The first ``n`` rows (all but the last ``-n`` if ``n`` is negative)."""
        n = _as_int(n, "head")
        return self._add(Window(0, n) if n >= 0 else Window(None, n))

    def tail(self, n: int = 5) -> Any:
        """The last ``n`` rows (all but the first ``-n`` if ``n`` is negative)."""
        n = _as_int(n, "tail")
        if n == 0:
            return self._add(Window(0, 0))
        return self._add(Window(-n, None))  # n < 0: all but the first -n rows

    def skip(self, n: int) -> Any:
        """All rows but the first ``n``."""
        n = _as_int(n, "skip")
        if n < 0:
            raise ValueError(f"skip needs n >= 0, got {n}")
        return self._add(Window(n, None))

    def query(self, *conditions: Condition | dict[Hashable, Any], trusted: bool = False,
              **criteria: Any) -> Any:
        """Rows matching ``column__op=value`` criteria and/or conditions (all must hold).

        Operators as in ``store.get`` filters (``omegacore_pandas.query``): eq, ne, lt,
        lte, gt, gte, in, nin, between, contains, startswith, endswith, regex, isnull,
        exists. Names are column or index level names. ``trusted=True`` accepts raw
        MongoDB operators from your own code.
        """
        clauses = []
        for cond in conditions:
            if isinstance(cond, str):
                raise TypeError(
                    "query() takes column__op=value criteria or conditions, not an "
                    "expression string; e.g. mdf.query(x__gt=3) or mdf.query(mdf.x > 3)"
                )
            if isinstance(cond, Q):
                cond = cond.bind(self)
            if isinstance(cond, Condition):
                clauses.append(self._own(cond).filter)
            elif isinstance(cond, dict):
                clauses.append(build_query(cond, self._layout, trusted=trusted,
                                           where="query()", probe=self._source.probe()))
            else:
                raise TypeError(f"query() got {type(cond).__name__}; pass criteria or a "
                                "condition such as mdf.x > 3")
        if criteria:
            named: dict[Hashable, Any] = {}
            named.update(criteria)
            clauses.append(build_query(named, self._layout, trusted=trusted,
                                       where="query()", probe=self._source.probe()))
        query = combine(clauses)
        return self._add(Match(query)) if query else self

    def _own(self, cond: Condition) -> Condition:
        if cond.source_key != self._source.key:
            raise ValueError(
                "this condition was made from another lazy frame; build masks from the "
                "frame they select from (or one derived from it)"
            )
        return cond

    def sort(self, specs: Hashable | Sequence[Hashable]) -> Any:
        """Sorted by columns: ``'x'`` ascending, ``'-x'`` descending (``'+x'`` ascending).

        Sorting is stable and puts missing values last, as ``sort_values`` does.
        """
        items = [specs] if not isinstance(specs, (list, tuple)) else list(specs)
        names = self._layout.lookup()
        by: list[Hashable] = []
        ascending: list[bool] = []
        for item in items:
            if isinstance(item, str) and item not in names and item[:1] in "+-":
                by.append(item[1:])
                ascending.append(item[0] == "+")
            else:
                by.append(item)
                ascending.append(True)
        return self.sort_values(by, ascending=ascending)

    def sort_values(self, by: Hashable | Sequence[Hashable], ascending: bool | Sequence[bool]
                    = True, na_position: str = "last", kind: str | None = None) -> Any:
        """Sorted as ``DataFrame.sort_values`` sorts (stable; ``kind`` is ignored)."""
        names = [by] if not isinstance(by, (list, tuple)) else list(by)
        if not names:
            return self
        if isinstance(ascending, bool):
            flags = [ascending] * len(names)
        else:
            flags = [bool(a) for a in ascending]
            if len(flags) != len(names):
                raise ValueError(f"ascending has {len(flags)} values for {len(names)} keys")
        stage = sort_stage(self._layout, names, flags, na_position, len(self._stages))
        return self._add(stage)

    def sort_index(self, ascending: bool = True, na_position: str = "last") -> Any:
        """Sorted by the stored index levels."""
        levels = self._layout.index
        if not levels:
            return self
        names = [s.field for s in levels]
        stage = sort_stage(self._layout, names, [ascending] * len(names), na_position,
                           len(self._stages))
        return self._add(stage)

    @property
    def iloc(self) -> _ILocIndexer:
        """Rows by position: ``iloc[5]``, ``iloc[10:20]``, ``iloc[[1, 5, 7]]``,
        ``iloc[rows, column positions]``; always lazy (``.value`` is a frame)."""
        return _ILocIndexer(self)

    @property
    def loc(self) -> _LocIndexer:
        """Rows by stored index label: ``loc['a']``, ``loc[['a', 'c']]``, ``loc['a':'f']``
        (inclusive, for sorted indexes), ``loc[condition]``, ``loc[rows, columns]``."""
        return _LocIndexer(self)

    # -- columns -----------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, Q):
            key = key.bind(self)
        if isinstance(key, Condition):
            return self._add(Match(self._own(key).filter))
        if isinstance(key, slice):
            return self.iloc[key]
        if _is_list_like(key):
            return self._frame(list(key))
        names = [s.name for s in self._selected.columns]
        if key not in names:
            raise KeyError(f"{key!r} is not a column; columns: {names}")
        return self._series(key)

    def __setitem__(self, key: Hashable, value: Any) -> None:
        """Set column ``key`` to a scalar, a column or an expression of this frame's
        columns (``mdf['z'] = mdf.x * 2``), computed on the server when rows are read.

        Changes this frame in place, as pandas does; lazy frames derived from it before
        keep their columns.
        """
        frame = assigned(self, key, value)
        self._source, self._stages, self._columns = frame._source, frame._stages, frame._columns

    def assign(self, **columns: Any) -> Any:
        """A new lazy frame with columns added or replaced (``mdf.assign(z=mdf.x * 2)``);
        a callable value is called with the frame, as in pandas."""
        frame = self
        for key, value in columns.items():
            frame = assigned(frame, key, value(frame) if callable(value) else value)
        return frame

    # -- frame-level comparisons: rows where any column compares (omegaml's filter form) -----
    __hash__ = object.__hash__

    def __eq__(self, value: Any) -> Condition:  # type: ignore[override]
        return any_column(self, "eq", value)

    def __ne__(self, value: Any) -> Condition:  # type: ignore[override]
        return any_column(self, "ne", value)

    def __lt__(self, value: Any) -> Condition:
        return any_column(self, "lt", value)

    def __le__(self, value: Any) -> Condition:
        return any_column(self, "lte", value)

    def __gt__(self, value: Any) -> Condition:
        return any_column(self, "gt", value)

    def __ge__(self, value: Any) -> Condition:
        return any_column(self, "gte", value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            selected = self._selected
        except (KeyError, AttributeError):
            raise AttributeError(name) from None
        if any(s.name == name for s in selected.columns):
            return self._series(name)
        raise AttributeError(f"{type(self).__name__!r} has no attribute or column {name!r}")

    # -- aggregation -------------------------------------------------------------------------
    def count(self) -> pd.Series:
        """Non-missing values per column (as ``DataFrame.count``), counted on the server."""
        from omegacore_pandas.aggregate import frame_count

        return frame_count(self)

    def corr(self, method: str = "pearson", min_periods: int = 1) -> pd.DataFrame:
        """Pairwise Pearson correlation of the numeric columns (as ``DataFrame.corr``),
        from sums computed on the server."""
        from omegacore_pandas.aggregate import pairwise

        if method != "pearson":
            raise ValueError(f"method={method!r} is not computed lazily; use 'pearson', or "
                             "call .value.corr(method=...)")
        return pairwise(self, "corr", min_periods)

    def cov(self, min_periods: int | None = None) -> pd.DataFrame:
        """Pairwise covariance of the numeric columns (as ``DataFrame.cov``), from sums
        computed on the server."""
        from omegacore_pandas.aggregate import pairwise

        return pairwise(self, "cov", min_periods or 1)

    def quantile(self, q: float | Sequence[float] = 0.5) -> Any:
        """Quantiles of the numeric columns (as ``DataFrame.quantile``, linear), each
        read from the server by a sorted, windowed query."""
        from omegacore_pandas.aggregate import quantiles

        return quantiles(self, q)

    def groupby(self, by: Hashable | Sequence[Hashable], sort: bool = True,
                dropna: bool = True, observed: bool = True) -> MGroupBy:
        """Group rows by columns or index level names; aggregate with ``count``, ``size``,
        ``sum``, ``mean``, ``min``, ``max``, ``std``, ``var`` or ``agg({...})``.

        Runs as an aggregation pipeline; the result is a pandas DataFrame/Series shaped
        as pandas' (``observed=True``: only the categories that occur).
        """
        from omegacore_pandas.aggregate import MGroupBy

        return MGroupBy(self, by, sort=sort, dropna=dropna, observed=observed)

    def merge(self, right: MDataFrame | Collection,
              on: Hashable | Sequence[Hashable] | None = None,
              how: str = "inner", left_on: Hashable | Sequence[Hashable] | None = None,
              right_on: Hashable | Sequence[Hashable] | None = None,
              suffixes: tuple[str, str] = ("_x", "_y"), sort: bool = False) -> MDataFrame:
        """Join with another stored lazy frame (``how`` 'inner', 'left' or 'right') by
        ``$lookup``.

        The result is a lazy frame with a RangeIndex and the columns ``pd.merge`` gives
        (left columns, then the right's other columns, ``suffixes`` on clashes); rows in
        the left frame's order, each left row's matches in the right's stored order (for
        'right' the other way round); ``sort=True`` sorts by the keys, as pandas.
        """
        from omegacore_pandas.merge import merge_frames

        if isinstance(right, Collection):  # any collection's documents, as omegaml allows
            right = MDataFrame(right)
        return merge_frames(self, right, on=on, how=how, left_on=left_on,
                            right_on=right_on, suffixes=suffixes, sort=sort)


class MSeries(MDataFrame):
    """A lazy Series: one column of a lazy frame (``mdf['x']``, ``mdf.x``).

    Comparisons give conditions for selecting rows (``mdf[mdf.x > 3]``); ``.value`` is a
    pandas Series; ``unique``, ``count``, ``sum``, ``mean``, ``min``, ``max``, ``std``,
    ``var`` run on the server.
    """

    __hash__ = None  # type: ignore[assignment]  # == builds a condition, as in pandas

    @property
    def _as_series(self) -> bool:
        return True

    @property
    def _spec(self) -> FieldSpec:
        return self._selected.columns[0]

    @property
    def name(self) -> Any:
        """The Series' name (the column name)."""
        return self._spec.name

    @property
    def dtype(self) -> Any:
        """The dtype of the values (reads no data)."""
        return self._empty().dtype

    @property
    def shape(self) -> tuple[int, ...]:
        """(rows,); counts the rows on the server."""
        return (len(self),)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, Condition):
            return self._add(Match(self._own(key).filter))
        if isinstance(key, slice):
            return self.iloc[key]
        raise TypeError("select values of a lazy Series with a condition, .loc or .iloc")

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"'MSeries' object has no attribute {name!r}")

    def __iter__(self) -> Iterator[Any]:
        """The values, read in chunks."""
        for chunk in self.iterchunks():
            yield from chunk

    # -- conditions --------------------------------------------------------------------------
    def _condition(self, op: str, value: Any) -> Condition:
        if isinstance(value, LazyExpression):
            return LazyExpression.of_column(self)._compare(_EXPRESSION_OPS[op], value)
        if isinstance(value, MSeries):
            return self._column_condition(op, value)
        if isinstance(value, (MDataFrame, Condition)):
            raise TypeError("compare a lazy column with a value or with another column of "
                            "the same lazy frame (mdf.x > mdf.y)")
        spec = self._spec
        return Condition(condition(spec, spec.field, op, value, where=f"column {spec.name!r}",
                                   probe=self._source.probe()), self._source.key)

    def _column_condition(self, op: str, other: MSeries) -> Condition:
        """Rows where this column compares with ``other`` (of the same frame) as ``op``,
        on the server (``$expr``); missing values compare as pandas compares NaN: only
        ``!=`` is true for them."""
        if other._source.key != self._source.key:
            raise ValueError("compare columns of the same lazy frame")
        left, right = self._spec, other._spec
        for spec in (left, right):
            if len(spec.codec.fields) != 1 or spec.codec.fields[0] != spec.field:
                raise TypeError(f"column {spec.name!r} ({spec.codec.dtype}) is stored in "
                                "several fields and cannot be compared with another column "
                                "on the server; compare .value in pandas")
        expr = {"$expr": {f"${op}": [f"${left.field}", f"${right.field}"]}}
        missing = [None, float("nan")]
        present = [{left.field: {"$nin": missing}}, {right.field: {"$nin": missing}}]
        if op == "ne":
            return Condition({"$or": [expr, {"$nor": [{"$and": present}]}]},
                             self._source.key)
        return Condition({"$and": [*present, expr]}, self._source.key)

    def __eq__(self, value: Any) -> Condition:  # type: ignore[override]
        return self._condition("eq", value)

    def __ne__(self, value: Any) -> Condition:  # type: ignore[override]
        return self._condition("ne", value)

    def __lt__(self, value: Any) -> Condition:
        return self._condition("lt", value)

    def __le__(self, value: Any) -> Condition:
        return self._condition("lte", value)

    def __gt__(self, value: Any) -> Condition:
        return self._condition("gt", value)

    def __ge__(self, value: Any) -> Condition:
        return self._condition("gte", value)

    # -- arithmetic (computed on the server, see ``expressions``) ----------------------------
    def _expression(self) -> LazyExpression:
        return LazyExpression.of_column(self)

    def __add__(self, other: Any) -> LazyExpression:
        return self._expression() + other

    def __radd__(self, other: Any) -> LazyExpression:
        return other + self._expression()

    def __sub__(self, other: Any) -> LazyExpression:
        return self._expression() - other

    def __rsub__(self, other: Any) -> LazyExpression:
        return other - self._expression()

    def __mul__(self, other: Any) -> LazyExpression:
        return self._expression() * other

    def __rmul__(self, other: Any) -> LazyExpression:
        return other * self._expression()

    def __truediv__(self, other: Any) -> LazyExpression:
        return self._expression() / other

    def __rtruediv__(self, other: Any) -> LazyExpression:
        return other / self._expression()

    def __floordiv__(self, other: Any) -> LazyExpression:
        return self._expression() // other

    def __rfloordiv__(self, other: Any) -> LazyExpression:
        return other // self._expression()

    def __mod__(self, other: Any) -> LazyExpression:
        return self._expression() % other

    def __rmod__(self, other: Any) -> LazyExpression:
        return other % self._expression()

    def __pow__(self, other: Any) -> LazyExpression:
        return self._expression() ** other

    def __rpow__(self, other: Any) -> LazyExpression:
        return other ** self._expression()

    def __neg__(self) -> LazyExpression:
        return -self._expression()

    def __abs__(self) -> LazyExpression:
        return abs(self._expression())

    def abs(self) -> LazyExpression:
        """Absolute values, computed on the server."""
        return abs(self._expression())

    def round(self, decimals: int = 0) -> LazyExpression:
        """Rounded half to even (``Series.round``), computed on the server."""
        return self._expression().round(decimals)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.sqrt(mdf.x)`` and other numpy functions of one column, on the server."""
        if len(inputs) != 1 or inputs[0] is not self:
            return NotImplemented
        expression = self._expression()
        return expression.__array_ufunc__(ufunc, method, expression, **kwargs)

    def isin(self, values: Iterable[Any]) -> Condition:
        """True where the value is one of ``values``."""
        return self._condition("in", list(values))

    def between(self, left: Any, right: Any) -> Condition:
        """True where ``left <= value <= right``."""
        return self._condition("between", (left, right))

    def isnull(self) -> Condition:
        """True where the value is missing (None, NaN, NaT, NA)."""
        return self._condition("isnull", True)

    isna = isnull

    def notnull(self) -> Condition:
        """True where the value is not missing."""
        return self._condition("isnull", False)

    notna = notnull

    # -- server-side values ------------------------------------------------------------------
    def unique(self) -> LazyValues:
        """The distinct values in order of appearance, lazily: ``.value`` is what
        ``Series.unique`` gives (computed on the server when read)."""
        from omegacore_pandas.aggregate import series_unique

        return LazyValues(lambda: series_unique(self))

    def nunique(self, dropna: bool = True) -> int:
        """The number of distinct values (missing values not counted unless ``dropna=False``)."""
        values = pd.Series(self.unique().value)
        return int(values.nunique(dropna=dropna))

    def count(self) -> int:
        """The number of non-missing values."""
        return int(self._scalar("count"))

    def sum(self) -> Any:
        """The sum of the values (missing values skipped)."""
        return self._scalar("sum")

    def mean(self) -> Any:
        """The mean of the values (missing values skipped)."""
        return self._scalar("mean")

    def min(self) -> Any:
        """The smallest value (missing values skipped)."""
        return self._scalar("min")

    def max(self) -> Any:
        """The largest value (missing values skipped)."""
        return self._scalar("max")

    def std(self) -> Any:
        """The sample standard deviation (ddof=1)."""
        return self._scalar("std")

    def var(self) -> Any:
        """The sample variance (ddof=1)."""
        return self._scalar("var")

    def _scalar(self, func: str) -> Any:
        from omegacore_pandas.aggregate import series_aggregate

        return series_aggregate(self, func)

    def groupby(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("group a lazy frame, then select the column: "
                        "mdf.groupby('k')['x'].sum()")

    def merge(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("merge lazy frames, not lazy Series")


# ------------------------------------------------------------------------------------------
# indexers
# ------------------------------------------------------------------------------------------
#: our condition operators -> the expression comparisons
_EXPRESSION_OPS = {"eq": "eq", "ne": "ne", "lt": "lt", "lte": "le", "gt": "gt", "gte": "ge"}
assert set(_EXPRESSION_OPS.values()) == set(COMPARISONS)


class _ILocIndexer:
    def __init__(self, frame: MDataFrame):
        self.frame = frame

    def __getitem__(self, key: Any) -> Any:
        frame = self.frame
        one_column = isinstance(frame, MSeries)
        if isinstance(key, tuple):
            if isinstance(frame, MSeries) or len(key) != 2:
                raise IndexError("iloc takes [rows] or [rows, columns]")
            rows, cols = key
            frame = self._columns(frame, cols)
            one_column = not isinstance(cols, slice) and not _is_list_like(cols)
            key = rows
        result = _rows_by_position(frame, key)
        if isinstance(key, slice) or _is_list_like(key):
            return result.value if self.frame._immediate else result
        return result._squeezing("scalar" if one_column else "row")

    @staticmethod
    def _columns(frame: MDataFrame, cols: Any) -> Any:
        names = [s.name for s in frame._selected.columns]
        if isinstance(cols, slice):
            return frame._frame(names[cols])
        if _is_list_like(cols):
            return frame._frame([names[_as_int(c, "iloc")] for c in cols])
        return frame._series(names[_as_int(cols, "iloc")])


def _rows_by_position(frame: MDataFrame, key: Any) -> Any:
    if isinstance(key, slice):
        if key.step not in (None, 1):
            raise ValueError("iloc slices with a step are not supported lazily; "
                             "read the rows (.value) and slice them")
        start = None if key.start is None else _as_int(key.start, "iloc")
        stop = None if key.stop is None else _as_int(key.stop, "iloc")
        if start is None and stop is None:
            return frame
        return frame._add(Window(start, stop))
    if _is_list_like(key):
        values = list(key)
        if values and all(isinstance(v, (bool, np.bool_)) for v in values):
            raise TypeError("iloc with a boolean list is not supported lazily; use a condition")
        return frame._add(Take(tuple(_as_int(v, "iloc") for v in values)))
    pos = _as_int(key, "iloc")
    return frame._add(Window(pos, pos + 1 if pos != -1 else None))


class _LocIndexer:
    def __init__(self, frame: MDataFrame):
        self.frame = frame

    def __getitem__(self, key: Any) -> Any:
        frame = self.frame
        multi = len(frame._layout.index) > 1
        rows, cols = key, None
        if isinstance(key, tuple) and not isinstance(frame, MSeries):
            if not multi and len(key) == 2:
                rows, cols = key
            elif multi and len(key) == 2 and (
                isinstance(key[0], (tuple, list, slice, Condition)) or _is_list_like(key[1])
                or isinstance(key[1], slice)
            ):
                rows, cols = key
        if cols is not None and not (isinstance(cols, slice) and cols == slice(None)):
            frame = frame[cols] if not isinstance(cols, slice) else frame._frame(
                _label_slice([s.name for s in frame._selected.columns], cols))
        result = _rows_by_label(frame, rows)
        one_row = _is_one_label(rows, len(self.frame._layout.index))
        one_column = isinstance(self.frame, MSeries) or (
            cols is not None and not isinstance(cols, slice) and not _is_list_like(cols))
        if not one_row:
            return result.value if self.frame._immediate else result
        return result._squeezing("scalar" if one_column else "row")


def _is_one_label(key: Any, levels: int) -> bool:
    """Whether ``key`` names one row label as pandas reads it (a full MultiIndex tuple, a
    scalar; not a partial date string, which names a period)."""
    if isinstance(key, (slice, Condition, list)) or _is_list_like(key):
        return False
    if isinstance(key, tuple):
        return levels > 1 and len(key) == levels and not any(
            isinstance(k, (slice, list)) for k in key)
    if isinstance(key, str) and levels == 1:
        try:
            period = pd.Period(key)
        except (ValueError, TypeError):
            return True
        return period.freqstr in ("s", "S", "ns", "N", "us", "U", "ms", "L") or ":" in key
    return levels == 1


def _squeezed(result: Any, how: str | None) -> Any:
    """``result`` of a single-label read as pandas gives it: one row as a Series, one value
    as a scalar; KeyError if the label matched nothing, the frame if it matched several."""
    if how is None:
        return result
    if len(result) == 0:
        raise KeyError("the label or position matches no row")
    if len(result) > 1:
        return result
    return result.iloc[0]


def _label_slice(names: list[Hashable], key: slice) -> list[Hashable]:
    start = 0 if key.start is None else names.index(key.start)
    stop = len(names) if key.stop is None else names.index(key.stop) + 1
    return names[start:stop]


def _rows_by_label(frame: MDataFrame, key: Any) -> Any:
    if isinstance(key, Condition):
        return frame._add(Match(frame._own(key).filter))
    if isinstance(key, slice) and key == slice(None):
        return frame
    levels = frame._layout.index
    if not levels:
        raise TypeError("this lazy frame has no stored index; select rows with iloc")
    where = "loc"
    if isinstance(key, slice):
        if key.step is not None:
            raise ValueError("loc slices with a step are not supported")
        spec = levels[0]
        clauses = []
        for bound, op, end in ((key.start, "gte", 0), (key.stop, "lte", 1)):
            if bound is None:
                continue
            if isinstance(bound, tuple):
                raise ValueError("loc slices of a MultiIndex take labels of the first level")
            period = _period(spec, bound)
            if period is not None:
                bound = period[end]
            clauses.append(condition(spec, spec.field, op, bound, where=where))
        return frame._add(Match(combine(clauses))) if clauses else frame
    if _is_list_like(key) and not isinstance(key, tuple):
        labels = list(key)
        if labels and all(isinstance(v, tuple) for v in labels):
            ors = [_label_filter(levels, v) for v in labels]
            return frame._add(Match({"$or": ors} if ors else dict(NOTHING)))
        spec = levels[0]
        return frame._add(Match(condition(spec, spec.field, "in", labels, where=where)))
    return frame._add(Match(_label_filter(levels, key)))


def _label_filter(levels: list[FieldSpec], label: Any) -> dict[str, Any]:
    parts = label if isinstance(label, tuple) and len(levels) > 1 else (label,)
    if len(parts) > len(levels):
        raise KeyError(f"{label!r} has more parts than the index has levels ({len(levels)})")
    clauses = []
    for spec, part in zip(levels, parts, strict=False):
        period = _period(spec, part)
        if period is not None:
            clauses.append(condition(spec, spec.field, "between", period, where="loc"))
        else:
            clauses.append(condition(spec, spec.field, "eq", part, where="loc"))
    return combine(clauses)


def _period(spec: FieldSpec, label: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """(first, last instant) of the period a string names on a datetime level, as
    pandas' partial string indexing reads it ('2024-01' is all of January); else None."""
    if not isinstance(label, str) or not isinstance(spec.codec, DatetimeCodec):
        return None
    try:
        if pd.Timestamp(label).tz is not None:
            return None  # an instant with its offset: compared exactly
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            period = pd.Period(label)
    except (ValueError, TypeError):
        return None
    return period.start_time, period.end_time


# ------------------------------------------------------------------------------------------
def _is_list_like(value: Any) -> bool:
    return isinstance(value, (list, np.ndarray, pd.Index, pd.Series, range))


def _as_int(value: Any, where: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where} needs an int, got {value!r}")
    return int(value)


def composed(source: Source, cls: type[MDataFrame]) -> type[MDataFrame]:
    """``cls`` (MDataFrame or MSeries) with the source's lazy-frame mixins composed in."""
    if source.classes is None:
        return cls
    frame_class, series_class = source.classes
    if issubclass(cls, (frame_class, series_class)):
        return cls
    return series_class if issubclass(cls, MSeries) else frame_class


def mixed_classes(mixins: Sequence[type]) -> tuple[type, type] | None:
    """The lazy frame and Series classes with ``mixins`` (outermost first) in front."""
    if not mixins:
        return None
    frame = type("MDataFrame", (*mixins, MDataFrame), {"__module__": __name__})
    series = type("MSeries", (*mixins, MSeries), {"__module__": __name__})
    return frame, series


def open_frame(source: Source, columns: Sequence[Hashable] | None = None,
               criteria: dict[Hashable, Any] | None = None, is_series: bool = False,
               chunksize: int | None = None, trusted: bool = False,
               immediate_loc: bool = False) -> MDataFrame:
    """The lazy frame (or Series) for ``source`` with get()'s options applied."""
    layout = source.layout
    stages: tuple[Stage, ...] = ()
    if criteria:
        query = build_query(criteria, layout, trusted=trusted, where=f"getl({source.name!r})",
                            probe=source.probe())
        if query:
            stages = (Match(query),)
    if columns is not None:
        if isinstance(columns, (str, bytes)) or not isinstance(columns, Iterable):
            columns = [columns]
        columns = list(columns)
    if is_series or layout.obj_type == "Series":
        if not layout.columns:
            raise ValueError(f"{source.name!r} has no columns to read as a Series")
        first = columns[0] if columns else None
        if first is None and layout.obj_type == "Series":
            return composed(source, MSeries)(source, stages, None, chunksize, immediate_loc)
        name = first if columns else layout.columns[0].name
        return composed(source, MSeries)(source, stages, (name,), chunksize, immediate_loc)
    return composed(source, MDataFrame)(source, stages, columns, chunksize, immediate_loc)
