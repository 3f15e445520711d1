"""Results that match omegaml 0.18: object columns, filter errors, indexes, force_python."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from omegacore import OmegaStore

OPERATORS = "eq, ne, lt, lte, gt, gte, in, nin, between, contains"


# -- object columns ---------------------------------------------------------------------------
def test_object_column_comes_back_as_object_with_none(store: OmegaStore) -> None:
    """Strings and None in an object column: an object column holding None (not str/NaN)."""
    df = pd.DataFrame({"s": pd.Series(["a", None, "c"], dtype=object), "n": [1, 2, 3]})
    store.put(df, "objs")
    for got in (store.get("objs"), store.getl("objs").value, store.get("objs", n__gte=1)):
        assert got["s"].dtype == object
        assert got["s"].tolist() == ["a", None, "c"]
        assert_frame_equal(got, df)
    series = store.get("objs", columns=["s"], is_series=True)
    assert series.dtype == object and series.tolist() == ["a", None, "c"]
    store.put(df["s"], "objseries")
    assert_series_equal(store.get("objseries"), df["s"])
    store.put(df, "grouped", groupby=["n"])
    assert store.get("grouped")["s"].tolist() == ["a", None, "c"]
    assert store.get("grouped")["s"].dtype == object


def test_str_dtype_columns_keep_their_dtype(store: OmegaStore) -> None:
    """pandas 3's default ``str`` columns (and ``string``) round-trip as they were."""
    df = pd.DataFrame({"s": ["a", None, "c"],
                       "t": pd.Series(["x", None, "z"], dtype="string")})
    assert isinstance(df["s"].dtype, pd.StringDtype)
    store.put(df, "strs")
    got = store.get("strs")
    assert_frame_equal(got, df)
    assert got["t"].isna().tolist() == [False, True, False]


def test_object_columns_from_metadata_without_a_layout(store: OmegaStore) -> None:
    """A frame whose metadata records only omegaml's dtypes ('object'): strings stay objects,
    numbers get their dtype, as omegaml reads them."""
    meta = store.put(pd.DataFrame({"s": pd.Series(["a", None], dtype=object), "n": [1, 2]}),
                     "legacy")
    kind_meta = dict(meta.kind_meta)
    kind_meta.pop("omegacore")
    kind_meta["dtypes"] = {**kind_meta["dtypes"], "n": "object"}
    store._metadata_collection.update_one({"_id": meta.id}, {"$set": {"kind_meta": kind_meta}})
    got = store.get("legacy")
    assert got["s"].dtype == object and got["s"].tolist() == ["a", None]
    assert got["n"].dtype == np.int64


# -- filters that cannot be answered -------------------------------------------------------------
@pytest.fixture
def cities(store: OmegaStore) -> OmegaStore:
    store.put(pd.DataFrame({
        "city": ["Zurich", "Basel", "Bern"],
        "x": [1, 2, 3],
        "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
        "took": pd.to_timedelta([1, 2, 3], unit="s"),
        "tags": pd.Series(["a", "b", "c"], dtype=object),
        "info": pd.Series([{"k": 1}, {"k": 2}, {"j": 3}], dtype=object),
    }), "cities")
    return store


