"""Benchmark: work done on the server by lazy frames vs reading the frame into pandas.

A frame of ``--rows`` rows (a string, a key, two numbers) is stored as ``pandas.dfrows``
on a SecantusDB server started for the run. Each operation runs on the server through a
lazy frame and, as the baseline measured in the same run, as ``store.get`` of the whole
frame followed by the same pandas computation:

- a string ``apply`` (``v["s"].str.upper()``, omegacore-mdf-apply),
- a groupby-agg (``groupby("k").agg({"x": "sum", "y": "mean"})``),
- a computed column filtered on the server (``mdf["z"] = mdf.x * 2 + mdf.y``).

Prints wall-time ratios (below 1: the server is faster than read + pandas). The target
column is what moving the work to the server should give: less data on the wire. Run by
hand (1M rows take a few minutes to store)::

    python benchmarks/bench_mdf_apply.py                 # 1,000,000 rows
    python benchmarks/bench_mdf_apply.py --rows 200000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import benchmark_server, interleaved, print_table  # noqa: E402

from omegacore import OmegaStore  # noqa: E402


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "s": rng.choice(["alpha", "beta", "gamma", "delta"], rows),
        "k": rng.integers(0, 100, rows),
        "x": rng.integers(0, 1000, rows),
        "y": rng.random(rows),
    })


def main() -> None:
    os.environ.setdefault("OMEGA_PROGRESS", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = make_frame(args.rows)
    with benchmark_server() as url:
        store = OmegaStore(mongo_url=url, prefix="data/")
        started = time.perf_counter()
        store.put(frame, "frame", append=False)
        print(f"stored {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        mdf = store.getl("frame")
        spec = {"x": "sum", "y": "mean"}
        computed = store.getl("frame")
        computed["z"] = computed.x * 2 + computed.y
        rows = []
        for label, ours, floor in [
            ("string apply (upper)",
             lambda: mdf.apply(lambda v: v["s"].str.upper()).value,
             lambda: store.get("frame")["s"].str.upper()),
            ("groupby-agg (100 keys)",
             lambda: mdf.groupby("k").agg(spec),
             lambda: store.get("frame").groupby("k").agg(spec)),
            ("computed column, 1% rows",
             lambda: computed[computed.z > 1997].value,
             lambda: (lambda d: d.assign(z=d.x * 2 + d.y)[lambda e: e.z > 1997])(
                 store.get("frame"))),
        ]:
            timing_ours, timing_floor = interleaved(ours, floor, args.repeat)
            rows.append((label, timing_ours, timing_floor, 1.0))
        print_table(f"{args.rows:,} rows: on the server vs store.get + pandas", rows)


if __name__ == "__main__":
    main()
