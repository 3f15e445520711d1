"""Benchmark: what the default indexes of a DataFrame put cost, and what they buy.

``store.put(df, name)`` creates omegaml's indexes (the index levels and ``_om#rowid``);
``index=False`` skips them. Against one SecantusDB server started for the run, with frames
of ``--rows`` rows (8 float64 columns and an int64 index):

- put:        ``store.put(df, name)`` vs ``store.put(df, name, index=False)`` (the floor),
              for a large frame and for a small one (100 rows), where the index command
              is a larger share;
- append:     appending ``--rows // 10`` rows to an indexed object vs to one put with
              ``index=False`` (appends keep the indexes up to date);
- index read: ``store.get(name, key__in=[...])``, 100 labels of the index level ``key``,
              with vs without the indexes.

Prints wall-time ratios (with indexes / without) and the client CPU of the indexed side.
Run by hand, never from the test-suite::

    python benchmarks/bench_put_indexes.py                 # 200,000 rows
    python benchmarks/bench_put_indexes.py --rows 50000 --repeat 5
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


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.random((rows, 8)), columns=[f"c{i}" for i in range(8)])
    frame.index = pd.Index(rng.permutation(rows), name="key")
    return frame


def main() -> None:
    os.environ.setdefault("OMEGA_PROGRESS", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    big, small = make_frame(args.rows), make_frame(100)
    extra = make_frame(max(1, args.rows // 10))
    labels = list(big.index[:: max(1, args.rows // 100)][:100])
    rows = []
    with benchmark_server() as url:
        store = OmegaStore(mongo_url=url)

        def put(frame: pd.DataFrame, name: str, **kwargs: object) -> None:
            store.put(frame, name, append=False, **kwargs)

        for label, frame in ((f"put {args.rows:,} rows", big), ("put 100 rows", small)):
            with_ix, without = interleaved(
                lambda f=frame: put(f, "indexed"),
                lambda f=frame: put(f, "plain", index=False),
                args.repeat,
            )
            rows.append((label, with_ix, without, 1.5))

        def reset() -> None:
            put(big, "indexed")
            put(big, "plain", index=False)

        with_ix, without = interleaved(
            lambda: store.put(extra, "indexed", append=True),
            lambda: store.put(extra, "plain", append=True, index=False),
            args.repeat, ours_setup=reset, floor_setup=None,
        )
        rows.append((f"append {len(extra):,} rows", with_ix, without, 1.5))

        reset()
        with_ix, without = interleaved(
            lambda: store.get("indexed", key__in=labels),
            lambda: store.get("plain", key__in=labels),
            args.repeat,
        )
        assert len(store.get("indexed", key__in=labels)) == len(labels)
        rows.append(("get 100 rows by index label", with_ix, without, 1.0))
        store.close()
    print_table("pandas.dfrows: default indexes (ours) vs index=False (floor)", rows)
    print("\ntarget: puts at most 1.5x the unindexed put; reads by index label no slower.")


if __name__ == "__main__":
    main()
