"""Benchmark: per-insert time on a long-lived embedded SecantusDB server.

Compares, in one run and interleaved window by window (so both see the same machine load):

(a) ours:     the server as omegacore.server starts it (``--oplog-max-entries 1000``), client URL
              with ``retryWrites=false``;
(b) baseline: a second ``secantusd-py`` started by hand with the default oplog cap, client with
              pymongo's default retryable writes.

A third column times ``OmegaStore.put`` of a small dict under a new name each time
(kind python.data: metadata read, data insert, metadata commit) on our server, the work
the embedded default does for a user over a long life.

Each configuration inserts small documents (``{"i": i, "name": "x"}``) one ``insert_one`` at a
time; the mean ms/insert is printed per window of 1000 inserts, followed by the ratio of the
last window to the first. A flat server has a ratio near 1.

Run by hand, never from the test-suite:

    python benchmarks/bench_embedded_longrun.py --puts 20000
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pymongo

try:
    from omegacore import server
except ImportError:  # run from a checkout without installing: python benchmarks/bench_...py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from omegacore import server

WINDOW = 1000


def start_baseline(directory: Path, timeout: float = 30.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start secantusd-py with its default oplog settings; return the process and its URL
    (no retryWrites option: pymongo's default, retryable writes on)."""
    exe = server._find_executable()
    if exe is None:
        raise server.ServerUnavailable(f"secantusd-py not found; {server.INSTALL_HINT}")
    directory.mkdir(parents=True, exist_ok=True)
    port = server._free_port()
    log = open(directory / "server.log", "ab")  # handed to the child, closed below
    try:
        proc = subprocess.Popen(
            [
                exe,
                "--config",
                str(server._ensure_config(directory)),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--storage-path",
                str(directory / "db"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(directory),
        )
    finally:
        log.close()
    url = f"mongodb://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"baseline server exited with {proc.returncode}")
        if server._port_open(port) and server._probe(url, timeout_ms=1000) is not None:
            return proc, url
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise RuntimeError("baseline server did not start in time")
        time.sleep(0.05)


def time_window(coll: Any, start: int, count: int) -> float:
    """Insert ``count`` small documents one by one; return mean milliseconds per insert."""
    t0 = time.perf_counter()
    for i in range(start, start + count):
        coll.insert_one({"i": i, "name": "x"})
    return (time.perf_counter() - t0) * 1000.0 / count


def drift(times: list[float]) -> float:
    """How much slower the end of the run is than its start, robust to one noisy window."""
    return statistics.median(times[-3:]) / statistics.median(times[:3])


def time_store_window(store: Any, start: int, count: int) -> float:
    """Put ``count`` small dicts under new names; return mean milliseconds per put."""
    t0 = time.perf_counter()
    for i in range(start, start + count):
        store.put({"i": i, "name": "x"}, f"item/{i}")
    return (time.perf_counter() - t0) * 1000.0 / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--puts", type=int, default=20000, help="inserts per configuration")
    args = parser.parse_args(argv)
    if args.puts < WINDOW:
        parser.error(f"--puts must be at least {WINDOW}")

    with tempfile.TemporaryDirectory(prefix="omega-bench-") as tmp:
        ours_dir, base_dir = Path(tmp) / "ours", Path(tmp) / "baseline"
        base_proc: subprocess.Popen[bytes] | None = None
        clients: list[pymongo.MongoClient[dict[str, Any]]] = []
        try:
            state = server.start_server(ours_dir)
            base_proc, base_url = start_baseline(base_dir)
            print(f"ours:     {state['url']} (oplog cap {server.OPLOG_MAX_ENTRIES})")
            print(f"baseline: {base_url} (default oplog cap, retryable writes)")

            ours_client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(state["url"])
            base_client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(base_url)
            clients = [ours_client, base_client]
            ours = ours_client["bench"]["longrun"]
            base = base_client["bench"]["longrun"]
            # warm up connections (not counted)
            ours.database.command("ping")
            base.database.command("ping")

            from omegacore import OmegaStore

            store = OmegaStore(state["url"].replace("/?", "/benchstore?"))
            store.put({"warm": True}, "warmup")  # connects, creates the metadata index

            print()
            print(
                f"{'window':>13}  {'ours ms/insert':>14}  {'baseline ms/insert':>18}"
                f"  {'ours ms/store.put':>17}"
            )
            ours_times: list[float] = []
            base_times: list[float] = []
            put_times: list[float] = []
            for start in range(0, args.puts - args.puts % WINDOW, WINDOW):
                ours_times.append(time_window(ours, start, WINDOW))
                base_times.append(time_window(base, start, WINDOW))
                put_times.append(time_store_window(store, start, WINDOW))
                label = f"{start + 1}-{start + WINDOW}"
                print(
                    f"{label:>13}  {ours_times[-1]:>14.3f}  {base_times[-1]:>18.3f}"
                    f"  {put_times[-1]:>17.3f}",
                    flush=True,
                )
            print()
            print(
                "median of the last 3 windows / median of the first 3 (1.0 = flat): "
                f"ours {drift(ours_times):.2f}x, baseline {drift(base_times):.2f}x, "
                f"store.put {drift(put_times):.2f}x"
            )
        finally:
            for client in clients:
                client.close()
            server.stop_server(ours_dir)
            if base_proc is not None and base_proc.poll() is None:
                base_proc.terminate()
                try:
                    base_proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    base_proc.kill()
                    base_proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
