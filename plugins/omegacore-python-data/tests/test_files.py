"""``omegacore put``/``get`` of JSON files on a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegacore import OmegaStore
from omegacore.cli import main


def test_json_round_trip(store: OmegaStore, omega_database_url: str, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    config = {"learning_rate": 0.1, "layers": [64, 32], "name": "Zürich"}
    (tmp_path / "c.json").write_text(json.dumps(config), encoding="utf-8")
    url = ["--mongo-url", omega_database_url]
    assert main([*url, "put", str(tmp_path / "c.json"), "config"]) == 0
    assert capsys.readouterr().out == "stored config (python.data): 3 items\n"
    assert store.get("config") == [config]  # the kind returns the objects put so far
    assert main([*url, "get", "config"]) == 0
    assert json.loads(capsys.readouterr().out) == [config]
    # an array is one object per element, so what get writes puts back the same
    assert main([*url, "get", "config", "-o", str(tmp_path / "back.json")]) == 0
    assert main([*url, "put", str(tmp_path / "back.json"), "again"]) == 0
    assert capsys.readouterr().out == "stored again (python.data): 1 item\n"
    assert main([*url, "get", "again", "-o", str(tmp_path / "again.json")]) == 0
    assert (tmp_path / "again.json").read_text() == (tmp_path / "back.json").read_text()
    assert store.get("again") == [config]


def test_bad_json_files(omega_database_url: str, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    url = ["--mongo-url", omega_database_url]
    (tmp_path / "broken.json").write_text('{"a": 1,,}')
    assert main([*url, "put", str(tmp_path / "broken.json"), "x"]) == 4
    assert capsys.readouterr().err == (
        "omegacore: broken.json: not valid JSON (Expecting property name enclosed in double "
        "quotes at line 1, column 9)\n")
    (tmp_path / "scalar.json").write_text("42")
    assert main([*url, "put", str(tmp_path / "scalar.json"), "x"]) == 4
    assert capsys.readouterr().err == (
        "omegacore: scalar.json: holds a int; python.data stores a JSON object or array\n")
