"""Keywords that choose a kind (``KindSpec.selected_by``) are consumed by the store.

Three throwaway kinds for ``str``: ``acme.plain`` (takes no keyword at all),
``acme.upper`` (chosen by ``shout=``) and ``acme.rev`` (chosen by ``backwards=``), on the
real server.
"""

from __future__ import annotations

import warnings

import pytest
from plugin_sources import kind_source

from conftest import Installer
from omegacore import OmegaStore
from omegacore.errors import KindChoiceError, NoKindForObject

UPPER = '''
class Upper(Backend):
    KIND = "acme.upper"

    def put(self, obj, name, attributes=None, replace=False, shout=None, loud=None, **kwargs):
        if shout is not None and shout is not True:
            raise TypeError(f"shout takes True, got {shout!r}")
        return super().put(obj.upper(), name, attributes, **kwargs)

@hookimpl
def omega_kinds():
    return [KindSpec("acme.upper", "acme_upper:Upper", types=("builtins.str",),
                     selected_by=("shout", "loud"))]
'''
REV = '''
class Rev(Backend):
    KIND = "acme.rev"

    def put(self, obj, name, attributes=None, replace=False, backwards=None, **kwargs):
        return super().put(obj[::-1], name, attributes, **kwargs)

@hookimpl
def omega_kinds():
    return [KindSpec("acme.rev", "acme_rev:Rev", types=("builtins.str",),
                     selected_by=("backwards",))]
'''


@pytest.fixture
def kinds_store(install_dist: Installer, omega_database_url: str) -> OmegaStore:
    install_dist("acme-plain", "acme_plain", kind_source("acme_plain", "acme.plain"))
    # the same backend module, with the kind declarations replaced
    install_dist("acme-upper", "acme_upper", kind_source("acme_upper", "x.x").split(
        "@hookimpl")[0] + UPPER)
    install_dist("acme-rev", "acme_rev", kind_source("acme_rev", "x.x").split(
        "@hookimpl")[0] + REV)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no plugin fault here
        return OmegaStore(mongo_url=omega_database_url)


def test_a_keyword_chooses_its_kind_and_reaches_its_backend(kinds_store: OmegaStore) -> None:
    assert kinds_store.put("hello", "a").kind == "acme.plain"
    assert kinds_store.put("hello", "b", shout=True).kind == "acme.upper"
    assert kinds_store.get("b") == "HELLO"
    assert kinds_store.put("hello", "c", backwards="yes").kind == "acme.rev"
    assert kinds_store.get("c") == "olleh"
    # the chosen kind checks the value it gets
    with pytest.raises(TypeError, match="shout takes True, got 1"):
        kinds_store.put("hello", "d", shout=1)
    assert not kinds_store.exists("d")


@pytest.mark.parametrize("off", [{"shout": False}, {"shout": None}, {"loud": False},
                                 {"shout": False, "backwards": None}])
def test_none_or_false_is_not_given(kinds_store: OmegaStore, off: dict) -> None:
    # acme.plain's put raises on any keyword: the store dropped them before it
    assert kinds_store.put("hello", "a", **off).kind == "acme.plain"
    assert kinds_store.get("a") == "hello"
    assert kinds_store.put("hello", "u", kind="acme.upper", shout=True, loud=False).kind == \
        "acme.upper"


def test_keywords_of_two_kinds_are_refused(kinds_store: OmegaStore) -> None:
    kinds_store.put("before", "a")
    with pytest.raises(KindChoiceError) as info:
        kinds_store.put("hello", "a", shout=True, backwards=True)
    assert str(info.value) == ("these keywords choose different kinds: shout=True chooses "
                               "'acme.upper'; backwards=True chooses 'acme.rev'. Pass the "
                               "keywords of one kind only")
    assert isinstance(info.value, TypeError)
    assert kinds_store.get("a") == "before"  # nothing written


def test_a_keyword_contradicting_kind_is_refused(kinds_store: OmegaStore) -> None:
    with pytest.raises(KindChoiceError, match="shout=True chooses kind 'acme.upper', but "
                                              "kind='acme.plain' was given: drop one of them"):
        kinds_store.put("hello", "a", kind="acme.plain", shout=True)
    assert kinds_store.put("hello", "a", kind="acme.upper", shout=True).kind == "acme.upper"
    assert kinds_store.put("hello", "b", kind="acme.upper", shout=True, loud=True).kind == \
        "acme.upper"


def test_a_chosen_kind_that_does_not_take_the_object(kinds_store: OmegaStore) -> None:
    kinds_store.put("before", "a")
    with pytest.raises(NoKindForObject) as info:
        kinds_store.put(b"bytes", "a", shout=True)
    assert str(info.value) == ("shout=True chooses kind 'acme.upper' (acme-upper), which does "
                               "not store builtins.bytes.")
    assert kinds_store.get("a") == "before"


def test_choose_kind_returns_the_backend_keywords(kinds_store: OmegaStore) -> None:
    registry = kinds_store.plugins
    kwargs = {"shout": True, "loud": None, "backwards": False, "extra": 0}
    assert registry.choose_kind("x", "n", None, kwargs) == (
        "acme.upper", {"shout": True, "extra": 0})
    assert kwargs == {"shout": True, "loud": None, "backwards": False, "extra": 0}  # unchanged
    assert registry.choose_kind("x", "n", "acme.plain", {"backwards": False}) == (
        "acme.plain", {})
    assert registry.select_kind("x", "n", {"backwards": True}) == "acme.rev"
    assert registry.select_kind(b"x", "n", {"backwards": True}) is None


def test_selected_by_cannot_take_puts_own_keywords(install_dist: Installer,
                                                   omega_database_url: str,
                                                   monkeypatch) -> None:
    monkeypatch.setenv("OMEGA_PLUGINS_STRICT", "0")
    install_dist("acme-bad", "acme_bad", kind_source("acme_bad", "acme.bad",
                                                     selected_by=("kind", "as bad")))
    with pytest.warns(RuntimeWarning, match="acme-bad"):
        store = OmegaStore(mongo_url=omega_database_url)
    (error,) = [e for e in store.plugins.load_errors if e.distribution == "acme-bad"]
    assert error.stage == "record"
    assert "selected_by must be names such as 'as_hdf'; these are not: ['as bad']" in error.error
    assert store.plugins.kind("acme.bad") is None
