"""``omegacore put FILE NAME`` and ``omegacore get NAME [-o FILE]`` (CSV and Parquet)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

_PARQUET = (".parquet", ".pq")


def add_commands(subparsers: Any) -> None:
    """Add the put and get sub-commands to the ``omegacore`` parser."""
    cmd = subparsers.add_parser("put", help="store a CSV or Parquet file as rows (pandas.dfrows)")
    cmd.add_argument("file", help="a .csv or .parquet file")
    cmd.add_argument("name", help="the name to store it under")
    cmd.add_argument("--append", action="store_true",
                     help="append to the stored rows (default: replace them)")
    cmd.add_argument("--index-col", default=None,
                     help="CSV column to use as the row index (default: none)")
    cmd.set_defaults(func=run_put)

    cmd = subparsers.add_parser("get", help="write a stored DataFrame as CSV or Parquet")
    cmd.add_argument("name")
    cmd.add_argument("-o", "--output", default=None,
                     help="output file, .csv or .parquet (default: CSV to stdout)")
    cmd.set_defaults(func=run_get)


def _is_parquet(path: str) -> bool:
    return Path(path).suffix.lower() in _PARQUET


def _require_pyarrow() -> str | None:
    if importlib.util.find_spec("pyarrow") is None:
        return "Parquet needs pyarrow: pip install pyarrow (or use a .csv file)"
    return None


def run_put(args: argparse.Namespace, store: Any) -> int:
    """Read the file with pandas and store it under the name; returns the exit code."""
    import pandas as pd

    path = Path(args.file)
    if not path.is_file():
        print(f"no such file: {path}", file=sys.stderr)
        return 1
    if _is_parquet(args.file):
        problem = _require_pyarrow()
        if problem:
            print(problem, file=sys.stderr)
            return 2
        frame = pd.read_parquet(path)
    elif path.suffix.lower() in (".csv", ".txt", ".gz", ".bz2", ".zip", ".xz"):
        frame = pd.read_csv(path, index_col=args.index_col)
    else:
        print(f"{path.name}: expected a .csv or .parquet file", file=sys.stderr)
        return 2
    meta = store.put(frame, args.name, kind="pandas.dfrows", append=bool(args.append),
                     replace=not args.append)
    print(f"stored {len(frame)} rows x {frame.shape[1]} columns as {meta.name!r}")
    return 0


def run_get(args: argparse.Namespace, store: Any) -> int:
    """Write the stored object as CSV (stdout or file) or Parquet; returns the exit code."""
    import pandas as pd

    meta = store.metadata(args.name)
    if meta is None:
        print(f"{args.name!r} does not exist", file=sys.stderr)
        return 1
    obj = store.get(args.name)
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if not isinstance(obj, pd.DataFrame):
        print(f"{args.name!r} is a {meta.kind} object, not a DataFrame", file=sys.stderr)
        return 1
    if args.output is None:
        obj.to_csv(sys.stdout)
        return 0
    if _is_parquet(args.output):
        problem = _require_pyarrow()
        if problem:
            print(problem, file=sys.stderr)
            return 2
        obj.to_parquet(args.output)
    else:
        obj.to_csv(args.output)
    print(f"wrote {len(obj)} rows to {args.output}", file=sys.stderr)
    return 0
