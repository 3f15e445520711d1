"""Columns computed on the server: arithmetic over a lazy frame's columns, and assignment.

``mdf.x * 2 + mdf.y`` is a ``LazyExpression``: an aggregation expression the server
evaluates (in an ``$addFields`` stage) together with the same computation in pandas. The
pandas side runs on the empty frame of the stored dtypes to give the result's dtype (as
groupby results get theirs), so ``mdf['z'] = mdf.x * 2`` decodes ``z`` exactly as pandas
would type it. Missing values follow pandas: NaN (or NA) in, NaN out; a comparison with a
missing value is False (``!=`` True); division by zero gives inf or NaN.

``Q(x__gt=3) | Q(y=2)`` are criteria not yet bound to a frame (omegaml's filter form);
``mdf.query(q)`` and ``mdf[q]`` bind them.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from omegacore_pandas.codecs import NumberCodec
from omegacore_pandas.dtypes import describe_dtype
from omegacore_pandas.layout import FieldSpec, describe_column_index
from omegacore_pandas.plan import TEMP_PREFIX, Compute, add_stage, may_be_missing
from omegacore_pandas.query import build_query

if TYPE_CHECKING:
    from omegacore_pandas.mdataframe import Condition, MDataFrame, MSeries

PandasFn = Callable[[pd.DataFrame], Any]

#: arithmetic operators: (MongoDB operator, Python operator)
ARITHMETIC: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "add": ("$add", operator.add),
    "sub": ("$subtract", operator.sub),
    "mul": ("$multiply", operator.mul),
    "truediv": ("$divide", operator.truediv),
    "floordiv": ("$floor", operator.floordiv),
    "mod": ("$mod", operator.mod),
    "pow": ("$pow", operator.pow),
}
_INF = float("inf")
#: comparisons: (MongoDB operator, Python operator)
COMPARISONS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "eq": ("$eq", operator.eq), "ne": ("$ne", operator.ne), "lt": ("$lt", operator.lt),
    "le": ("$lte", operator.le), "gt": ("$gt", operator.gt), "ge": ("$gte", operator.ge),
}
_NAN = float("nan")


class LazyExpression:
    """A column computed on the server from columns of one lazy frame (see module doc).

    Combine with numbers and other expressions or columns of the same frame (``+ - * /
    **``, unary ``-``, ``abs``); compare to get a row mask; ``.value`` computes it;
    ``mdf['z'] = expr`` adds it as a column.
    """

    __hash__ = None  # type: ignore[assignment]  # == builds a condition, as in pandas

    def __init__(self, frame: MDataFrame, mongo: Any, pandas: PandasFn, name: Hashable,
                 literal: bool = False, nullable: bool = True):
        self._frame = frame
        self._mongo = mongo
        self._pandas = pandas
        self._literal = literal  # a number, not a column: the other operand names the result
        #: whether a value can be missing (pandas then gives floats where it gives ints)
        self.nullable = nullable
        self.name = name

    def _derived(self, mongo: Any, pandas: PandasFn, name: Hashable = None,
                 nullable: bool | None = None) -> Any:
        """A new expression of the same class over the same frame."""
        return type(self)(self._frame, mongo, pandas, name,
                          nullable=self.nullable if nullable is None else nullable)

    @classmethod
    def of_column(cls, series: MSeries) -> LazyExpression:
        """The values of a lazy column, as an expression (numeric columns)."""
        spec = series._spec
        codec = spec.codec
        numeric = isinstance(codec, NumberCodec) and codec.storage not in (
            "timedelta", "decimal") and codec.fields == [spec.field] and \
            getattr(codec.dtype, "kind", "") != "b"
        if not numeric:
            raise TypeError(
                f"column {spec.name!r} ({series.dtype}) takes no arithmetic on the server; "
                "numbers (int, float) do. Compute on .value in pandas instead"
            )
        name = spec.name
        return cls(series._frame(None), "$" + spec.field, lambda df: df[name], name,
                   nullable=may_be_missing(codec))

    # -- building ----------------------------------------------------------------------------
    def _operand(self, other: Any) -> LazyExpression:
        from omegacore_pandas.mdataframe import MSeries

        if isinstance(other, MSeries):
            other = LazyExpression.of_column(other)
        if isinstance(other, LazyExpression):
            same_rows(self._frame, other._frame)
            return other
        if isinstance(other, (bool, np.bool_)) or not isinstance(
                other, (int, float, np.integer, np.floating)):
            raise TypeError(f"a lazy column combines with numbers or columns of its frame, "
                            f"not {type(other).__name__}")
        value = other.item() if isinstance(other, np.generic) else other
        return LazyExpression(self._frame, {"$literal": value}, lambda df: value, None,
                              literal=True, nullable=bool(pd.isna(value)))

    def _binary(self, op: str, other: Any, reverse: bool = False) -> LazyExpression:
        right = self._operand(other)
        left = self
        if reverse:
            left, right = right, left
        mongo_op, python_op = ARITHMETIC[op]
        a, b = left._mongo, right._mongo
        mongo: Any = {mongo_op: [a, b]}
        if op == "truediv":
            mongo = _divided(a, b)
        elif op == "floordiv":
            mongo = {"$floor": _divided(a, b)}
        elif op == "mod":  # Python's (and pandas') modulo: the sign of the divisor
            mongo = {"$subtract": [a, {"$multiply": [b, {"$floor": _divided(a, b)}]}]}
        lf, rf = left._pandas, right._pandas
        # pandas: with a number the Series keeps its name; two Series keep a shared name
        if left._literal or right._literal:
            name = right.name if left._literal else left.name
        else:
            name = left.name if left.name == right.name else None
        result = self._derived(mongo, lambda df: python_op(lf(df), rf(df)), name,
                               nullable=left.nullable or right.nullable
                               or op in ("truediv", "floordiv", "mod"))
        result._frame = same_rows(left._frame, right._frame)  # the one with more columns
        return result

    def __add__(self, other: Any) -> LazyExpression:
        return self._binary("add", other)

    def __radd__(self, other: Any) -> LazyExpression:
        return self._binary("add", other, reverse=True)

    def __sub__(self, other: Any) -> LazyExpression:
        return self._binary("sub", other)

    def __rsub__(self, other: Any) -> LazyExpression:
        return self._binary("sub", other, reverse=True)

    def __mul__(self, other: Any) -> LazyExpression:
        return self._binary("mul", other)

    def __rmul__(self, other: Any) -> LazyExpression:
        return self._binary("mul", other, reverse=True)

    def __truediv__(self, other: Any) -> LazyExpression:
        return self._binary("truediv", other)

    def __rtruediv__(self, other: Any) -> LazyExpression:
        return self._binary("truediv", other, reverse=True)

    def __floordiv__(self, other: Any) -> LazyExpression:
        return self._binary("floordiv", other)

    def __rfloordiv__(self, other: Any) -> LazyExpression:
        return self._binary("floordiv", other, reverse=True)

    def __mod__(self, other: Any) -> LazyExpression:
        return self._binary("mod", other)

    def __rmod__(self, other: Any) -> LazyExpression:
        return self._binary("mod", other, reverse=True)

    def __pow__(self, other: Any) -> LazyExpression:
        return self._binary("pow", other)

    def __rpow__(self, other: Any) -> LazyExpression:
        return self._binary("pow", other, reverse=True)

    def __neg__(self) -> LazyExpression:
        fn = self._pandas
        return self._derived({"$multiply": [self._mongo, -1]}, lambda df: -fn(df), self.name)

    def __abs__(self) -> LazyExpression:
        fn = self._pandas
        return self._derived({"$abs": self._mongo}, lambda df: abs(fn(df)), self.name)

    def abs(self) -> LazyExpression:
        """Absolute values (``Series.abs``)."""
        return abs(self)

    def round(self, decimals: int = 0) -> LazyExpression:
        """Rounded half to even, as ``Series.round``."""
        if not isinstance(decimals, int) or isinstance(decimals, bool):
            raise TypeError(f"round takes an int number of decimals, got {decimals!r}")
        fn = self._pandas
        return self._derived({"$round": [self._mongo, decimals]},
                             lambda df: fn(df).round(decimals), self.name)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy functions of one column on the server: ``np.sqrt(mdf.x)``, ``np.log``,
        ``np.log10``, ``np.exp``, ``np.floor``, ``np.ceil``, ``np.trunc``, ``np.abs``."""
        build = _UFUNCS.get(getattr(ufunc, "__name__", ""))
        if method != "__call__" or kwargs or len(inputs) != 1 or inputs[0] is not self \
                or build is None:
            return NotImplemented
        fn = self._pandas
        return self._derived(build(self._mongo), lambda df: ufunc(fn(df)), self.name,
                             nullable=True)

    # -- comparing ---------------------------------------------------------------------------
    def _compared(self, op: str, other: Any) -> tuple[dict[str, Any], LazyExpression]:
        """The comparison with ``other`` as an aggregation expression (missing values
        compare as pandas' NaN: only ``!=`` is true), and the other operand."""
        right = self._operand(other)
        mongo_op = COMPARISONS[op][0]
        compared = {mongo_op: [self._mongo, right._mongo]}
        missing = {"$or": [missing_value(self._mongo), missing_value(right._mongo)]}
        expr = {"$or": [missing, compared]} if op == "ne" else \
            {"$and": [{"$not": [missing]}, compared]}
        return expr, right

    def _compare(self, op: str, other: Any) -> Condition:
        from omegacore_pandas.mdataframe import Condition

        return Condition({"$expr": self._compared(op, other)[0]}, self._frame._source.key)

    def __eq__(self, other: Any) -> Condition:  # type: ignore[override]
        return self._compare("eq", other)

    def __ne__(self, other: Any) -> Condition:  # type: ignore[override]
        return self._compare("ne", other)

    def __lt__(self, other: Any) -> Condition:
        return self._compare("lt", other)

    def __le__(self, other: Any) -> Condition:
        return self._compare("le", other)

    def __gt__(self, other: Any) -> Condition:
        return self._compare("gt", other)

    def __ge__(self, other: Any) -> Condition:
        return self._compare("ge", other)

    def __bool__(self) -> bool:
        raise ValueError("the truth value of a lazy expression is ambiguous; compare it "
                         "(expr > 3) to select rows, or read .value")

    # -- reading -----------------------------------------------------------------------------
    def evaluate(self, frame: pd.DataFrame) -> Any:
        """The same computation in pandas on ``frame`` (which has the stored columns)."""
        return self._pandas(frame)

    @property
    def value(self) -> pd.Series:
        """The computed values (a Series named as pandas names it), read now."""
        holder = f"{TEMP_PREFIX}value"
        series = assigned(self._frame, holder, self)._series(holder).value
        return series.rename(self.name)

    def __repr__(self) -> str:
        return f"LazyExpression({self._mongo!r}, name={self.name!r})"


