"""Benchmark: ndarray.bin against the raw GridFS floor, and python.data round trips.

(a) ndarray.bin put and get of a ~200 MB float64 array, compared in the same run and on
    the same server with its raw floor: the same bytes uploaded with
    ``GridFSBucket.upload_from_stream`` and read back with
    ``open_download_stream(...).read()``, on a client of their own. Ours and the floor
    alternate repeat by repeat; the table shows medians. Target: <= 1.25 x the floor's
    wall time. Peak traced memory of one put and one get is printed beside it.
(b) python.data put and get of a small dict: the server commands each one sends, counted
    by a ``pymongo.monitoring.CommandListener`` registered before the store's client is
    created. Target: <= 5 per put, <= 2 per get (three for the put itself, two for its
    journal entry, which makes a killed put leave nothing; see docs/design.md).

Run by hand, never from the test-suite:

    python benchmarks/bench_ndarray_pydata.py [--repeat 5] [--mb 200] [--small 200]
"""

from __future__ import annotations

import argparse
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any

import gridfs
import numpy as np
from _common import (  # benchmarks/ is on sys.path
    benchmark_server,
    interleaved,
    print_table,
)
from pymongo import MongoClient, monitoring

from omegacore import OmegaStore

TARGET = 1.25
PUT_COMMANDS, GET_COMMANDS = 5, 2


class CommandCounter(monitoring.CommandListener):
    """Counts the commands sent to the server while ``active``, by command name."""

    def __init__(self) -> None:
        self.active = False
        self.seen: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.active:
            self.seen[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def peak_mb(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Peak traced memory above the start of ``fn``, in MB, and its result."""
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - start) / 1e6, result


def bench_ndarray(url: str, megabytes: int, repeat: int) -> None:
    store = OmegaStore(mongo_url=url, bucket="benchnd")
    array = np.random.default_rng(0).standard_normal(megabytes * 1_000_000 // 8)
    payload = array.tobytes()
    floor_client: MongoClient = MongoClient(url)
    bucket = gridfs.GridFSBucket(floor_client.get_default_database("bench"), bucket_name="floor")
    floor_ids: list[Any] = []

    def floor_put() -> None:
        floor_ids.append(bucket.upload_from_stream("floor.bin", payload))

    def floor_clear() -> None:
        while floor_ids:
            bucket.delete(floor_ids.pop())

    def floor_get() -> bytes:
        with bucket.open_download_stream(floor_ids[-1]) as stream:
            return stream.read()

    try:
        put_ours, put_floor = interleaved(
            lambda: store.put(array, "big"), floor_put, repeat,
            ours_setup=lambda: store.drop("big", force=True), floor_setup=floor_clear,
        )
        store.put(array, "big")
        floor_clear()
        floor_put()
        get_ours, get_floor = interleaved(lambda: store.get("big"), floor_get, repeat)
        assert np.array_equal(store.get("big"), array)
        assert floor_get() == payload

        store.drop("big", force=True)
        floor_clear()
        mem = {
            "put ours": peak_mb(lambda: store.put(array, "big"))[0],
            "put floor": peak_mb(floor_put)[0],
            "get ours": peak_mb(lambda: store.get("big"))[0],
            "get floor": peak_mb(floor_get)[0],
        }
    finally:
        floor_clear()
        store.drop("big", force=True)
        floor_client.close()

    print_table(
        f"ndarray.bin: {array.nbytes / 1e6:.0f} MB float64 array vs raw GridFS "
        f"(median of {repeat})",
        [
            ("put ndarray.bin", put_ours, put_floor, TARGET),
            ("get ndarray.bin", get_ours, get_floor, TARGET),
        ],
    )
    print(f"\npeak traced memory above start (array itself: {array.nbytes / 1e6:.0f} MB; "
          "the floor's get returns a bytes copy, ours the array)")
    for op in ("put", "get"):
        print(f"  {op}: ours {mem[f'{op} ours']:7.0f} MB   floor {mem[f'{op} floor']:7.0f} MB")


def bench_round_trips(url: str, counter: CommandCounter, count: int) -> None:
    store = OmegaStore(mongo_url=url, bucket="benchpy")
    obj = {"user": "ann", "score": 0.5, "tags": ["a", "b"], "pos": (1, 2)}
    store.put(obj, "warm")  # metadata indexes, connections: once per process
    store.get("warm")

    def count_commands(fn: Callable[[int], Any]) -> tuple[float, Counter[str]]:
        counter.seen.clear()
        counter.active = True
        try:
            for i in range(count):
                fn(i)
        finally:
            counter.active = False
        return sum(counter.seen.values()) / count, Counter(counter.seen)

    rows = [
        ("put, new name", PUT_COMMANDS, *count_commands(lambda i: store.put(obj, f"new{i}"))),
        ("put, append", PUT_COMMANDS,
         *count_commands(lambda i: store.put({**obj, "user": f"u{i}"}, "log"))),
        ("put, replace", PUT_COMMANDS,
         *count_commands(lambda i: store.put(obj, "rep", replace=True))),
        ("get", GET_COMMANDS, *count_commands(lambda i: store.get(f"new{i}"))),
        ("get, filtered", GET_COMMANDS,
         *count_commands(lambda i: store.get("log", user=f"u{i}", score__lt=1))),
    ]
    assert len(store.get("log")) == count
    print(f"\npython.data small object: server commands per call (mean of {count})")
    header = f"{'operation':<18}{'commands':>10}{'target':>8}  ok  commands seen"
    print(header)
    print("-" * len(header))
    for name, target, per_call, seen in rows:
        verdict = "yes" if per_call <= target else "NO"
        names = ", ".join(f"{k} {v / count:g}" for k, v in sorted(seen.items()))
        print(f"{name:<18}{per_call:>10.2f}{target:>8}  {verdict:<3} {names}")
    print("(replace: the 6th command is the store dropping the replaced collection after the "
          "metadata switch)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mb", type=int, default=200, help="array size in MB")
    parser.add_argument("--small", type=int, default=200, help="small puts/gets to count")
    args = parser.parse_args()
    counter = CommandCounter()
    monitoring.register(counter)  # before any client exists, so every client reports to it
    with benchmark_server() as url:
        bench_ndarray(url, args.mb, args.repeat)
        bench_round_trips(url, counter, args.small)


if __name__ == "__main__":
    main()
