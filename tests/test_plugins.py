"""Plugin discovery through real entry points, conflicts, load errors, priority, mixins."""

from __future__ import annotations

import subprocess
import sys

import pytest
from plugin_sources import kind_source

from conftest import Installer
from omegacore import (
    BaseBackend,
    MixinSpec,
    OmegaStore,
    PluginLoadError,
    PluginRegistry,
    hookimpl,
)


def test_entry_point_plugin_is_discovered_and_used(install_dist: Installer, omega_database_url):
    install_dist("acme-text", "acme_text", kind_source("acme_text", "acme.text"), "2.5")
    store = OmegaStore(mongo_url=omega_database_url)
    spec = store.plugins.kind("acme.text")
    assert spec is not None and spec.distribution == "acme-text"
    info = {i.distribution: i for i in store.plugins.info()}["acme-text"]
    assert info.version == "2.5" and [k.kind for k in info.kinds] == ["acme.text"]
    assert info.hooks == ["omega_kinds"]
    assert store.put("hello", "greeting").kind == "acme.text"
    assert store.get("greeting") == "hello"


def test_broken_plugin_warns_and_the_rest_works(install_dist: Installer, monkeypatch,
                                                omega_database_url):
    monkeypatch.setenv("OMEGA_PLUGINS_STRICT", "0")
    install_dist("acme-broken", "acme_broken", "raise ImportError('needs libacme 9')\n")
    install_dist("acme-fine", "acme_fine", kind_source("acme_fine", "acme.fine"))
    with pytest.warns(RuntimeWarning, match="acme-broken.*needs libacme 9"):
        store = OmegaStore(mongo_url=omega_database_url)
    errors = store.plugins.load_errors
    assert [(e.plugin, e.distribution) for e in errors] == [("acme-broken", "acme-broken")]
    assert "ImportError: needs libacme 9" in errors[0].error
    assert store.put("still works", "x").kind == "acme.fine"


def test_broken_plugin_is_fatal_in_strict_mode(install_dist: Installer, monkeypatch):
    monkeypatch.setenv("OMEGA_PLUGINS_STRICT", "1")
    install_dist("acme-broken", "acme_broken", "raise ImportError('needs libacme 9')\n")
    with pytest.raises(PluginLoadError, match="acme-broken"):
        PluginRegistry()


def test_priority_decides_not_registration_order(install_dist: Installer, omega_database_url):
    install_dist("acme-low", "acme_low", kind_source("acme_low", "acme.low", priority=1))
    install_dist("acme-high", "acme_high", kind_source("acme_high", "acme.high", priority=9))
    install_dist("acme-tie", "acme_tie", kind_source("acme_tie", "acme.high2", priority=9))
    store = OmegaStore(mongo_url=omega_database_url)
    assert store.plugins.select_kind("text", "x", {}) == "acme.high"
    # reversed registration order gives the same answer
    registry = PluginRegistry(load_entry_points=False)
    for name in ["acme_tie", "acme_high", "acme_low"]:
        registry.register(sys.modules[name], name=name)
    assert registry.select_kind("text", "x", {}) == "acme.high"


def test_plugin_listing_imports_no_backend(install_dist: Installer):
    install_dist("acme-lazy", "acme_lazy", """
        from omegacore import KindSpec, hookimpl

        @hookimpl
        def omega_kinds():
            return [KindSpec("acme.lazy", "acme_lazy_backend:Backend",
                             types=("acme_lazy_backend.Thing",))]
    """)
    registry = PluginRegistry()
    assert registry.kind("acme.lazy") is not None
    assert registry.select_kind(b"not a thing", "x", {}) in (None, *registry.kinds())
    assert "acme_lazy_backend" not in sys.modules


class Shout(BaseBackend):
    KIND = "test.shout"

    @classmethod
    def supports(cls, obj, name, **kwargs):
        return isinstance(obj, str)

    def put(self, obj, name, attributes=None, **kwargs):
        with self.stage(name, attributes) as staged:
            staged.put_file(obj.upper().encode())
        return staged.meta

    def get(self, name, version=-1, meta=None, **kwargs):
        meta = self.metadata(name, meta)
        return self.store.gridfs_bucket.open_download_stream(meta.gridfile_id).read().decode()