def _divided(a: Any, b: Any) -> dict[str, Any]:
    """``a / b``; MongoDB refuses a zero divisor, pandas gives inf, -inf or NaN."""
    return {"$cond": [
        {"$eq": [b, 0]},
        {"$switch": {"branches": [
            {"case": {"$gt": [a, 0]}, "then": {"$literal": _INF}},
            {"case": {"$lt": [a, 0]}, "then": {"$literal": -_INF}}],
            "default": {"$literal": _NAN}}},
        {"$divide": [a, b]}]}


def _logarithm(op: str) -> Callable[[Any], Any]:
    """``op`` where it is defined; pandas' -inf at 0 and NaN below (MongoDB refuses)."""
    return lambda x: {"$cond": [{"$gt": [x, 0]}, {op: x},
                                {"$cond": [{"$eq": [x, 0]}, {"$literal": -_INF},
                                           {"$literal": _NAN}]}]}


#: numpy functions and their aggregation expressions
_UFUNCS: dict[str, Callable[[Any], Any]] = {
    "sqrt": lambda x: {"$cond": [{"$lt": [x, 0]}, {"$literal": _NAN}, {"$sqrt": x}]},
    "exp": lambda x: {"$exp": x},
    "log": _logarithm("$ln"),
    "log10": _logarithm("$log10"),
    "floor": lambda x: {"$floor": x},
    "ceil": lambda x: {"$ceil": x},
    "trunc": lambda x: {"$trunc": x},
    "absolute": lambda x: {"$abs": x},
}


