"""``omegacore versions NAME``: the versions of a stored object."""

from __future__ import annotations

import argparse
from typing import Any

from omegacore.cli_objects import human_size, locate
from omegacore.cli_support import EXIT_NOT_FOUND, CLIError, emit, open_store


def add_command(subparsers: Any) -> None:
    cmd = subparsers.add_parser(
        "versions", help="list the versions of an object (commit, tags, kind, size, date)",
        description="List the versions of NAME, oldest first.")
    cmd.add_argument("name", help="the object's path, e.g. models/churn")
    cmd.set_defaults(func=run, needs_store=False)


def run(args: argparse.Namespace, plugins: Any) -> int:
    found = locate(args, plugins, args.name)
    if found is None:
        raise CLIError(f"{args.name!r} does not exist", EXIT_NOT_FOUND)
    _, meta = found
    store = open_store(args, plugins, prefix=meta.prefix or "")
    if not hasattr(store, "versions"):  # the mixin does not apply to this store
        raise CLIError(f"{args.name!r} has no versions", EXIT_NOT_FOUND)
    try:
        rows = store.versions(meta.name)
    except ValueError as exc:
        raise CLIError(str(exc), EXIT_NOT_FOUND) from None
    lines = [f"{'version':>7}  {'commit':<12}  {'size':>6}  {'created':<19}  tags"]
    for row in rows:
        created = row["created"].strftime("%Y-%m-%d %H:%M:%S") if row["created"] else "-"
        size = human_size(row["size"]) if row["size"] is not None else "-"
        lines.append(f"{row['version']:>7}  {row['commit'][:12]:<12}  {size:>6}  "
                     f"{created:<19}  {', '.join(row['tags'])}")
    emit(args, rows, lines)
    return 0
