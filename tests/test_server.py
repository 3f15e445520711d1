"""Tests for omegacore.server: the embedded SecantusDB server manager.

These start real ``secantusd-py`` processes (no mocks) in per-test temporary directories, so
they never touch the user's data directory, and always stop them on teardown.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pymongo
import pytest

from omegacore import OmegaError, server
from omegacore.server import (
    ServerUnavailable,
    data_dir,
    ensure_server,
    server_status,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.skipif(
    server._find_executable() is None, reason="secantusd-py (omegacore[embedded]) not installed"
)

HAS_PROC = Path("/proc/self/cmdline").exists()
REPO_ROOT = Path(__file__).resolve().parents[1]


def _server_pids(storage_path: str) -> list[int]:
    """Pids of live (non-zombie) processes whose command line names ``storage_path``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
            continue
        if storage_path.encode() in args and any(b"secantusd" in a for a in args[:2]):
            pids.append(int(entry.name))
    return sorted(pids)


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    if HAS_PROC:  # exited but not yet reaped by a foreign parent
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")
    return False


def _client(url: str) -> pymongo.MongoClient:
    return pymongo.MongoClient(url, serverSelectionTimeoutMS=5000)


@pytest.fixture
def srv_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "srv"
    try:
        yield directory
    finally:
        stop_server(directory)
        # Belt and braces: a server this test started but that never got recorded.
        if HAS_PROC:
            for pid in _server_pids(str(directory / "db")):
                os.kill(pid, signal.SIGKILL)


def test_start_status_and_roundtrip(srv_dir: Path) -> None:
    state = start_server(srv_dir)

    assert state["host"] == "127.0.0.1"
    assert state["url"] == f"mongodb://127.0.0.1:{state['port']}/?retryWrites=false"
    assert state["storage_path"] == str(srv_dir / "db")
    assert (srv_dir / "db").is_dir()
    assert json.loads((srv_dir / "state.json").read_text()) == state

    status = server_status(srv_dir)
    assert status is not None
    assert status["pid"] == state["pid"]
    assert status["url"] == state["url"]

    with _client(status["url"]) as client:
        assert client.admin.command("ping")["ok"] == 1.0
        coll = client["omegacore_test"]["things"]
        coll.insert_one({"_id": "answer", "value": 42, "name": "x"})
        assert coll.find_one({"_id": "answer"}) == {"_id": "answer", "value": 42, "name": "x"}

    log = (srv_dir / "server.log").read_text()
    assert f"listening on 127.0.0.1:{state['port']}" in log
    if HAS_PROC:
        args = Path(f"/proc/{state['pid']}/cmdline").read_bytes().split(b"\0")
        # the oplog cap that keeps a long-lived server's writes fast
        assert args[args.index(b"--oplog-max-entries") + 1] == b"1000"


def test_ensure_server_twice_returns_same_server(srv_dir: Path) -> None:
    url1 = ensure_server(srv_dir)
    first = server_status(srv_dir)
    assert first is not None and first["url"] == url1
    url2 = ensure_server(srv_dir)
    second = server_status(srv_dir)
    assert url2 == url1
    assert second is not None and second["pid"] == first["pid"]
    pid1 = first["pid"]
    if HAS_PROC:
        assert _server_pids(str(srv_dir / "db")) == [pid1]


def test_stale_state_is_ignored_and_replaced(srv_dir: Path) -> None:
    srv_dir.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert _pid_gone(dead.pid)
    stale = {
        "pid": dead.pid,
        "host": "127.0.0.1",
        "port": server._free_port(),
        "url": "mongodb://127.0.0.1:1/?retryWrites=false",
        "started": "2000-01-01T00:00:00+00:00",
        "storage_path": str(srv_dir / "db"),
    }
    (srv_dir / "state.json").write_text(json.dumps(stale))
    assert server_status(srv_dir) is None

    # A live pid that is not a server (this test process) does not count either.
    port = server._free_port()
    not_a_server = dict(stale, pid=os.getpid(), port=port, url=server.server_url(port))
    (srv_dir / "state.json").write_text(json.dumps(not_a_server))
    assert server_status(srv_dir) is None

    url = ensure_server(srv_dir)
    state = json.loads((srv_dir / "state.json").read_text())
    assert state["url"] == url
    assert state["pid"] not in (dead.pid, os.getpid())
    with _client(url) as client:
        assert client.admin.command("ping")["ok"] == 1.0


def test_stop_server(srv_dir: Path) -> None:
    state = start_server(srv_dir)
    pid = state["pid"]

    assert stop_server(srv_dir) is True
    assert server_status(srv_dir) is None
    assert not (srv_dir / "state.json").exists()
    assert _pid_gone(pid)
    # nothing left to stop
    assert stop_server(srv_dir) is False