def missing_value(expr: Any) -> dict[str, Any]:
    """True where ``expr`` is null or NaN (pandas' missing values)."""
    return {"$in": [{"$ifNull": [expr, None]}, {"$literal": [None, _NAN]}]}


def assigned(frame: MDataFrame, key: Hashable, value: Any) -> Any:
    """``frame`` with column ``key`` set to ``value`` (an expression, a lazy column of
    ``frame``, or a scalar), computed on the server when read."""
    from omegacore_pandas.mdataframe import MDataFrame, MSeries

    if isinstance(value, MSeries):
        expr = _column_copy(frame, value)
    elif isinstance(value, LazyExpression):
        expr = LazyExpression(value._frame, value._mongo, value._pandas, key,
                              nullable=value.nullable)
        same_rows(frame, value._frame)
    elif isinstance(value, (MDataFrame, pd.Series, pd.DataFrame, np.ndarray, list, tuple,
                            dict, set)):
        raise TypeError(f"a lazy frame takes a scalar or an expression of its own columns "
                        f"as a column, not {type(value).__name__}; read .value to assign "
                        "other data in pandas")
    else:
        scalar = value.item() if isinstance(value, np.generic) else value
        if not pd.api.types.is_scalar(scalar):
            raise TypeError(f"cannot assign {type(value).__name__} to a lazy frame column")
        expr = LazyExpression(frame, {"$literal": scalar},
                              lambda df: pd.Series(scalar, index=df.index, dtype=None), key,
                              nullable=bool(pd.isna(scalar)))
    full = frame._with(MDataFrame, columns=None)._empty()
    probe = full.copy()
    probe[key] = expr.evaluate(full)
    layout = frame._layout
    field = f"{TEMP_PREFIX}c{len(frame._stages)}_{len(layout.columns)}"
    dtype = probe[key].dtype
    cast = frame._source.cast
    if isinstance(cast, IntegersWhenComplete) and key in cast.dtypes:  # replaced column
        kept = {k: v for k, v in cast.dtypes.items() if k != key}
        cast = IntegersWhenComplete(cast.inner, kept) if kept else cast.inner
    if expr.nullable and isinstance(dtype, np.dtype) and dtype.kind in "iu":
        # pandas gives floats where a value is missing, else ints: read floats, then ints
        # where nothing is missing (IntegersWhenComplete)
        cast = IntegersWhenComplete(cast, {key: dtype})
        dtype = np.dtype("float64")
    spec = FieldSpec.make(key, field, describe_dtype(dtype, f"column {key!r}"))
    columns = [spec if s.name == key else s for s in layout.columns]
    if not any(s.name == key for s in layout.columns):
        columns.append(spec)
    new_layout = dataclasses.replace(layout, columns=columns,
                                     column_index=describe_column_index(probe.columns))
    source = dataclasses.replace(frame._source, layout=new_layout, cast=cast)
    selection = frame._columns
    if selection is not None and key not in selection:
        selection = (*selection, key)
    return frame._with(source=source, columns=selection,
                       stages=add_stage(frame._stages, Compute(((field, expr._mongo),))))


