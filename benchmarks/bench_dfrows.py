"""Benchmark: pandas.dfrows put and get against the raw pymongo floor, in one run.

Against one SecantusDB server started for the run, with a frame of ``--rows`` x 10 float64:

- put:  ``store.put(df)`` vs the floor: ``insert_many`` of the same documents pre-encoded
        as ``RawBSONDocument`` (``ordered=False``), encoding not timed;
- get:  ``store.get(name)`` vs the floor: ``find_raw_batches`` + ``bson.decode_all`` +
        ``DataFrame.from_records`` of the same documents;
- filter: ``store.get(name, a__lt=0.1)`` (10% of the rows, indexed column) vs our full get;
- memory: tracemalloc peak of a put and of a get, relative to the frame's size.

Prints wall-time ratios (``print_table``) and client-CPU / memory ratios with their targets
from the project's performance targets. Run by hand, never from the test-suite::

    python benchmarks/bench_dfrows.py             # 1,000,000 rows (takes minutes)
    python benchmarks/bench_dfrows.py --rows 100000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import bson
import numpy as np
import pandas as pd
from bson.raw_bson import RawBSONDocument

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timing, benchmark_server, measure, print_table  # noqa: E402
from omegacore_pandas.encode import RowEncoder  # noqa: E402
from omegacore_pandas.layout import FrameLayout  # noqa: E402

from omegacore import OmegaStore  # noqa: E402


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    return pd.DataFrame(rng.random((rows, 10)), columns=[f"c{i}" for i in range(10)]).rename(
        columns={"c0": "a"})


def floor_documents(df: pd.DataFrame) -> list[RawBSONDocument]:
    """The documents our put writes, pre-encoded, one RawBSONDocument each (untimed)."""
    encoder = RowEncoder(df, FrameLayout.from_frame(df))
    docs = []
    for chunk in encoder.chunks():
        view = memoryview(chunk.data)
        size = len(chunk.data) // chunk.count
        docs.extend(RawBSONDocument(bytes(view[i:i + size])) for i in range(0, len(view), size))
    return docs


def median(timings: list[Timing]) -> Timing:
    return Timing(statistics.median(t.wall for t in timings),
                  statistics.median(t.cpu for t in timings))


def peak_memory(fn: Any) -> int:
    """Peak traced bytes allocated while ``fn`` runs."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def print_ratios(title: str, rows: list[tuple[str, float, float, float, str]]) -> None:
    """Rows of (measure, ours, baseline, target ratio, unit); ok when ours/baseline <= target."""
    print(f"\n{title}")
    header = f"{'measure':<34}{'ours':>10}{'baseline':>10}{'ratio':>8}{'target':>8}  ok"
    print(header)
    print("-" * len(header))
    for name, ours, base, target, unit in rows:
        ratio = ours / base if base else float("inf")
        verdict = "yes" if ratio <= target else "NO"
        print(f"{name:<34}{ours:>9.3f}{unit}{base:>9.3f}{unit}{ratio:>8.2f}{target:>8.2f}  "
              f"{verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (median)")
    args = parser.parse_args(argv)

    df = make_frame(args.rows)
    frame_bytes = int(df.memory_usage(deep=True).sum())
    print(f"frame: {len(df):,} rows x {df.shape[1]} float64 columns, {frame_bytes / 1e6:.0f} MB")
    with benchmark_server() as url:
        store = OmegaStore(mongo_url=url)
        db = store.mongodb
        docs = floor_documents(df)

        # -- put: floor and ours alternate, so both see the same machine load -----------
        raw = db["floor_put"]
        floor_runs, our_runs = [], []
        for run in range(args.repeat):
            t0 = time.perf_counter()
            floor_runs.append(measure(lambda: raw.insert_many(docs, ordered=False), 1,
                                      setup=raw.drop))
            our_runs.append(measure(lambda: store.put(df, "bench", append=False), 1,
                                    setup=lambda: store.drop("bench", force=True)))
            print(f"put run {run + 1}/{args.repeat} done ({time.perf_counter() - t0:.0f} s)")
        floor_put, ours_put = median(floor_runs), median(our_runs)
        docs.clear()
        put_peak = peak_memory(lambda: store.put(df, "bench", append=False))
        coll = db[store.metadata("bench").collection]

        # -- get ------------------------------------------------------------------------
        def floor_get() -> pd.DataFrame:
            rows: list[dict[str, Any]] = []
            for batch in raw.find_raw_batches():
                rows.extend(bson.decode_all(batch))
            return pd.DataFrame.from_records(rows)

        floor_runs, our_runs = [], []
        for _ in range(args.repeat):
            floor_runs.append(measure(floor_get, 1))
            our_runs.append(measure(lambda: store.get("bench"), 1))
        floor_read, ours_read = median(floor_runs), median(our_runs)
        print("get runs done")
        got = store.get("bench")
        pd.testing.assert_frame_equal(got, df)
        del got
        get_peak = peak_memory(lambda: store.get("bench"))

        # decoding alone, from batches already read (isolates the client's work)
        batches = list(coll.find_raw_batches())
        layout = FrameLayout.from_kind_meta(store.metadata("bench").kind_meta)
        from omegacore_pandas.decode import decode_frame

        def decode_floor() -> None:
            rows: list[dict[str, Any]] = []
            for batch in batches:
                rows.extend(bson.decode_all(batch))
            pd.DataFrame.from_records(rows)

        floor_decode = measure(decode_floor, args.repeat)
        ours_decode = measure(lambda: decode_frame(batches, layout), args.repeat)
        batches.clear()
        encode_only = measure(
            lambda: [None for _ in RowEncoder(df, FrameLayout.from_frame(df)).chunks()],
            args.repeat)

        # -- a 10% filter on an indexed column -------------------------------------------
        coll.create_index("a")
        filtered = measure(lambda: store.get("bench", a__lt=0.1), args.repeat)
        share = len(store.get("bench", a__lt=0.1)) / len(df)

    print_table(
        f"pandas.dfrows, {args.rows:,} x 10 float64, wall time (median of {args.repeat})",
        [
            ("put vs insert_many(raw)", ours_put, floor_put, 1.15),
            ("get vs decode_all+records", ours_read, floor_read, 1.0),
            (f"get {share:.0%} filter vs full get", filtered, ours_read, 0.2),
        ],
    )
    print_ratios(
        "client CPU (process_time) and memory",
        [
            ("put client CPU [s] vs 0.5 s", ours_put.cpu, 0.5, 1.0, "s"),
            ("put client CPU vs floor CPU", ours_put.cpu, floor_put.cpu, 1.0, "s"),
            ("encode only CPU [s] vs 0.5 s", encode_only.cpu, 0.5, 1.0, "s"),
            ("get client CPU vs floor CPU", ours_read.cpu, floor_read.cpu, 0.8, "s"),
            ("decode only CPU vs floor decode", ours_decode.cpu, floor_decode.cpu, 0.8, "s"),
            ("put peak memory vs frame", put_peak / 1e6, frame_bytes / 1e6, 2.0, "M"),
            ("get peak memory vs frame", get_peak / 1e6, frame_bytes / 1e6, 2.0, "M"),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
