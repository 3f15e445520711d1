"""Plugins cannot break the store: every fault of a plugin is recorded, named and contained.

Each test installs real throwaway distributions (dist-info + entry point) next to a
working one, opens stores on the real server, and checks what ``OmegaStore()``, ``put``,
``get``, ``omegacore plugins`` and ``--check`` do.
"""

from __future__ import annotations

import json
import re
import sys
import warnings

import pytest
from plugin_sources import kind_source

from conftest import Installer
from omegacore import OmegaStore, PluginRegistry
from omegacore.cli import main
from omegacore.errors import (
    InvalidPluginRecord,
    KindNotInstalled,
    NoKindForObject,
    PluginHookError,
    PluginImportError,
    PluginLoadError,
)

FINE = kind_source("acme_fine", "acme.fine", priority=1)


@pytest.fixture(autouse=True)
def lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Faults are warnings here unless a test asks for strict mode (CI sets it)."""
    monkeypatch.setenv("OMEGA_PLUGINS_STRICT", "0")
    monkeypatch.delenv("OMEGA_PLUGINS_DISABLE", raising=False)
    monkeypatch.delenv("OMEGA_PLUGINS_PREFER", raising=False)


def open_store(url: str, **kwargs) -> tuple[OmegaStore, list[str]]:
    """A store and the RuntimeWarnings opening it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store = OmegaStore(mongo_url=url, **kwargs)
    return store, [str(w.message) for w in caught if w.category is RuntimeWarning]


def plugins_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        code = main(["plugins", *argv])
    return code, capsys.readouterr().out


def ours(store: OmegaStore) -> list[tuple[str, str, str]]:
    """(plugin, distribution, stage) of the load errors of the throwaway plugins."""
    return [(e.plugin, e.distribution, e.stage) for e in store.plugins.load_errors
            if "acme" in e.distribution]


GOOD_KIND = 'KindSpec("acme.ok", "acme_bad:Backend", types=("builtins.str",))'

#: faults found when a store opens: (name, module source, stage, text of the error)
OPEN_FAULTS = [
    ("import", "raise ImportError('needs libacme 9')\n", "import",
     "ImportError: needs libacme 9"),
    ("misspelt hook", """
        from omegacore import KindSpec, hookimpl

        @hookimpl
        def omega_kind():
            return []
     """, "register", "unknown hook 'omega_kind' (did you mean 'omega_kinds'?)"),
    ("hook arguments", """
        from omegacore import hookimpl

        @hookimpl
        def omega_kinds(store):
            return []
     """, "register", "omega_kinds"),
    ("registration hook raises", """
        from omegacore import hookimpl

        @hookimpl
        def omega_kinds():
            raise ValueError("no licence file")
     """, "omega_kinds", "omega_kinds() raised ValueError: no licence file"),
    ("registration hook returns no list", """
        from omegacore import KindSpec, hookimpl

        @hookimpl
        def omega_kinds():
            return {"acme.ok": "acme_bad:Backend"}
     """, "omega_kinds", "omega_kinds() returned dict; return a list of KindSpec"),
    ("kind name", """
        from omegacore import KindSpec, hookimpl

        @hookimpl
        def omega_kinds():
            return [KindSpec("Acme Widget", "acme_bad:Backend")]
     """, "record", "kind must be a dotted name such as 'acme.widget', got 'Acme Widget'"),
    ("import path", """
        from omegacore import KindSpec, hookimpl

        @hookimpl
        def omega_kinds():
            return [KindSpec("acme.ok", "acme_bad.Backend")]
     """, "record", "backend must be an import path 'package.module:Class'"),
    ("priority type", """
        from omegacore import KindSpec, hookimpl

        @hookimpl
        def omega_kinds():
            return [KindSpec("acme.ok", "acme_bad:Backend", priority="high")]
     """, "record", "priority must be an int, got 'high'"),
    ("types given as a string", """
        from omegacore import KindSpec, hookimpl

        @hookimpl
        def omega_kinds():
            return [KindSpec("acme.ok", "acme_bad:Backend", types="builtins.str")]
     """, "record", "types must be a tuple of names, got the string 'builtins.str'"),
    ("not a record", """
        from omegacore import hookimpl

        @hookimpl
        def omega_kinds():
            return ["acme.ok"]
     """, "record", "omega_kinds() returned a str where a KindSpec belongs"),
    ("mixin hook raises", """
        from omegacore import hookimpl

        @hookimpl
        def omega_mixins():
            raise RuntimeError("mixins unavailable")
     """, "omega_mixins", "omega_mixins() raised RuntimeError: mixins unavailable"),
    ("mixin does not import", """
        from omegacore import MixinSpec, hookimpl

        @hookimpl
        def omega_mixins():
            return [MixinSpec("acme_bad_missing:Mixin")]
     """, "mixin", "mixin 'acme_bad_missing:Mixin' of distribution 'acme-bad' cannot be "
                   "imported (ModuleNotFoundError"),
    ("mixin is no class", """
        from omegacore import MixinSpec, hookimpl

        def helper():
            pass

        @hookimpl
        def omega_mixins():
            return [MixinSpec("acme_bad:helper")]
     """, "mixin", "is a function, not a class"),
    ("mixin predicate raises", """
        from omegacore import MixinSpec, hookimpl

        class Mixin:
            pass

        def only_models(store):
            raise KeyError("prefix")

        @hookimpl
        def omega_mixins():
            return [MixinSpec("acme_bad:Mixin", applies_to="acme_bad:only_models")]
     """, "applies_to", "KeyError"),
]


