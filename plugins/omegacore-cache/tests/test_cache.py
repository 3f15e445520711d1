"""omegacore-cache on the real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
from omegacore import OmegaStore
from omegacore_testing import MixinConformance

from omegacore_cache.mixin import CACHE, CacheMixin


class TestCacheMixin(MixinConformance):
    mixin = CacheMixin
    distribution = "omegacore-cache"


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    CACHE.clear()
    yield
    CACHE.clear()


def test_unchanged_objects_come_from_the_cache(store_factory: Callable[..., OmegaStore]
                                               ) -> None:
    store = store_factory(prefix="models/")
    store.put(np.arange(1000.0), "cached/weights")
    first = store.get("cached/weights")
    hits = CACHE.hits
    second = store.get("cached/weights")
    assert second is first and CACHE.hits == hits + 1
    again = store.get("cached/weights", force=True)
    assert again is not first and np.array_equal(again, first)
    assert store.get("cached/weights") is again  # force refreshed the cache


def test_a_newer_put_is_never_answered_from_the_cache(
        store_factory: Callable[..., OmegaStore]) -> None:
    reader, writer = store_factory(prefix="data/"), store_factory(prefix="data/")
    writer.put({"v": 1}, "cached/config")
    assert reader.get("cached/config") == [{"v": 1}]
    writer.put({"v": 2}, "cached/config", append=False)
    assert reader.get("cached/config") == [{"v": 2}]
    writer.drop("cached/config")
    assert reader.get("cached/config") is None


def test_which_objects_are_cached(store_factory: Callable[..., OmegaStore]) -> None:
    store = store_factory(prefix="data/")
    frame = pd.DataFrame({"x": [1, 2, 3]})
    store.put(frame, "marked", attributes={"cached": True})
    store.put(frame, "plain")
    assert store.get("marked") is store.get("marked")
    assert store.get("plain") is not store.get("plain")
    # filtered, projected and lazy reads are read as asked
    pd.testing.assert_frame_equal(store.get("marked", x__gt=1), frame[frame.x > 1])
    assert store.get("marked", columns=["x"]) is not store.get("marked", columns=["x"])
    with pytest.raises(TypeError, match="force must be True or False"):
        store.get("marked", force="yes")


def test_the_cache_is_bounded(store_factory: Callable[..., OmegaStore],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMEGA_CACHE_ITEMS", "2")
    store = store_factory(prefix="data/")
    for i in range(3):
        store.put(np.full(10, float(i)), f"cached/a{i}")
    kept = [store.get(f"cached/a{i}") for i in range(3)]
    assert len(CACHE) == 2
    assert store.get("cached/a0") is not kept[0]  # the least recently used went
    assert store.get("cached/a2") is kept[2]
    monkeypatch.setenv("OMEGA_CACHE_MB", "0")
    store.put(np.zeros(10), "cached/big")
    assert store.get("cached/big") is not store.get("cached/big")
