"""python.data: conformance, round trips, append/replace, indexes, filters, errors."""

from __future__ import annotations

import datetime as dt
import decimal
import subprocess
import sys
import uuid
import zoneinfo
from typing import Any

import numpy as np
import pandas as pd
import pytest
from bson import Decimal128, ObjectId
from omegacore import BaseBackend, OmegaStore
from omegacore.errors import PluginHookError
from omegacore_testing import KindConformance, data_footprint
from omegacore_testing.crash import AppendConformance, CrashConformance
from omegacore_testing.faults import fail_before_commit

KIND = "python.data"
ZURICH = zoneinfo.ZoneInfo("Europe/Zurich")


def assert_identical(expected: Any, actual: Any, path: str = "value") -> None:
    """Equal values of the same types all the way down (tuples stay tuples, etc.)."""
    if isinstance(expected, np.ndarray):
        assert type(actual) is np.ndarray, path
        assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape), path
        if expected.ndim > 1:
            assert actual.flags.f_contiguous == expected.flags.f_contiguous, path
        if expected.dtype.hasobject:
            for i, (e, a) in enumerate(zip(expected.ravel(), actual.ravel(), strict=True)):
                assert_identical(e, a, f"{path}.flat[{i}]")
        else:
            assert actual.tobytes() == np.ascontiguousarray(expected).tobytes(), path
        return
    assert type(actual) is type(expected), f"{path}: {type(actual)} != {type(expected)}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: keys or key order differ"
        for key in expected:
            assert_identical(expected[key], actual[key], f"{path}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), path
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_identical(e, a, f"{path}[{i}]")
    elif isinstance(expected, np.generic):
        assert (actual.dtype, actual.tobytes()) == (expected.dtype, expected.tobytes()), path
    elif isinstance(expected, decimal.Decimal):
        assert str(actual) == str(expected), path  # also NaN and -0
    elif isinstance(expected, float) and expected != expected:
        assert actual != actual, path  # NaN
    elif isinstance(expected, (dt.datetime, dt.time)):
        assert actual == expected, path
        assert actual.replace(tzinfo=None) == expected.replace(tzinfo=None), path
        assert (actual.tzinfo, actual.fold) == (expected.tzinfo, expected.fold), path
        assert actual.utcoffset() == expected.utcoffset(), path
    else:
        assert actual == expected, path


def assert_nothing_written(store: OmegaStore, before: tuple, name: str, meta_before: Any) -> None:
    assert data_footprint(store) == before
    meta = store.metadata(name)
    if meta_before is None:
        assert meta is None
    else:
        assert meta is not None and meta.to_mongo() == meta_before.to_mongo()


def footprint_size(store: OmegaStore) -> tuple[int, int]:
    names, files = data_footprint(store)
    return len(names), files


class TestPythonDataConformance(KindConformance, CrashConformance):
    kind = KIND

    def make_object(self, variant: int) -> Any:
        return {"variant": variant, "values": [1, 2.5, "x", None], "pair": (variant, "a")}

    def unsupported_objects(self) -> list[Any]:
        return [object(), 1, "text", np.arange(3), {1, 2}]

    def assert_same(self, expected: Any, actual: Any) -> None:
        # the tuple comes back as a list, as omegaml gives it
        assert_identical([{**expected, "pair": list(expected["pair"])}], actual)


# -- round trips: types kept --------------------------------------------------------------------
ROUND_TRIPS = {
    "json-like": {"a": 1, "b": [1, 2.5, None, True, "x", -0.0], "c": {"d": {"e": "ü"}}},
    "list": [1, "two", [3, [4]]],
    "empty": {"l": [], "d": {}, "s": ""},
    "int64 limits": [2**63 - 1, -(2**63), 0],
    "floats": [float("inf"), float("-inf"), float("nan"), 1e-308],
    "bytes": {"b": b"\x00\xff", "ba": bytearray(b"xy")},
    "sets": {"s": {1, 2, 3}, "f": frozenset({"a", (1, 2)})},
    "complex": [1 + 2j, complex(0, -1)],
    "decimal": [decimal.Decimal("1.10"), decimal.Decimal("-0"), decimal.Decimal("NaN")],
    "odd keys": {1: "int", (1, 2): "tuple", "$x": 1, "a.b": 2, "": 3, "__omt__": 4,
                 "__omi__": 5, "plain": 6, None: 7, 2.5: 8, frozenset({1}): 9, "n\x00ul": 10},
    "naive datetimes": [dt.datetime(2024, 1, 2, 3, 4, 5, 6000), dt.datetime(2024, 1, 2, 3, 4, 5, 7),
                        dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)],
    "aware datetimes": [
        dt.datetime(2024, 7, 1, 12, 0, 0, 123456, tzinfo=ZURICH),
        dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZURICH),  # repeated hour, 2nd
        dt.datetime(2024, 3, 31, 2, 30, tzinfo=ZURICH),  # does not exist: kept as given
        dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30), "X")),
    ],
    "date time timedelta": [dt.date(999, 1, 2), dt.time(1, 2, 3, 4),
                            dt.time(23, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                            dt.timedelta(days=-1, microseconds=3)],
    "bson types": [uuid.UUID(int=12345), ObjectId(), Decimal128("1.5")],
}


