"""Benchmark: the pandas.parquet kind vs the hand-written floor and vs pandas.dfrows.

On a SecantusDB server started for the run, with a frame of ``--rows`` x 10 float64
columns (plus a sorted ``key`` column for the filter):

- put: ``store.put(df, as_parquet=True)`` vs ``df.to_parquet`` into memory then a raw
  ``GridFSBucket`` upload (target <= 1.25x);
- get: ``store.get`` vs a raw download then ``pd.read_parquet`` (target <= 1.25x);
- rows/s of the Parquet put vs a ``pandas.dfrows`` put of ``--dfrows-rows`` rows
  (target >= 30x);
- reading 2 of 10 columns vs all (target <= 0.35x), a filter matching 1% of the sorted
  key vs all (target <= 0.1x);
- peak memory of a get (RSS growth in a fresh process) vs the frame's size (target <= 2x);
- a new version that differs in one value: bytes written vs the whole frame's.

Run by hand::

    python benchmarks/bench_parquet.py                 # 1,000,000 rows
    python benchmarks/bench_parquet.py --rows 200000 --repeat 3
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timing, benchmark_server, interleaved, print_table  # noqa: E402

from omegacore import OmegaStore  # noqa: E402


def _measure_get(url: str, queue: Any) -> None:
    """In a fresh process: how much the peak RSS grows while reading the frame."""
    store = OmegaStore(mongo_url=url, prefix="data/")
    import pyarrow.parquet  # noqa: F401  (imported before the measurement)

    store.metadata("frame")  # connected
    # Linux keeps the parent's peak across exec; reset it (clear_refs 5) and read VmHWM
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kib("VmRSS")
    frame = store.get("frame")
    after = _status_kib("VmHWM")
    queue.put(((after - before) * 1024, int(frame.memory_usage(index=True, deep=True).sum())))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} (the memory figure needs Linux)")


def _peak_of_get(url: str) -> tuple[int, int]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_measure_get, args=(url, queue))
    child.start()
    result = queue.get(timeout=600)
    child.join()
    return result


def _version_sharing(store: OmegaStore, frame: pd.DataFrame) -> dict[str, float]:
    """Bytes and time of a new version that differs from the latest in one value."""
    files = store.mongodb[f"{store.fs_collection}.files"]

    def stored() -> int:
        return sum(doc["length"] for doc in files.find({}, {"length": 1}))

    before = stored()
    started = time.perf_counter()
    store.put(frame, "versioned", as_parquet=True, versions=True)
    first = time.perf_counter() - started
    whole = stored() - before
    changed = frame.copy()
    changed.iloc[len(frame) // 2, 0] = -1.0
    before = stored()
    started = time.perf_counter()
    store.put(changed, "versioned", as_parquet=True)
    seconds = time.perf_counter() - started
    return {"written": stored() - before, "whole": whole, "seconds": seconds, "first": first}


def main() -> None:
    os.environ.setdefault("OMEGA_PROGRESS", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dfrows-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(rng.random((args.rows, 10)), columns=[f"c{i}" for i in range(10)])
    frame["key"] = np.arange(args.rows)
    cut = int(args.rows * 0.99)
    with benchmark_server() as url:
        store = OmegaStore(mongo_url=url, prefix="data/")
        bucket = store.gridfs_bucket

        def floor_put() -> None:
            buffer = io.BytesIO()
            frame.to_parquet(buffer, compression="zstd")
            bucket.upload_from_stream("floor.parquet", buffer.getvalue())

        def floor_get() -> pd.DataFrame:
            file_id = bucket.find({"filename": "floor.parquet"}).sort("uploadDate", -1)[0]._id
            return pd.read_parquet(io.BytesIO(bucket.open_download_stream(file_id).read()))

        put, put_floor = interleaved(
            lambda: store.put(frame, "frame", as_parquet=True), floor_put, args.repeat)
        get, get_floor = interleaved(lambda: store.get("frame"), floor_get, args.repeat)
        two, every = interleaved(lambda: store.get("frame", columns=["c1", "c2"]),
                                 lambda: store.get("frame"), args.repeat)
        one_pct, _ = interleaved(lambda: store.get("frame", key__gte=cut),
                                 lambda: None, args.repeat)
        small = frame.head(args.dfrows_rows)
        started = time.perf_counter()
        store.put(small, "rows", append=False)
        dfrows_rate = len(small) / (time.perf_counter() - started)
        parquet_rate = args.rows / put.wall
        peak, size = _peak_of_get(url)
        shared = _version_sharing(store, frame)
        print_table(f"pandas.parquet, {args.rows:,} rows x 11 columns", [
            ("put / to_parquet+upload", put, put_floor, 1.25),
            ("get / download+read", get, get_floor, 1.25),
            ("get 2 of 10 columns / all", two, every, 0.35),
            ("get key 1% / all", one_pct, every, 0.10),
            ("s/row parquet / dfrows put", Timing(1 / parquet_rate, 0),
             Timing(1 / dfrows_rate, 0), 1 / 30),
        ])
        print(f"\nrows/s: parquet put {parquet_rate:,.0f}, dfrows put {dfrows_rate:,.0f} "
              f"({parquet_rate / dfrows_rate:.0f}x)")
        print(f"peak memory of a get (RSS growth, fresh process): {peak / 2**20:.0f} MiB for "
              f"a {size / 2**20:.0f} MiB frame ({peak / size:.2f}x, target <= 2x)")
        print(f"a new version changed in one row group wrote {shared['written'] / 2**20:.1f} MiB "
              f"of {shared['whole'] / 2**20:.1f} MiB ({shared['written'] / shared['whole']:.1%})"
              f", in {shared['seconds']:.2f} s vs {shared['first']:.2f} s for the first version")


if __name__ == "__main__":
    main()
