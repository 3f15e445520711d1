"""Writes to objects omegaml 0.18 wrote: appends, replaces, failed appends.

Appended rows go into omegaml's fields under omegaml's metadata, so both omegaml and we
keep reading the object (omegaml reading them was checked with omegaml 0.18 itself; see
docs/compatibility.md). A failed append leaves the object as omegaml wrote it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from omegacore_testing.faults import fail_before_commit

sys.path.insert(0, str(Path(__file__).parent))

from omegaml018_loader import read_fixture, restore_fixture  # noqa: E402

from omegacore import OmegaStore, fsck  # noqa: E402
from omegacore.errors import PluginHookError  # noqa: E402

ROWS = sorted(
    c["name"] for c in read_fixture()["cases"]
    if c["kind"] in ("pandas.dfrows", "pandas.serows") and not c["kwargs"]
    and c["name"] != "revised" and c["prefix"] == "data/"
)


@pytest.fixture
def legacy(omega_database_url: str, store_factory: Callable[..., OmegaStore]) -> OmegaStore:
    """A store on a database holding what omegaml 0.18 wrote."""
    restore_fixture(omega_database_url)
    return store_factory(prefix="data/")


def _with_first_rows_again(obj: Any, rows: int) -> Any:
    """``obj`` followed by its first ``rows`` rows (dtypes kept, as pd.concat may not)."""
    return obj.iloc[[*range(len(obj)), *range(rows)]]


@pytest.mark.parametrize("name", ROWS)
def test_append_to_rows_omegaml_wrote(legacy: OmegaStore, name: str) -> None:
    before = legacy.get(name)
    meta = legacy.metadata(name)
    legacy.put(before.iloc[:2], name, append=True)
    after = legacy.get(name)
    assert type(after) is type(before)
    if isinstance(after, pd.Series):
        pd.testing.assert_series_equal(after, _with_first_rows_again(before, 2))
    else:
        pd.testing.assert_frame_equal(after, _with_first_rows_again(before, 2))
    again = legacy.metadata(name)
    assert (again.kind, again.kind_meta, again.collection) == (
        meta.kind, meta.kind_meta, meta.collection)


def test_append_with_other_columns_is_refused_and_loses_nothing(legacy: OmegaStore) -> None:
    before = legacy.get("frame_basic")
    with pytest.raises(ValueError, match="written by omegaml: the index levels, columns"):
        legacy.put(before.rename(columns={"f": "g"}), "frame_basic", append=True)
    pd.testing.assert_frame_equal(legacy.get("frame_basic"), before)


def test_failed_append_leaves_what_omegaml_wrote(legacy: OmegaStore) -> None:
    before = legacy.get("frame_multiindex")
    with fail_before_commit(legacy), pytest.raises(PluginHookError):
        legacy.put(before, "frame_multiindex", append=True)
    pd.testing.assert_frame_equal(legacy.get("frame_multiindex"), before)
    assert not fsck.check(legacy, grace=0).removed
    legacy.put(before, "frame_multiindex", append=True)
    assert len(legacy.get("frame_multiindex")) == 2 * len(before)
    repairable = [p for p in fsck.check(legacy, grace=0).problems if p.repairable]
    assert repairable == []


def test_append_groups_to_grouped_data_omegaml_wrote(legacy: OmegaStore) -> None:
    before = legacy.get("grouped")
    extra = pd.DataFrame({"region": ["west", "north"], "price": [9.5, 8.5],
                          "sales": [90, 80]})[list(before.columns)]
    legacy.put(extra, "grouped", groupby="region", append=True)
    after = legacy.get("grouped")
    # omegaml's rows first (as stored, by group), then the appended rows in put order
    expected = pd.concat([before, extra], ignore_index=True)
    pd.testing.assert_frame_equal(after, expected, check_dtype=False)
    assert list(after.columns) == list(before.columns)
    assert legacy.get("grouped", region="west")["sales"].tolist() == [90]


def test_append_without_groupby_to_grouped_data_is_refused(legacy: OmegaStore) -> None:
    before = legacy.get("grouped")
    with pytest.raises(ValueError, match="stored as pandas.dfgroup.*groupby= to append"):
        legacy.put(before, "grouped", append=True)
    pd.testing.assert_frame_equal(legacy.get("grouped"), before)


def test_append_to_python_data_omegaml_wrote(legacy: OmegaStore) -> None:
    before = legacy.get("pydict")
    legacy.put({"k": 9, "name": "added"}, "pydict", append=True)
    assert legacy.get("pydict") == [*before, {"k": 9, "name": "added"}]


@pytest.mark.parametrize("name", ["frame_basic", "series_dt", "grouped", "hdf_frame",
                                  "array_int", "pytuple"])
def test_replace_what_omegaml_wrote(legacy: OmegaStore, name: str) -> None:
    before = legacy.get(name)
    kind = legacy.metadata(name).kind
    kwargs: dict[str, Any] = {"groupby": "region"} if kind == "pandas.dfgroup" else {}
    if kind == "pandas.hdf":
        kwargs["as_hdf"] = True
    legacy.put(before, name, replace=True, **kwargs)
    after = legacy.get(name)
    if isinstance(before, (pd.DataFrame, pd.Series)):
        assert type(after) is type(before)
        assert after.equals(before) if kind != "pandas.dfgroup" else after.sort_values(
            list(after.columns)).reset_index(drop=True).equals(
            before.sort_values(list(before.columns)).reset_index(drop=True))
    elif hasattr(before, "tolist"):
        assert after.tolist() == before.tolist()
    else:
        assert after == before
    assert [p for p in fsck.check(legacy, grace=0).problems if p.repairable] == []
