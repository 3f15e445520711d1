"""pandas.rawdict: conformance, registered collections, raw dicts, filters, lazy frames."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegacore import OmegaStore
from omegacore.errors import NoKindForObject, PluginHookError
from omegacore_testing import KindConformance, data_footprint
from omegacore_testing.crash import AppendConformance, CrashConformance
from omegacore_testing.faults import fail_before_commit
from pandas.testing import assert_frame_equal

KIND = "pandas.rawdict"
EVENTS = [
    {"user": {"id": 1, "name": "ann"}, "n": 1},
    {"user": {"id": 2, "name": "bob"}, "n": 2, "extra": [1, 2]},
    {"user": {"id": 3, "name": None}, "n": 3},
]


def frame(columns: dict[str, list[Any]], objects: tuple[str, ...] = ()) -> pd.DataFrame:
    """A frame with the given object columns (strings with None) and object labels, as
    omegaml gives them."""
    out = pd.DataFrame({k: pd.Series(v, dtype=object if k in objects else None)
                        for k, v in columns.items()})
    out.columns = out.columns.astype(object)
    return out


class TestRawDictConformance(KindConformance, CrashConformance):
    kind = KIND
    put_kwargs = {"as_raw": True}

    def make_object(self, variant: int) -> Any:
        return [{"v": variant, "s": "x"}, {"v": variant + 1, "s": "y", "d": {"e": 1.5}}]

    def unsupported_objects(self) -> list[Any]:
        return [object(), 1, "text", [1, 2], ({"a": 1}, 3)]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert_frame_equal(actual, frame(
            {"v": [d["v"] for d in expected], "s": ["x", "y"], "d.e": [np.nan, 1.5]},
            objects=("s",)))


class TestRawDictAppends(AppendConformance):
    kind = KIND
    append_kwargs = {"as_raw": True, "append": True}

    def make_part(self, writer: int, i: int) -> list[dict[str, Any]]:
        return [{"writer": writer, "part": i, "row": r} for r in range(3)]

    def combine(self, parts: list[Any]) -> pd.DataFrame:
        rows = [row for part in parts for row in part]
        return frame({k: [r[k] for r in rows] for k in ("writer", "part", "row")})

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert_frame_equal(actual, expected)

    def assert_same_parts(self, parts: list[Any], actual: Any) -> None:
        expected = sorted((r["writer"], r["part"], r["row"]) for part in parts for r in part)
        assert sorted(actual.itertuples(index=False, name=None)) == expected


@pytest.fixture
def events(store: OmegaStore) -> OmegaStore:
    store.mongodb["external_events"].insert_many([dict(e) for e in EVENTS])
    store.put(store.mongodb["external_events"], "events")
    return store


def test_register_a_collection(events: OmegaStore) -> None:
    meta = events.metadata("events")
    assert (meta.kind, meta.collection, meta.kind_meta) == (KIND, "external_events", {})
    assert meta.storage == {"external": True}
    expected = frame({"n": [1, 2, 3], "user.id": [1, 2, 3], "user.name": ["ann", "bob", None],
                      "extra": [np.nan, [1, 2], np.nan]}, objects=("user.name", "extra"))
    got = events.get("events")
    assert_frame_equal(got, expected)
    assert got["user.name"].tolist() == ["ann", "bob", None]  # None, not NaN, as omegaml
    raw = events.get("events", raw=True)
    assert list(raw.columns) == ["_id", *expected.columns]
    ids = [d["_id"] for d in events.mongodb["external_events"].find()]
    assert raw["_id"].tolist() == ids


def test_registered_collection_is_never_dropped(events: OmegaStore) -> None:
    coll = events.mongodb["external_events"]
    events.put(events.mongodb["other"], "events")  # replacing the registration
    assert coll.count_documents({}) == 3
    events.put({"x": 1}, "events", as_raw=True, append=False)  # replacing by own data
    assert coll.count_documents({}) == 3
    events.put(coll, "events")
    assert events.drop("events") is True
    assert coll.count_documents({}) == 3
    assert "external_events" in events.mongodb.list_collection_names()


def test_register_checks_the_database(store: OmegaStore) -> None:
    other = store.mongodb.client["some_other_database"]["c"]
    with pytest.raises(ValueError, match="another one"):
        store.put(other, "elsewhere")
    assert store.list() == []


def test_filters(events: OmegaStore) -> None:
    assert events.get("events", n=2)["user.name"].tolist() == ["bob"]
    assert events.get("events", filter={"n": 2})["n"].tolist() == [2]
    assert events.get("events", n__gte=2, filter={"user.id__lt": 3})["n"].tolist() == [2]
    assert events.get("events", **{"user.id": 3})["n"].tolist() == [3]
    assert events.get("events", n__in=[1, 3])["n"].tolist() == [1, 3]
    assert events.get("events", extra__exists=True)["n"].tolist() == [2]
    assert events.get("events", filter={"n": {"$gt": 2}}, trusted=True)["n"].tolist() == [3]
    with pytest.raises(ValueError, match="operator"):
        events.get("events", filter={"n": {"$gt": 2}})
    with pytest.raises(ValueError, match=r"'gtt' is not an operator.*did you mean n__gt"):
        events.get("events", n__gtt=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'lazzy'"):
        events.get("events", lazzy=True)
    assert events.get("events", n=99).empty  # a real field: no rows, no error


def test_parser_replaces_the_frame(events: OmegaStore) -> None:
    assert events.get("events", parser=lambda docs: [d["n"] for d in docs]) == [1, 2, 3]
    got = events.get("events", parser=lambda docs: pd.DataFrame([{"n": d["n"]} for d in docs]))
    assert_frame_equal(got, pd.DataFrame({"n": [1, 2, 3]}))  # the parser's frame, as made
    with pytest.raises(TypeError, match="parser="):
        events.get("events", parser="json")


def test_lazy_frames(events: OmegaStore) -> None:
    lazy = events.getl("events")
    assert len(lazy) == 3 and lazy.columns == ["n", "user.id", "user.name"]
    assert_frame_equal(lazy.value, events.get("events"))
    assert lazy.query(n__gt=1).value["n"].tolist() == [2, 3]
    assert lazy.head(1)["n"].tolist() == [1]
    assert lazy.skip(1).limit(1).value["n"].tolist() == [2]
    assert [len(c) for c in lazy.iterchunks(2)] == [2, 1]
    raw = events.getl("events", raw=True).value
    assert "_id" in raw.columns and len(raw) == 3
    assert events.get("events", lazy=True, n=1).value["n"].tolist() == [1]


def test_raw_dicts(store: OmegaStore) -> None:
    meta = store.put({"a": 1, "b": {"c": 2}}, "rawone", as_raw=True)
    assert meta.kind == KIND and not meta.storage.get("external")
    assert_frame_equal(store.get("rawone"), frame({"a": [1], "b.c": [2]}))
    store.put([{"a": 2}, {"a": 3, "z": "x"}], "rawone", as_raw=True)  # appended
    assert_frame_equal(store.get("rawone"), frame(
        {"a": [1, 2, 3], "b.c": [2.0, np.nan, np.nan], "z": [np.nan, np.nan, "x"]},
        objects=("z",)))
    docs = list(store.mongodb[meta.collection].find({}, {"_id": 0, "_om#rowid": 0}))
    assert docs == [{"a": 1, "b": {"c": 2}}, {"a": 2}, {"a": 3, "z": "x"}]  # as given
    store.put([{"a": 9}], "rawone", as_raw=True, append=False)
    assert store.get("rawone")["a"].tolist() == [9]
    assert len(data_footprint(store)[0]) == 1, "the replaced collection was left behind"


def test_dicts_into_a_registered_collection(events: OmegaStore) -> None:
    events.put([{"n": 4}], "events", as_raw=True)
    assert events.get("events")["n"].tolist() == [1, 2, 3, 4]
    assert events.mongodb["external_events"].count_documents({}) == 4
    assert events.metadata("events").storage == {"external": True}


def test_failed_put_into_a_registered_collection_removes_only_its_documents(
    events: OmegaStore,
) -> None:
    coll = events.mongodb["external_events"]
    first = coll.find_one({"n": 1})
    with fail_before_commit(events), pytest.raises(PluginHookError, match="injected failure"):
        events.put([{"n": 5}, {"n": 6}], "events", as_raw=True)
    assert coll.count_documents({}) == 3
    with pytest.raises(Exception, match="(?i)duplicate"):  # the same _id twice
        events.put([{"n": 7}, {"_id": first["_id"], "n": 8}], "events", as_raw=True)
    assert sorted(d["n"] for d in coll.find()) == [1, 2, 3]  # the original kept


def test_what_is_not_raw(store: OmegaStore) -> None:
    assert store.put({"q": 1}, "plain").kind == "python.data"  # without as_raw
    with pytest.raises(TypeError, match="as_raw"):  # not dicts: python.data's, refused
        store.put([1, 2], "nums", as_raw=True)
    with pytest.raises(NoKindForObject):
        store.put(3, "num", as_raw=True)
    with pytest.raises(TypeError, match="BSON"):
        store.put({"a": object()}, "bad", as_raw=True)
    with pytest.raises(TypeError, match="unexpected keyword argument index; it takes"):
        store.put({"a": 1}, "bad", as_raw=True, index=["a"])
    assert store.list() == ["plain"]


def test_reads_omegaml_rawdict_metadata(store: OmegaStore) -> None:
    """omegaml's metadata of a registered collection: kind, collection, kind_meta {}."""
    store.mongodb["legacy_events"].insert_many([dict(e) for e in EVENTS[:2]])
    store._metadata_collection.insert_one({
        "name": "legacy", "bucket": store.bucket, "prefix": store.prefix, "kind": KIND,
        "collection": "legacy_events", "kind_meta": {}, "attributes": {}, "s3file": {},
    })
    assert store.get("legacy")["user.name"].tolist() == ["ann", "bob"]
    assert store.get("legacy", n=2)["n"].tolist() == [2]


def test_listed_with_version(store: OmegaStore) -> None:
    info = {i.distribution: i for i in store.plugins.info()}
    assert info["omegacore-pandas-rawdict"].version == "0.1.0"
    assert [k.kind for k in info["omegacore-pandas-rawdict"].kinds] == [KIND]
    assert store.plugins.kind(KIND).priority == 40


def test_choosing_the_kind_imports_no_pandas() -> None:
    code = (
        "import sys, omegacore_pandas_rawdict.plugin, omegacore_pandas_rawdict.backend as b;"
        "print(b.RawDictBackend.supports({'a': 1}, 'x'), 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