CHILD = textwrap.dedent(
    """
    import json, sys, time
    from omegacore.server import ensure_server, server_status
    directory, start_at = sys.argv[1], float(sys.argv[2])
    time.sleep(max(0.0, start_at - time.time()))
    url = ensure_server(directory)
    print(json.dumps({"url": url, "pid": server_status(directory)["pid"]}))
    """
)


def test_concurrent_start_makes_one_server(srv_dir: Path) -> None:
    pythonpath = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(pythonpath))
    start_at = time.time() + 1.5  # both children are past their imports by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(srv_dir), repr(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=str(REPO_ROOT),
        )
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))

    assert results[0] == results[1]
    # the server outlived both processes that asked for it
    status = server_status(srv_dir)
    assert status is not None
    assert status["url"] == results[0]["url"]
    assert status["pid"] == results[0]["pid"]
    # only one server was ever spawned (the loser of the race found it under the lock)
    log = (srv_dir / "server.log").read_text()
    assert log.count("secantus listening on") == 1
    if HAS_PROC:
        assert _server_pids(str(srv_dir / "db")) == [status["pid"]]


def test_missing_executable_raises_with_install_hint(
    srv_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(server, "_interpreter_bin_dir", lambda: empty)
    assert server._find_executable() is None

    with pytest.raises(ServerUnavailable) as info:
        start_server(srv_dir)
    message = str(info.value)
    assert 'pip install "omegacore[embedded]"' in message
    assert "OMEGA_MONGO_URL" in message
    assert isinstance(info.value, OmegaError)
    assert not (srv_dir / "state.json").exists()

    with pytest.raises(ServerUnavailable):
        ensure_server(srv_dir)


@pytest.mark.skipif(
    not (Path(sys.executable).parent / "secantusd-py").exists(),
    reason="secantusd-py is not installed next to the interpreter",
)
def test_executable_found_next_to_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    # PATH without the venv's bin: the program is still found next to sys.executable.
    monkeypatch.setenv("PATH", os.devnull)
    found = server._find_executable()
    assert found is not None
    assert Path(found).parent == Path(sys.executable).parent


def test_data_dir_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMEGA_SERVER_DIR", str(tmp_path / "custom"))
    assert data_dir() == tmp_path / "custom"
    monkeypatch.delenv("OMEGA_SERVER_DIR")
    assert data_dir() == Path(platformdirs.user_data_dir("omegacore")) / "server"


def test_compact_keeps_what_is_stored_and_gives_space_back(srv_dir: Path) -> None:
    state = start_server(srv_dir)
    with _client(state["url"]) as client:
        kept = client["omegacore_test"]["kept"]
        kept.create_index([("k", 1)], name="by_k", unique=True)
        kept.insert_many([{"_id": i, "k": i, "text": "kept"} for i in range(500)])
        bulky = client["omegacore_test"]["dropped"]
        for start in range(0, 20_000, 2_000):
            bulky.insert_many([{"n": i, "pad": os.urandom(500).hex()}  # incompressible
                               for i in range(start, start + 2_000)])
        bulky.drop()
        client["omegacore_test"].command("ping")
    before = server.disk_usage(srv_dir)
    result = server.compact_server(srv_dir)
    after = server.disk_usage(srv_dir)
    assert result["before"]["tables"] == before["tables"]
    assert result["after"]["tables"] <= after["tables"]
    assert result["copied"] == 500
    assert after["tables"] < before["tables"] / 2  # the dropped 20 MB are gone
    status = server_status(srv_dir)
    assert status is not None and status["url"] == result["url"]
    assert not (srv_dir / "db.compacting").exists() and not (srv_dir / "db.retired").exists()
    with _client(status["url"]) as client:
        db = client["omegacore_test"]
        assert db.list_collection_names() == ["kept"]
        assert db["kept"].count_documents({}) == 500
        assert db["kept"].find_one({"_id": 7}) == {"_id": 7, "k": 7, "text": "kept"}
        assert db["kept"].index_information()["by_k"]["unique"] is True
        with pytest.raises(pymongo.errors.DuplicateKeyError):
            db["kept"].insert_one({"k": 7})
    assert server.stored_bytes(status["url"]) > 500 * 20


def test_status_reports_sizes(srv_dir: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    from omegacore.cli import main

    monkeypatch.setenv("OMEGA_SERVER_DIR", str(srv_dir))
    assert main(["server", "start"]) == 0
    capsys.readouterr()
    assert main(["server", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    usage = server.disk_usage(srv_dir)
    assert status["running"] is True and status["disk"]["total"] > 0
    assert set(status["disk"]) == {"tables", "journal", "other", "total"}
    assert abs(status["disk"]["total"] - usage["total"]) < 16 * 1024 * 1024
    assert main(["server", "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("running  mongodb://127.0.0.1:")
    assert lines[1].startswith("stored ") and "on disk (" in lines[1] and "journal)" in lines[1]