@pytest.mark.parametrize("fault, source, stage, text", OPEN_FAULTS,
                         ids=[f[0] for f in OPEN_FAULTS])
def test_fault_found_when_opening_leaves_other_kinds_working(
        install_dist: Installer, omega_database_url: str, capsys, fault: str, source: str,
        stage: str, text: str) -> None:
    install_dist("acme-fine", "acme_fine", FINE)
    install_dist("acme-bad", "acme_bad", source)
    store, warned = open_store(omega_database_url)
    assert ours(store) == [("acme-bad", "acme-bad", stage)]
    error = store.plugins.load_errors[-1]
    assert text in error.error
    assert [w for w in warned if "'acme-bad'" in w and text in w]  # warned, naming the plugin
    # the other kind works: put, get
    assert store.put("still works", "x").kind == "acme.fine"
    assert store.get("x") == "still works"
    assert "acme.ok" not in store.plugins.kinds()
    if stage == "applies_to":
        return  # known only when a store of some prefix is opened, not to the listing
    # the listing shows the error and fails, so scripts notice
    code, out = plugins_cli(capsys)
    assert code == 1
    assert "acme-fine 1.0" in out and "kind   acme.fine" in out
    assert f"LOAD ERROR acme-bad (acme-bad): {error.error}" in out


@pytest.mark.parametrize("fault, source, stage, text", OPEN_FAULTS[:4] + OPEN_FAULTS[5:6],
                         ids=[f[0] for f in OPEN_FAULTS[:4] + OPEN_FAULTS[5:6]])
def test_strict_mode_fails_fast(install_dist: Installer, omega_database_url: str,
                                monkeypatch: pytest.MonkeyPatch, fault: str, source: str,
                                stage: str, text: str) -> None:
    install_dist("acme-bad", "acme_bad", source)
    monkeypatch.setenv("OMEGA_PLUGINS_STRICT", "1")
    with pytest.raises(PluginLoadError, match="acme-bad") as info:
        OmegaStore(mongo_url=omega_database_url)
    assert text in str(info.value) and "OMEGA_PLUGINS_STRICT" in str(info.value)


