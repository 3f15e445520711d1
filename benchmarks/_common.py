"""Shared helpers for the benchmark scripts: a server, timers and the ratio table.

Benchmarks measure ratios against a baseline measured in the same run, on the same
server, because absolute times on shared machines mean little.
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegacore.server import start_server, stop_server


@contextlib.contextmanager
def benchmark_server(database: str = "bench") -> Iterator[str]:
    """A SecantusDB server of its own for the benchmark; yields a URL with ``database``."""
    with tempfile.TemporaryDirectory(prefix="omegacore-bench-") as tmp:
        state = start_server(Path(tmp))
        try:
            yield state["url"].replace("/?", f"/{database}?")
        finally:
            stop_server(Path(tmp))


@dataclass
class Timing:
    """Median wall and client-CPU seconds over the repeats of one operation."""

    wall: float
    cpu: float


def measure(
    fn: Callable[[], Any], repeat: int = 3, setup: Callable[[], Any] | None = None
) -> Timing:
    """Run ``fn`` ``repeat`` times (``setup`` before each, untimed); return the medians."""
    walls, cpus = [], []
    for _ in range(repeat):
        if setup is not None:
            setup()
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return Timing(statistics.median(walls), statistics.median(cpus))


def interleaved(
    ours: Callable[[], Any],
    floor: Callable[[], Any],
    repeat: int,
    ours_setup: Callable[[], Any] | None = None,
    floor_setup: Callable[[], Any] | None = None,
) -> tuple[Timing, Timing]:
    """Median timings of ``ours`` and ``floor``, run alternately ``repeat`` times each."""
    runs: dict[str, list[Timing]] = {"ours": [], "floor": []}
    for _ in range(repeat):
        runs["ours"].append(measure(ours, repeat=1, setup=ours_setup))
        runs["floor"].append(measure(floor, repeat=1, setup=floor_setup))

    def median(timings: list[Timing]) -> Timing:
        return Timing(
            statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings)
        )

    return median(runs["ours"]), median(runs["floor"])


def print_table(title: str, rows: list[tuple[str, Timing, Timing, float]]) -> None:
    """Rows of (operation, ours, baseline, target wall ratio); prints ratios and a verdict."""
    print(f"\n{title}")
    header = (
        f"{'operation':<28}{'ours s':>9}{'floor s':>9}{'wall x':>8}{'cpu ours':>10}"
        f"{'target':>8}  ok"
    )
    print(header)
    print("-" * len(header))
    for name, ours, base, target in rows:
        ratio = ours.wall / base.wall if base.wall else float("inf")
        verdict = "yes" if ratio <= target else "NO"
        print(
            f"{name:<28}{ours.wall:>9.3f}{base.wall:>9.3f}{ratio:>8.2f}{ours.cpu:>10.3f}"
            f"{target:>8.2f}  {verdict}"
        )
