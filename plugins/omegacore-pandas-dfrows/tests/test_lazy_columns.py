"""Computed columns, frame-level comparisons, Q criteria and right/sorted merges of lazy
frames, each compared with pandas on the same data (on the real server)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegacore_pandas.expressions import LazyExpression, Q
from pandas.testing import assert_frame_equal, assert_series_equal

from omegacore import OmegaStore

FRAME = pd.DataFrame({
    "x": [1, 5, 3, 5, 0, -2],
    "y": [5.0, 2.0, np.nan, 1.0, 0.0, 4.0],
    "i": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
    "s": ["Ab", "cd", "EF", "gh", None, "ij"],
    "k": list("aabbab"),
}, index=pd.Index([10, 11, 12, 13, 14, 15], name="id"))


@pytest.fixture
def frames(store: OmegaStore) -> tuple[pd.DataFrame, Any]:
    store.put(FRAME, "f", append=False)
    return FRAME.copy(), store.getl("f")


@pytest.mark.parametrize("expr", [
    lambda d: d.x * 2, lambda d: 2 * d.x, lambda d: d.x + d.y, lambda d: d.x - 1.5,
    lambda d: 10 - d.x, lambda d: d.x / d.y, lambda d: d.y / 4, lambda d: 1 / d.x,
    lambda d: d.x ** 2, lambda d: -d.y, lambda d: abs(d.x), lambda d: (d.x + d.y) * d.y,
    lambda d: d.i * 2, lambda d: d.i + d.x, lambda d: d.x * np.int64(3),
    lambda d: d.x // 2, lambda d: d.x // d.y, lambda d: 7 // d.x, lambda d: d.x % 3,
    lambda d: d.x % -3, lambda d: d.y % d.x, lambda d: 10 % d.x, lambda d: np.sqrt(d.x),
    lambda d: np.log(d.y), lambda d: np.log10(d.x), lambda d: np.exp(d.y),
    lambda d: np.floor(d.y / 3), lambda d: np.ceil(d.y / 3), lambda d: (d.y / 3).round(2),
    lambda d: d.x.abs(), lambda d: (d.y * 2.5).round(),
], ids=["mul", "rmul", "add", "sub", "rsub", "div", "divc", "rdiv0", "pow", "neg", "abs",
        "nested", "nullable", "nullable+int", "numpy", "floordiv", "floordiv0", "rfloordiv",
        "mod", "mod-neg", "mod-float", "rmod", "sqrt", "log", "log10", "exp", "floor", "ceil",
        "round2", "abs-method", "round-half-even"])
def test_arithmetic_equals_pandas(frames: tuple[pd.DataFrame, Any], expr: Any) -> None:
    df, mdf = frames
    lazy = expr(mdf)
    assert isinstance(lazy, LazyExpression)
    with np.errstate(all="ignore"):  # pandas warns of log(0), sqrt(-2)
        expected = expr(df)
    assert_series_equal(lazy.value, expected)


def test_assignment_adds_columns_computed_on_read(frames: tuple[pd.DataFrame, Any]) -> None:
    df, mdf = frames
    mdf["z"] = mdf.x * 2 + mdf.y
    df["z"] = df.x * 2 + df.y
    mdf["c"] = 5
    df["c"] = 5
    mdf["t"] = "hi"
    df["t"] = "hi"
    mdf["x2"] = mdf.x        # a copy of a column
    df["x2"] = df.x
    mdf["y"] = mdf.y / 2     # replacing a column keeps its place
    df["y"] = df.y / 2
    assert_frame_equal(mdf.value, df)
    assert mdf.dtypes.equals(df.dtypes)
    assert list(mdf.columns) == list(df.columns)
    assert "$addFields" in str(mdf.explain()), "computed by the server"
    # computed columns take part in everything else
    assert_frame_equal(mdf[mdf.z > 5].value, df[df.z > 5])
    assert_frame_equal(mdf.query(z__lt=6).value, df[df.z < 6])
    assert_frame_equal(mdf.sort_values("z").value, df.sort_values("z", kind="stable"))
    assert_series_equal(mdf.groupby("k").z.sum(), df.groupby("k").z.sum())
    assert_frame_equal(mdf[["z", "c"]].head(3).value, df[["z", "c"]].head(3))
    assert_frame_equal(mdf.assign(w=lambda d: d.z * 10).value, df.assign(w=df.z * 10))
    # filters before the assignment apply; derived frames keep their columns
    part = mdf[mdf.x > 0]
    part["q"] = part.x ** 2
    assert_frame_equal(part.value, df[df.x > 0].assign(q=df[df.x > 0].x ** 2))
    assert "q" not in mdf.columns


def test_expression_comparisons_and_masks(frames: tuple[pd.DataFrame, Any]) -> None:
    df, mdf = frames
    assert_frame_equal(mdf[mdf.x * 2 > mdf.y].value, df[df.x * 2 > df.y])
    assert_frame_equal(mdf[mdf.x > mdf.y * 2].value, df[df.x > df.y * 2])
    assert_frame_equal(mdf[(mdf.x + mdf.y) != 6].value, df[(df.x + df.y) != 6])
    assert_frame_equal(mdf[(mdf.y / 2 <= 1) & ~(mdf.x == 5)].value,
                       df[(df.y / 2 <= 1) & ~(df.x == 5)])


def test_errors_say_what_to_do(frames: tuple[pd.DataFrame, Any], store: OmegaStore) -> None:
    df, mdf = frames
    with pytest.raises(TypeError, match="takes no arithmetic on the server"):
        _ = mdf.s * 2
    with pytest.raises(TypeError, match="combines with numbers or columns"):
        _ = mdf.x + "a"
    with pytest.raises(TypeError, match="read .value to assign"):
        mdf["z"] = [1, 2, 3]
    with pytest.raises(ValueError, match="same lazy frame"):
        _ = mdf.x + mdf[mdf.x > 1].y
    with pytest.raises(ValueError, match="truth value"):
        bool(mdf.x * 2)
    assert list(mdf.columns) == list(df.columns), "failed assignments change nothing"


def test_frame_comparisons_select_rows_where_any_column_matches(
        frames: tuple[pd.DataFrame, Any]) -> None:
    """omegaml's meaning: mdf == 5 selects rows in which some column equals 5."""
    df, mdf = frames
    numbers = df[["x", "y", "i"]]
    assert_frame_equal(mdf[mdf == 5].value, df[(numbers == 5).any(axis=1)])
    assert_frame_equal(mdf[mdf[["x", "y"]] > 4].value, df[(df[["x", "y"]] > 4).any(axis=1)])
    assert_frame_equal(mdf[(mdf == "Ab") | (mdf.x == 0)].value,
                       df[(df.s == "Ab") | (df.x == 0)])
    assert_frame_equal(mdf[~(mdf[["x"]] == 5)].value, df[~(df.x == 5)])
    # a frame compared with one of its columns, row by row
    assert_frame_equal(mdf[mdf[["x", "y"]] > mdf.i].value,
                       df[df[["x", "y"]].gt(df.i.astype("float64"), axis=0).any(axis=1)])


