"""``mdf.transform(fn)``: a Python function over the chunks of a lazy frame, in parallel.

The chunks are read from the server in this process (each a window of rows), handed to
worker processes (joblib's loky backend) that apply the function, and their results are
joined in chunk order. ``.value`` gives the joined DataFrame; ``.persist(name)`` stores
it with one put, so a failure in any chunk leaves nothing stored, and the error says
which chunk failed. Heavy libraries are imported when a transform runs.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

#: rows per chunk unless ``chunksize`` says otherwise (omegaml's default)
CHUNKSIZE = 50_000


def resolve_function(fn: Callable[..., Any] | str | None) -> Callable[..., Any]:
    """``fn``, or the function a ``"module:function"`` string names (None: no change)."""
    if fn is None:
        return _unchanged
    if callable(fn):
        return fn
    if isinstance(fn, str) and ":" in fn:
        module, _, attr = fn.partition(":")
        found = getattr(importlib.import_module(module), attr, None)
        if not callable(found):
            raise ValueError(f"{fn!r} names no function ({module} has no callable {attr!r})")
        return found
    raise TypeError(f"fn must be a callable or a 'module:function' string, got {fn!r}")


def _unchanged(chunk: Any) -> None:
    return None


def run_chunk(fn: Callable[..., Any] | str | None, chunk: Any, number: int) -> Any:
    """Apply ``fn`` to one chunk (in a worker): ``fn(df)`` or ``fn(df, number)``; a
    function that returns None changed the chunk in place."""
    function = resolve_function(fn)
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in inspect.signature(function).parameters.values()
                if p.kind in positional and p.default is inspect.Parameter.empty]
    result = function(chunk, number) if len(required) >= 2 else function(chunk)
    return chunk if result is None else result


class TransformMixin:
    """Adds ``transform`` to lazy frames (``omega_mdf_mixins``)."""

    def transform(self, fn: Callable[..., Any] | str | None = None, n_jobs: int = -2,
                  chunksize: int = CHUNKSIZE, maxobs: int | None = None,
                  chunkfn: Callable[..., Iterator[Any]] | None = None) -> Transform:
        """``fn`` applied to the frame chunk by chunk, in ``n_jobs`` worker processes.

        fn: ``fn(chunk)`` or ``fn(chunk, number)`` returning a DataFrame, or changing the
            chunk in place and returning None; a callable or a ``"module:function"``
            string (resolved in the worker). None keeps the rows (a parallel copy).
        n_jobs: worker processes (joblib's convention: -1 all CPUs, -2 all but one; 1 runs
            in this process). chunksize: rows per chunk. maxobs: only the first rows.
        chunkfn: ``chunkfn(mdf, chunksize, maxobs)`` yielding the chunks (lazy frames or
            DataFrames) instead of windows of ``chunksize`` rows.
        Nothing runs until ``.value`` or ``.persist(name)``.
        """
        for value, what, smallest in ((chunksize, "chunksize", 1), (n_jobs, "n_jobs", None)):
            if not isinstance(value, int) or isinstance(value, bool) or value == 0 or (
                    smallest is not None and value < smallest):
                kind = "positive" if smallest else "non-zero"
                raise ValueError(f"{what} must be a {kind} int, got {value!r}")
        if maxobs is not None and (not isinstance(maxobs, int) or maxobs < 0):
            raise ValueError(f"maxobs must be a non-negative int, got {maxobs!r}")
        if fn is not None:
            resolve_function(fn)  # a bad name fails now, not in the workers
        return Transform(self, fn, n_jobs, chunksize, maxobs, chunkfn)


class Transform:
    """A pending transform of a lazy frame: ``.value`` or ``.persist(name)`` runs it."""

    def __init__(self, frame: Any, fn: Any, n_jobs: int, chunksize: int,
                 maxobs: int | None, chunkfn: Callable[..., Iterator[Any]] | None):
        self.frame, self.fn, self.n_jobs = frame, fn, n_jobs
        self.chunksize, self.maxobs, self.chunkfn = chunksize, maxobs, chunkfn

    def _chunks(self) -> Iterator[Any]:
        if self.chunkfn is not None:
            yield from self.chunkfn(self.frame, self.chunksize, self.maxobs)
            return
        frame = self.frame if self.maxobs is None else self.frame.head(self.maxobs)
        yield from frame.iterchunks(self.chunksize)

    def _results(self) -> list[Any]:
        from joblib import Parallel, delayed
        from omegacore_pandas.progress import progress_bar

        def read() -> Iterator[tuple[int, Any]]:
            for number, chunk in enumerate(self._chunks()):
                yield number, chunk.value if hasattr(chunk, "value") else chunk

        results: list[Any] = []
        total = self.maxobs
        with progress_bar(total, "transform") as bar, Parallel(
                n_jobs=self.n_jobs, backend="loky", return_as="generator") as parallel:
            jobs = (delayed(_guarded)(self.fn, chunk, number) for number, chunk in read())
            for number, outcome in enumerate(parallel(jobs)):
                if isinstance(outcome, _Failure):
                    raise RuntimeError(
                        f"transform failed on chunk {number} ({outcome.rows} rows): "
                        f"{outcome.error}; nothing was stored") from None
                results.append(outcome)
                bar.update(len(outcome))
        return results

    @property
    def value(self) -> Any:
        """The transformed rows: every chunk's result, joined in chunk order."""
        import pandas as pd

        results = self._results()
        if not results:
            return self.frame.head(0).value
        return pd.concat(results)

    def persist(self, name: str, store: Any = None, append: bool = False) -> Any:
        """Run the transform and store the result as ``name`` (in ``store``, default the
        frame's own store) with one put: all chunks or nothing. Returns the metadata."""
        if store is None:
            raise TypeError("persist needs the store to write to: persist(name, store=...)")
        result = self.value
        return store.put(result, name, append=append)


class _Failure:
    """What a worker sends back when the function failed on its chunk."""

    def __init__(self, error: str, rows: int):
        self.error, self.rows = error, rows


def _guarded(fn: Any, chunk: Any, number: int) -> Any:
    try:
        return run_chunk(fn, chunk, number)
    except Exception as exc:  # noqa: BLE001 - reported with the chunk's number
        return _Failure(f"{type(exc).__name__}: {exc}", len(chunk))