class TestPythonDataAppends(AppendConformance):
    kind = "python.data"

    def make_part(self, writer: int, i: int) -> dict[str, Any]:
        return {"writer": writer, "part": i, "values": list(range(i, i + 5))}

    def combine(self, parts: list[Any]) -> list[Any]:
        return list(parts)

    def assert_same_parts(self, parts: list[Any], actual: Any) -> None:
        key = lambda d: (d["writer"], d["part"])  # noqa: E731
        assert sorted(actual, key=key) == sorted(parts, key=key)
        assert len(actual) == len(parts)


@pytest.mark.parametrize("value", list(ROUND_TRIPS.values()), ids=list(ROUND_TRIPS))
def test_round_trip_exact(store: OmegaStore, value: Any) -> None:
    meta = store.put(value, "value")
    assert meta.kind == KIND
    assert_identical([value], store.get("value"))


# -- round trips: what omegaml gives back --------------------------------------------------------
CONVERTED = {
    # tuples come back as lists (dict keys and set items stay tuples: they must be hashable)
    "tuple": ({"t": (1, (2, 3), [4, (5,)]), "e": ()}, {"t": [1, [2, 3], [4, [5]]], "e": []}),
    "numpy scalars": (
        [np.float64(1.5), np.float32(0.5), np.float16(2), np.int8(-3), np.uint64(2**63 - 1),
         np.int64(-(2**63)), np.bool_(True), np.complex128(1 - 2j), np.str_("hé"),
         np.bytes_(b"x"), np.datetime64("2024-01-01T00:00:00.123456"), np.datetime64("NaT"),
         np.datetime64("2024-02-03"), np.timedelta64(5, "ms"), np.longdouble(0.25)],
        [1.5, 0.5, 2.0, -3, 2**63 - 1, -(2**63), True, 1 - 2j, "hé", b"x",
         dt.datetime(2024, 1, 1, 0, 0, 0, 123456), None, dt.datetime(2024, 2, 3),
         dt.timedelta(milliseconds=5), 0.25],
    ),
    "numpy arrays inside": (
        {"ints": np.arange(6, dtype=">i4").reshape(2, 3),
         "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
         "strided": np.arange(10)[::3], "objects": np.array([{"a": 1}, (1, 2), None], dtype=object),
         "empty": np.zeros((0, 3)), "zero-d": np.array(5.5), "strings": np.array(["a", "bcd"]),
         "dates": np.array(["2024-01-01", "NaT"], dtype="M8[ns]"),
         "structured": np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", ">f8")]),
         "bool": np.array([[True, False]])},
        {"ints": [[0, 1, 2], [3, 4, 5]], "fortran": [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]],
         "strided": [0, 3, 6, 9], "objects": [{"a": 1}, [1, 2], None], "empty": [],
         "zero-d": 5.5, "strings": ["a", "bcd"], "dates": [dt.datetime(2024, 1, 1), None],
         "structured": [[1, 2.0]], "bool": [[True, False]]},
    ),
    "pandas timestamp": ({"ts": pd.Timestamp("2024-05-01 10:30:00.5"), "nat": pd.NaT},
                         {"ts": dt.datetime(2024, 5, 1, 10, 30, 0, 500000), "nat": None}),
}


@pytest.mark.parametrize("value, expected", list(CONVERTED.values()), ids=list(CONVERTED))
def test_round_trip_as_omegaml_gives_it(store: OmegaStore, value: Any, expected: Any) -> None:
    store.put(value, "value")
    assert_identical([expected], store.get("value"))


