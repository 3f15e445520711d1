"""Benchmark: what versions cost, versioned vs unversioned put and get.

Against one SecantusDB server started for the run: a frame of ``--rows`` rows (8 float64
columns), a 1 MB array and a small dict, each put and read back under a versioned name
(``versions=True``: a version object, then the name's history commit) and under an
unversioned one (the floor). Prints wall-time ratios. A versioned put writes the data once
(into the version) plus one more metadata commit; a get of the latest version reads the
name's metadata once, as an unversioned get does. Run by hand::

    python benchmarks/bench_versions.py                 # 100,000 rows
    python benchmarks/bench_versions.py --rows 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import benchmark_server, interleaved, print_table  # noqa: E402

from omegacore import OmegaStore  # noqa: E402


def main() -> None:
    os.environ.setdefault("OMEGA_PROGRESS", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(3)
    objects: dict[str, Any] = {
        f"frame {args.rows:,} rows": pd.DataFrame(rng.random((args.rows, 8)),
                                                  columns=[f"c{i}" for i in range(8)]),
        "array 1 MB": rng.random(131_072),
        "dict": {"learning_rate": 0.1, "layers": [64, 32]},
    }
    rows = []
    with benchmark_server() as url:
        store = OmegaStore(mongo_url=url, prefix="data/")
        for label, obj in objects.items():
            kwargs: dict[str, Any] = {"append": False} if isinstance(obj, pd.DataFrame) else {}
            if isinstance(obj, dict):
                kwargs = {}  # python.data appends: replace through drop-free versions
            versioned, plain = interleaved(
                lambda o=obj, k=kwargs: store.put(o, "v", versions=True, keep=3, **k),
                lambda o=obj, k=kwargs: store.put(o, "p", replace=True, **k),
                args.repeat,
            )
            rows.append((f"put {label}", versioned, plain, 2.2))
            versioned, plain = interleaved(lambda: store.get("v"), lambda: store.get("p"),
                                           args.repeat)
            rows.append((f"get {label}", versioned, plain, 1.1))
            store.drop("v")
            store.drop("p")
    print_table("versioned (keep=3) vs unversioned", rows)


if __name__ == "__main__":
    main()