def test_a_bad_record_leaves_the_plugins_other_records(install_dist: Installer,
                                                        omega_database_url: str) -> None:
    install_dist("acme-mixed", "acme_mixed", kind_source("acme_mixed", "acme.good", extra="""
@hookimpl
def omega_mixins():
    return [MixinSpec(Good), MixinSpec("acme_mixed:Good", order="first")]

class Good:
    def hello(self):
        return "hello"

from omegacore import MixinSpec
"""))
    store, _ = open_store(omega_database_url)
    assert ours(store) == [("acme-mixed", "acme-mixed", "record")]
    assert "order must be an int, got 'first'" in store.plugins.load_errors[-1].error
    assert store.hello() == "hello"  # type: ignore[attr-defined]
    assert store.put("text", "t").kind == "acme.good"


# -- faults found when a plugin is used ------------------------------------------------------
BROKEN_BACKENDS = [
    ("module missing", "acme_bad_backend:Backend", "backend 'acme_bad_backend:Backend' cannot "
                                                   "be imported (ModuleNotFoundError"),
    ("attribute typo", "acme_bad:Backnd", "backend 'acme_bad:Backnd' cannot be imported "
                                          "(AttributeError"),
    ("no backend class", "acme_bad:helper", "is a function, not a class"),
    ("KIND differs", "acme_bad:Other", "declares KIND = 'acme.other'; set it to 'acme.bad'"),
]
BROKEN_EXTRA = """
def helper():
    pass

class Other(Backend):
    KIND = "acme.other"
"""


@pytest.mark.parametrize("fault, path, text", BROKEN_BACKENDS, ids=[b[0] for b in BROKEN_BACKENDS])
def test_backend_that_does_not_load(install_dist: Installer, omega_database_url: str, capsys,
                                    fault: str, path: str, text: str) -> None:
    install_dist("acme-bad", "acme_bad", kind_source(
        "acme_bad", "acme.bad", priority=9, backend=path, extra=BROKEN_EXTRA))
    store, warned = open_store(omega_database_url)
    assert ours(store) == [] and "acme.bad" in store.plugins.kinds()  # found lazily
    # without another kind for the object: a clear error naming the plugin
    with pytest.raises(NoKindForObject) as info, pytest.warns(RuntimeWarning,
                                                              match=re.escape(text)):
        store.put("text", "x")
    assert "acme-bad (acme-bad)" in str(info.value) and text in str(info.value)
    assert ours(store) == [("acme-bad", "acme-bad", "backend")]
    assert not store.exists("x")
    # --check finds it without a put
    code, out = plugins_cli(capsys, "--check")
    assert code == 1
    assert "check FAIL kind  acme.bad (acme-bad): " in out and text in out
    # another kind for the object takes it, and the store keeps working
    install_dist("acme-fine", "acme_fine", FINE)
    store, _ = open_store(omega_database_url)
    with pytest.warns(RuntimeWarning, match="acme-bad"):
        assert store.put("text", "x").kind == "acme.fine"
    assert store.get("x") == "text"


def test_get_of_a_kind_whose_backend_does_not_import(install_dist: Installer,
                                                     omega_database_url: str) -> None:
    install_dist("acme-fine", "acme_fine", FINE)
    store, _ = open_store(omega_database_url)
    store.put("text", "x")
    store.put("other", "y")
    store.mongodb["metadata"].update_one({"name": "x"}, {"$set": {"kind": "acme.bad"}})
    install_dist("acme-bad", "acme_bad", kind_source(
        "acme_bad", "acme.bad", backend="acme_bad:Backnd"))
    store, _ = open_store(omega_database_url)
    with pytest.raises(PluginImportError, match="acme-bad") as info:
        store.get("x")
    assert isinstance(info.value, ImportError) and "acme_bad:Backnd" in str(info.value)
    assert store.get("y") == "other"


