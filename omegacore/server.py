"""The embedded default database server.

When neither a ``mongo_url`` argument nor ``OMEGA_MONGO_URL`` names a MongoDB deployment,
omegacore uses a local SecantusDB server (a MongoDB wire-compatible server, PyPI package
``SecantusDB``, installed by the ``omegacore[embedded]`` extra). This module starts that server
on demand and records where it listens, so that every process of the user shares one server.

Licence boundary: SecantusDB is GPL-2.0, so it is only ever run as a separate program
(``secantusd-py``) and spoken to over a socket. It is never imported anywhere in omegacore.

Everything lives in one directory (see :func:`data_dir`):

- ``db/``             the server's storage path (WiredTiger home)
- ``state.json``      where the running server listens: pid, host, port, url, started, storage_path
- ``server.lock``     file lock serialising start/stop between processes
- ``server.log``      the server's stdout/stderr
- ``secantusd.toml``  the server's configuration file (passed explicitly, see :func:`_spawn`)

Two settings keep a long-lived server fast (measured on SecantusDB 0.7.0b3: with retryable
writes and the default oplog cap, a small insert slows from ~0.7 ms to ~6.5 ms after 10,000
inserts; with both settings below it stays flat): the server is started with
``--oplog-max-entries 1000`` and the URLs returned here carry ``retryWrites=false``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import filelock
import platformdirs
import pymongo
import pymongo.errors

from omegacore import settings
from omegacore.errors import ServerUnavailable

__all__ = [
    "ServerUnavailable",
    "compact_server",
    "data_dir",
    "disk_usage",
    "ensure_server",
    "server_status",
    "start_server",
    "stop_server",
]

#: Name of the SecantusDB server program (installed by ``omegacore[embedded]``).
EXECUTABLE = "secantusd-py"
#: The server only ever listens on the loopback interface.
HOST = "127.0.0.1"
#: Oplog cap passed to the server; keeps per-write cost flat on a long-lived server.
OPLOG_MAX_ENTRIES = 1000
#: How long a liveness ping may take before the server counts as not answering.
PING_TIMEOUT_MS = 2000
#: How many ports to try when the chosen free port is taken before the server binds it.
PORT_ATTEMPTS = 3
#: Seconds between the server's checkpoints. WiredTiger removes journal files only after a
#: checkpoint; SecantusDB's default (60 s) let a large put keep ~100 MB of journal for a
#: minute, so the embedded server checkpoints every 10 s (cheap when nothing changed).
CHECKPOINT_SECONDS = 10
#: server.log is rotated to server.log.1 when it grows beyond this size at start.
LOG_ROTATE_BYTES = 5 * 1024 * 1024

STATE_FILE = "state.json"
LOCK_FILE = "server.lock"
LOG_FILE = "server.log"
CONFIG_FILE = "secantusd.toml"
STORAGE_DIR = "db"

INSTALL_HINT = (
    "install the embedded server with omegacore[embedded] "
    '(pip install "omegacore[embedded]") or set OMEGA_MONGO_URL to an existing MongoDB'
)

# Servers spawned by this process, by pid. Keeping the Popen objects lets this process reap its
# own children (a dead child stays a zombie, and looks alive to os.kill, until it is reaped).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


# --------------------------------------------------------------------------------------------
# locations
# --------------------------------------------------------------------------------------------


def data_dir() -> Path:
    """Return the directory holding the embedded server's data, state, lock and log.

    ``OMEGA_SERVER_DIR`` wins when set (tests and multi-user setups point it elsewhere);
    otherwise the per-user data directory, ``platformdirs.user_data_dir("omegacore")/server``.
    """
    env = settings.server_dir_from_env()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("omegacore")) / "server"


def _resolve(directory: Path | str | None) -> Path:
    # Absolute, because the server runs with this directory as its working directory and
    # because the recorded storage_path is compared with the server's command line.
    return (Path(directory) if directory is not None else data_dir()).expanduser().absolute()


def server_url(port: int, host: str = HOST) -> str:
    """Return the client URL for a server on ``host:port``.

    ``retryWrites=false`` is part of the URL on purpose: retryable writes make every write on
    a long-lived SecantusDB server slower than the one before. No database name is included;
    the caller chooses it.
    """
    return f"mongodb://{host}:{port}/?retryWrites=false"


def _interpreter_bin_dir() -> Path:
    """Return the directory of the running interpreter (a venv's ``bin``/``Scripts``).

    The server program is installed there, and that directory is not always on ``PATH``
    (e.g. a venv's interpreter run by absolute path). Separate function so tests can point it
    somewhere else.
    """
    return Path(sys.executable).parent


def _find_executable() -> str | None:
    """Return the path of ``secantusd-py``: from ``PATH``, else next to the interpreter."""
    found = shutil.which(EXECUTABLE)
    if found:
        return found
    bin_dir = _interpreter_bin_dir()
    for name in (EXECUTABLE, EXECUTABLE + ".exe"):
        candidate = bin_dir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _require_executable() -> str:
    exe = _find_executable()
    if exe is None:
        raise ServerUnavailable(
            f"the embedded MongoDB-compatible server ({EXECUTABLE}) was not found on PATH or "
            f"next to {sys.executable}; {INSTALL_HINT}"
        )
    return exe


def _free_port(host: str = HOST) -> int:
    """Return a port that is free right now (the OS picks it; another process may still take
    it before the server binds it, which :func:`start_server` handles by retrying)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    """Return whether process ``pid`` exists and is not a zombie."""
    if pid <= 0:
        return False
    child = _CHILDREN.get(pid)
    if child is not None:
        # Our own child: poll() reaps it if it has exited.
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    # A zombie (exited, not yet reaped by its parent) still accepts signal 0.
    stat = Path(f"/proc/{pid}/stat")
    try:
        text = stat.read_text()
    except OSError:
        return True
    # Format: "pid (comm) S ..." - comm may contain spaces/parens, so split after the last ")".
    fields = text.rsplit(")", 1)[-1].split()
    return not (fields and fields[0] in ("Z", "X"))


def _pid_runs_storage(pid: int, storage_path: str | None) -> bool:
    """Return False only when we can see that ``pid`` is NOT the server for ``storage_path``.

    Guards against signalling an unrelated process that reused a recorded pid. Where process
    command lines cannot be read (non-Linux), the answer is True.
    """
    if not storage_path:
        return True
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    args = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    return storage_path in args


def _probe(url: str, timeout_ms: int = PING_TIMEOUT_MS) -> int | None:
    """Ping the server at ``url``. Return the server's pid as it reports it (``-1`` if it
    answers the ping but does not report a pid), or None if it does not answer."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        url,
        directConnection=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms * 2,
        appname="omegacore-server-probe",
    )
    try:
        client.admin.command("ping")
        try:
            status = client.admin.command("serverStatus")
        except pymongo.errors.PyMongoError:
            return -1
        pid = status.get("pid")
        return int(pid) if isinstance(pid, int) else -1
    except pymongo.errors.PyMongoError:
        return None
    finally:
        client.close()


def _answers_as(url: str, pid: int, timeout_ms: int = PING_TIMEOUT_MS) -> bool:
    """Return whether the server at ``url`` answers a ping and (if it reports one) has ``pid``.

    The pid check makes sure the recorded server, not some other one that took its port
    after it died, is the one answering.
    """
    answered = _probe(url, timeout_ms)
    return answered is not None and (answered == -1 or answered == pid)


# --------------------------------------------------------------------------------------------
# state file
# --------------------------------------------------------------------------------------------


def _read_state(directory: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if not isinstance(data.get("pid"), int) or not isinstance(data.get("url"), str):
        return None
    return data


def _write_state(directory: Path, state: dict[str, Any]) -> None:
    """Write state.json atomically: readers see the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(prefix=".state-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, directory / STATE_FILE)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _remove_state(directory: Path) -> None:
    try:
        (directory / STATE_FILE).unlink()
    except FileNotFoundError:
        pass


def _lock(directory: Path, timeout: float) -> filelock.BaseFileLock:
    return filelock.FileLock(str(directory / LOCK_FILE), timeout=timeout)


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def server_status(directory: Path | None = None) -> dict[str, Any] | None:
    """Return the recorded state of the embedded server if it is running, else None.

    The state (``pid``, ``host``, ``port``, ``url``, ``started``, ``storage_path``) is read
    from ``state.json``; it counts only if that pid is alive and the server answers a ping.
    A stale state file (crash, reboot) is ignored, not trusted.
    """
    state = _read_state(_resolve(directory))
    if state is None:
        return None
    pid = int(state["pid"])
    if not _pid_alive(pid):
        return None
    port, host = state.get("port"), state.get("host", HOST)
    if isinstance(port, int) and isinstance(host, str) and not _port_open(port, host):
        return None  # nothing listens: fail now instead of after the ping timeout
    if not _answers_as(str(state["url"]), pid):
        return None
    return state


def start_server(directory: Path | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """Start the embedded server unless one is already running; return its state.

    Runs under a file lock, so processes starting at the same moment end up with one server.
    The server is a separate process in its own session, so it outlives the caller and is
    shared by later processes. Raises :class:`ServerUnavailable` if the server program is not
    installed, exits early, or does not answer within ``timeout`` seconds.
    """
    directory = _resolve(directory)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with _lock(directory, timeout=timeout + 30.0):
            state = server_status(directory)
            if state is not None:
                return state
            exe = _require_executable()
            return _start_locked(directory, exe, timeout)
    except filelock.Timeout as exc:
        raise ServerUnavailable(
            f"timed out waiting for the lock {directory / LOCK_FILE}: another process is "
            "starting or stopping the embedded server"
        ) from exc


def ensure_server(directory: Path | None = None) -> str:
    """Return the URL of the running embedded server, starting it if needed.

    The common case (server already running) only reads the state file and pings, without
    taking the lock.
    """
    state = server_status(directory)
    if state is None:
        state = start_server(directory)
    return str(state["url"])


def stop_server(directory: Path | None = None, timeout: float = 10.0) -> bool:
    """Stop the recorded embedded server; return whether a server was stopped.

    Sends SIGTERM (a clean shutdown), waits up to ``timeout`` seconds, then SIGKILL.
    The state file is removed in any case.
    """
    directory = _resolve(directory)
    if not directory.is_dir():
        return False
    with _lock(directory, timeout=timeout + 60.0):
        state = _read_state(directory)
        if state is None:
            _remove_state(directory)
            return False
        pid = int(state["pid"])
        stopped = False
        if _pid_alive(pid) and _pid_runs_storage(pid, state.get("storage_path")):
            _terminate(pid, timeout)
            stopped = True
        _remove_state(directory)
        return stopped


# --------------------------------------------------------------------------------------------
# starting and stopping
# --------------------------------------------------------------------------------------------


def _ensure_config(directory: Path) -> Path:
    """Create the server's configuration file if missing and return its path.

    It is passed with ``--config`` so the server does not auto-discover a stray
    ``./secantusd.toml`` or ``~/.secantus/secantusd.toml``; users may tune the embedded server
    by editing it (command-line flags set here still take precedence).
    """
    path = directory / CONFIG_FILE
    if not path.exists():
        path.write_text(
            "# SecantusDB configuration for the omegacore embedded server.\n"
            "# Command-line flags given by omegacore (host, port, storage path, oplog cap)\n"
            "# override values set here.\n",
            encoding="utf-8",
        )
    return path


def _rotate_log(log_path: Path) -> None:
    try:
        if log_path.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(log_path, log_path.with_name(log_path.name + ".1"))
    except OSError:
        pass


def _read_log_since(log_path: Path, offset: int, limit: int = 4000) -> str:
    """Return (the last ``limit`` characters of) what the server logged after ``offset``."""
    try:
        with open(log_path, "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


def _looks_like_port_clash(log_text: str) -> bool:
    low = log_text.lower()
    return "address already in use" in low or "eaddrinuse" in low or "errno 98" in low


def _spawn(
    exe: str,
    directory: Path,
    port: int,
    log_path: Path,
    extra_args: list[str] | None = None,
    storage: Path | None = None,
) -> subprocess.Popen[bytes]:
    storage = storage if storage is not None else directory / STORAGE_DIR
    storage.mkdir(parents=True, exist_ok=True)
    args = [
        exe,
        "--config",
        str(_ensure_config(directory)),
        "--host",
        HOST,
        "--port",
        str(port),
        "--storage-path",
        str(storage),
        "--oplog-max-entries",
        str(OPLOG_MAX_ENTRIES),
        *(extra_args or []),
    ]
    env = dict(os.environ)
    env.setdefault("SECANTUS_CHECKPOINT_SECONDS", str(CHECKPOINT_SECONDS))
    kwargs: dict[str, Any] = {"env": env}
    if os.name == "nt":  # pragma: no cover - POSIX is the supported platform
        kwargs["creationflags"] = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
            subprocess, "CREATE_NEW_PROCESS_GROUP", 0
        )
    else:
        kwargs["start_new_session"] = True  # survive the caller and its terminal's signals
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(directory),
            close_fds=True,
            **kwargs,
        )
    _CHILDREN[proc.pid] = proc
    return proc


def _start_locked(directory: Path, exe: str, timeout: float) -> dict[str, Any]:
    """Spawn the server and wait until it answers; caller holds the lock."""
    log_path = directory / LOG_FILE
    _rotate_log(log_path)
    last_error = ""
    for _attempt in range(PORT_ATTEMPTS):
        port = _free_port()
        url = server_url(port)
        try:
            offset = log_path.stat().st_size
        except OSError:
            offset = 0
        proc = _spawn(exe, directory, port, log_path)
        outcome = _wait_ready(proc, port, timeout)
        if outcome == "ready":
            state: dict[str, Any] = {
                "pid": proc.pid,
                "host": HOST,
                "port": port,
                "url": url,
                "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "storage_path": str(directory / STORAGE_DIR),
            }
            _write_state(directory, state)
            return state
        tail = _read_log_since(log_path, offset)
        if outcome == "exited":
            if _looks_like_port_clash(tail):
                last_error = f"port {port} was taken; server log:\n{tail}"
                continue
            raise ServerUnavailable(
                f"{EXECUTABLE} exited with code {proc.returncode} while starting "
                f"(log: {log_path}):\n{tail}"
            )
        # timed out: do not leave a half-started server behind
        _terminate(proc.pid, 5.0)
        raise ServerUnavailable(
            f"{EXECUTABLE} did not answer on {url} within {timeout:.0f} s "
            f"(log: {log_path}):\n{tail}"
        )
    raise ServerUnavailable(
        f"{EXECUTABLE} could not bind a port after {PORT_ATTEMPTS} attempts: {last_error}"
    )


def _port_open(port: int, host: str = HOST) -> bool:
    """Return whether something accepts TCP connections on ``host:port`` (cheap pre-check:
    a refused connection fails at once, where a driver ping would wait for its timeout)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float) -> str:
    """Poll until the server answers as ``proc`` ("ready"), exits ("exited") or ``timeout``
    passes ("timeout")."""
    url = server_url(port)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            return "exited"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        if _port_open(port):
            ping_ms = int(min(PING_TIMEOUT_MS, max(remaining, 0.1) * 1000))
            # Checking the reported pid, and that proc still runs, makes sure it is our server
            # answering and not another one that grabbed the port first.
            if _answers_as(url, proc.pid, timeout_ms=ping_ms):
                return "ready" if proc.poll() is None else "exited"
        time.sleep(0.05)


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM ``pid``, wait up to ``timeout`` seconds, then SIGKILL and wait a little more."""
    kill_signal = getattr(signal, "SIGKILL", signal.SIGTERM)
    child = _CHILDREN.get(pid)
    for sig, wait in ((signal.SIGTERM, timeout), (kill_signal, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        except OSError:
            break
        if child is not None:
            try:
                child.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        if _wait_gone(pid, wait):
            break
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


# --------------------------------------------------------------------------------------------
# disk space
# --------------------------------------------------------------------------------------------
#: Databases the server keeps for itself; compaction does not copy them.
_SYSTEM_DATABASES = ("admin", "config", "local")
#: Documents per batch when compaction copies a collection.
COPY_BATCH = 2000


def disk_usage(directory: Path | None = None) -> dict[str, int]:
    """Bytes in the embedded server's storage directory, by what they hold.

    ``tables``: WiredTiger data files (documents, indexes; space freed by drops is reused
    but the files do not shrink); ``journal``: ``WiredTigerLog.*`` (removed after each
    checkpoint); ``other``; ``total``.
    """
    storage = _resolve(directory) / STORAGE_DIR
    usage = {"tables": 0, "journal": 0, "other": 0}
    if storage.is_dir():
        for path in storage.rglob("*"):
            try:
                size = path.stat().st_size if path.is_file() else 0
            except OSError:
                continue
            if path.name.startswith(("WiredTigerLog.", "WiredTigerPreplog.")):
                usage["journal"] += size
            elif path.suffix == ".wt":
                usage["tables"] += size
            else:
                usage["other"] += size
    usage["total"] = sum(usage.values())
    return usage


def stored_bytes(url: str) -> int:
    """Bytes of documents and indexes the server reports holding (``dbStats``), all databases."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        url, directConnection=True, serverSelectionTimeoutMS=PING_TIMEOUT_MS)
    try:
        total = 0
        for name in client.list_database_names():
            if name in _SYSTEM_DATABASES:
                continue
            stats = client[name].command("dbStats")
            total += int(stats.get("totalSize") or 0) or (
                int(stats.get("dataSize") or 0) + int(stats.get("indexSize") or 0))
        return total
    finally:
        client.close()


def compact_server(directory: Path | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """Rewrite the embedded server's storage with only what is stored; return the sizes.

    WiredTiger does not give the space of dropped collections back to the file system, and
    SecantusDB has no ``compact`` command, so the data is copied: under the server lock the
    server is stopped, the old storage and a fresh one are each served on a private port,
    every database (with its indexes) is copied, the fresh storage takes the old one's place
    and the server is started again. Processes that want the server meanwhile wait for the
    lock; clients connected to the old server reconnect (it may listen on a new port).
    Returns ``{"before": disk_usage, "after": disk_usage, "copied": documents, "url": ...}``.
    """
    directory = _resolve(directory)
    if not (directory / STORAGE_DIR).is_dir():
        raise ServerUnavailable(f"no embedded server storage in {directory}: nothing to compact")
    exe = _require_executable()
    log_path = directory / LOG_FILE
    fresh = directory / (STORAGE_DIR + ".compacting")
    retired = directory / (STORAGE_DIR + ".retired")
    try:
        lock = _lock(directory, timeout=timeout + 30.0)
        lock.acquire()
    except filelock.Timeout as exc:
        raise ServerUnavailable(
            f"timed out waiting for the lock {directory / LOCK_FILE}: another process is "
            "starting, stopping or compacting the embedded server") from exc
    try:
        before = disk_usage(directory)
        state = _read_state(directory)
        if state is not None:
            pid = int(state["pid"])
            if _pid_alive(pid) and _pid_runs_storage(pid, state.get("storage_path")):
                _terminate(pid, 10.0)
            _remove_state(directory)
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
        old = _private_server(exe, directory, log_path, directory / STORAGE_DIR, timeout)
        try:
            new = _private_server(exe, directory, log_path, fresh, timeout)
            try:
                copied = _copy_databases(server_url(old[1]), server_url(new[1]))
            finally:
                _terminate(new[0].pid, 10.0)
        finally:
            _terminate(old[0].pid, 10.0)
        os.replace(directory / STORAGE_DIR, retired)
        os.replace(fresh, directory / STORAGE_DIR)
        shutil.rmtree(retired, ignore_errors=True)
        after = disk_usage(directory)
        state = _start_locked(directory, exe, timeout)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        if not (directory / STORAGE_DIR).exists() and retired.exists():
            os.replace(retired, directory / STORAGE_DIR)
        raise
    finally:
        lock.release()
    return {"before": before, "after": after, "copied": copied, "url": state["url"]}


def _private_server(
    exe: str, directory: Path, log_path: Path, storage: Path, timeout: float
) -> tuple[subprocess.Popen[bytes], int]:
    """A server on ``storage`` at a port recorded nowhere (for compaction)."""
    for _attempt in range(PORT_ATTEMPTS):
        port = _free_port()
        proc = _spawn(exe, directory, port, log_path, storage=storage)
        outcome = _wait_ready(proc, port, timeout)
        if outcome == "ready":
            return proc, port
        _terminate(proc.pid, 5.0)
    raise ServerUnavailable(f"{EXECUTABLE} did not start on {storage} (log: {log_path})")


def _copy_databases(source_url: str, target_url: str) -> int:
    """Copy every user database, collection and index from one server to another."""
    from bson.codec_options import CodecOptions
    from bson.raw_bson import RawBSONDocument

    raw = CodecOptions(document_class=RawBSONDocument)
    source: pymongo.MongoClient[Any] = pymongo.MongoClient(source_url, directConnection=True)
    target: pymongo.MongoClient[Any] = pymongo.MongoClient(target_url, directConnection=True)
    copied = 0
    try:
        for db_name in source.list_database_names():
            if db_name in _SYSTEM_DATABASES:
                continue
            for info in source[db_name].list_collections():
                if info.get("type", "collection") != "collection":
                    continue
                name = info["name"]
                src = source[db_name].get_collection(name, codec_options=raw)
                dst = target[db_name].get_collection(name, codec_options=raw)
                target[db_name].create_collection(name, **_collection_options(info))
                for index in src.list_indexes():
                    spec = dict(index)
                    if spec.get("name") == "_id_":
                        continue
                    keys = list(spec.pop("key").items())
                    spec.pop("v", None)
                    spec.pop("ns", None)
                    dst.create_index(keys, **spec)
                batch: list[Any] = []
                for doc in src.find({}, batch_size=COPY_BATCH):
                    batch.append(doc)
                    if len(batch) >= COPY_BATCH:
                        dst.insert_many(batch, ordered=False)
                        copied += len(batch)
                        batch = []
                if batch:
                    dst.insert_many(batch, ordered=False)
                    copied += len(batch)
    finally:
        source.close()
        target.close()
    return copied


def _collection_options(info: Any) -> dict[str, Any]:
    options = dict(info.get("options") or {})
    options.pop("uuid", None)
    return options