@pytest.mark.parametrize(
    "array, expected",
    [(np.arange(6.0).reshape(3, 2), [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]),
     (np.array([1, 2], dtype=">u2"), [[1, 2]]),
     (np.array(["x", "yz"]), [["x", "yz"]]),
     (np.array([1, "a", None], dtype=object), [[1, "a", None]]),
     (np.array(3), [3]),
     (np.empty((2, 0)), [[], []])],
    ids=["2d", "bigendian", "str", "object", "0d", "empty-rows"],
)
def test_ndarray_as_pydata(store: OmegaStore, array: np.ndarray, expected: list) -> None:
    """As in omegaml: a 1-d array is one object (a list), rows of a 2-d array are objects."""
    meta = store.put(array, "arr", as_pydata=True)
    assert meta.kind == KIND
    assert_identical(expected, store.get("arr"))


def test_list_of_lists_is_one_object_per_inner_list(store: OmegaStore) -> None:
    """omegaml stores a list whose first item is a list (or tuple) as one object per item."""
    meta = store.put([[1, 2], [3, 4], [5, 6]], "lol")
    docs = list(store.mongodb[meta.collection].find({}, {"_id": 0, "data": 1}))
    assert docs == [{"data": [1, 2]}, {"data": [3, 4]}, {"data": [5, 6]}]
    assert store.get("lol") == [[1, 2], [3, 4], [5, 6]]
    store.put([[7, 8]], "lol")
    assert store.get("lol") == [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert store.get("lol", force_python=True) == [7, 8]
    store.put(((1, 2), (3, 4)), "tt")
    assert store.get("tt") == [[1, 2], [3, 4]]
    store.put([[1, 2], 3], "mixed")  # decided by the first item, as in omegaml
    assert store.get("mixed") == [[1, 2], 3]
    store.put([1, 2, 3], "flat")
    assert store.get("flat") == [[1, 2, 3]]
    store.put([{"x": 1}, {"x": 2}], "dicts")
    assert store.get("dicts") == [[{"x": 1}, {"x": 2}]]


def test_reads_data_of_the_first_encoding(store: OmegaStore) -> None:
    """Objects put by the first version of the encoding (tagged tuples and numpy values)
    read as objects put now do: lists and Python numbers."""
    backend = store.get_backend_bykind(KIND)
    one = np.frombuffer(np.float32(1.5).tobytes(), dtype="<f4")  # the bytes a tag holds
    with backend.stage("v1", kind_meta={"encoding": "omegacore.pydata/1"}) as staged:
        staged.new_collection().insert_many([{"data": {
            "t": {"__omt__": "tuple", "v": [1, {"__omt__": "tuple", "v": [2]}]},
            "k": {"__omt__": "dict", "__omi__": [[0, {"__omt__": "tuple", "v": [1, 2]}, "x"]]},
            "s": {"__omt__": "np", "dtype": "<f4", "v": 1.5},
            "b": {"__omt__": "np", "dtype": "<f4", "b": one.tobytes()},
            "a": {"__omt__": "ndarray", "dtype": "<i8", "shape": [2, 2], "v": [1, 2, 3, 4]},
        }}])
    [obj] = store.get("v1")
    assert_identical({"t": [1, [2]], "k": {(1, 2): "x"}, "s": 1.5, "b": 1.5,
                      "a": [[1, 2], [3, 4]]}, obj)


def test_ndarray_needs_as_pydata(store: OmegaStore) -> None:
    from omegacore_python_data.backend import PythonDataBackend

    assert PythonDataBackend.supports(np.arange(3), "x") is False
    assert PythonDataBackend.supports(np.arange(3), "x", as_pydata=True) is True
    assert store.plugins.kind(KIND).selected_by == ("as_pydata",)
    with pytest.raises(TypeError, match="as_pydata takes True or False, got 1"):
        store.put([1], "x", as_pydata=1)
    assert store.put({"a": 1}, "x", as_pydata=False).kind == KIND  # False: not given
    assert store.get("x") == [{"a": 1}]


def test_plain_data_is_stored_plainly(store: OmegaStore) -> None:
    """omegaml's layout: one document {_id, data} per object; metadata objid is the last one."""
    obj = {"x": 1, "when": dt.datetime(2024, 1, 1), "tags": ["a", "b"]}
    meta = store.put(obj, "plain")
    docs = list(store.mongodb[meta.collection].find())
    assert len(docs) == 1
    assert docs[0]["data"] == obj
    assert meta.objid == docs[0]["_id"]
    assert store.metadata("plain").kind_meta == {"encoding": "omegacore.pydata/2"}


def test_reads_documents_in_omegaml_layout(store: OmegaStore) -> None:
    backend = store.get_backend_bykind(KIND)
    with backend.stage("legacy") as staged:
        staged.new_collection().insert_many([{"data": {"a": 1}}, {"data": [1, 2]}])
    assert store.get("legacy") == [{"a": 1}, [1, 2]]


# -- append and replace ---------------------------------------------------------------------
def test_append_by_default_and_replace(store: OmegaStore) -> None:
    store.put({"a": 1}, "log")
    meta = store.put({"a": 2}, "log")
    assert store.get("log") == [{"a": 1}, {"a": 2}]
    assert meta.objid == store.mongodb[meta.collection].find_one({"data.a": 2})["_id"]
    assert footprint_size(store) == (1, 0)
    store.put({"a": 3}, "log", append=False)
    assert store.get("log") == [{"a": 3}]
    assert footprint_size(store) == (1, 0), "the replaced collection was left behind"
    store.put({"a": 4}, "log", replace=True)
    assert store.get("log") == [{"a": 4}]
    assert footprint_size(store) == (1, 0)


def test_mixin_put_pyobj_as_document(store: OmegaStore) -> None:
    store.put_pyobj_as_document({"a": 1}, "m", attributes={"owner": "ann"})
    store.put_pyobj_as_document([1, 2], "m")
    assert store.get_python_data("m") == [{"a": 1}, [1, 2]]
    store.put_pyobj_as_document((3,), "m", append=False)
    assert store.get_python_data("m") == [[3]]
    assert store.metadata("m").attributes == {"owner": "ann"}
    assert store.get_python_data("missing") is None


def test_as_many(store: OmegaStore) -> None:
    store.put([{"i": 0}, {"i": 1}, (2,)], "many", as_many=True)
    assert store.get("many") == [{"i": 0}, {"i": 1}, [2]]
    assert store.get("many", i=1) == [{"i": 1}]
    with pytest.raises(TypeError, match="as_many"):
        store.put({"a": 1}, "many", as_many=True)


def test_failed_append_removes_what_it_added(
    store: OmegaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put({"a": 1}, "kept")
    before = data_footprint(store)
    meta_before = store.metadata("kept")

    with fail_before_commit(store), pytest.raises(PluginHookError, match="injected failure"):
        store.put({"a": 2}, "kept")
    assert store.get("kept") == [{"a": 1}]
    assert_nothing_written(store, before, "kept", meta_before)


class _RowsBackend(BaseBackend):
    """A test kind keeping a list of dicts in a collection (to test kind changes)."""

    KIND = "test.rows"

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        return False

    def put(self, obj: Any, name: str, attributes: Any = None, **kwargs: Any) -> Any:
        with self.stage(name, attributes) as staged:
            staged.new_collection().insert_many([dict(row) for row in obj])
        return staged.meta

    def get(self, name: str, version: int = -1, meta: Any = None, **kwargs: Any) -> Any:
        meta = self.metadata(name, meta)
        return list(self.store.mongodb[meta.collection].find({}, {"_id": 0}))


class _BlobBackend(_RowsBackend):
    KIND = "test.blob"

    def put(self, obj: Any, name: str, attributes: Any = None, **kwargs: Any) -> Any:
        with self.stage(name, attributes) as staged:
            staged.put_file(obj)
        return staged.meta


def test_put_over_another_kind_does_not_append_to_its_data(store: OmegaStore) -> None:
    store.register_backend("test.rows", _RowsBackend)
    store.put([{"r": 1}, {"r": 2}], "switch", kind="test.rows")
    before = data_footprint(store)
    store.put({"a": 1}, "switch")
    assert store.metadata("switch").kind == KIND
    assert store.get("switch") == [{"a": 1}]
    after = data_footprint(store)
    assert len(after[0]) == 1 and after[0] != before[0], "the other kind's data was appended to"


def test_get_rejects_other_kinds(store: OmegaStore) -> None:
    store.register_backend("test.rows", _RowsBackend)
    store.put([{"r": 1}], "rows", kind="test.rows")
    with pytest.raises(TypeError, match="force_python"):
        store.get_python_data("rows")


# -- indexes --------------------------------------------------------------------------------
def test_index_creation(store: OmegaStore) -> None:
    meta = store.put_pyobj_as_document({"x": 1, "y": 2}, "ix", index=["x", "-y"])
    info = store.mongodb[meta.collection].index_information()
    keys = [spec["key"] for spec in info.values()]
    assert [("data.x", 1), ("data.y", -1)] in keys
    meta = store.put({"x": 2, "y": 3}, "ix", index={"columns": ["+y"], "unique": True})
    info = store.mongodb[meta.collection].index_information()
    unique = [spec for spec in info.values() if spec["key"] == [("data.y", 1)]]
    assert unique and unique[0].get("unique") is True
    assert store.get("ix") == [{"x": 1, "y": 2}, {"x": 2, "y": 3}]


def test_unique_index_violation_leaves_previous_data(store: OmegaStore) -> None:
    store.put({"k": 1}, "uniq", index={"columns": ["k"], "unique": True})
    before = data_footprint(store)
    meta_before = store.metadata("uniq")
    with pytest.raises(Exception, match="(?i)duplicate"):
        store.put({"k": 1}, "uniq")
    assert store.get("uniq") == [{"k": 1}]
    assert_nothing_written(store, before, "uniq", meta_before)


@pytest.mark.parametrize(
    "index", [[""], {"fields": ["x"]}, {"columns": ["x"], "bogus": 1}, ["$where"], [3], []]
)
def test_bad_index_spec_writes_nothing(store: OmegaStore, index: Any) -> None:
    before = data_footprint(store)
    with pytest.raises(ValueError):
        store.put({"x": 1}, "badix", index=index if index != [] else ["+"])
    assert_nothing_written(store, before, "badix", None)


# -- filters --------------------------------------------------------------------------------
@pytest.fixture
def people(store: OmegaStore) -> OmegaStore:
    store.put({"who": "ann", "age": 31, "pos": (1, 2), "addr": {"city": "Zurich"}}, "people")
    store.put({"who": "bob", "age": 25, "pos": (3, 4), "addr": {"city": "Basel"}}, "people")
    store.put({"who": "cy", "age": 40, 7: "odd key",
               "seen": dt.datetime(2024, 5, 1, 8, tzinfo=ZURICH)}, "people")
    return store


def names(objs: Any) -> list[str]:
    return [o["who"] for o in objs]


def test_keyword_filters(people: OmegaStore) -> None:
    assert names(people.get("people", who="bob")) == ["bob"]
    assert names(people.get("people", age__gt=30)) == ["ann", "cy"]
    assert names(people.get("people", age__gte=25, age__lt=40)) == ["ann", "bob"]
    assert names(people.get("people", who__in=["cy", "ann"])) == ["ann", "cy"]
    assert names(people.get("people", who__ne="ann")) == ["bob", "cy"]
    assert names(people.get("people", pos__exists=False)) == ["cy"]
    assert people.get("people", who="nobody") == []


def test_omegaml_field_paths(people: OmegaStore) -> None:
    """omegaml's filters name the document's fields (data.x); plain names work too."""
    assert names(people.get("people", filter={"data.who": "bob"})) == ["bob"]
    assert names(people.get("people", filter={"data.addr.city": "Zurich"})) == ["ann"]
    assert names(people.get("people", filter={"data.age": {"$gt": 30}}, trusted=True)) == [
        "ann", "cy"]
    assert names(people.get("people", filter={"data.age__lt": 31, "who": "bob"})) == ["bob"]
    assert names(people.get("people", filter={"addr.city": "Basel"})) == ["bob"]


def test_misspelled_operator_is_an_error(people: OmegaStore) -> None:
    for kwargs in ({"age__gtt": 1}, {"filter": {"age__gtt": 1}}):
        with pytest.raises(ValueError, match=r"not an operator \(valid: eq, ne, gt.*age__gt\?"):
            people.get("people", **kwargs)
    with pytest.raises(ValueError, match=r"'foo' is not an operator \(valid: eq, ne, gt"):
        people.get("people", age__foo=1)


def test_field_names_with_double_underscores(store: OmegaStore) -> None:
    """A key ending in __<not an operator> is a field name when stored objects have it."""
    store.put({"a__b": 1, "c": 1}, "dunder")
    store.put({"a__b": 2, "c": 2}, "dunder")
    assert store.get("dunder", a__b=2) == [{"a__b": 2, "c": 2}]
    assert store.get("dunder", a__b__gte=1, c=1) == [{"a__b": 1, "c": 1}]


def test_misspelled_keyword_is_an_error(people: OmegaStore) -> None:
    """A keyword naming no field of any stored object is taken for a misspelled argument."""
    for kwargs in ({"lazzy": True}, {"who": "ann", "lazzy": True}):
        with pytest.raises(TypeError, match=r"unexpected keyword argument 'lazzy'.*filter, lazy"):
            people.get("people", **kwargs)
    with pytest.raises(TypeError, match="'trustd'"):
        list(people.get("people", lazy=True, trustd=True))
    # real fields are never refused, matching or not, even if only some objects have them
    assert people.get("people", who="nobody") == []
    assert names(people.get("people", seen__exists=True)) == ["cy"]
    assert people.get("people", pos=(9, 9)) == []
    # filter={} names fields explicitly: no guessing
    assert people.get("people", filter={"lazzy": True}) == []
    # nothing stored: nothing to tell a typo by
    people.put({"x": 1}, "one")
    people.put([], "one", as_many=True, append=False)
    assert people.get("one", lazzy=True) == []


def test_filters_on_tagged_values_and_odd_keys(people: OmegaStore) -> None:
    assert names(people.get("people", pos=(3, 4))) == ["bob"]
    assert names(people.get("people", seen=dt.datetime(2024, 5, 1, 8, tzinfo=ZURICH))) == ["cy"]
    [cy] = people.get("people", who="cy")
    assert cy[7] == "odd key" and list(cy) == ["who", "age", 7, "seen"]


def test_filter_on_fields_named_like_get_arguments(store: OmegaStore) -> None:
    store.put({"name": "ann", "kind": "a"}, "clash")
    store.put({"name": "bob", "kind": "b"}, "clash")
    assert store.get("clash", filter={"name": "bob", "kind": "b"}) == [{"name": "bob", "kind": "b"}]


def test_trusted_range_on_aware_datetimes(people: OmegaStore) -> None:
    """An aware datetime's UTC instant is the tag's "v" field, for server-side comparisons."""
    utc_6 = dt.datetime(2024, 5, 1, 6)  # 08:00 in Zurich
    query = {"seen.v": {"$gte": utc_6}}
    assert names(people.get("people", filter=query, trusted=True)) == ["cy"]
    query = {"seen.v": {"$gt": utc_6}}
    assert people.get("people", filter=query, trusted=True) == []


def test_filter_dict(people: OmegaStore) -> None:
    assert names(people.get("people", filter={"addr.city": "Basel"})) == ["bob"]
    # filter wins over keywords on the same field
    assert names(people.get("people", who="ann", filter={"who": "cy"})) == ["cy"]
    assert names(people.get("people", filter={"age__lte": 31})) == ["ann", "bob"]
    assert names(people.get("people", filter={"pos": (3, 4)})) == ["bob"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"filter": {"age": {"$gt": 1}}},
        {"filter": {"$or": [{"who": "ann"}]}},
        {"age": {"$ne": None}},
        {"filter": {"addr.$ne": 1}},
        {"filter": {"$where": "sleep(1000)"}, "trusted": True},
        {"filter": {"age": {"$function": {"body": "x"}}}, "trusted": True},
    ],
    ids=["op-value", "or", "kwarg-op", "op-in-path", "where-trusted", "function-trusted"],
)
def test_operators_are_refused(people: OmegaStore, kwargs: dict) -> None:
    with pytest.raises(ValueError, match="operator|runs code"):
        people.get("people", **kwargs)