def test_register_backend_at_run_time_and_override(core_store: OmegaStore) -> None:
    core_store.register_backend("test.shout", Shout)
    assert core_store.put("hi", "s").kind == "test.shout"
    assert core_store.get("s") == "HI"
    info = [i for i in core_store.plugins.info() if i.distribution == "<runtime>"]
    assert [k.kind for i in info for k in i.kinds] == ["test.shout"]

    class Quiet(Shout):
        def put(self, obj, name, attributes=None, **kwargs):
            return super().put(obj.lower(), name, attributes)

    core_store.register_backend("test.shout", Quiet)
    core_store.put("HI", "s")
    assert core_store.get("s") == "HI"  # Quiet lowers, then Shout's put upper-cases
    assert type(core_store.get_backend_bykind("test.shout")) is Quiet


class Greeting:
    def greet(self) -> str:
        return f"hello from {self.bucket}"  # type: ignore[attr-defined]

    def get(self, name, *args, **kwargs):
        value = super().get(name, *args, **kwargs)  # type: ignore[misc]
        return value + b"!" if isinstance(value, bytes) else value


class Counting:
    calls = 0

    def get(self, name, *args, **kwargs):
        Counting.calls += 1
        return super().get(name, *args, **kwargs)  # type: ignore[misc]


def test_mixins_compose_and_cooperate_through_super(core_store: OmegaStore) -> None:
    core_store.put(b"x", "m")
    core_store.register_mixin(Greeting)
    core_store.register_mixin(Counting, order=50)
    assert core_store.greet() == "hello from omegaml"
    assert core_store.get("m") == b"x!"
    assert Counting.calls == 1
    mro = type(core_store).__mro__
    assert mro.index(Counting) < mro.index(Greeting) < mro.index(OmegaStore)
    assert isinstance(core_store, OmegaStore)


def test_composed_classes_are_cached_per_set_of_mixins(store_factory) -> None:
    class Plugin:
        @hookimpl
        def omega_mixins(self):
            return [MixinSpec(Greeting)]

    registry = PluginRegistry(load_entry_points=False)
    registry.register(Plugin(), name="greeting")
    a = store_factory(plugins=registry)
    b = store_factory(plugins=registry)
    assert type(a) is type(b) and Greeting in type(a).__mro__


def test_runtime_kind_selected_by_its_priority(core_store: OmegaStore) -> None:
    class AllBytes(Shout):
        KIND = "test.allbytes"

        @classmethod
        def supports(cls, obj, name, **kwargs):
            return isinstance(obj, bytes)

        def put(self, obj, name, attributes=None, **kwargs):
            return Shout.put(self, obj.decode(), name, attributes)

    core_store.register_backend("test.allbytes", AllBytes, priority=1)
    assert core_store.put(b"x", "low").kind == "test.bytes"  # test.bytes has priority 20
    core_store.register_backend("test.allbytes", AllBytes, priority=99)
    assert core_store.put(b"x", "high").kind == "test.allbytes"
    # omegaml's index=: -1 (the default) is asked after every installed kind, 0 first
    core_store.register_backend("test.allbytes", AllBytes)
    assert core_store.put(b"x", "last").kind == "test.bytes"
    assert core_store.plugins.kind("test.allbytes").priority < min(
        s.priority for k, s in core_store.plugins.kinds().items() if k != "test.allbytes")
    core_store.register_backend("test.allbytes", AllBytes, index=0)
    assert core_store.put(b"x", "first").kind == "test.allbytes"
    with pytest.raises(ValueError, match="index must be -1 or a position"):
        core_store.register_backend("test.allbytes", AllBytes, index=-5)


def test_import_omegacore_imports_no_heavy_library(omega_database_url: str) -> None:
    """Importing, listing plugins and opening a store (mixins composed) stay light."""
    code = (
        "import sys, omegacore\n"
        "from omegacore import OmegaStore\n"
        "from omegacore.plugins import PluginRegistry\n"
        "r = PluginRegistry(); r.kinds(); r.info()\n"
        f"store = OmegaStore({omega_database_url!r}); store.list()\n"
        "assert len(type(store).__mro__) >= 2\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'sklearn', 'tables', 'joblib') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
