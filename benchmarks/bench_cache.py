"""Benchmark: a cached get of a 36 MB model vs an uncached one (omegacore-cache).

A scikit-learn estimator carrying 36 MB of coefficients is put under ``cached/model``
on a SecantusDB server started for the run; ``store.get`` of the unchanged model (from
the in-process cache: one metadata lookup) is timed against ``get(..., force=True)``
(the full read, the floor). Prints the wall-time ratio. Run by hand::

    python benchmarks/bench_cache.py
    python benchmarks/bench_cache.py --mb 8 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LinearRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import benchmark_server, interleaved, print_table  # noqa: E402

from omegacore import OmegaStore  # noqa: E402


def main() -> None:
    os.environ.setdefault("OMEGA_PROGRESS", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    model = LinearRegression().fit(np.arange(10.0).reshape(-1, 1), np.arange(10.0))
    model.coef_ = np.random.default_rng(2).random(args.mb * 1024 * 1024 // 8)
    with benchmark_server() as url:
        store = OmegaStore(mongo_url=url, prefix="models/")
        store.put(model, "cached/model")
        store.get("cached/model")  # fill the cache
        cached, uncached = interleaved(lambda: store.get("cached/model"),
                                       lambda: store.get("cached/model", force=True),
                                       args.repeat)
        print_table(f"get of a {args.mb} MB model, cached vs read", [
            ("get (cached) / force=True", cached, uncached, 0.05)])


if __name__ == "__main__":
    main()
