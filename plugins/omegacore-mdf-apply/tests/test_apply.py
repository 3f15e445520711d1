"""omegacore-mdf-apply on the real server: each apply compared with pandas on the same data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegacore import OmegaStore
from omegacore_testing import LazyMixinConformance
from pandas.testing import assert_frame_equal, assert_series_equal

from omegacore_mdf_apply.mixin import CACHE_PREFIX, ApplyMixin, ApplyResult


class TestApplyMixin(LazyMixinConformance):
    mixin = ApplyMixin
    distribution = "omegacore-mdf-apply"


FRAME = pd.DataFrame({
    "x": [1, 5, 3, 5, 0, -2],
    "y": [5.0, 2.0, np.nan, 1.0, 0.0, 4.0],
    "s": ["Ab c", "cd", None, "gh ij", "", "Kl"],
    "t": pd.to_datetime(["2024-03-31 23:30", "2024-01-01 00:00", None, "2024-12-31 01:00",
                         "2023-06-15 12:45:30", "2024-02-29 08:00"], format="ISO8601"),
    "z": pd.date_range("2024-03-30 22:00", periods=6, freq="7h", tz="Europe/Zurich"),
    "k": list("ababab"),
})


@pytest.fixture
def frames(store: OmegaStore) -> tuple[pd.DataFrame, Any]:
    store.put(FRAME, "f", append=False)
    return FRAME.copy(), store.getl("f")


def _frame(value: Any, name: Any) -> pd.DataFrame:
    return value.to_frame(name) if isinstance(value, pd.Series) else value


CASES: dict[str, Any] = {
    "mul": lambda v: v["x"] * 2,
    "add-columns": lambda v: v["x"] + v["y"],
    "div": lambda v: v["y"] / v["x"],
    "pow": lambda v: v["x"] ** 2,
    "floordiv": lambda v: v["x"] // 2,
    "mod": lambda v: v["x"] % 3,
    "sqrt": lambda v: np.sqrt(v["y"]),
    "round": lambda v: (v["y"] / 3).round(1),
    "lower": lambda v: v["s"].str.lower(),
    "upper": lambda v: v["s"].str.upper(),
    "len": lambda v: v["s"].str.len(),
    "slice": lambda v: v["s"].str[1:3],
    "slice-open": lambda v: v["s"].str.slice(2),
    "find": lambda v: v["s"].str.find("c"),
    "split": lambda v: v["s"].str.split(" "),
    "cat": lambda v: v["s"].str.cat(v["k"], sep="-"),
    "plus-string": lambda v: v["s"] + "!",
    "strip": lambda v: (v["s"] + " ").str.strip(),
    "contains": lambda v: v["s"].str.contains("c"),
    "startswith": lambda v: v["s"].str.startswith("c"),
    "endswith": lambda v: v["s"].str.endswith("j"),
    "replace": lambda v: v["s"].str.replace("c", "C"),
    "equal": lambda v: v["s"] == "cd",
    "not-equal": lambda v: v["x"] != 5,
    "greater": lambda v: v["y"] > 1,
    "year": lambda v: v["t"].dt.year,
    "month": lambda v: v["t"].dt.month,
    "day": lambda v: v["t"].dt.day,
    "hour": lambda v: v["t"].dt.hour,
    "minute": lambda v: v["t"].dt.minute,
    "second": lambda v: v["t"].dt.second,
    "day_of_week": lambda v: v["t"].dt.day_of_week,
    "day_of_year": lambda v: v["t"].dt.day_of_year,
    "quarter": lambda v: v["t"].dt.quarter,
    "hour-tz": lambda v: v["z"].dt.hour,
    "day-tz": lambda v: v["z"].dt.day,
}
#: omegaml's names of the same methods
OMEGAML_NAMES: dict[str, Any] = {
    "substr": (lambda v: v["s"].str.substr(1, 2), lambda d: d["s"].str.slice(1, 3)),
    "index": (lambda v: v["s"].str.index("c"), lambda d: d["s"].str.find("c")),
    "concat": (lambda v: v["s"].str.concat(v["k"]), lambda d: d["s"] + d["k"]),
    "isequal": (lambda v: v["s"].isequal("cd"), lambda d: d["s"] == "cd"),
    "dayofweek": (lambda v: v["t"].dt.dayofweek, lambda d: d["t"].dt.day_of_week),
    "week": (lambda v: v["t"].dt.week,
             lambda d: d["t"].dt.isocalendar().week.astype("float64")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_column_expressions_equal_pandas(frames: tuple[pd.DataFrame, Any], case: str) -> None:
    df, mdf = frames
    fn = CASES[case]
    expected = fn(df)
    got = mdf.apply(fn).value
    if expected.name is None:  # unnamed: pandas' to_frame would label it 0 as well
        assert_series_equal(got.iloc[:, 0], expected, check_names=False)
    else:
        assert_frame_equal(got, _frame(expected, expected.name))


@pytest.mark.parametrize("case", sorted(OMEGAML_NAMES))
def test_omegamls_method_names(frames: tuple[pd.DataFrame, Any], case: str) -> None:
    df, mdf = frames
    ours, theirs = OMEGAML_NAMES[case]
    expected = theirs(df)
    assert_series_equal(mdf.apply(ours).value.iloc[:, 0], expected, check_names=False)


def test_context_forms(frames: tuple[pd.DataFrame, Any]) -> None:
    df, mdf = frames
    # every column of a sub-context, and several columns at once
    assert_frame_equal(mdf.apply(lambda v: v[["x", "y"]] * 5).value, df[["x", "y"]] * 5)
    assert_frame_equal(mdf.apply(lambda v: v[["s", "k"]].str.upper()).value,
                       df[["s", "k"]].apply(lambda c: c.str.upper()))
    assert_frame_equal(mdf.apply(lambda v: v[["t"]].dt.month).value,
                       df[["t"]].apply(lambda c: c.dt.month))
    got = mdf.apply(lambda v: {"a": v["x"] * 2, "b": v["s"].str.len()}).value
    assert_frame_equal(got, pd.DataFrame({"a": df.x * 2, "b": df.s.str.len()}))

    def assign(v: Any) -> None:
        v["w"] = v["x"] * v["y"]
        v["n"] = v["w"] + 1       # a column set before is usable at once

    expected = df.assign(w=df.x * df.y)
    expected["n"] = expected.w + 1
    assert_frame_equal(mdf.apply(assign).value, expected)


def test_applied_frames_are_lazy_frames(frames: tuple[pd.DataFrame, Any]) -> None:
    df, mdf = frames
    applied = mdf[mdf.x > 0].apply(lambda v: {"x": v["x"], "q": v["x"] ** 2})
    expected = pd.DataFrame({"x": df.x, "q": df.x ** 2})[df.x > 0]
    assert_frame_equal(applied.value, expected)
    assert_frame_equal(applied[applied.q > 4].value, expected[expected.q > 4])
    assert_frame_equal(applied.sort_values("q").head(2).value,
                       expected.sort_values("q", kind="stable").head(2))
    # applies chain
    chained = applied.apply(lambda v: v["q"] + v["x"])
    assert_series_equal(chained.value.iloc[:, 0], expected.q + expected.x, check_names=False)
    assert "$addFields" in str(applied.explain())


def test_groupby_and_statistics_named_as_omegaml(frames: tuple[pd.DataFrame, Any]) -> None:
    df, mdf = frames
    result = mdf.apply(lambda v: v.groupby("k").agg({"x": ["sum", "mean"], "y": "max"}))
    assert isinstance(result, ApplyResult)
    expected = df.groupby("k").agg({"x": ["sum", "mean"], "y": "max"})
    expected.columns = ["x_sum", "x_mean", "y_max"]
    assert_frame_equal(result.value, expected)
    # statistics of computed columns, per group and of the whole frame
    def grouped(v: Any) -> Any:
        v["w"] = v["x"] * 2
        return v[["k", "w"]].groupby("k").sum()

    expected = df.assign(w=df.x * 2).groupby("k")[["w"]].sum()
    expected.columns = ["w_sum"]
    assert_frame_equal(mdf.apply(grouped).value, expected)
    whole = mdf.apply(lambda v: v[["x", "y"]].mean()).value
    assert whole.to_dict("records") == [{"x_mean": df.x.mean(), "y_mean": df.y.mean()}]
    with pytest.raises(ValueError, match="unknown statistic"):
        mdf.apply(lambda v: v.groupby("k").agg({"x": "median"}))


def test_raw_projections_and_stages(frames: tuple[pd.DataFrame, Any]) -> None:
    df, mdf = frames
    got = mdf.apply(lambda v: v[["x"]].project(ten={"$multiply": ["$x", 10]})).value
    assert got.ten.tolist() == (df.x * 10).tolist() and list(got.columns) == ["x", "ten"]
    got = mdf.apply(lambda v: [{"$match": {"x": {"$gt": 2}}},
                               {"$project": {"_id": 0, "x": 1}}]).value
    assert got.x.tolist() == df.x[df.x > 2].tolist()
    got = mdf.apply(lambda v: v.groupby("k", n={"$sum": 1}, top={"$max": "$x"})).value
    assert got.to_dict() == {"n": {"a": 3, "b": 3}, "top": {"a": 3, "b": 5}}


def test_errors_say_what_to_do(frames: tuple[pd.DataFrame, Any]) -> None:
    _, mdf = frames
    with pytest.raises(AttributeError, match=".str needs a string column"):
        mdf.apply(lambda v: v["x"].str.lower())
    with pytest.raises(AttributeError, match=".dt needs a datetime column"):
        mdf.apply(lambda v: v["s"].dt.year)
    with pytest.raises(TypeError, match="arithmetic needs numbers"):
        mdf.apply(lambda v: v["t"] * 2)
    with pytest.raises(TypeError, match="with strings only"):
        mdf.apply(lambda v: v["s"] * 2)
    with pytest.raises(TypeError, match="returned int"):
        mdf.apply(lambda v: 42)
    with pytest.raises(TypeError, match="takes a function"):
        mdf.apply("lower")


def test_persisted_results_come_from_the_cache(frames: tuple[pd.DataFrame, Any],
                                               store: OmegaStore) -> None:
    df, mdf = frames
    fn = (lambda v: v["s"].str.upper())  # noqa: E731
    first = mdf.apply(fn).persist()
    cached = [n for n in store.list(hidden=True) if n.startswith(CACHE_PREFIX)]
    assert len(cached) == 1
    # the cache answers an equal apply (proved by changing the cached copy)
    store.put(pd.DataFrame({"s": ["from the cache"]}), cached[0], append=False)
    assert mdf.apply(fn).value.s.tolist() == ["from the cache"]
    grouped = mdf.apply(lambda v: v.groupby("k").agg({"x": "sum"})).persist()
    assert len([n for n in store.list(hidden=True) if n.startswith(CACHE_PREFIX)]) == 2
    assert grouped.value.x_sum.tolist() == df.groupby("k").x.sum().tolist()
    # a new put changes the key: never a stale result
    store.put(FRAME.assign(s=FRAME.s.str.lower()), "f", append=False)
    fresh = store.getl("f").apply(fn).value
    assert fresh.s.tolist()[:2] == ["AB C", "CD"]
    first.reset_cache(full=True)
    assert [n for n in store.list(hidden=True) if n.startswith(CACHE_PREFIX)] == []