def test_supports_that_raises_is_recorded_and_named(install_dist: Installer,
                                                    omega_database_url: str, capsys) -> None:
    install_dist("acme-bad", "acme_bad", kind_source(
        "acme_bad", "acme.bad", priority=9, supports="raise KeyError('encoding')"))
    store, _ = open_store(omega_database_url)
    with pytest.raises(NoKindForObject) as info, pytest.warns(RuntimeWarning, match="acme-bad"):
        store.put("text", "x")
    message = str(info.value)
    assert message.startswith("no installed kind stores objects of type builtins.str. "
                              "Installed kinds: ")
    assert "acme-bad (acme-bad): kind 'acme.bad': acme_bad:Backend.supports() raised KeyError: " \
           "'encoding'" in message
    assert ours(store) == [("acme-bad", "acme-bad", "supports")]
    install_dist("acme-fine", "acme_fine", FINE)
    store, _ = open_store(omega_database_url)
    with pytest.warns(RuntimeWarning, match=r"acme-bad.*supports\(\) raised KeyError"):
        assert store.put("text", "x").kind == "acme.fine"


def test_strict_mode_fails_fast_on_use(install_dist: Installer, omega_database_url: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    install_dist("acme-fine", "acme_fine", FINE)
    install_dist("acme-bad", "acme_bad", kind_source(
        "acme_bad", "acme.bad", priority=9, supports="raise KeyError('encoding')"))
    monkeypatch.setenv("OMEGA_PLUGINS_STRICT", "1")
    store = OmegaStore(mongo_url=omega_database_url)
    with pytest.raises(PluginLoadError, match=r"acme-bad.*supports\(\) raised") as info:
        store.put("text", "x")
    assert isinstance(info.value.__cause__, KeyError)
    assert not store.exists("x")


def test_select_kind_hook_that_raises_is_left_out(install_dist: Installer,
                                                  omega_database_url: str) -> None:
    install_dist("acme-fine", "acme_fine", FINE)
    install_dist("acme-chooser", "acme_chooser", """
        from omegacore import hookimpl

        @hookimpl(tryfirst=True)
        def omega_select_kind(obj, name, kwargs):
            raise RuntimeError("chooser crashed")
    """)
    store, _ = open_store(omega_database_url)
    with pytest.warns(RuntimeWarning, match="acme-chooser"):
        assert store.put("text", "x").kind == "acme.fine"
    assert ours(store) == [("acme-chooser", "acme-chooser", "omega_select_kind")]
    assert "omega_select_kind() raised RuntimeError: chooser crashed" in \
        store.plugins.load_errors[-1].error


@pytest.mark.parametrize("hook, kwargs", [
    ("omega_before_put", {"obj": "x", "name": "x", "kind": "acme.fine", "kwargs": {}}),
    ("omega_after_put", {"meta": None, "name": "x", "kind": "acme.fine"}),
    ("omega_after_drop", {"name": "x", "meta": None}),
])
def test_hook_that_raises_names_plugin_and_distribution(
        install_dist: Installer, omega_database_url: str, hook: str, kwargs: dict) -> None:
    install_dist("acme-audit", "acme_audit", f"""
        from omegacore import hookimpl

        @hookimpl
        def {hook}({', '.join(['store', *kwargs])}):
            raise PermissionError("quota of ann exceeded")
    """, entry_point="audit")
    install_dist("acme-fine", "acme_fine", FINE + f"""
calls = []

@hookimpl
def {hook}(store):
    calls.append(store)
""")
    store, _ = open_store(omega_database_url)
    with pytest.raises(PluginHookError) as info:
        store.plugins.call_hook(hook, store=store, **kwargs)
    error = info.value
    assert (error.plugin, error.distribution, error.hook) == ("audit", "acme-audit", hook)
    assert isinstance(error.__cause__, PermissionError)
    assert str(error) == (f"{hook} of plugin 'audit' (distribution 'acme-audit') raised "
                          "PermissionError: quota of ann exceeded")
    store.plugins.unregister("audit")
    assert store.plugins.call_hook(hook, store=store, **kwargs) == []
    assert sys.modules["acme_fine"].calls == [store]


def test_cli_command_hook_that_raises_does_not_stop_the_listing(install_dist: Installer,
                                                                capsys) -> None:
    install_dist("acme-fine", "acme_fine", FINE)
    install_dist("acme-cmd", "acme_cmd", """
        from omegacore import hookimpl

        @hookimpl
        def omega_cli_commands(subparsers):
            raise AttributeError("argparse changed")
    """)
    code, out = plugins_cli(capsys)
    assert code == 1 and "acme-fine 1.0" in out
    assert ("LOAD ERROR acme-cmd (acme-cmd): omega_cli_commands() raised AttributeError: "
            "argparse changed") in out


# -- conflicts ---------------------------------------------------------------------------------
def install_two(install_dist: Installer, one: tuple[str, ...] = (),
                two: tuple[str, ...] = ()) -> None:
    install_dist("acme-one", "acme_one", kind_source("acme_one", "acme.same", replaces=one))
    install_dist("acme-two", "acme_two", kind_source(
        "acme_two", "acme.same", supports="return isinstance(obj, str) and obj.isupper()",
        replaces=two))


def test_two_distributions_claiming_one_kind_disable_that_kind_only(
        install_dist: Installer, omega_database_url: str, capsys) -> None:
    install_two(install_dist)
    install_dist("acme-fine", "acme_fine", kind_source("acme_fine", "acme.fine", priority=-1,
                                                       types=("builtins.bytes",),
                                                       supports="return False"))
    store, warned = open_store(omega_database_url)
    assert "acme.same" not in store.plugins.kinds() and "acme.fine" in store.plugins.kinds()
    assert ours(store) == [("acme-one, acme-two", "acme-one, acme-two", "conflict")]
    why = store.plugins.unavailable("acme.same")
    assert why == store.plugins.load_errors[-1].error
    assert why.startswith("kind 'acme.same' is claimed by acme-one (acme-one: acme_one:Backend)"
                          " and acme-two (acme-two: acme_two:Backend), so it is disabled")
    assert "OMEGA_PLUGINS_PREFER=acme.same=<distribution>" in why
    assert any(why in w for w in warned)
    with pytest.raises(NoKindForObject, match="Disabled: kind 'acme.same' is claimed by"):
        store.put("TEXT", "x")
    with pytest.raises(KindNotInstalled, match="acme.same"):
        store.put("TEXT", "x", kind="acme.same")
    assert store.put("text", "y", kind="acme.fine").kind == "acme.fine"
    code, out = plugins_cli(capsys)
    assert code == 1 and f"LOAD ERROR acme-one, acme-two (acme-one, acme-two): {why}" in out


@pytest.mark.parametrize("prefer", ["acme.same=acme-two", "acme-two",
                                    "acme.other=acme-one,acme-two"])
def test_a_setting_names_the_winning_distribution(install_dist: Installer, omega_database_url,
                                                  monkeypatch, capsys, prefer: str) -> None:
    install_two(install_dist)
    monkeypatch.setenv("OMEGA_PLUGINS_PREFER", prefer)
    store, warned = open_store(omega_database_url)
    assert ours(store) == [] and warned == []
    assert store.plugins.kind("acme.same").distribution == "acme-two"
    assert store.put("TEXT", "x").kind == "acme.same" and store.get("x") == "TEXT"
    with pytest.raises(NoKindForObject):  # acme-two's supports decides: upper case only
        store.put("text", "y")
    code, out = plugins_cli(capsys)
    assert code == 0
    assert "note   kind 'acme.same' is provided by acme-two instead (OMEGA_PLUGINS_PREFER)" in out


def test_a_distribution_declares_what_it_replaces(install_dist: Installer,
                                                  omega_database_url) -> None:
    install_two(install_dist, two=("acme-one",))
    store, warned = open_store(omega_database_url)
    assert ours(store) == [] and warned == []
    assert store.plugins.kind("acme.same").distribution == "acme-two"
    info = {i.distribution: i for i in store.plugins.info()}
    assert info["acme-one"].kinds == []
    assert info["acme-one"].notes == [
        "kind 'acme.same' is provided by acme-two instead (its KindSpec.replaces)"]


def test_replacing_each_other_settles_nothing(install_dist: Installer,
                                              omega_database_url) -> None:
    install_two(install_dist, one=("acme-two",), two=("acme-one",))
    store, _ = open_store(omega_database_url)
    assert "acme.same" not in store.plugins.kinds()
    assert ours(store) == [("acme-one, acme-two", "acme-one, acme-two", "conflict")]


def test_keyword_declared_by_two_kinds_is_a_conflict(install_dist: Installer,
                                                     omega_database_url) -> None:
    install_dist("acme-one", "acme_one", kind_source("acme_one", "acme.one", selected_by=("fast",)))
    install_dist("acme-two", "acme_two", kind_source("acme_two", "acme.two", selected_by=("fast",)))
    store, _ = open_store(omega_database_url)
    assert ours(store) == [("acme-one, acme-two", "acme-one, acme-two", "conflict")]
    assert "keyword 'fast' is declared in selected_by of kinds acme.one, acme.two" in \
        store.plugins.load_errors[-1].error
    with pytest.raises(TypeError, match="acme.one and acme.two both declare 'fast'"):
        store.put("x", "x", fast=True)
    assert store.put("x", "x", fast=False).kind == "acme.one"  # off: dropped


# -- switching plugins off ------------------------------------------------------------------
@pytest.mark.parametrize("disable", ["audit", "acme-broken", "nothing-else, audit"])
def test_disable_by_entry_point_or_distribution_name(
        install_dist: Installer, omega_database_url: str, monkeypatch, capsys,
        disable: str) -> None:
    install_dist("acme-broken", "acme_broken", "raise ImportError('needs libacme 9')\n",
                 entry_point="audit")
    install_dist("acme-fine", "acme_fine", FINE)
    monkeypatch.setenv("OMEGA_PLUGINS_DISABLE", disable)
    store, warned = open_store(omega_database_url)
    assert ours(store) == []  # not even imported
    assert "acme_broken" not in sys.modules
    assert [(d.plugin, d.distribution) for d in store.plugins.disabled] == [
        ("audit", "acme-broken")]
    assert store.put("text", "x").kind == "acme.fine"
    unknown = [w for w in store.plugins.load_warnings if w.stage == "disabled"]
    if "nothing-else" in disable:
        assert "OMEGA_PLUGINS_DISABLE names 'nothing-else', which is no installed plugin" in \
            unknown[0].error
        assert any("nothing-else" in w for w in warned)
    else:
        assert unknown == [] and warned == []
    code, out = plugins_cli(capsys)
    assert f"DISABLED acme-broken (audit): OMEGA_PLUGINS_DISABLE names {disable.split(', ')[-1]}" \
        in out
    assert code == 0 and "LOAD ERROR" not in out
    code, out = plugins_cli(capsys, "--json")
    listed = json.loads(out)
    assert listed["disabled"] == [{"plugin": "audit", "distribution": "acme-broken",
                                   "reason": f"OMEGA_PLUGINS_DISABLE names "
                                             f"{disable.split(', ')[-1]}"}]
    assert [w["stage"] for w in listed["warnings"]] == (["disabled"] if unknown else [])


def test_a_disabled_plugin_cannot_be_registered_by_name(monkeypatch) -> None:
    monkeypatch.setenv("OMEGA_PLUGINS_DISABLE", "omegacore-sklearn")
    registry = PluginRegistry()
    assert "sklearn.joblib" not in registry.kinds()
    from omegacore import PluginConflict

    with pytest.raises(PluginConflict, match="switched off"):
        registry.register(object(), name="omegacore-sklearn")


# -- type names -------------------------------------------------------------------------------
def test_type_names_that_match_nothing_are_reported(install_dist: Installer,
                                                    omega_database_url: str, capsys) -> None:
    install_dist("acme-types", "acme_types", kind_source(
        "acme_types", "acme.types", types=("str", "acme_types.Nope", "acme_absent_lib.Thing")))
    store, warned = open_store(omega_database_url)
    assert ours(store) == []  # a warning, not an error: the kind stays usable by kind=...
    found = [(w.plugin, w.stage, w.error) for w in store.plugins.load_warnings]
    assert found == [
        ("acme-types", "types", "kind 'acme.types': type name 'str' names no module and "
                                "matches nothing: write 'builtins.str'"),
        ("acme-types", "types", "kind 'acme.types': type name 'acme_types.Nope': module "
                                "'acme_types' defines no class 'Nope'"),
    ]
    assert any("write 'builtins.str'" in w for w in warned)
    assert store.put("text", "x", kind="acme.types").kind == "acme.types"
    with pytest.raises(NoKindForObject):
        store.put("text", "y")  # "str" matches nothing, as reported
    code, out = plugins_cli(capsys)
    assert code == 0 and "WARNING acme-types (acme-types): kind 'acme.types': type name 'str'" \
        in out
    code, out = plugins_cli(capsys, "--check")
    assert code == 1 and "check FAIL kind  acme.types (acme-types): type name 'str'" in out


def test_check_reports_every_path_as_json(install_dist: Installer, capsys) -> None:
    install_dist("acme-fine", "acme_fine", FINE)
    install_dist("acme-typo", "acme_typo", kind_source(
        "acme_typo", "acme.typo", backend="acme_typo:Backnd", extra="""
from omegacore import MixinSpec

@hookimpl
def omega_mixins():
    return [MixinSpec("acme_typo:Mxin")]
"""))
    code, out = plugins_cli(capsys, "--check", "--json")
    assert code == 1
    checks = {c["name"]: c for c in json.loads(out)["check"] if "acme" in c["distribution"]}
    assert checks["acme.fine"]["ok"] is True
    assert checks["acme.typo"]["ok"] is False
    assert "backend 'acme_typo:Backnd' cannot be imported (AttributeError" in \
        checks["acme.typo"]["error"]
    assert checks["acme_typo:Mxin"]["what"] == "mixin"
    assert "mixin 'acme_typo:Mxin' of distribution 'acme-typo' cannot be imported" in \
        checks["acme_typo:Mxin"]["error"]


def test_check_finds_a_backend_without_supports(install_dist: Installer, capsys) -> None:
    install_dist("acme-lazy", "acme_lazy", """
        from omegacore import BaseBackend, KindSpec, hookimpl

        class Backend(BaseBackend):
            KIND = "acme.lazy"

        @hookimpl
        def omega_kinds():
            return [KindSpec("acme.lazy", "acme_lazy:Backend", types=("builtins.str",))]
    """)
    code, out = plugins_cli(capsys, "--check")
    assert code == 1
    assert "check FAIL kind  acme.lazy (acme-lazy): backend does not implement supports, put, " \
           "get" in out


# -- run-time registration validates at once -----------------------------------------------
def test_runtime_records_are_validated(core_store: OmegaStore) -> None:
    from omegacore import KindSpec
    from support_kinds import BytesBackend

    with pytest.raises(InvalidPluginRecord, match="kind must be a dotted name"):
        core_store.register_backend("bytes", BytesBackend)
    with pytest.raises(InvalidPluginRecord, match="declares KIND = 'test.bytes'; set it to"):
        core_store.register_backend("test.other", BytesBackend)
    with pytest.raises(InvalidPluginRecord, match="priority must be an int"):
        core_store.plugins.register_runtime(kinds=[KindSpec("test.x", BytesBackend,
                                                            priority=1.5)])  # type: ignore
    with pytest.raises(InvalidPluginRecord, match="mixin must be an import path"):
        core_store.register_mixin("not a path")  # type: ignore[arg-type]
    with pytest.warns(RuntimeWarning, match="write 'builtins.bytes'"):
        core_store.plugins.register_runtime(kinds=[KindSpec("test.bytes", BytesBackend,
                                                            types=("bytes",))])
    assert core_store.put(b"x", "x", kind="test.bytes").kind == "test.bytes"
