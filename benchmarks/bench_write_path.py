"""Benchmark: what crash safety and durability cost on small puts.

In one run, on one embedded server, alternating repeat by repeat:

- the raw floor: ``insert_one`` of the same document into a collection, then
  ``find_one`` of it (no metadata, no journal, not durable);
- the raw durable floor: the same ``insert_one`` written with ``j=True``;
- ``store.put`` + ``store.get`` of a small dict (python.data) and a small array
  (ndarray.bin), with journaled commits (the default) and without
  (``OMEGA_JOURNALED_COMMITS=0``: an acknowledged put may be lost if the server crashes).

Prints per-operation wall times (median of the repeats, each a batch of ``--ops``
operations) and ratios against the floor. Run by hand, never from the test-suite:

    python benchmarks/bench_write_path.py [--repeat 5] [--ops 200]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _common import benchmark_server, interleaved  # benchmarks/ is on sys.path
from pymongo import MongoClient, WriteConcern

from omegacore import OmegaStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ops", type=int, default=200)
    args = parser.parse_args()
    os.environ["OMEGA_PROGRESS"] = "0"
    with benchmark_server() as url:
        client: MongoClient = MongoClient(url)
        raw = client.get_database()["raw"]
        durable = raw.with_options(write_concern=WriteConcern(j=True))
        store = OmegaStore(mongo_url=url)
        doc = {"learning_rate": 0.1, "layers": [64, 32], "name": "small"}
        array = np.arange(1000, dtype="f8")

        def floor(collection: object) -> None:
            for i in range(args.ops):
                collection.insert_one({"_id": i, **doc})  # type: ignore[attr-defined]
                collection.find_one({"_id": i})  # type: ignore[attr-defined]
            raw.drop()

        def ours(obj: object, journaled: bool) -> None:
            os.environ["OMEGA_JOURNALED_COMMITS"] = "1" if journaled else "0"
            for i in range(args.ops):
                store.put(obj, f"obj{i}", replace=True)
                store.get(f"obj{i}")

        cases = [
            ("raw insert+find, j=True", lambda: floor(durable)),
            ("put+get dict, journaled", lambda: ours(doc, True)),
            ("put+get dict, not journaled", lambda: ours(doc, False)),
            ("put+get array, journaled", lambda: ours(array, True)),
            ("replace+get dict, journaled", lambda: ours(doc, True)),
        ]
        print(f"\nsmall objects: wall ms per put+get (median of {args.repeat} batches of "
              f"{args.ops}); floor = raw insert_one + find_one, w=1")
        print(f"{'operation':<32}{'ms':>8}{'floor ms':>10}{'x floor':>9}")
        print("-" * 59)
        for name, fn in cases:
            mine, base = interleaved(fn, lambda: floor(raw), args.repeat)
            per, base_per = mine.wall / args.ops * 1000, base.wall / args.ops * 1000
            print(f"{name:<32}{per:>8.2f}{base_per:>10.2f}{per / base_per:>9.2f}")
        os.environ.pop("OMEGA_JOURNALED_COMMITS", None)
        client.close()


if __name__ == "__main__":
    main()