def test_q_criteria(frames: tuple[pd.DataFrame, Any]) -> None:
    df, mdf = frames
    assert_frame_equal(mdf[Q(x__gt=2) | Q(s="Ab")].value, df[(df.x > 2) | (df.s == "Ab")])
    assert_frame_equal(mdf.query(Q(x__gte=1) & ~Q(k="b")).value,
                       df[(df.x >= 1) & ~(df.k == "b")])
    assert_frame_equal(mdf.query(Q(x__in=[1, 3]), k="b").value,
                       df[df.x.isin([1, 3]) & (df.k == "b")])
    with pytest.raises(TypeError, match="combine Q with Q"):
        _ = Q(x=1) | (mdf.x > 1)


@pytest.mark.parametrize("how", ["inner", "left", "right"])
@pytest.mark.parametrize("sort", [False, True])
def test_merges_equal_pandas(store: OmegaStore, how: str, sort: bool) -> None:
    left = pd.DataFrame({"k": ["b", "a", "c", "a", "e"], "v": [1, 2, 3, 4, 5],
                         "w": [1.5, 2.5, 3.5, 4.5, 5.5]})
    right = pd.DataFrame({"k": ["a", "d", "a", "b", "f"], "v": [10, 20, 30, 40, 50],
                          "flag": [True, False, True, True, False]})
    store.put(left, "left", append=False)
    store.put(right, "right", append=False)
    lm, rm = store.getl("left"), store.getl("right")
    for kwargs in ({"on": "k"}, {"on": "k", "suffixes": ("_l", "_r")},
                   {"left_on": "k", "right_on": "k"}):
        got = lm.merge(rm, how=how, sort=sort, **kwargs).value
        assert_frame_equal(got, pd.merge(left, right, how=how, sort=sort, **kwargs))
    # no match at all, and partial matches of filtered frames
    none = lm[lm.k == "e"].merge(rm[rm.k == "a"], on="k", how=how, sort=sort).value
    assert_frame_equal(none, pd.merge(left[left.k == "e"], right[right.k == "a"], on="k",
                                      how=how, sort=sort))


def test_right_merge_limits(store: OmegaStore) -> None:
    store.put(pd.DataFrame({"k": [1, 2]}), "a", append=False)
    store.put(pd.DataFrame({"k": [2, 3]}), "b", append=False)
    a, b = store.getl("a"), store.getl("b")
    with pytest.raises(ValueError, match="left frame of a right merge"):
        a.head(1).merge(b, on="k", how="right")
    with pytest.raises(ValueError, match="'inner', 'left' or 'right'"):
        a.merge(b, on="k", how="outer")
    with pytest.raises(TypeError, match="sort takes True or False"):
        a.merge(b, on="k", sort="yes")  # type: ignore[arg-type]
