"""Benchmark: put and get of a model (sklearn.joblib) and of a DataFrame as HDF5 (pandas.hdf).

Each operation is compared, in the same run and on the same server, with its raw floor:
the very bytes our put wrote to GridFS, uploaded and downloaded with plain
``gridfs.GridFSBucket`` on a client of its own. Ours and the floor alternate repeat by
repeat, so both see the same machine load; the table shows medians. Target: <= 1.25 x the
floor's wall time.

(a) a RandomForestClassifier fitted on 50,000 rows x 10 features (tens of MB of joblib)
(b) a 1,000,000 x 10 float64 DataFrame, stored with ``as_hdf=True`` (format "fixed")

Run by hand, never from the test-suite:

    python benchmarks/bench_model_hdf.py [--repeat 5] [--rows 1000000] [--trees 30]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import gridfs
import mongoengine
import numpy as np
import pandas as pd
from _common import (  # benchmarks/ is on sys.path
    Timing,
    benchmark_server,
    interleaved,
    print_table,
)
from pymongo import MongoClient
from sklearn.ensemble import RandomForestClassifier

from omegacore import OmegaStore

TARGET = 1.25


class RawFloor:
    """The same bytes through plain GridFS on a client and bucket of their own."""

    def __init__(self, url: str) -> None:
        self.client: MongoClient = MongoClient(url)
        self.bucket = gridfs.GridFSBucket(self.client.get_default_database(), bucket_name="raw")
        self.file_id: Any = None

    def clear(self) -> None:
        for grid_out in self.bucket.find({}):
            self.bucket.delete(grid_out._id)
        self.file_id = None

    def upload(self, data: bytes) -> None:
        self.file_id = self.bucket.upload_from_stream("raw", data)

    def download(self) -> bytes:
        with self.bucket.open_download_stream(self.file_id) as stream:
            return stream.read()


def stored_bytes(store: OmegaStore, name: str) -> bytes:
    """The bytes our put wrote to GridFS for ``name``."""
    meta = store.metadata(name)
    assert meta is not None
    with store.get_backend_bykind(meta.kind).open_file(meta) as stream:
        data: bytes = stream.read()
    return data


def bench_pair(
    label: str,
    store: OmegaStore,
    floor: RawFloor,
    obj: Any,
    name: str,
    repeat: int,
    put_kwargs: dict[str, Any],
    check: Callable[[Any], None],
) -> list[tuple[str, Timing, Timing, float]]:
    """Put and get rows for one object: ours through the store, the floor through GridFS."""
    store.put(obj, name, **put_kwargs)
    check(store.get(name))
    data = stored_bytes(store, name)
    size = f"{len(data) / 1e6:.0f} MB"

    def drop() -> None:
        store.drop(name, force=True)

    put_ours, put_floor = interleaved(
        lambda: store.put(obj, name, **put_kwargs),
        lambda: floor.upload(data),
        repeat,
        ours_setup=drop,
        floor_setup=floor.clear,
    )
    floor.clear()
    floor.upload(data)
    get_ours, get_floor = interleaved(lambda: store.get(name), floor.download, repeat)
    assert floor.download() == data
    floor.clear()
    drop()
    return [
        (f"{label} put {size}", put_ours, put_floor, TARGET),
        (f"{label} get {size}", get_ours, get_floor, TARGET),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the DataFrame")
    parser.add_argument("--trees", type=int, default=30, help="trees of the random forest")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    X = rng.random((50_000, 10))
    y = (X[:, 0] + X[:, 1] + rng.normal(scale=0.5, size=len(X)) > 1).astype(int)
    print(f"fitting a random forest ({args.trees} trees, 50,000 x 10) ...", flush=True)
    model = RandomForestClassifier(n_estimators=args.trees, random_state=0, n_jobs=-1).fit(X, y)
    frame = pd.DataFrame(rng.random((args.rows, 10)), columns=[f"c{i}" for i in range(10)])
    X_check = X[:1000]

    def check_model(loaded: Any) -> None:
        np.testing.assert_array_equal(loaded.predict_proba(X_check), model.predict_proba(X_check))

    def check_frame(loaded: Any) -> None:
        pd.testing.assert_frame_equal(loaded, frame)

    with benchmark_server("bench") as url:
        models = OmegaStore(url, prefix="models/")
        data = OmegaStore(url, prefix="data/")
        floor = RawFloor(url)
        try:
            rows = bench_pair(
                "sklearn model", models, floor, model, "forest", args.repeat, {},
                check_model,
            )
            rows += bench_pair(
                f"hdf {args.rows // 1000}k x 10", data, floor, frame, "frame", args.repeat,
                {"as_hdf": True}, check_frame,
            )
        finally:
            floor.client.close()
            # close the store's client while the server still runs (closing it after the
            # server stopped waits for server selection at interpreter exit)
            mongoengine.disconnect(models.dbalias)
            models.close()
            data.close()
    print_table(
        f"sklearn.joblib and pandas.hdf vs raw GridFS, median of {args.repeat} (wall s)", rows
    )


if __name__ == "__main__":
    main()
