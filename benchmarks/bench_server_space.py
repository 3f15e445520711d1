"""The embedded server's disk space: putting, replacing and dropping a frame, then compacting.

Prints the storage directory's size (WiredTiger tables and journal) after each step, next
to the size of what is stored (``dbStats``), and the time to spawn the server and to find
it running. Run ``python benchmarks/bench_server_space.py [ROWS]`` (default 50,000 rows;
the figures in the docs used 200,000). Sizes are ratios to the stored data, so they
compare across machines; times are printed for the first spawn against later lookups.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("OMEGA_PROGRESS", "0")

from omegacore import OmegaStore, server  # noqa: E402


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory(prefix="omegacore-space-") as tmp:
        directory = Path(tmp)
        t0 = time.perf_counter()
        state = server.start_server(directory)
        spawn = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(10):
            server.ensure_server(directory)
        found = (time.perf_counter() - t0) / 10
        print(f"first spawn {spawn:.2f} s, later ensure_server {found * 1000:.1f} ms "
              f"(ratio {spawn / found:.0f}x)")
        url = state["url"].replace("/?", "/bench?")
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({
            "id": np.arange(rows), "x": rng.random(rows), "y": rng.integers(0, 1000, rows),
            "city": rng.choice(["Zurich", "Basel", "Bern", "Geneva"], rows),
            "when": pd.date_range("2020-01-01", periods=rows, freq="min"),
        })
        store = OmegaStore(mongo_url=url, prefix="data/")
        stored = 0

        def show(step: str) -> None:
            usage = server.disk_usage(directory)
            ratio = f"{usage['total'] / stored:5.1f}x stored" if stored else ""
            print(f"{step:32} {usage['total'] / 1e6:7.1f} MB  tables "
                  f"{usage['tables'] / 1e6:6.1f}  journal {usage['journal'] / 1e6:6.1f}  {ratio}")

        show("empty")
        store.put(frame, "big")
        stored = server.stored_bytes(state["url"])
        print(f"stored (dbStats)                 {stored / 1e6:7.1f} MB")
        show("after put")
        time.sleep(server.CHECKPOINT_SECONDS + 2)
        show("after a checkpoint")
        store.put(frame, "big", replace=True)
        show("after replace")
        store.drop("big")
        show("after drop")
        time.sleep(server.CHECKPOINT_SECONDS + 2)
        show("after drop and a checkpoint")
        t0 = time.perf_counter()
        server.compact_server(directory)
        print(f"compact took {time.perf_counter() - t0:.1f} s")
        show("after compact")
        server.stop_server(directory)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
