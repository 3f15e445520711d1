"""The write path under faults: torn reads, server crashes, lost connections, odd input.

Killed puts and concurrent appends of every kind are covered by the conformance kit's
``CrashConformance`` and ``AppendConformance`` suites, which each kind runs.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegacore_testing.conformance import data_footprint
from omegacore_testing.crash import PutProcess, journal_entries
from pandas.testing import assert_frame_equal

from omegacore import OmegaStore, hookimpl
from omegacore.errors import PutInterrupted, ServerUnavailable, UnsafePattern
from omegacore.fsck import check as fsck
from omegacore.server import start_server, stop_server


def _frame(n: int, value: float) -> pd.DataFrame:
    return pd.DataFrame({"x": np.full(n, value), "i": np.arange(n)})


@pytest.mark.parametrize("kind", ["rows", "array"])
def test_reads_during_replaces_are_whole(store: OmegaStore, kind: str) -> None:
    """A reader sees the object in full while another process replaces it, never a mix,
    an empty result or a missing file."""
    obj: Any = _frame(2000, 1.5) if kind == "rows" else np.arange(400_000, dtype="f8")
    store.put(obj, "contested")
    writer = PutProcess(store, obj, "contested", {"replace": True}, mode="loop")
    try:
        writer.wait_for("PUT 1")
        reads = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and writer.count("PUT") < 6:
            got = store.get("contested")
            if kind == "rows":
                assert_frame_equal(got, obj)
            else:
                np.testing.assert_array_equal(got, obj)
            reads += 1
        puts = writer.count("PUT")
    finally:
        writer.kill()
    assert reads >= 10 and puts >= 3, (reads, puts)


def test_acknowledged_puts_survive_a_server_crash(tmp_path: Path) -> None:
    state = start_server(tmp_path / "server")
    try:
        store = OmegaStore(mongo_url=state["url"].replace("/?", "/durable?"))
        for i in range(10):
            store.put(np.arange(i + 1), f"array{i}")
            store.put({"i": i}, f"data{i}")
            store.put(pd.DataFrame({"i": [i]}), f"frame{i}")
        os.kill(state["pid"], signal.SIGKILL)
        _wait_gone(state["pid"])
        restarted = start_server(tmp_path / "server")
        store = OmegaStore(mongo_url=restarted["url"].replace("/?", "/durable?"))
        assert len(store.list()) == 30
        for i in range(10):
            np.testing.assert_array_equal(store.get(f"array{i}"), np.arange(i + 1))
            assert store.get(f"data{i}") == [{"i": i}]
            assert store.get(f"frame{i}")["i"].tolist() == [i]
    finally:
        stop_server(tmp_path / "server")


def _wait_gone(pid: int) -> None:
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if Path(f"/proc/{pid}/stat").exists() and " Z " in Path(f"/proc/{pid}/stat").read_text():
            return
        time.sleep(0.05)


def test_unreachable_server_fails_fast_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMEGA_SERVER_TIMEOUT", "1")
    store = OmegaStore(mongo_url="mongodb://127.0.0.1:9/nowhere?retryWrites=false")
    with pytest.raises(ServerUnavailable, match=r"127\.0\.0\.1:9/nowhere within 1 s while "
                                                r"listing|127\.0\.0\.1:9/nowhere within 1 s"):
        store.list()
    with pytest.raises(ServerUnavailable, match="storing 'x'"):
        store.put({"a": 1}, "x")


class _KillServer:
    def __init__(self, pid: int):
        self.pid = pid

    @hookimpl
    def omega_before_commit(self, store: Any, meta: Any, name: str, kind: str) -> None:
        os.kill(self.pid, signal.SIGKILL)
        _wait_gone(self.pid)


def test_server_lost_mid_put_says_whether_it_took_effect(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMEGA_SERVER_TIMEOUT", "1")
    state = start_server(tmp_path / "server")
    try:
        store = OmegaStore(mongo_url=state["url"].replace("/?", "/lost?"))
        store.put(np.arange(3), "arr")
        store.plugins.register(_KillServer(state["pid"]), name="kill-server")
        with pytest.raises(PutInterrupted, match="connection to .* was lost while committing "
                                                 "'arr'") as info:
            store.put(np.arange(5), "arr")
        assert info.value.committed is None  # the server could not be asked
        restarted = start_server(tmp_path / "server")
        store = OmegaStore(mongo_url=restarted["url"].replace("/?", "/lost?"))
        np.testing.assert_array_equal(store.get("arr"), np.arange(3))
        # what the server kept of the put (the journal keeps writes in order: if any of
        # its data survived, so did its journal entry) is an interrupted put, no orphan
        assert {p.kind for p in fsck(store, grace=0).problems} <= {"interrupted-put"}
        store.put(np.arange(7), "arr")  # removes what the interrupted put wrote
        assert data_footprint(store) == ([], 1)
        assert journal_entries(store, "arr") == []
    finally:
        stop_server(tmp_path / "server")


def test_committed_put_returns_even_if_old_data_cannot_be_removed(
        store: OmegaStore, monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    store.put(np.arange(3), "arr")

    def fail(*args: Any) -> None:
        raise RuntimeError("cannot remove now")

    monkeypatch.setattr(store, "_remove_data", fail)
    with caplog.at_level(logging.WARNING, logger="omegacore.staging"):
        meta = store.put(np.arange(4), "arr")
    monkeypatch.undo()
    assert meta.kind == "ndarray.bin"
    np.testing.assert_array_equal(store.get("arr"), np.arange(4))
    assert "could not be removed yet" in caplog.text
    assert data_footprint(store) == ([], 2)  # the old file, left to the journal
    report = fsck(store, repair=True)
    assert [p.kind for p in report.problems] == ["interrupted-put"]
    assert data_footprint(store) == ([], 1)
    assert fsck(store).problems == []


def test_fsck_reports_unreferenced_data_and_leaves_foreign_collections(store: OmegaStore
                                                                       ) -> None:
    store.put(pd.DataFrame({"a": [1, 2]}), "frame")
    store.mongodb["someone.elses"].insert_one({"keep": True})
    stray = store.new_data_key("ghost", "datastore")
    store.mongodb[stray].insert_one({"x": 1})
    report = fsck(store, grace=0)
    kinds = sorted((p.kind, p.repairable) for p in report.problems)
    assert kinds == [("orphan-collection", True), ("unknown-collection", False)]
    fsck(store, repair=True, grace=0)
    names = store.mongodb.list_collection_names()
    assert stray not in names and "someone.elses" in names
    assert store.get("frame")["a"].tolist() == [1, 2]
    assert [p.kind for p in fsck(store, grace=0).problems] == ["unknown-collection"]


def test_fsck_leaves_young_unrecorded_data_alone(store: OmegaStore) -> None:
    stray = store.new_data_key("young", "datastore")
    store.mongodb[stray].insert_one({"x": 1})
    assert fsck(store, repair=True).removed == []  # younger than the grace period
    assert stray in store.mongodb.list_collection_names()


@pytest.mark.parametrize("name", ["$x", ".", "x" * 1000, ".hidden", "a..b", "ü" * 200])
def test_unhashed_names_store_any_name(store_factory: Any, name: str) -> None:
    store = store_factory(defaults={"OMEGA_STORE_HASHEDNAMES": False})
    store.put(pd.DataFrame({"a": [1]}), name)
    store.put(np.arange(2), name + "-array")
    assert store.get(name)["a"].tolist() == [1]
    np.testing.assert_array_equal(store.get(name + "-array"), np.arange(2))
    assert store.drop(name) is True


def test_version_is_refused_where_no_versions_exist(store: OmegaStore) -> None:
    store.put({"a": 1}, "plain")
    # the core's message, or the versions plugin's when it is installed
    with pytest.raises(ValueError, match="version=3.*omegacore-versions"):
        store.get("plain", version=3)
    assert store.get("plain", version=-1) == [{"a": 1}]


def test_flags_take_booleans_only(store: OmegaStore) -> None:
    store.put(pd.DataFrame({"a": [1]}), "frame")
    with pytest.raises(TypeError, match="replace must be True or False"):
        store.put(pd.DataFrame({"a": [2]}), "frame", replace="yes")
    with pytest.raises(TypeError, match="append must be True or False"):
        store.put(pd.DataFrame({"a": [2]}), "frame", append="no")
    assert store.get("frame")["a"].tolist() == [1]


def test_catastrophic_patterns_are_refused(store: OmegaStore) -> None:
    store.put(pd.DataFrame({"s": ["aaa", "b"]}), "strings")
    with pytest.raises(UnsafePattern, match="exponential"):
        store.list(regexp="^(a+)+$")
    with pytest.raises(UnsafePattern, match="exponential"):
        store.get("strings", s__regex="^(a|aa)+$")
    assert store.get("strings", s__regex="^a+$")["s"].tolist() == ["aaa"]
    assert store.list(regexp="^str") == ["strings"]


def test_put_of_a_str_says_no_kind_stores_it(store: OmegaStore) -> None:
    with pytest.raises(TypeError, match="no installed kind stores objects of type builtins.str"):
        store.put("hello", "greeting")
