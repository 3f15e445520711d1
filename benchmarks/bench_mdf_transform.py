"""Benchmark: ``mdf.transform`` with 2 worker processes vs 1, in one run.

A frame of ``--rows`` rows is stored on a SecantusDB server started for the run, and a
CPU-bound function (a rolling statistic and string formatting per row) is applied chunk
by chunk with ``n_jobs=2`` and with ``n_jobs=1`` (the floor). Prints the wall-time ratio;
on 2 cores, reading the chunks (in this process) limits the gain. Run by hand::

    python benchmarks/bench_mdf_transform.py                # 400,000 rows
    python benchmarks/bench_mdf_transform.py --rows 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import benchmark_server, interleaved, print_table  # noqa: E402

from omegacore import OmegaStore  # noqa: E402


def work(chunk: pd.DataFrame) -> pd.DataFrame:
    """Python per row (what transform is for: code that does not vectorise)."""
    def score(v: float) -> float:
        total = 0.0
        for i in range(1, 60):
            total += (v * i) % 1.0
        return total

    return chunk.assign(score=[score(v) for v in chunk.x])


def main() -> None:
    os.environ.setdefault("OMEGA_PROGRESS", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--chunksize", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = pd.DataFrame({"x": np.random.default_rng(1).random(args.rows)})
    with benchmark_server() as url:
        store = OmegaStore(mongo_url=url, prefix="data/")
        store.put(frame, "frame")
        mdf = store.getl("frame")
        two, one = interleaved(
            lambda: mdf.transform(work, n_jobs=2, chunksize=args.chunksize).value,
            lambda: mdf.transform(work, n_jobs=1, chunksize=args.chunksize).value,
            args.repeat,
        )
        print_table(f"transform of {args.rows:,} rows, 2 workers vs 1",
                    [("transform n_jobs=2 / 1", two, one, 0.9)])


if __name__ == "__main__":
    main()
