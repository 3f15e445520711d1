"""Row groups shared between objects: ``share_with=`` and the versions that use it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegacore import OmegaStore, SharedDataGone, hookimpl
from omegacore.errors import PluginHookError
from omegacore_testing import data_footprint


def _frame(rows: int = 10_000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": np.arange(rows, dtype="int64"), "y": rng.normal(size=rows),
                         "k": [f"k{i % 7}" for i in range(rows)]})


def _gridfs_bytes(store: OmegaStore) -> int:
    files = store.mongodb[f"{store.fs_collection}.files"]
    return sum(doc["length"] for doc in files.find({}, {"length": 1}))


def _group_bytes(store: OmegaStore, name: str) -> list[int]:
    parts = store.metadata(name, raw=True).kind_meta["parts"]
    return [group["bytes"] for part in parts for group in part["groups"]]


def test_a_version_changed_in_the_middle_stores_only_that_row_group(
        store: OmegaStore) -> None:
    df = _frame()
    store.put(df, "prices", as_parquet=True, versions=True, row_group_size=1_000, tag="v1")
    first = _gridfs_bytes(store)
    changed = df.copy()
    changed.loc[4_500, "y"] = 99.0  # row group 4 of 10
    store.put(changed, "prices", as_parquet=True, row_group_size=1_000, tag="v2")
    written = _gridfs_bytes(store) - first
    groups = _group_bytes(store, "prices@v2")
    assert len(groups) == 10
    assert groups[4] < written < groups[4] + 4_096, "one row group and a footer"
    parts = store.metadata("prices@v2", raw=True).kind_meta["parts"]
    assert [len(p["groups"]) for p in parts] == [4, 1, 5]
    assert [g["index"] for g in parts[2]["groups"]] == [5, 6, 7, 8, 9]
    pd.testing.assert_frame_equal(store.get("prices"), changed)
    pd.testing.assert_frame_equal(store.get("prices@v1"), df)
    # columns, filters and lazy chunks read the shared row groups where they are
    pd.testing.assert_frame_equal(store.get("prices", columns=["y"]), changed[["y"]])
    got = store.get("prices", x__gte=4_499, x__lt=4_502)
    assert got.y.tolist() == changed.y.iloc[4_499:4_502].tolist() and got.y[4_500] == 99.0
    chunks = list(store.getl("prices").iterchunks())
    assert [len(c) for c in chunks] == [1_000] * 10
    pd.testing.assert_frame_equal(pd.concat(chunks), changed)
    # the first version goes: only its changed row group had no other user
    store.drop("prices@v1")
    pd.testing.assert_frame_equal(store.get("prices"), changed)
    store.drop("prices")
    assert data_footprint(store) == ([], 0)


def test_a_grown_frame_shares_every_earlier_row_group(store: OmegaStore) -> None:
    """Boundaries follow the stored row groups, appended ones included."""
    df = _frame(2_500)
    store.put(df, "log", as_parquet=True, versions=True, row_group_size=1_000)
    more = _frame(300, seed=6).assign(x=lambda d: d.x + 2_500).set_axis(range(2_500, 2_800))
    store.put(more, "log", as_parquet=True, append=True)
    before = _gridfs_bytes(store)
    grown = pd.concat([df, more, _frame(10, seed=7).set_axis(range(2_800, 2_810))])
    store.put(grown, "log", as_parquet=True, row_group_size=1_000)
    rows = [g["rows"] for p in store.metadata("log", raw=True).kind_meta["parts"]
            for g in p["groups"]]
    assert rows == [1_000, 1_000, 500, 300, 10]
    assert _gridfs_bytes(store) - before < 4_096, "only the 10 new rows (and a footer)"
    pd.testing.assert_frame_equal(store.get("log"), grown)


def test_an_unchanged_frame_writes_nothing_and_keeps_its_own_labels(
        store: OmegaStore) -> None:
    df = _frame(3_000)
    store.put(df, "same", as_parquet=True, versions=True, row_group_size=1_000)
    before = _gridfs_bytes(store)
    renamed = df.rename_axis(columns="fields")  # the same row groups, other pandas labels
    store.put(renamed, "same", as_parquet=True, row_group_size=1_000)
    assert _gridfs_bytes(store) == before
    pd.testing.assert_frame_equal(store.get("same"), renamed)
    assert store.get("same").columns.name == "fields"
    assert store.get("same", version=-2).columns.name is None


def test_share_with_another_object(store: OmegaStore) -> None:
    """Two objects share row groups; each drop frees only what the other does not use."""
    df = _frame()
    store.put(df, "a", as_parquet=True, row_group_size=1_000)
    alone = _gridfs_bytes(store)
    b = df.iloc[:5_000]
    store.put(b, "b", as_parquet=True, row_group_size=1_000, share_with="a")
    assert _gridfs_bytes(store) == alone, "b's row groups are all a's"
    store.drop("a")
    pd.testing.assert_frame_equal(store.get("b"), b)
    assert _gridfs_bytes(store) == alone, "a's file holds b's row groups: it stays"
    store.put(_frame(5_000, seed=9), "b", as_parquet=True, replace=True)
    assert _gridfs_bytes(store) < alone, "no object uses a's file any more"
    store.drop("b")
    assert data_footprint(store) == ([], 0)


def test_share_with_refuses_what_it_cannot_use(store: OmegaStore) -> None:
    df = _frame(100)
    store.put(df, "rows")  # pandas.dfrows
    with pytest.raises(ValueError, match="no such object"):
        store.put(df, "p", as_parquet=True, share_with="missing")
    with pytest.raises(ValueError, match="stored as pandas.dfrows"):
        store.put(df, "p", as_parquet=True, share_with="rows")
    store.put(df, "p", as_parquet=True)
    with pytest.raises(ValueError, match="whole puts"):
        store.put(df, "p", as_parquet=True, append=True, share_with="p")
    with pytest.raises(TypeError, match="name of a stored object"):
        store.put(df, "q", as_parquet=True, share_with=3)
    assert not store.exists("q")
    # other columns or compression: nothing can be shared, the frame is stored whole
    other = df.assign(z=1.5)
    store.put(other, "q", as_parquet=True, share_with="p")
    parts = store.metadata("q", raw=True).kind_meta["parts"]
    assert len(parts) == 1 and all("index" not in g for g in parts[0]["groups"])
    pd.testing.assert_frame_equal(store.get("q"), other)


class _OnCommit:
    """Runs ``action`` when ``name`` is about to commit (another process's move)."""

    def __init__(self, name: str, action: Any):
        self.name, self.action = name, action

    @hookimpl
    def omega_before_commit(self, store: Any, meta: Any, name: str, kind: str) -> None:
        if name == self.name:
            self.action()


def _files(store: OmegaStore) -> set[Any]:
    files = store.mongodb[f"{store.fs_collection}.files"]
    return {doc["_id"] for doc in files.find({}, {"_id": 1})}


def test_a_drop_during_a_sharing_put_leaves_the_shared_files(store: OmegaStore) -> None:
    """The put pins what it shares before the drop looks: the drop keeps those files."""
    df = _frame()
    store.put(df, "a", as_parquet=True, row_group_size=1_000)
    shared = _files(store)
    store.plugins.register(_OnCommit("b", lambda: store.drop("a")), name="drop-a")
    try:
        store.put(df.iloc[:5_000], "b", as_parquet=True, row_group_size=1_000,
                  share_with="a")
    finally:
        store.plugins.unregister(name="drop-a")
    assert not store.exists("a") and _files(store) == shared
    pd.testing.assert_frame_equal(store.get("b"), df.iloc[:5_000])
    store.drop("b")
    assert data_footprint(store) == ([], 0)


def test_a_failed_sharing_put_removes_what_a_drop_left_to_it(store: OmegaStore) -> None:
    df = _frame()
    store.put(df, "a", as_parquet=True, row_group_size=1_000)

    def drop_then_fail() -> None:
        store.drop("a")
        raise RuntimeError("the put fails after the drop")

    store.plugins.register(_OnCommit("b", drop_then_fail), name="drop-a")
    try:
        with pytest.raises(PluginHookError, match="fails after the drop"):
            store.put(df.iloc[:5_000], "b", as_parquet=True, row_group_size=1_000,
                      share_with="a")
    finally:
        store.plugins.unregister(name="drop-a")
    assert not store.exists("b")
    assert data_footprint(store) == ([], 0), "no orphan: the put removed a's files"


def test_a_put_does_not_share_files_a_removal_is_deleting(store: OmegaStore) -> None:
    """A removal marks files before it looks for users: a put that sees the mark stores
    nothing (plain puts) or its data whole (versions)."""
    from omegacore.journal import DELETING_FIELD

    df = _frame()
    store.put(df, "a", as_parquet=True, row_group_size=1_000)
    files = store.mongodb[f"{store.fs_collection}.files"]
    files.update_many({}, {"$set": {DELETING_FIELD: True}})  # a removal in progress
    with pytest.raises(SharedDataGone, match="put again"):
        store.put(df, "b", as_parquet=True, row_group_size=1_000, share_with="a")
    assert not store.exists("b") and len(_files(store)) == 1
    files.update_many({}, {"$unset": {DELETING_FIELD: ""}})
    store.put(df, "v", as_parquet=True, versions=True, row_group_size=1_000)
    files.update_many({}, {"$set": {DELETING_FIELD: True}})
    changed = df.assign(y=df.y + 1)
    store.put(changed, "v", as_parquet=True, row_group_size=1_000)  # stored whole
    parts = store.metadata("v", raw=True).kind_meta["parts"]
    assert len(parts) == 1 and "index" not in parts[0]["groups"][0]
    pd.testing.assert_frame_equal(store.get("v"), changed)
    files.update_many({}, {"$unset": {DELETING_FIELD: ""}})


def test_an_ended_puts_pins_are_cleaned_up(store: OmegaStore) -> None:
    """A put killed while it shared files leaves a journal entry with ``kept``: cleaning
    it up removes the kept files no object references (a drop had left them to it)."""
    from bson import ObjectId
    from omegacore.journal import JOURNAL_COLLECTION, cleanup, pinned

    df = _frame(100)
    store.put(df, "a", as_parquet=True)
    store.put(df, "c", as_parquet=True)
    (a_file,) = _files(store) - {store.metadata("c").kind_meta["parts"][0]["file"]}
    entry = {"id": ObjectId(), "fs": store.fs_collection, "kept": [a_file]}
    store.mongodb[JOURNAL_COLLECTION].insert_one({"_id": "killed", "intents": [entry]})
    assert pinned(store.mongodb, [a_file]) == {a_file}
    store.drop("a")
    assert a_file in _files(store), "pinned: the drop left it"
    assert cleanup(store.mongodb, entry) == [f"GridFS file {a_file} ({store.fs_collection})"]
    assert a_file not in _files(store) and len(_files(store)) == 1
    store.mongodb[JOURNAL_COLLECTION].delete_one({"_id": "killed"})


def test_fsck_clears_the_mark_of_a_removal_that_died(store: OmegaStore) -> None:
    from omegacore import fsck
    from omegacore.documents import utcnow
    from omegacore.journal import DELETING_FIELD

    df = _frame(3_000)
    store.put(df, "a", as_parquet=True, row_group_size=1_000)
    files = store.mongodb[f"{store.fs_collection}.files"]
    files.update_many({}, {"$set": {DELETING_FIELD: utcnow()}})
    report = fsck.check(store, repair=True, grace=0)
    assert [p.kind for p in report.problems] == ["stale-deleting-mark"]
    assert files.count_documents({DELETING_FIELD: {"$exists": True}}) == 0
    before = len(_files(store))
    store.put(df.iloc[:2_000], "b", as_parquet=True, row_group_size=1_000, share_with="a")
    assert len(_files(store)) == before, "shared again"
