"""The omegacore command line, run in-process against a real server."""

from __future__ import annotations

import json

import pytest

from conftest import Installer
from omegacore.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plugins_lists_distributions_versions_kinds_and_errors(install_dist: Installer, capsys,
                                                               monkeypatch) -> None:
    monkeypatch.setenv("OMEGA_PLUGINS_STRICT", "0")
    install_dist("acme-cli", "acme_cli", """
        from omegacore import KindSpec, MixinSpec, hookimpl

        class Mixin:
            pass

        @hookimpl
        def omega_kinds():
            return [KindSpec("acme.cli", "acme_cli:Backend", priority=3)]

        @hookimpl
        def omega_mixins():
            return [MixinSpec(Mixin, order=7)]

        @hookimpl
        def omega_after_put(store, meta, name, kind):
            pass
    """, version="3.1")
    install_dist("acme-bad", "acme_bad", "raise RuntimeError('broken on purpose')\n")
    with pytest.warns(RuntimeWarning):
        code, out, _ = run(capsys, "plugins")
    assert code == 1  # load errors make the listing fail, so scripts notice
    assert "acme-cli 3.1" in out
    assert "kind   acme.cli" in out and "priority 3" in out and "acme_cli:Backend" in out
    assert "mixin  acme_cli:Mixin (order 7)" in out
    assert "hooks  omega_after_put" in out
    assert "LOAD ERROR acme-bad (acme-bad): RuntimeError: broken on purpose" in out
    with pytest.warns(RuntimeWarning):
        code, out, _ = run(capsys, "plugins", "--json")
    data = json.loads(out)
    acme = [p for p in data["plugins"] if p["distribution"] == "acme-cli"]
    assert acme == [{"name": "acme-cli", "distribution": "acme-cli", "version": "3.1",
                     "kinds": ["acme.cli"], "mixins": ["acme_cli:Mixin"],
                     "hooks": ["omega_after_put", "omega_kinds", "omega_mixins"], "notes": []}]
    assert data["load_errors"][0]["distribution"] == "acme-bad"


def test_list_info_drop(core_store, omega_database_url, capsys) -> None:
    core_store.put(b"x", "reports/q1", attributes={"owner": "ann"})
    core_store.put(b"y", "reports/q2")
    core_store.put(b"z", "_scratch")
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "list")
    assert (code, out.split()) == (0, ["reports/q1", "reports/q2"])
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "list", "--all")
    assert out.split() == ["_scratch", "reports/q1", "reports/q2"]
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "list", "*q2")
    assert out.split() == ["reports/q2"]
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "info", "reports/q1")
    info = json.loads(out)
    assert (code, info["name"], info["kind"], info["attributes"]) == (
        0, "reports/q1", "test.bytes", {"owner": "ann"})
    code, _, err = run(capsys, "--mongo-url", omega_database_url, "info", "nope")
    assert code == 1 and "'nope' does not exist" in err
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "drop", "--pattern", "reports/*")
    assert (code, out.splitlines()) == (0, ["dropped reports/q1", "dropped reports/q2"])
    assert core_store.list(include_temp=True) == ["_scratch"]
    code, _, err = run(capsys, "--mongo-url", omega_database_url, "drop", "nope")
    assert code == 1 and "does not exist" in err


def test_server_status_when_not_running(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("OMEGA_SERVER_DIR", str(tmp_path))
    code, out, _ = run(capsys, "server", "status")
    assert (code, out.strip()) == (3, "not running")
    code, out, _ = run(capsys, "server", "stop")
    assert (code, out.strip()) == (0, "not running")


def test_hook_reference_matches_hookspecs() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[1] / "docs" / "gen_hooks.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