def test_trusted_operators(people: OmegaStore) -> None:
    assert names(people.get("people", filter={"age": {"$gt": 30}}, trusted=True)) == ["ann", "cy"]
    result = people.get(
        "people", filter={"$or": [{"who": "bob"}, {"addr.city": "Zurich"}]}, trusted=True
    )
    assert names(result) == ["ann", "bob"]


def test_lazy_cursor(people: OmegaStore) -> None:
    cursor = people.get("people", lazy=True)
    assert not isinstance(cursor, list)
    assert names(cursor) == ["ann", "bob", "cy"]
    assert names(people.get("people", lazy=True).sort("age", -1).limit(2)) == ["cy", "ann"]
    assert names(people.get("people", lazy=True, age__lt=40).skip(1)) == ["bob"]
    with people.get("people", lazy=True).batch_size(1) as cursor:
        first = next(cursor)
        assert first["pos"] == [1, 2]
        assert names(cursor.to_list()) == ["bob", "cy"]
    assert names(people.getl("people", who="cy")) == ["cy"]


# -- force_python ---------------------------------------------------------------------------
def test_get_object_as_python(store: OmegaStore) -> None:
    """As omegaml: python.data gives the object put last; kinds without it: TypeError."""
    store.put({"a": (1, 2)}, "py")
    store.put({"a": 3}, "py")
    assert store.get("py") == [{"a": [1, 2]}, {"a": 3}]
    assert store.get("py", force_python=True) == {"a": 3}
    assert store.get_object_as_python(store.metadata("py")) == {"a": 3}
    store.register_backend("test.rows", _RowsBackend)
    store.put([{"r": 1}, {"r": 2}], "rows", kind="test.rows")
    with pytest.raises(TypeError, match="cannot return kind test.rows as a python object"):
        store.get("rows", force_python=True)


