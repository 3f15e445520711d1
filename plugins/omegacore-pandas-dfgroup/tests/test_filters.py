"""Filters on group keys and on row fields, run on the server; only matching rows return."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegacore_pandas_dfgroup.layout import DATA_FIELD
from omegacore_pandas_dfgroup.query import element_query, prefixed

from omegacore import OmegaStore

NS = pd.Timestamp("2024-01-01 00:00:00.000000500")


def frame() -> pd.DataFrame:
    n = 240
    rng = np.random.default_rng(11)
    words = np.array(["apple", "banana", "cherry", "abc", "xbc", "a.c", "(b)"], dtype=object)
    s = pd.Series(words[rng.integers(0, len(words), n)], dtype="str")
    s[rng.random(n) < 0.1] = None
    y = rng.normal(size=n)
    y[rng.random(n) < 0.1] = np.nan
    t = pd.Series(NS + pd.to_timedelta(rng.integers(-3, 4, n) * 250, unit="ns"))
    t[rng.random(n) < 0.1] = pd.NaT
    return pd.DataFrame({
        "g": rng.choice(["north", "south", "east", "west"], n),
        "k": rng.integers(0, 3, n),
        "x": rng.integers(0, 100, n),
        "y": y,
        "s": s,
        "t": t,
        "d": pd.Series([{"a": int(v), "b": "q"} for v in rng.integers(0, 4, n)], dtype=object),
    })


DF = frame()


def _text(op: Callable[[str], bool]) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda df: df.s.map(lambda v: isinstance(v, str) and op(v)).astype(bool)


#: (criteria, pandas mask): every operator of omegacore_pandas.query, on keys and on rows
CASES: list[tuple[dict[str, Any], Callable[[pd.DataFrame], pd.Series]]] = [
    # group keys
    ({"g": "north"}, lambda df: df.g == "north"),
    ({"g__eq": "north"}, lambda df: df.g == "north"),
    ({"g__ne": "north"}, lambda df: df.g != "north"),
    ({"g__in": ["east", "west"]}, lambda df: df.g.isin(["east", "west"])),
    ({"g__nin": ["east", "west"]}, lambda df: ~df.g.isin(["east", "west"])),
    ({"g__startswith": "no"}, lambda df: df.g.str.startswith("no")),
    ({"g__regex": "^(e|w)"}, lambda df: df.g.str.match("^(e|w)")),
    ({"k__gt": 0}, lambda df: df.k > 0),
    ({"k__between": (1, 2), "g": "south"}, lambda df: df.k.between(1, 2) & (df.g == "south")),
    # row fields
    ({"x": 5}, lambda df: df.x == 5),
    ({"x__ne": 5}, lambda df: df.x != 5),
    ({"x__lt": 30}, lambda df: df.x < 30),
    ({"x__lte": 30}, lambda df: df.x <= 30),
    ({"x__gt": 70}, lambda df: df.x > 70),
    ({"x__gte": 70}, lambda df: df.x >= 70),
    ({"x__in": [1, 2, 3, 50]}, lambda df: df.x.isin([1, 2, 3, 50])),
    ({"x__nin": [1, 2, 3, 50]}, lambda df: ~df.x.isin([1, 2, 3, 50])),
    ({"x__between": (10, 20)}, lambda df: df.x.between(10, 20)),
    ({"x__gt": 10, "x__lt": 20}, lambda df: (df.x > 10) & (df.x < 20)),
    ({"s": "abc"}, lambda df: df.s == "abc"),
    ({"s__contains": "."}, _text(lambda v: "." in v)),
    ({"s__contains": "(b)"}, _text(lambda v: "(b)" in v)),
    ({"s__startswith": "a"}, _text(lambda v: v.startswith("a"))),
    ({"s__endswith": "bc"}, _text(lambda v: v.endswith("bc"))),
    ({"s__regex": "^a.c$"}, _text(lambda v: v in ("abc", "a.c"))),
    ({"s__isnull": True}, lambda df: df.s.isna()),
    ({"s__isnull": False}, lambda df: df.s.notna()),
    ({"y__isnull": True}, lambda df: df.y.isna()),
    ({"y__isnull": False, "y__gt": 1.0}, lambda df: df.y.notna() & (df.y > 1.0)),
    ({"t": NS}, lambda df: df.t == NS),
    ({"t__ne": NS}, lambda df: df.t != NS),
    ({"t__gt": NS}, lambda df: df.t > NS),
    ({"t__lte": NS}, lambda df: df.t <= NS),
    ({"t__in": [NS, NS + pd.Timedelta(250, "ns")]},
     lambda df: df.t.isin([NS, NS + pd.Timedelta(250, "ns")])),
    ({"t__in": []}, lambda df: df.t.isin([])),
    ({"t__isnull": True}, lambda df: df.t.isna()),
    ({"d__a": 2}, lambda df: df.d.map(lambda v: v["a"] == 2).astype(bool)),
    ({"d__a__gte": 2}, lambda df: df.d.map(lambda v: v["a"] >= 2).astype(bool)),
    ({"d__b__exists": False}, lambda df: df.x != df.x),
    ({"s__exists": True}, lambda df: df.x == df.x),
    ({"_idx#0_0__lt": 10}, lambda df: df.index < 10),
    # keys and rows together
    ({"g": "north", "x__gt": 50}, lambda df: (df.g == "north") & (df.x > 50)),
    ({"g__in": ["east", "north"], "k": 1, "t__ne": NS, "s__startswith": "a"},
     lambda df: df.g.isin(["east", "north"]) & (df.k == 1) & (df.t != NS)
     & _text(lambda v: v.startswith("a"))(df)),
    ({"g": "nowhere", "x__gt": 1}, lambda df: df.x != df.x),
]


@pytest.fixture
def stored(store: OmegaStore) -> OmegaStore:
    store.put(DF, "f", groupby=["g", "k"], document_bytes=2048)
    return store


@pytest.mark.parametrize("criteria, mask", CASES, ids=[str(c) for c, _ in CASES])
def test_filter(stored: OmegaStore, criteria: dict[str, Any],
                mask: Callable[[pd.DataFrame], pd.Series]) -> None:
    expected = DF[mask(DF)]
    got = stored.get("f", **criteria)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.skipif(importlib.util.find_spec("omegacore_pandas_dfrows") is None,
                    reason="pandas.dfrows is not installed")
def test_same_rows_as_dfrows(stored: OmegaStore) -> None:
    """The same criteria select the same rows as pandas.dfrows on the same frame."""
    stored.put(DF, "rows", kind="pandas.dfrows")
    extra = [{"y__lt": 0.0}, {"y__gte": -0.5}, {"y__ne": 1.0}, {"s__ne": "abc"},
             {"s__nin": ["abc", None]}, {"t__lt": NS}, {"t__between": (NS, NS + pd.Timedelta(1))}]
    for criteria in [c for c, _ in CASES] + extra:
        pd.testing.assert_frame_equal(stored.get("f", **criteria),
                                      stored.get("rows", **criteria), check_exact=True)


def test_filter_arguments(stored: OmegaStore) -> None:
    expected = DF[(DF.g == "west") & (DF.x > 40)]
    pd.testing.assert_frame_equal(stored.get("f", filter={"g": "west", "x__gt": 40}), expected)
    pd.testing.assert_frame_equal(stored.get("f", kwargs={"g": "west", "x__gt": 40}), expected)
    pd.testing.assert_frame_equal(
        stored.get_dataframe_dfgroup("f", kwargs={"g": "west", "x__gt": 40}), expected)
    pd.testing.assert_frame_equal(stored.get_dataframe_dfgroup("f", g="west", x__gt=40), expected)
    # filter= wins over keyword arguments naming the same key
    pd.testing.assert_frame_equal(stored.get("f", g="east", filter={"g": "west", "x__gt": 40}),
                                  expected)


def test_filters_are_data(stored: OmegaStore) -> None:
    with pytest.raises(ValueError, match="runs code on the server"):
        stored.get("f", filter={"$where": "1"}, trusted=True)
    with pytest.raises(ValueError, match="MongoDB operator"):
        stored.get("f", x={"$gt": 1})
    with pytest.raises(ValueError, match="does not name a stored column"):
        stored.get("f", nope=1)
    with pytest.raises(ValueError, match="needs a list"):
        stored.get("f", x__in=5)
    expected = DF[DF.x > 90]
    pd.testing.assert_frame_equal(stored.get("f", x={"$gt": 90}, trusted=True), expected)
    with pytest.raises(NotImplementedError, match="lazy"):
        stored.getl("f")


def test_rebuild_params(stored: OmegaStore) -> None:
    meta = stored.metadata("f")
    assert meta is not None
    params = stored.rebuild_params({"g": "west", "x__gt": 40, "x__lt": 60}, meta.collection)
    assert params == {"g": {"$eq": "west"},
                      DATA_FIELD: {"$elemMatch": {"x": {"$gt": 40, "$lt": 60}}}}
    coll = stored.mongodb[meta.collection]
    assert stored.rebuild_params({"g": "west"}, coll) == {"g": {"$eq": "west"}}
    # the filter finds the documents that hold a matching row
    found = {(d["g"], d["k"]) for d in coll.find(params)}
    rows = DF[(DF.g == "west") & (DF.x > 40) & (DF.x < 60)]
    assert found == set(zip(rows.g, rows.k, strict=True))
    # conditions that $elemMatch cannot take as plain fields keep MongoDB's semantics
    params = stored.rebuild_params({"t__ne": NS}, coll)
    assert list(params) == [DATA_FIELD]
    assert list(params[DATA_FIELD]["$elemMatch"]) == ["$nor"]


def test_query_rewriting() -> None:
    never = {"_id": {"$exists": False}}
    query = {"$and": [{"x": {"$gt": 1}}, {"$or": [{"t": 1}, never]}]}
    assert prefixed(query) == {"$and": [{"_data.x": {"$gt": 1}},
                                        {"$or": [{"_data.t": 1}, never]}]}
    assert element_query({"$and": [{"x": {"$gt": 1}}, {"x": {"$lt": 5}}, {"y": 2}]}) == {
        "x": {"$gt": 1, "$lt": 5}, "y": 2}
    assert element_query({"$and": [{"x": {"$gt": 1}}, {"x": {"$gt": 5}}]}) is None
    assert element_query({"$or": [{"x": 1}]}) is None
    assert element_query(never) is None