def same_rows(a: MDataFrame, b: MDataFrame) -> MDataFrame:
    """The one of ``a`` and ``b`` with more computed columns, if both select the same rows
    (the same source and row stages; they may differ by computed columns added last);
    else ValueError (pandas would align rows by index here)."""
    short, long = (a, b) if len(a._stages) <= len(b._stages) else (b, a)
    extra = long._stages[len(short._stages):]
    if short._source.key != long._source.key or \
            long._stages[:len(short._stages)] != short._stages or \
            not all(isinstance(s, Compute) for s in extra):
        raise ValueError("combine columns of the same lazy frame (with the same filters); "
                         "pandas would align rows by index here")
    return long


def _column_copy(frame: MDataFrame, series: MSeries) -> LazyExpression:
    """A copy of a column of ``frame`` (any dtype: its fields are copied as stored)."""
    same_rows(frame, series)
    spec = series._spec
    if spec.codec.fields != [spec.field]:
        raise TypeError(f"column {spec.name!r} ({series.dtype}) is stored in several "
                        "fields; copy it in pandas (.value)")
    name = spec.name
    return LazyExpression(frame, "$" + spec.field, lambda df: df[name], name,
                          nullable=may_be_missing(spec.codec))


def _whole(values: pd.Series) -> bool:
    """Whether every value is a finite number (pandas then keeps the integer dtype)."""
    return bool(np.isfinite(values.to_numpy(dtype="float64", na_value=np.nan)).all())