class _AsPythonBackend(_BlobBackend):
    """A kind that defines its own python form."""

    KIND = "test.aspython"

    def get_object_as_python(self, meta: Any, version: int = -1) -> Any:
        return self.open_file(meta).read().decode()


def test_kinds_provide_their_python_form(store: OmegaStore) -> None:
    store.register_backend("test.aspython", _AsPythonBackend)
    store.put(b"text", "blob", kind="test.aspython")
    assert store.get("blob", force_python=True) == "text"


# -- bad input: clear errors, nothing written ---------------------------------------------------
class Custom:
    pass


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ({"a": [1, {"b": Custom()}]}, TypeError, r"obj\['a'\]\[1\]\['b'\].*Custom"),
        ([1, 2**64], ValueError, r"obj\[1\].*64-bit"),
        ({"s": "\udc80"}, ValueError, "unicode"),
        ({"big": b"x" * (17 * 1024 * 1024)}, ValueError, "16,777,216"),
        ({"m": np.ma.masked_array([1, 2])}, TypeError, "subclass"),
        ({"t": dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))}, ValueError,
         "range"),
        ({"ns": np.datetime64("2024-01-01T00:00:00.000000001")}, ValueError, "microsecond"),
        ({"ns": pd.Timestamp("2024-01-01 00:00:00.000000001")}, ValueError, "nanoseconds"),
    ],
    ids=["object", "bigint", "surrogate", "too-large", "masked", "overflow", "datetime64-ns",
         "timestamp-ns"],
)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_bad_input_writes_nothing(
    store: OmegaStore, bad: Any, error: type, match: str, existing: bool
) -> None:
    if existing:
        store.put({"ok": 1}, "bad")
    before = data_footprint(store)
    meta_before = store.metadata("bad")
    with pytest.raises(error, match=match):
        store.put(bad, "bad")
    assert_nothing_written(store, before, "bad", meta_before)
    assert store.get("bad") == ([{"ok": 1}] if existing else None)


