"""omegacore-revisions on the real server, compared with pandas' own merge of the states."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from omegacore import OmegaStore, fsck
from omegacore.errors import PluginHookError
from omegacore_testing import MixinConformance
from omegacore_testing.faults import fail_before_commit

from omegacore_revisions.changes import DELETE, REVISION
from omegacore_revisions.mixin import RevisionsMixin


class TestRevisionsMixin(MixinConformance):
    mixin = RevisionsMixin
    distribution = "omegacore-revisions"


@pytest.fixture
def data(store_factory: Callable[..., OmegaStore]) -> OmegaStore:
    return store_factory(prefix="data/")


FIRST = pd.DataFrame({"x": [1, 2, 3], "s": ["a", "b", "c"]})
SECOND = pd.DataFrame({"x": [20, 40], "s": ["B", "D"]}, index=[1, 3])
THIRD = pd.DataFrame({"x": [0], "s": ["-"]}, index=[0])


def _expected_after_second() -> pd.DataFrame:
    """pandas: update the labels both have, add the new ones (rows by index)."""
    merged = SECOND.combine_first(FIRST).astype(FIRST.dtypes.to_dict())
    return merged[list(FIRST.columns)]


@pytest.fixture
def revised(data: OmegaStore) -> OmegaStore:
    data.put(FIRST, "prices", revisions=True, revision_dt=dt.datetime(2024, 1, 1))
    data.put(SECOND, "prices", tag="second", revision_dt=dt.datetime(2024, 2, 1))
    data.put(THIRD, "prices", delete=True, revision_dt=dt.datetime(2024, 3, 1))
    return data


def test_current_state_applies_every_changeset(revised: OmegaStore) -> None:
    expected = _expected_after_second().drop(index=[0])
    got = revised.get("prices")
    pd.testing.assert_frame_equal(got.sort_index(), expected)
    assert list(got.index) == [1, 2, 3]  # updated rows in place, new rows after
    assert revised.list() == ["prices"]  # the changesets are a hidden object


def test_states_as_at_each_revision(revised: OmegaStore) -> None:
    pd.testing.assert_frame_equal(revised.get("prices", revision=0), FIRST)
    pd.testing.assert_frame_equal(revised.get("prices", revision=1), _expected_after_second())
    pd.testing.assert_frame_equal(revised.get("prices", revision="second"),
                                  _expected_after_second())
    pd.testing.assert_frame_equal(revised.get("prices@second"), _expected_after_second())
    pd.testing.assert_frame_equal(revised.get("prices@0"), FIRST)
    pd.testing.assert_frame_equal(revised.get("prices", revision=dt.datetime(2024, 2, 15)),
                                  _expected_after_second())
    pd.testing.assert_frame_equal(revised.get("prices", revision=dt.datetime(2023, 1, 1)),
                                  FIRST)
    pd.testing.assert_frame_equal(revised.get("prices", revision=-2),
                                  _expected_after_second())
    with pytest.raises(KeyError, match="no revision tagged 'nope'"):
        revised.get("prices", revision="nope")


def test_changesets_and_traces(revised: OmegaStore) -> None:
    pd.testing.assert_frame_equal(revised.get("prices", changeset=1), SECOND)
    traced = revised.get("prices", trace_revisions=True)
    assert list(traced.columns) == ["x", "s", DELETE, REVISION]
    assert traced.loc[0, DELETE] and traced.loc[0, REVISION] == 2  # flagged, kept
    assert traced.loc[1, REVISION] == 1 and traced.loc[2, REVISION] == 0
    with pytest.raises(KeyError, match="no changeset 7"):
        revised.get("prices", changeset=7)
    assert revised.revisions("prices") == ["prices@0", "prices@1", "prices@2"]
    raw = revised.revisions("prices", raw=True)
    assert [r["tags"] for r in raw] == [[], ["second"], []]
    assert [r["delete"] for r in raw] == [False, False, True]


def test_rows_flagged_for_deletion(data: OmegaStore) -> None:
    data.put(FIRST, "f", revisions=True)
    flagged = pd.DataFrame({"x": [2, 9], "s": ["b", "z"], DELETE: [True, False]},
                           index=[1, 5])
    data.put(flagged, "f")
    expected = pd.concat([FIRST.drop(index=[1]), pd.DataFrame({"x": [9], "s": ["z"]},
                                                              index=[5])])
    pd.testing.assert_frame_equal(data.get("f"), expected)


def test_restart_and_unrevised_objects(data: OmegaStore) -> None:
    data.put(FIRST, "f", revisions=True)
    data.put(SECOND, "f")
    data.put(THIRD, "f", append=False)  # starts again
    pd.testing.assert_frame_equal(data.get("f"), THIRD)
    assert data.revisions("f") == ["f@0"]
    data.put(FIRST, "plain")
    with pytest.raises(ValueError, match="delete= needs a revised frame"):
        data.put(FIRST, "plain", delete=True)
    with pytest.raises(ValueError, match="'plain' has no revisions"):
        data.get("plain", revision=0)
    with pytest.raises(ValueError, match="exists without revisions"):
        data.put(FIRST, "plain", revisions=True)
    with pytest.raises(ValueError, match="must have the stored columns"):
        data.put(pd.DataFrame({"y": [1]}), "f")
    assert data.revisions("plain") is None


def test_failed_changeset_leaves_the_state_and_history(data: OmegaStore) -> None:
    data.put(FIRST, "f", revisions=True)
    with fail_before_commit(data, "f"), pytest.raises(PluginHookError):
        data.put(SECOND, "f")
    pd.testing.assert_frame_equal(data.get("f"), FIRST)
    assert data.revisions("f") == ["f@0"]
    data.put(SECOND, "f")  # the changeset the failed put left is not part of history
    pd.testing.assert_frame_equal(data.get("f", changeset=1), SECOND)
    pd.testing.assert_frame_equal(data.get("f").sort_index(), _expected_after_second())
    assert [p for p in fsck.check(data, grace=0).problems if p.repairable] == []


def test_drop_removes_the_changesets(revised: OmegaStore) -> None:
    revised.drop("prices")
    assert revised.list(hidden=True, include_temp=True) == []
    assert not revised.exists(".revisions.prices", hidden=True)


def test_many_changesets_match_pandas(data: OmegaStore) -> None:
    rng = np.random.default_rng(5)
    state = pd.DataFrame({"v": rng.random(50)}, index=np.arange(50))
    data.put(state, "r", revisions=True)
    states = [state]
    for _ in range(1, 6):
        labels = rng.choice(70, size=15, replace=False)
        change = pd.DataFrame({"v": rng.random(15)}, index=labels)
        data.put(change, "r")
        state = change.combine_first(state)
        states.append(state)
    for i, expected in enumerate(states[:-1]):  # rebuilt from changesets: by index
        pd.testing.assert_frame_equal(data.get("r", revision=i), expected)
    # the latest is the stored state: updated rows in place, new rows after
    pd.testing.assert_frame_equal(data.get("r", revision=5).sort_index(), states[-1])
    pd.testing.assert_frame_equal(data.get("r").sort_index(), states[-1])


def test_omegamls_layout(revised: OmegaStore) -> None:
    """The fields and record omegaml 0.18 reads (checked with omegaml itself: it reads the
    same states, changesets and revisions from what this test stores)."""
    meta = revised.metadata("prices")
    record = meta.kind_meta["revisions"]
    assert (record["seq"], record["name"]) == (2, ".revisions.prices")
    assert [c["seq"] for c in record["changes"]] == [0, 1, 2]
    state = revised.collection("prices").find_one({}, {"_id": 0})
    assert {"x", "s", "_delete_", "_om#revision", "_om#rowid"} <= set(state)
    changesets = revised.metadata(".revisions.prices")
    assert revised.mongodb[changesets.collection].count_documents({"_om#revision": 1}) == 2