@pytest.mark.parametrize(
    "criteria, match",
    [
        ({"city__gt": 2}, "column of strings cannot be compared with int 2"),
        ({"city__between": ("A", 5)}, "cannot be compared with int 5"),
        ({"x__gt": "a"}, "int64 numbers cannot be compared with str 'a'"),
        ({"x__contains": "1"}, "__contains applies to columns of strings"),
        ({"when__lt": 5}, "datetimes .* cannot be compared with int 5"),
        ({"took__gt": 1}, "durations .* cannot be compared with int 1"),
        ({"tags__gt": 2}, "stored values are strings, none is a number"),
        ({"city__contains": 1}, "cannot be compared with int 1"),
    ],
)
def test_incomparable_filter_values_raise(cities: OmegaStore, criteria: dict, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        cities.get("cities", **criteria)
    with pytest.raises(TypeError, match=match):
        cities.getl("cities", **criteria)


def test_comparable_filters_answer(cities: OmegaStore) -> None:
    assert cities.get("cities", city__gt="Bern")["city"].tolist() == ["Zurich"]
    assert cities.get("cities", x__gte=1.5)["x"].tolist() == [2, 3]
    assert cities.get("cities", when__gt="2024-01-15")["x"].tolist() == [2, 3]
    assert cities.get("cities", when__lt=dt.date(2024, 2, 1))["x"].tolist() == [1]
    assert cities.get("cities", took__gt="1.5s")["x"].tolist() == [2, 3]
    assert cities.get("cities", tags__gte="b")["x"].tolist() == [2, 3]
    # equality with a value of another type is simply false, as in pandas
    assert cities.get("cities", x="1").empty and cities.get("cities", x=1.5).empty
    assert cities.get("cities", city=2).empty and cities.get("cities", when=5).empty
    assert len(cities.get("cities", when__ne=5)) == 3


def test_lazy_conditions_raise_too(cities: OmegaStore) -> None:
    mdf = cities.getl("cities")
    with pytest.raises(TypeError, match="column of strings"):
        mdf.city > 2  # noqa: B015 - the comparison itself raises
    with pytest.raises(TypeError, match="stored values are strings"):
        mdf.tags < 1  # noqa: B015
    assert mdf[mdf.x > 1].value["x"].tolist() == [2, 3]


@pytest.mark.parametrize("criteria", [{"x__gtt": 1}, {"x__foo": 1}, {"city__gtt": "a"},
                                      {"tags__gtt": "a"}, {"info__gtt": 1}])
def test_misspelled_operator_raises(cities: OmegaStore, criteria: dict) -> None:
    with pytest.raises(ValueError, match=f"valid[^;]*{OPERATORS}"):
        cities.get("cities", **criteria)
    with pytest.raises(ValueError, match=f"valid[^;]*{OPERATORS}"):
        cities.getl("cities", **criteria)


def test_sub_fields_of_object_columns(cities: OmegaStore) -> None:
    assert cities.get("cities", info__k=2)["x"].tolist() == [2]
    assert cities.get("cities", info__k__gte=1)["x"].tolist() == [1, 2]
    assert cities.get("cities", info__j__exists=True)["x"].tolist() == [3]
    with pytest.raises(ValueError, match="'z' in 'info__z__gt' is not a sub-field"):
        cities.get("cities", info__z__gt=1)


def test_grouped_frames_check_filters_too(store: OmegaStore) -> None:
    store.put(pd.DataFrame({"g": ["a", "b"], "x": [1, 2], "s": ["u", "v"]}), "grp",
              groupby=["g"])
    with pytest.raises(ValueError, match=f"unknown operator 'gtt'.*{OPERATORS}"):
        store.get("grp", x__gtt=1)
    with pytest.raises(TypeError, match="cannot be compared with int 2"):
        store.get("grp", g__gt=2)
    with pytest.raises(TypeError, match="cannot be compared with str 'a'"):
        store.get("grp", x__gt="a")
    assert store.get("grp", x__gt=1)["g"].tolist() == ["b"]


# -- indexes ---------------------------------------------------------------------------------
def indexes(store: OmegaStore, name: str) -> list[tuple[str, list]]:
    coll = store.collection(name)
    return sorted((ix["name"], list(ix["key"].items())) for ix in coll.list_indexes())


ID = ("_id_", [("_id", 1)])
RANGE = ("5155a460f6ca49eaed9906b3286178d6", [("_idx#0_0", 1)])
ROWID = ("bd94345c7472b421e6ef8953eba37ee9", [("_om#rowid", 1)])


def test_put_creates_omegamls_indexes(store: OmegaStore) -> None:
    """The names and keys are those omegaml 0.18 gives (observed on omegaml's own puts)."""
    store.put(pd.DataFrame({"v": [1, 2]}), "plain")
    assert indexes(store, "plain") == sorted([ID, RANGE, ROWID])
    multi = pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["l", "n"])
    store.put(pd.DataFrame({"v": [1, 2]}, index=multi), "multi")
    assert indexes(store, "multi") == sorted([
        ID, ROWID, ("3d8f34b6fdcc4844eee2febc7d3f90b8", [("_idx#0_l", 1), ("_idx#1_n", 1)])])
    store.put(pd.Series([1, 2], index=pd.Index([5, 6], name="key"), name="s"), "series")
    assert indexes(store, "series") == sorted([
        ID, ROWID, ("45492596c88634b359504ee9129d3d52", [("_idx#0_key", 1)])])
    store.put(pd.DataFrame({"v": [1, 2], "w": [3, 4]}), "extra", index=["-v", "w"])
    assert indexes(store, "extra") == sorted([
        ID, RANGE, ROWID, ("b06e1851983bd983528367673110550f", [("v", -1), ("w", 1)])])
    store.put(pd.DataFrame({"v": [3], "w": [5]}), "extra", append=True, index=["-v", "w"])
    assert len(indexes(store, "extra")) == 4 and len(store.get("extra")) == 3


def test_index_false_creates_none(store: OmegaStore) -> None:
    store.put(pd.DataFrame({"v": [1, 2]}), "noidx", index=False)
    assert indexes(store, "noidx") == [ID]
    store.put(pd.DataFrame({"v": [3]}), "noidx", append=True, index=False)
    assert indexes(store, "noidx") == [ID]
    assert store.get("noidx")["v"].tolist() == [1, 2, 3]


def test_indexes_serve_filters(store: OmegaStore) -> None:
    df = pd.DataFrame({"v": range(50)}, index=pd.Index(range(100, 150), name="key"))
    store.put(df, "served")
    coll = store.collection("served")
    plan = coll.find({"_idx#0_key": {"$in": [101, 120]}}).explain()["queryPlanner"]
    assert "IXSCAN" in str(plan["winningPlan"])
    assert store.get("served", key__in=[101, 120])["v"].tolist() == [1, 20]


# -- force_python -----------------------------------------------------------------------------
def test_force_python_gives_rows_without_internal_fields(store: OmegaStore) -> None:
    df = pd.DataFrame({"a": [1, 2], "s": pd.Series(["x", None], dtype=object),
                       "t": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    df.index = pd.Index([5, 6], name="k")
    store.put(df, "rows")
    assert store.get("rows", force_python=True) == [
        {"k": 5, "a": 1, "s": "x", "t": pd.Timestamp("2024-01-01")},
        {"k": 6, "a": 2, "s": None, "t": pd.Timestamp("2024-01-02")},
    ]
    store.put(pd.DataFrame({"a": [1]}), "unnamed")  # unnamed index levels are left out
    assert store.get_object_as_python(store.metadata("unnamed")) == [{"a": 1}]
    store.put(pd.Series([1.5], name="p"), "series")
    assert store.get("series", force_python=True) == [{"p": 1.5}]
    store.put(df, "grouped", groupby=["a"])
    with pytest.raises(TypeError, match="cannot return kind pandas.dfgroup"):
        store.get("grouped", force_python=True)
