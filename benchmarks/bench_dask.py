"""Benchmark: stored frames read by Dask workers vs one reader, in one run.

A frame of ``--rows`` rows (10 float columns and a key) is stored as ``pandas.dfrows``
(and as ``pandas.parquet`` when omegacore-pandas-parquet is installed) on a SecantusDB
server started for the run. With a ``LocalCluster`` of ``--workers`` worker processes:

- groupby-mean through ``read_store`` on the cluster vs ``store.get`` then pandas;
- reading every partition on the cluster vs the same partitions read one after the
  other in this process (partition-parallel reads vs one reader).

The ratios are wall time ours / baseline. On a 2-core machine the server shares the
cores with the workers, which bounds what parallel reads can gain. Run by hand::

    python benchmarks/bench_dask.py                 # 200,000 rows
    python benchmarks/bench_dask.py --rows 1000000 --kinds pandas.parquet
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import dask
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import benchmark_server, interleaved, print_table  # noqa: E402
from omegacore_dask import read_store  # noqa: E402

from omegacore import OmegaStore  # noqa: E402


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.random((rows, 10)), columns=[f"c{i}" for i in range(10)])
    frame["key"] = rng.integers(0, 100, rows)
    return frame


def main() -> None:
    os.environ.setdefault("OMEGA_PROGRESS", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kinds", default="pandas.dfrows,pandas.parquet",
                        help="comma-separated kinds to store the frame as")
    args = parser.parse_args()
    frame = make_frame(args.rows)
    kinds = [k for k in args.kinds.split(",") if k != "pandas.parquet"
             or importlib.util.find_spec("omegacore_pandas_parquet") is not None]
    with benchmark_server() as url, LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, Client(cluster) as client:
        store = OmegaStore(mongo_url=url, prefix="data/")
        rows = []
        for kind in kinds:
            name = kind.replace(".", "_")
            store.put(frame, name, kind=kind)
            ddf = read_store(name, store, npartitions=args.workers * 4)
            cluster_mean, get_mean = interleaved(
                lambda ddf=ddf: ddf.groupby("key").c0.mean().compute(),
                lambda name=name: store.get(name).groupby("key").c0.mean(),
                args.repeat,
            )
            rows.append((f"{kind} groupby-mean", cluster_mean, get_mean, 1.0))
            parallel, serial = interleaved(
                lambda ddf=ddf: ddf.compute(),
                lambda ddf=ddf: ddf.compute(scheduler="sync"),
                args.repeat,
            )
            rows.append((f"{kind} read, cluster/1", parallel, serial, 1.0))
        print_table(f"{args.rows:,} rows x 11 columns, {args.workers} Dask workers vs one "
                    f"reader (client: {client.scheduler.address})", rows)


if __name__ == "__main__":
    with dask.config.set({"dataframe.convert-string": False}):
        main()
