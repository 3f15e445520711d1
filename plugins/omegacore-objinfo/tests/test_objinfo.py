"""omegacore-objinfo on the real server."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from omegacore import OmegaStore
from omegacore.cli import main
from omegacore.errors import DoesNotExist
from omegacore_testing import MixinConformance

from omegacore_objinfo.mixin import ObjectInfoMixin


class TestObjectInfoMixin(MixinConformance):
    mixin = ObjectInfoMixin
    distribution = "omegacore-objinfo"


@pytest.fixture
def filled(store_factory: object) -> OmegaStore:
    store: OmegaStore = store_factory(prefix="data/")  # type: ignore[operator]
    store.put(pd.DataFrame({"a": range(50), "b": [0.5] * 50}), "frame",
              attributes={"docs": "fifty rows"})
    store.put(np.zeros((20, 5)), "array")
    store.put({"k": 1}, "config")
    return store


def test_summary(filled: OmegaStore) -> None:
    frame = filled.summary("frame")
    assert (frame["kind"], frame["count"], frame["columns"]) == ("pandas.dfrows", 50, ["a", "b"])
    assert frame["docs"] == "fifty rows" and frame["size"] > 0
    assert frame["created"] <= frame["modified"]
    array = filled.summary("array")
    assert (array["kind"], array["shape"], array["count"]) == ("ndarray.bin", [20, 5], 1)
    assert array["size"] >= 20 * 5 * 8
    assert filled.summary("config")["count"] == 1
    with pytest.raises(DoesNotExist, match="'nope' is not stored"):
        filled.summary("nope")


def test_stats(filled: OmegaStore) -> None:
    raw = filled.stats(as_dict=True)
    assert sorted(raw) == ["array", "config", "frame"]
    assert raw["frame"]["count"] == 50 and raw["array"]["totalSize"] >= 800
    table = filled.stats()
    assert list(table.columns) == ["count", "totalSize", "count%", "totalSize%", "units"]
    assert table["count%"].sum() == pytest.approx(1.0)
    kib = filled.stats("fr*", scale="k", as_dict=True)
    assert list(kib) == ["frame"]
    assert kib["frame"]["totalSize"] == pytest.approx(raw["frame"]["totalSize"] / 1024)
    with pytest.raises(ValueError, match="scale"):
        filled.stats(scale="x")


def test_dbstats(filled: OmegaStore) -> None:
    stats = filled.dbstats(as_dict=True)
    assert set(stats) == {"totalSize", "fsUsedSize", "fsTotalSize", "fsAvailableSize"}
    assert stats["fsAvailableSize"] == stats["fsTotalSize"] - stats["fsUsedSize"]
    assert list(filled.dbstats().index) == ["db"]


def test_info_command_shows_the_summary(filled: OmegaStore, omega_database_url: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--mongo-url", omega_database_url, "--json", "info", "data/frame"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["count"] == 50 and data["summary"]["columns"] == ["a", "b"]
