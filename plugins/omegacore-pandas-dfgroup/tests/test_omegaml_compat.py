"""Grouped data as omegaml 0.18 writes it: ``{key: val, ..., _data: [{col: val}, ...]}`` per
group, metadata of kind ``pandas.dfgroup`` without a layout. Built by hand, read by our store."""

from __future__ import annotations

import datetime as dt
from typing import Any

import bson
import pandas as pd
import pytest
from bson import Binary, Code, Decimal128, MaxKey, MinKey, ObjectId, Regex, Timestamp
from omegacore_pandas_dfgroup.decode import split_group_document
from omegacore_pandas_dfgroup.layout import DATA_FIELD

from omegacore import OmegaStore

GROUPS: list[dict[str, Any]] = [
    {"region": "EU", "year": 2023, DATA_FIELD: [
        {"sales": 10.5, "units": 3, "day": dt.datetime(2023, 1, 2), "note": "first"},
        {"sales": 7.0, "units": 1, "day": dt.datetime(2023, 1, 5), "note": None},
    ]},
    {"region": "US", "year": 2023, DATA_FIELD: [
        {"sales": 1.25, "units": 10, "day": dt.datetime(2023, 2, 1), "note": "big"},
    ]},
    {"region": "EU", "year": 2024, DATA_FIELD: [
        {"sales": 3.0, "units": 2, "day": dt.datetime(2024, 3, 1), "note": "x"},
        {"sales": 4.0, "units": 5, "day": dt.datetime(2024, 3, 2), "note": "y"},
        {"sales": 5.5, "units": 7, "day": dt.datetime(2024, 3, 3), "note": "z"},
    ]},
]


def omegaml_frame(groups: list[dict[str, Any]]) -> pd.DataFrame:
    """What omegaml's get_dataframe_dfgroup returns: group keys, then each row's fields."""
    rows = []
    for doc in groups:
        keys = {k: v for k, v in doc.items() if k not in ("_id", DATA_FIELD)}
        rows.extend({**keys, **row} for row in doc[DATA_FIELD])
    frame = pd.DataFrame(rows)
    for column in frame.columns:  # strings are object columns holding None, as in omegaml
        if isinstance(frame[column].dtype, pd.StringDtype):
            frame[column] = pd.Series([row.get(column) for row in rows], dtype=object)
    frame.columns = frame.columns.astype(object)  # and labels an object index
    return frame


@pytest.fixture
def legacy(store: OmegaStore) -> OmegaStore:
    """A grouped object written the way omegaml 0.18 writes it."""
    collection = store.collection("legacy")  # omegaml's naming of the object's collection
    collection.insert_many([dict(g) for g in GROUPS])
    store.Metadata(name="legacy", bucket=store.bucket, prefix=store.prefix,
                   kind="pandas.dfgroup", attributes={}, collection=collection.name).save()
    return store


def test_read_as_omegaml_did(legacy: OmegaStore) -> None:
    got = legacy.get("legacy")
    expected = omegaml_frame(GROUPS)
    assert list(got.columns) == ["region", "year", "sales", "units", "day", "note"]
    pd.testing.assert_frame_equal(got, expected)
    assert got["year"].dtype == "int64" and got["day"].dtype.kind == "M"
    pd.testing.assert_frame_equal(legacy.get_dataframe_dfgroup("legacy"), expected)


def test_filter_omegaml_data(legacy: OmegaStore) -> None:
    full = omegaml_frame(GROUPS)
    pd.testing.assert_frame_equal(legacy.get("legacy", region="EU"),
                                  full[full.region == "EU"].reset_index(drop=True))
    got = legacy.get("legacy", units__gt=2)
    pd.testing.assert_frame_equal(got, full[full.units > 2].reset_index(drop=True))
    got = legacy.get_dataframe_dfgroup("legacy", kwargs={"year": 2024, "sales__lt": 5})
    pd.testing.assert_frame_equal(
        got, full[(full.year == 2024) & (full.sales < 5)].reset_index(drop=True))
    got = legacy.get("legacy", day__gte=dt.datetime(2023, 2, 1), note__isnull=False)
    pd.testing.assert_frame_equal(
        got, full[(full.day >= "2023-02-01") & full.note.notna()].reset_index(drop=True))


def test_rebuild_params_on_omegaml_data(legacy: OmegaStore) -> None:
    coll = legacy.collection("legacy")
    params = legacy.rebuild_params({"region": "EU", "units__gt": 2}, coll)
    assert params == {"region": {"$eq": "EU"},
                      DATA_FIELD: {"$elemMatch": {"units": {"$gt": 2}}}}
    assert [(d["region"], d["year"]) for d in coll.find(params)] == [("EU", 2023), ("EU", 2024)]


def test_replace_and_append_omegaml_data(legacy: OmegaStore) -> None:
    frame = legacy.get("legacy")
    with pytest.raises(ValueError, match="grouped data written by omegaml: it is grouped by"):
        legacy.put(frame, "legacy", groupby=["region"], append=True)
    legacy.put(frame.iloc[:1], "legacy", groupby=["region", "year"], append=True)
    pd.testing.assert_frame_equal(legacy.get("legacy"),
                                  pd.concat([frame, frame.iloc[:1]], ignore_index=True))
    legacy.put(frame, "legacy", groupby=["region", "year"], append=False)
    pd.testing.assert_frame_equal(legacy.get("legacy"), frame)
    assert len(legacy.list()) == 1


def test_group_documents_with_any_bson_key_type() -> None:
    """Splitting a document into keys and rows copes with every BSON type of a key."""
    keys: dict[str, Any] = {
        "_id": ObjectId(), "f": 1.5, "s": "text", "doc": {"a": [1, {"b": None}]},
        "arr": [1, "two"], "bin": Binary(b"\x00\x01", 5), "oid": ObjectId(), "b": True,
        "when": dt.datetime(2024, 1, 1), "none": None, "re": Regex("^a.*", "i"),
        "code": Code("f()"), "scoped": Code("g()", {"x": 1}), "i32": 7, "ts": Timestamp(5, 1),
        "i64": bson.Int64(2**40), "dec": Decimal128("1.5"), "min": MinKey(), "max": MaxKey(),
    }
    rows = [{"x": 1}, {"x": 2, "y": "z"}]
    doc = bson.encode({**dict(list(keys.items())[:5]), DATA_FIELD: rows,
                       **dict(list(keys.items())[5:])})
    head, elements = split_group_document(doc)
    assert bson.decode(head) == keys
    assert [bson.decode(e) for e in elements] == rows
    unwound = bson.encode({**keys, DATA_FIELD: rows[1]})
    head, elements = split_group_document(unwound)
    assert bson.decode(head) == keys and [bson.decode(e) for e in elements] == [rows[1]]
    assert split_group_document(bson.encode(keys)) == (bson.encode(keys), [])
