"""Probe: puts killed with SIGKILL, readers during replaces, and a crashed server.

Not a speed benchmark: it counts what the write path promises never happens, on a
SecantusDB server of its own, and prints a table.

1. Killed puts: for each case (a kind, a first put / replace / append), a put in another
   process is SIGKILLed at a random point of its run (uniform over the duration of an
   uninterrupted put of the same object). Counted: trials that left something behind
   (``fsck`` finds an interrupted put or orphan), whether the object then reads whole
   (as before the put, or as after it if the kill came after its commit), and what is
   left after the next put of the name (must be nothing).
2. Readers during replaces: one process replaces an object again and again while this
   one reads it; counted: reads that were not the object whole (empty, missing file,
   error).
3. A crashed server: N acknowledged puts, then the server SIGKILLed and restarted;
   counted: objects lost, with journaled commits (the default) and without.

    python benchmarks/probe_crash_safety.py [--trials 10] [--reads 200] [--puts 30]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegacore_testing.crash import LATE_REQUESTS_SECONDS, PutProcess

from omegacore import OmegaStore
from omegacore.fsck import check as fsck
from omegacore.server import start_server, stop_server

CASES: dict[str, tuple[Any, Any, dict[str, Any]]] = {
    # name: (previous object or None, new object, put keywords)
    "dfrows first put": (None, pd.DataFrame({"x": np.arange(20_000.0)}), {}),
    "dfrows replace": (pd.DataFrame({"x": np.arange(5.0)}),
                       pd.DataFrame({"x": np.arange(20_000.0)}), {"replace": True}),
    "dfrows append": (pd.DataFrame({"x": np.arange(5.0)}),
                      pd.DataFrame({"x": np.arange(20_000.0)}), {"append": True}),
    "ndarray replace": (np.arange(5.0), np.arange(2_000_000.0), {}),
    "hdf replace": (pd.DataFrame({"x": [1.0]}), pd.DataFrame({"x": np.arange(200_000.0)}),
                    {"as_hdf": True}),
    "python.data append": ({"a": 0}, [{"a": i} for i in range(2_000)], {"as_many": True}),
}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.equals(b)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    return bool(a == b)


def killed_puts(url: str, trials: int) -> None:
    print(f"\n1. puts killed with SIGKILL at a random point ({trials} trials per case)")
    header = f"{'case':<22}{'left sth':>9}{'whole':>9}{'after next put':>16}"
    print(header + "\n" + "-" * len(header))
    rng = random.Random(7)
    for case, (previous, new, kwargs) in CASES.items():
        store = OmegaStore(mongo_url=url.replace("/probe?", f"/probe{abs(hash(case))}?"))
        name = "obj"
        # what a reader may see after a kill: the object before the put, or after it
        if previous is not None:
            store.put(previous, "ref")
        store.put(new, "ref", **kwargs)
        outcomes = [store.get("ref")]
        store.drop("ref")
        if previous is not None:
            store.put(previous, name)
        outcomes.append(store.get(name))
        timing = PutProcess(store, new, "timing", kwargs)
        started = timing.wait_for("START")
        duration = timing.wait_for("DONE") - started
        timing.finish()
        store.drop("timing")
        left = whole = leftovers = 0
        for _ in range(trials):
            put = PutProcess(store, new, name, kwargs)
            put.wait_for("START")
            time.sleep(rng.uniform(0, duration))
            put.kill()
            # the server may still run the last request the killed process sent; no single
            # request takes longer than the whole put did
            time.sleep(max(LATE_REQUESTS_SECONDS, duration))
            left += bool(fsck(store, grace=0).problems)
            got = store.get(name)
            whole += any(same(o, got) for o in outcomes)
            # the next put of the name cleans up; it also resets the object for the next trial
            if previous is None:
                store.put(new, name, replace=True)
                store.drop(name)
            else:
                store.put(previous, name, replace=True)
            leftovers += len(fsck(store, grace=0).problems)
        print(f"{case:<22}{left:>6}/{trials:<2}{whole:>6}/{trials:<2}"
              f"{leftovers:>10} problems")
        store.drop(name, force=True)


def readers(url: str, reads: int) -> None:
    print(f"\n2. {reads} reads while another process replaces the object")
    header = f"{'object':<22}{'reads':>7}{'puts meanwhile':>16}{'not whole':>11}"
    print(header + "\n" + "-" * len(header))
    store = OmegaStore(mongo_url=url)
    for label, obj in [("DataFrame 5k rows", pd.DataFrame({"x": np.arange(5000.0)})),
                       ("ndarray 3 MB", np.arange(400_000.0))]:
        store.put(obj, "contested", replace=True)
        writer = PutProcess(store, obj, "contested", {"replace": True}, mode="loop")
        bad = 0
        try:
            writer.wait_for("PUT 1")
            for _ in range(reads):
                try:
                    bad += not same(obj, store.get("contested"))
                except Exception:
                    bad += 1
            puts = writer.count("PUT")
        finally:
            writer.kill()
        print(f"{label:<22}{reads:>7}{puts:>16}{bad:>11}")


def crashed_server(puts: int) -> None:
    print(f"\n3. {puts} acknowledged puts of each of 3 kinds, then the server SIGKILLed")
    header = f"{'commits':<22}{'objects':>9}{'lost':>7}{'ms per put':>12}"
    print(header + "\n" + "-" * len(header))
    for journaled in ("1", "0"):
        os.environ["OMEGA_JOURNALED_COMMITS"] = journaled
        with tempfile.TemporaryDirectory(prefix="omegacore-probe-") as tmp:
            state = start_server(Path(tmp))
            store = OmegaStore(mongo_url=state["url"].replace("/?", "/crash?"))
            t0 = time.perf_counter()
            for i in range(puts):
                store.put(np.arange(i + 1), f"array{i}")
                store.put({"i": i}, f"data{i}")
                store.put(pd.DataFrame({"i": [i]}), f"frame{i}")
            per_put = (time.perf_counter() - t0) / (3 * puts) * 1000
            os.kill(state["pid"], signal.SIGKILL)
            time.sleep(0.5)
            state = start_server(Path(tmp))
            store = OmegaStore(mongo_url=state["url"].replace("/?", "/crash?"))
            kept = len(store.list())
            stop_server(Path(tmp))
        label = "journaled (default)" if journaled == "1" else "not journaled"
        print(f"{label:<22}{3 * puts:>9}{3 * puts - kept:>7}{per_put:>12.2f}")
    os.environ.pop("OMEGA_JOURNALED_COMMITS", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--puts", type=int, default=30)
    args = parser.parse_args()
    os.environ["OMEGA_PROGRESS"] = "0"
    with tempfile.TemporaryDirectory(prefix="omegacore-probe-") as tmp:
        state = start_server(Path(tmp))
        url = state["url"].replace("/?", "/probe?")
        try:
            killed_puts(url, args.trials)
            readers(url, args.reads)
        finally:
            stop_server(Path(tmp))
    crashed_server(args.puts)


if __name__ == "__main__":
    main()