class IntegersWhenComplete:
    """A read cast: the given columns as their integer dtypes where no value is missing
    (pandas' result dtype depends on the values: float64 with NaN, else an int)."""

    def __init__(self, inner: Callable[[Any], Any] | None, dtypes: dict[Hashable, Any]):
        self.inner = inner
        self.dtypes: dict[Hashable, Any] = dict(dtypes)
        if isinstance(inner, IntegersWhenComplete):  # one cast holds every column
            self.inner = inner.inner
            self.dtypes = {**inner.dtypes, **dtypes}

    def __call__(self, obj: Any) -> Any:
        if self.inner is not None:
            obj = self.inner(obj)
        if isinstance(obj, pd.Series):
            dtype = self.dtypes.get(obj.name)
            return obj.astype(dtype) if dtype is not None and _whole(obj) else obj
        complete = {k: v for k, v in self.dtypes.items()
                    if k in obj.columns and _whole(obj[k])}
        return obj.astype(complete) if complete else obj


# -- frame-level comparisons and unbound criteria (omegaml's filter forms) ---------------------
def any_column(frame: MDataFrame, op: str, value: Any) -> Condition:
    """Rows where any column of ``frame`` compares with ``value`` as ``op`` (omegaml's
    ``mdf == 5``); columns that cannot hold such a value are left out."""
    conditions = []
    for spec in frame._selected.columns:
        try:
            conditions.append(frame._series(spec.name)._condition(op, value))
        except TypeError:
            continue
    if not conditions:
        raise TypeError(f"no column of the frame can be compared with {value!r}")
    result = conditions[0]
    for cond in conditions[1:]:
        result = result | cond
    return result


class Q:
    """Criteria not yet bound to a frame: ``Q(x__gt=3) | Q(y=2)``, ``~Q(s="a")``.

    ``mdf.query(q)`` and ``mdf[q]`` bind them to the frame's columns (omegaml's form).
    """

    def __init__(self, **criteria: Any):
        self._node: tuple[str, Any] = ("criteria", criteria)

    @classmethod
    def _of(cls, node: tuple[str, Any]) -> Q:
        q = cls()
        q._node = node
        return q

    def __and__(self, other: Q) -> Q:
        return Q._of(("and", (self, _q(other))))

    def __or__(self, other: Q) -> Q:
        return Q._of(("or", (self, _q(other))))

    def __invert__(self) -> Q:
        return Q._of(("not", self))

    def bind(self, frame: MDataFrame) -> Condition:
        """The condition these criteria make on ``frame``."""
        from omegacore_pandas.mdataframe import Condition

        kind, arg = self._node
        if kind == "criteria":
            return Condition(build_query(arg, frame._layout, where="Q()",
                                         probe=frame._source.probe()), frame._source.key)
        if kind == "not":
            return ~arg.bind(frame)
        left, right = arg
        return left.bind(frame) & right.bind(frame) if kind == "and" else \
            left.bind(frame) | right.bind(frame)

    def __repr__(self) -> str:
        return f"Q{self._node!r}"


def _q(other: Any) -> Q:
    if not isinstance(other, Q):
        raise TypeError(f"combine Q with Q, not {type(other).__name__}")
    return other
