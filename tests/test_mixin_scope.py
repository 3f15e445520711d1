"""Mixins apply to the stores they are made for (``MixinSpec.prefixes`` and ``applies_to``)."""

from __future__ import annotations

import pytest

from conftest import Installer
from omegacore import MixinSpec, OmegaStore
from omegacore.cli import main
from omegacore.errors import InvalidPluginRecord

SCOPED = """
from omegacore import MixinSpec, hookimpl

class ModelsOnly:
    def model_card(self, name):
        return f"card of {self.prefix}{name}"

class NotData:
    def promote_to(self):
        return "elsewhere"

class Everywhere:
    def hello(self):
        return "hello"

def not_data(store):
    return store.prefix != "data/"

@hookimpl
def omega_mixins():
    return [
        MixinSpec("acme_scoped:ModelsOnly", prefixes=["models/", "jobs/"]),
        MixinSpec("acme_scoped:NotData", applies_to="acme_scoped:not_data"),
        MixinSpec("acme_scoped:Everywhere"),
    ]
"""


def methods(store: OmegaStore) -> list[str]:
    return [m for m in ("model_card", "promote_to", "hello") if hasattr(store, m)]


def test_mixins_compose_only_into_their_stores(install_dist: Installer,
                                               omega_database_url: str, capsys) -> None:
    install_dist("acme-scoped", "acme_scoped", SCOPED)
    models = OmegaStore(mongo_url=omega_database_url, prefix="models/")
    data = OmegaStore(mongo_url=omega_database_url, prefix="data/")
    plain = OmegaStore(mongo_url=omega_database_url)
    assert methods(models) == ["model_card", "promote_to", "hello"]
    assert methods(OmegaStore(mongo_url=omega_database_url, prefix="jobs/")) == methods(models)
    assert methods(data) == ["hello"]
    assert methods(plain) == ["promote_to", "hello"]
    assert models.model_card("churn") == "card of models/churn"  # type: ignore[attr-defined]
    assert type(models) is not type(data)
    assert models.plugins.load_errors == []
    # the listing says where each mixin applies
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "mixin  acme_scoped:ModelsOnly (order 100, prefixes models/, jobs/)" in out
    assert "mixin  acme_scoped:NotData (order 100, applies_to acme_scoped:not_data)" in out


def test_registry_lists_the_mixins_of_a_store(install_dist: Installer,
                                              omega_database_url: str) -> None:
    install_dist("acme-scoped", "acme_scoped", SCOPED)
    data = OmegaStore(mongo_url=omega_database_url, prefix="data/")
    scoped = [m.path() for m in data.plugins.mixins() if "acme" in m.path()]
    assert scoped == ["acme_scoped:Everywhere", "acme_scoped:ModelsOnly", "acme_scoped:NotData"]
    assert [m.path() for m in data.plugins.mixins(data) if "acme" in m.path()] == [
        "acme_scoped:Everywhere"]
    spec = next(m for m in data.plugins.mixins() if m.path() == "acme_scoped:ModelsOnly")
    assert spec.prefixes == ("models/", "jobs/")  # a list is kept as a tuple


def test_predicate_that_fails_leaves_the_mixin_out(install_dist: Installer,
                                                   omega_database_url: str,
                                                   monkeypatch) -> None:
    monkeypatch.setenv("OMEGA_PLUGINS_STRICT", "0")
    install_dist("acme-pred", "acme_pred", """
        from omegacore import MixinSpec, hookimpl

        class Maybe:
            def maybe(self):
                return True

        class Perhaps:
            def perhaps(self):
                return True

        def answer(store):
            return "yes"

        @hookimpl
        def omega_mixins():
            return [MixinSpec(Maybe, applies_to=answer),
                    MixinSpec("acme_pred:Perhaps", applies_to="acme_pred:nowhere", order=5),
                    MixinSpec("acme_pred:Maybe")]
    """)
    with pytest.warns(RuntimeWarning, match="acme-pred"):
        store = OmegaStore(mongo_url=omega_database_url, prefix="data/")
    assert not hasattr(store, "maybe") and not hasattr(store, "perhaps")
    assert [w.error for w in store.plugins.load_warnings] == [
        "mixin 'acme_pred:Maybe' is declared again (first by acme-pred); the first "
        "declaration is used"]
    errors = sorted((e.stage, e.error) for e in store.plugins.load_errors)
    assert errors == [
        ("applies_to", "applies_to 'acme_pred:answer' of mixin 'acme_pred:Maybe' must return "
                       "True or False, returned 'yes'"),
        ("applies_to", "applies_to 'acme_pred:nowhere' of mixin 'acme_pred:Perhaps' "
                       "(distribution 'acme-pred') cannot be imported (AttributeError: module "
                       "'acme_pred' has no attribute 'nowhere')"),
    ]


def test_mixins_that_cannot_be_composed_leave_the_store_open(store_factory, monkeypatch) -> None:
    monkeypatch.setenv("OMEGA_PLUGINS_STRICT", "0")
    class Base:
        def who(self):
            return "base"

    class Derived(Base):
        def who(self):
            return "derived"

    store = store_factory()
    with pytest.warns(RuntimeWarning, match="cannot be composed"):
        store.plugins.register_runtime(mixins=[MixinSpec(Base, order=1),
                                               MixinSpec(Derived, order=2)])
        store._apply_mixins()
    assert store.who() == "base"  # type: ignore[attr-defined]
    (error,) = [e for e in store.plugins.load_errors if e.stage == "mixin"]
    assert "Cannot create a consistent method resolution order" in error.error


def test_runtime_mixin_with_prefixes(store_factory) -> None:
    class Audit:
        def audited(self):
            return True

    models = store_factory(prefix="models/")
    data = store_factory(prefix="data/")
    for store in (models, data):
        store.plugins.register_runtime(mixins=[MixinSpec(Audit, prefixes=("models/",))])
        store._apply_mixins()
    assert hasattr(models, "audited") and not hasattr(data, "audited")
    with pytest.raises(InvalidPluginRecord, match="prefixes must be a tuple of names, got the "
                                                  "string 'models/'"):
        models.plugins.register_runtime(mixins=[MixinSpec(Audit, prefixes="models/")])
