"""Benchmark: pandas.dfgroup put and get against the raw pymongo floor, in one run.

Against one SecantusDB server started for the run, with frames of ``--rows`` rows in
``--groups`` groups (``g``), 8 float64 columns, and in the "mixed" frame also an int64 and
a string column:

- put:   ``store.put(df, groupby="g")`` vs the floor: ``insert_many`` of the same group
         documents pre-encoded as ``RawBSONDocument`` (``ordered=False``), encoding untimed;
- get:   ``store.get(name)`` vs the floor: ``find_raw_batches`` + ``bson.decode_all`` + one
         record per row (group keys + row fields) + ``DataFrame.from_records``, the plain
         pymongo way to read this layout;
- key filter: ``store.get(name, g__in=[...])`` (10% of the groups) vs our full get;
- row filter: ``store.get(name, a__lt=0.1)`` (10% of the rows, every group) vs our full get;
- for comparison, the same frame as ``pandas.dfrows`` (put and get) vs ours.

Prints wall-time ratios with targets and the client CPU of our side. Run by hand, never
from the test-suite::

    python benchmarks/bench_dfgroup.py                 # 100,000 rows, 20 groups
    python benchmarks/bench_dfgroup.py --rows 50000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import bson
import numpy as np
import pandas as pd
from bson.raw_bson import RawBSONDocument

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import benchmark_server, measure, print_table  # noqa: E402
from omegacore_pandas.decode import CODEC_OPTIONS  # noqa: E402
from omegacore_pandas_dfgroup.encode import GroupEncoder  # noqa: E402
from omegacore_pandas_dfgroup.layout import GroupLayout  # noqa: E402

from omegacore import OmegaStore  # noqa: E402


def make_frame(rows: int, groups: int, mixed: bool) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    df = pd.DataFrame(rng.random((rows, 8)), columns=["a", *(f"c{i}" for i in range(1, 8))])
    df.insert(0, "g", rng.integers(0, groups, rows))
    if mixed:
        df["n"] = rng.integers(-(10**6), 10**6, rows)
        df["s"] = rng.choice(["alpha", "beta", "gamma", "delta"], rows)
    return df


def floor_documents(df: pd.DataFrame) -> list[RawBSONDocument]:
    """The group documents our put writes, pre-encoded (untimed)."""
    encoder = GroupEncoder(df, GroupLayout.from_frame(df, "g"))
    return [RawBSONDocument(data) for data, _, _ in encoder.documents()]


def floor_read(collection: object) -> pd.DataFrame:
    """Read grouped documents with plain pymongo: decode, one record per row, a frame."""
    records = []
    for batch in collection.find_raw_batches():  # type: ignore[attr-defined]
        for doc in bson.decode_all(batch, CODEC_OPTIONS):
            rows = doc.pop("_data")
            doc.pop("_id")
            records.extend({**doc, **row} for row in rows)
    return pd.DataFrame.from_records(records)


def run(rows: int, groups: int, repeat: int) -> None:
    with benchmark_server() as url:
        store = OmegaStore(mongo_url=url)
        db = store.mongodb
        for mixed in (False, True):
            label = "mixed" if mixed else "float"
            df = make_frame(rows, groups, mixed)
            docs = floor_documents(df)
            floor = db[f"floor_{label}"]
            put = measure(lambda: store.put(df, label, groupby="g"), repeat)  # noqa: B023
            put_floor = measure(lambda: floor.insert_many(docs, ordered=False), repeat,  # noqa: B023
                                setup=floor.drop)  # noqa: B023
            get = measure(lambda: store.get(label), repeat)  # noqa: B023
            get_floor = measure(lambda: floor_read(floor), repeat)  # noqa: B023
            some = list(range(max(1, groups // 10)))
            key_filter = measure(lambda: store.get(label, g__in=some), repeat)  # noqa: B023
            row_filter = measure(lambda: store.get(label, a__lt=0.1), repeat)  # noqa: B023
            rows_put = measure(lambda: store.put(df, f"{label}_rows", kind="pandas.dfrows",  # noqa: B023
                                                 append=False), repeat)
            rows_get = measure(lambda: store.get(f"{label}_rows"), repeat)  # noqa: B023
            check = store.get(label)
            pd.testing.assert_frame_equal(check, df)
            print_table(f"pandas.dfgroup, {rows:,} rows x {df.shape[1]} columns ({label}), "
                        f"{groups} groups, {len(docs)} documents", [
                            ("put vs raw insert", put, put_floor, 1.5),
                            ("get vs raw read", get, get_floor, 1.0),
                            ("get 10% groups vs get", key_filter, get, 0.2),
                            ("get 10% rows vs get", row_filter, get, 1.0),
                            ("put vs dfrows put", put, rows_put, 1.5),
                            ("get vs dfrows get", get, rows_get, 1.5),
                        ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run(args.rows, args.groups, args.repeat)


if __name__ == "__main__":
    main()
