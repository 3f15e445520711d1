"""Virtual objects on the real server: stored with dill, called for get, put and drop."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pandas as pd
import pytest
from omegacore import OmegaStore
from omegacore_testing import KindConformance, MixinConformance, data_footprint

from omegacore_virtualobj import KIND, VirtualObject, virtualobj
from omegacore_virtualobj.mixin import VirtualObjectMixin


def _constant(variant: int) -> VirtualObject:
    @virtualobj
    def handler(data: Any = None, method: str | None = None, meta: Any = None,
                store: Any = None, **kwargs: Any) -> Any:
        return {"variant": variant, "method": method}

    return handler


@virtualobj
def _failing(data: Any = None, method: str | None = None, meta: Any = None,
             store: Any = None, **kwargs: Any) -> Any:
    raise RuntimeError(f"handler failed ({method})")


class TestVirtualObjectKind(KindConformance):
    kind = KIND

    def drop(self, store: OmegaStore, name: str) -> Any:
        return store.drop(name, force=True)  # a plain drop is the handler's (as omegaml's)

    def make_object(self, variant: int) -> Any:
        return _constant(variant)

    def unsupported_objects(self) -> list[Any]:
        return [object(), lambda: 1, 42]

    def assert_same(self, expected: Any, actual: Any) -> None:
        # get() answers with the handler's result; the stored handler is get(raw=True)
        if isinstance(actual, VirtualObject):
            actual = actual(method="get")
        assert actual == expected(method="get")

    def get(self, store: OmegaStore, name: str) -> Any:
        return store.get(name, raw=True)


class TestVirtualObjectMixin(MixinConformance):
    mixin = VirtualObjectMixin
    distribution = "omegacore-virtualobj"


@virtualobj
def table(data: Any = None, method: str | None = None, meta: Any = None,
          store: Any = None, **kwargs: Any) -> Any:
    """A dataset kept under another name, computed on get, replaced on put."""
    if method == "get":
        frame = store.get("table_rows")
        limit = kwargs.get("limit")
        return frame.head(limit) if limit is not None else frame
    if method == "put":
        return store.put(data.assign(doubled=data.x * 2), "table_rows", append=False)
    if method == "drop":
        return store.drop("table_rows", force=True)
    raise ValueError(f"unknown method {method!r}")


def test_get_put_drop_go_to_the_handler(store: OmegaStore) -> None:
    meta = store.put(table, "table")
    assert meta.kind == KIND
    store.put(pd.DataFrame({"x": [1, 2, 3]}), "table")     # the handler stores it
    assert store.metadata("table").kind == KIND, "the virtual object stays"
    assert store.get("table").doubled.tolist() == [2, 4, 6]
    assert store.get("table", limit=1).x.tolist() == [1]
    assert isinstance(store.get("table", raw=True), VirtualObject)
    assert store.drop("table") is True
    assert store.list() == ["table"], "drop ran the handler; the virtual object stays"
    store.put(pd.DataFrame({"x": [5]}), "table")
    assert store.drop("table", force=True) is True
    assert store.list() == [], "force=True: the handler ran, then the virtual object went"
    assert data_footprint(store) == ([], 0)


def test_replace_and_force_bypass_the_handler(store: OmegaStore) -> None:
    """As omegaml's: put(..., replace=True) replaces the virtual object; drop(force=True)
    removes it even when the handler fails."""
    store.put(table, "table")
    store.put({"plain": True}, "table", replace=True)
    assert store.metadata("table").kind == "python.data"
    assert store.get("table") == [{"plain": True}]
    store.put(_failing, "failing")
    with pytest.raises(RuntimeError, match="handler failed"):
        store.drop("failing")
    assert store.exists("failing")
    assert store.drop("failing", force=True) is True and not store.exists("failing")


def test_a_new_handler_replaces_the_old(store: OmegaStore) -> None:
    store.put(_constant(1), "v")
    store.put(_constant(2), "v")
    assert store.get("v") == {"variant": 2, "method": "get"}


def test_a_handler_from_a_script_loads_in_another_process(store: OmegaStore) -> None:
    """dill stores functions of __main__ by value: another process runs them."""
    script = textwrap.dedent(f"""
        from omegacore import OmegaStore
        from omegacore_virtualobj import virtualobj

        @virtualobj
        def answer(data=None, method=None, meta=None, store=None, **kwargs):
            return 40 + kwargs.get("plus", 2)

        store = OmegaStore(mongo_url={store.mongo_url!r})
        store.put(answer, "answer")
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert store.get("answer") == 42
    assert store.get("answer", plus=5) == 45


def test_only_virtual_objects_are_taken(store: OmegaStore) -> None:
    with pytest.raises(TypeError, match="takes a callable"):
        virtualobj(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="@virtualobj callables"):
        store.put(lambda: 1, "f", kind=KIND)
    with pytest.raises(TypeError, match="unexpected keyword"):
        store.put(table, "t", compress=True)
    assert virtualobj(table) is table