def test_bad_items_with_as_many_write_nothing(store: OmegaStore) -> None:
    before = data_footprint(store)
    with pytest.raises(TypeError, match=r"obj\[2\]"):
        store.put([{"a": 1}, {"a": 2}, Custom()], "many", as_many=True)
    assert_nothing_written(store, before, "many", None)


def test_unknown_keyword_is_an_error(store: OmegaStore) -> None:
    with pytest.raises(TypeError, match="unexpected keyword"):
        store.put({"a": 1}, "kw", apend=True)
    assert store.get("kw") is None


def test_put_refuses_non_containers(store: OmegaStore) -> None:
    with pytest.raises(TypeError, match="dicts, lists and tuples"):
        store.put_pyobj_as_document("text", "s")


# -- packaging ------------------------------------------------------------------------------
def test_listed_with_version(store: OmegaStore) -> None:
    info = {i.distribution: i for i in store.plugins.info()}
    assert info["omegacore-python-data"].version == "0.1.0"
    assert [k.kind for k in info["omegacore-python-data"].kinds] == [KIND]
    assert store.plugins.kind(KIND).priority == 10


def test_plugin_and_mixin_import_no_numpy() -> None:
    code = (
        "import sys, omegacore_python_data.plugin, omegacore_python_data.mixin;"
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
