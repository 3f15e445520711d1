"""Base tests every kind plugin subclasses to prove it keeps the store's promises.

Subclass ``KindConformance`` in your plugin's tests, set ``kind`` and implement
``make_object``; the ``store`` fixture comes from this distribution's pytest plugin::

    class TestMyKind(KindConformance):
        kind = "mykind.v1"

        def make_object(self, variant):
            return MyObject(seed=variant)
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from omegacore import OmegaStore
from omegacore.errors import PluginHookError
from omegacore.journal import JOURNAL_COLLECTION
from omegacore.settings import METADATA_COLLECTION
from omegacore_testing.faults import fail_before_commit

#: names that must round-trip: spaces, unicode, slashes, dots, a very long name
ODD_NAMES = (
    "with space",
    "ünïcödé/名字",
    "dots.in.the.name",
    "deep/path/to/object",
    "x" * 300,
)


def data_footprint(store: OmegaStore) -> tuple[list[str], int]:
    """Data collections (not metadata, journal or GridFS) and the number of GridFS files."""
    fs = store.fs_collection
    names = sorted(
        n for n in store.mongodb.list_collection_names()
        if n not in (METADATA_COLLECTION, JOURNAL_COLLECTION)
        and not n.startswith(f"{fs}.") and not n.startswith("system.")
    )
    files = store.mongodb[f"{fs}.files"].count_documents({})
    return names, files


def without_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kind tests see what the kind does: a put replaces, whatever the prefix.

    With omegacore-versions installed, every put in a ``models/`` store is a new version
    (omegaml's default); ``OMEGA_VERSIONS=none`` turns that off for the test (and the
    processes it starts). The versions plugin has its own tests over every kind.
    """
    monkeypatch.setenv("OMEGA_VERSIONS", "none")


class KindConformance:
    """The contract of a kind backend, checked against a real server."""

    #: the kind under test, e.g. ``"pandas.dfrows"``
    kind: ClassVar[str] = ""
    #: keyword arguments every put passes (e.g. ``{"as_hdf": True}``)
    put_kwargs: ClassVar[dict[str, Any]] = {}
    #: prefix of the store under test (``"models/"`` for model kinds)
    prefix: ClassVar[str] = ""

    def make_object(self, variant: int) -> Any:
        """An object of this kind; different ``variant`` numbers give different objects."""
        raise NotImplementedError("set make_object(variant) in your conformance test class")

    def unsupported_objects(self) -> list[Any]:
        """Objects this kind must refuse (``supports`` is False for them)."""
        return [object()]

    def assert_same(self, expected: Any, actual: Any) -> None:
        """Assert that ``actual`` (read back) equals ``expected`` (stored)."""
        assert actual == expected

    # -- helpers ---------------------------------------------------------------------------
    @pytest.fixture
    def kind_store(self, omega_store_factory: Any, monkeypatch: pytest.MonkeyPatch
                   ) -> OmegaStore:
        without_versions(monkeypatch)
        return omega_store_factory(prefix=self.prefix)

    def put(self, store: OmegaStore, obj: Any, name: str, **kwargs: Any) -> Any:
        return store.put(obj, name, **{**self.put_kwargs, **kwargs})

    def drop(self, store: OmegaStore, name: str) -> Any:
        """Remove the object ``name`` (override for kinds whose plain drop keeps it)."""
        return store.drop(name)

    # -- the contract ------------------------------------------------------------------------
    def test_kind_is_installed(self, kind_store: OmegaStore) -> None:
        assert self.kind, "set the class attribute kind"
        spec = kind_store.plugins.kind(self.kind)
        assert spec is not None, f"{self.kind} is not registered through an entry point"
        assert spec.distribution
        assert kind_store.get_backend_bykind(self.kind).KIND == self.kind

    def test_round_trip(self, kind_store: OmegaStore) -> None:
        obj = self.make_object(0)
        self.put(kind_store, obj, "roundtrip")
        self.assert_same(obj, kind_store.get("roundtrip"))

    def test_metadata(self, kind_store: OmegaStore) -> None:
        meta = self.put(kind_store, self.make_object(0), "meta", attributes={"owner": "ann"})
        assert meta.kind == self.kind
        stored = kind_store.metadata("meta")
        assert stored is not None
        assert (stored.name, stored.kind, stored.prefix) == ("meta", self.kind, self.prefix)
        assert stored.attributes == {"owner": "ann"}
        assert stored.created <= stored.modified
        assert bool(stored.collection) or stored.gridfile_id is not None

    def test_list(self, kind_store: OmegaStore) -> None:
        self.put(kind_store, self.make_object(0), "listed/a")
        self.put(kind_store, self.make_object(1), "listed/b")
        assert kind_store.list("listed/*") == ["listed/a", "listed/b"]
        assert kind_store.list(kind=self.kind) == ["listed/a", "listed/b"]
        assert kind_store.list(kind="no.such.kind") == []

    def test_replace(self, kind_store: OmegaStore) -> None:
        self.put(kind_store, self.make_object(0), "replaced")
        first = data_footprint(kind_store)
        self.put(kind_store, self.make_object(1), "replaced", replace=True)
        self.assert_same(self.make_object(1), kind_store.get("replaced"))
        names, files = data_footprint(kind_store)
        assert (len(names), files) == (len(first[0]), first[1]), "earlier data was left behind"

    def test_drop_leaves_nothing(self, kind_store: OmegaStore) -> None:
        before = data_footprint(kind_store)
        self.put(kind_store, self.make_object(0), "dropped")
        assert self.drop(kind_store, "dropped") is True
        assert kind_store.get("dropped") is None
        assert not kind_store.exists("dropped")
        assert data_footprint(kind_store) == before

    @pytest.mark.parametrize("name", ODD_NAMES, ids=["space", "unicode", "dots", "path", "long"])
    def test_odd_names(self, kind_store: OmegaStore, name: str) -> None:
        obj = self.make_object(2)
        self.put(kind_store, obj, name)
        assert name in kind_store.list(include_temp=True, hidden=True)
        self.assert_same(obj, kind_store.get(name))

    def test_supports(self, kind_store: OmegaStore) -> None:
        backend = type(kind_store.get_backend_bykind(self.kind))
        assert backend.supports(self.make_object(0), "x", **self.put_kwargs) is True
        for other in self.unsupported_objects():
            assert backend.supports(other, "x", **self.put_kwargs) is False

    def test_failed_put_keeps_previous(self, kind_store: OmegaStore) -> None:
        self.put(kind_store, self.make_object(0), "kept")
        before = data_footprint(kind_store)
        meta_before = kind_store.metadata("kept")
        with fail_before_commit(kind_store), \
                pytest.raises(PluginHookError, match="injected failure"):
            self.put(kind_store, self.make_object(1), "kept", replace=True)
        self.assert_same(self.make_object(0), kind_store.get("kept"))
        assert data_footprint(kind_store) == before
        meta_after = kind_store.metadata("kept")
        assert meta_after is not None and meta_before is not None
        assert meta_after.to_mongo() == meta_before.to_mongo()
