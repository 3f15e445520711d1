"""``omegacore server start|stop|status|compact`` and ``omegacore fsck``."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from omegacore.cli_objects import human_size
from omegacore.cli_support import (
    EXIT_FAILED,
    EXIT_MISSING,
    EXIT_NOT_FOUND,
    CLIError,
    emit,
    open_store,
)


def _usage_line(usage: dict[str, int]) -> str:
    return (f"{human_size(usage['total'])} on disk ({human_size(usage['tables'])} tables, "
            f"{human_size(usage['journal'])} journal)")


def cmd_server(args: argparse.Namespace, plugins: Any) -> int:
    from omegacore import server

    if args.action == "start":
        state = server.start_server()
        emit(args, state, [f"running  {state['url']}  pid {state['pid']}  "
                           f"data {state['storage_path']}"])
        return 0
    if args.action == "stop":
        stopped = server.stop_server()
        emit(args, {"stopped": stopped}, ["stopped" if stopped else "not running"])
        return 0
    if args.action == "compact":
        result = server.compact_server()
        before, after = result["before"], result["after"]
        emit(args, result, [
            f"compacted {server.data_dir() / server.STORAGE_DIR}: {human_size(before['total'])}"
            f" -> {human_size(after['total'])} ({result['copied']} documents copied)",
            f"running  {result['url']}",
        ])
        return 0
    status = server.server_status()
    usage = server.disk_usage()
    if status is None:
        emit(args, {"running": False, "directory": str(server.data_dir()), "disk": usage},
             ["not running", f"data {server.data_dir() / server.STORAGE_DIR}: "
                             f"{_usage_line(usage)}"])
        return EXIT_NOT_FOUND
    stored = server.stored_bytes(status["url"])
    lines = [f"running  {status['url']}  pid {status['pid']}  data {status['storage_path']}",
             f"stored {human_size(stored)} (documents and indexes) in {_usage_line(usage)}"]
    if usage["tables"] > 2 * stored + 32 * 1024 * 1024:
        lines.append("space of dropped objects can be given back: omegacore server compact")
    emit(args, {**status, "running": True, "stored": stored, "disk": usage}, lines)
    return 0


def cmd_fsck(args: argparse.Namespace, plugins: Any) -> int:
    """Check the store's metadata against its collections and files (``--repair`` fixes)."""
    try:
        fsck = importlib.import_module("omegacore.fsck")
    except ModuleNotFoundError as exc:
        if exc.name != "omegacore.fsck":
            raise
        raise CLIError("this omegacore has no store check yet (omegacore.fsck is missing): "
                       "upgrade omegacore", EXIT_MISSING) from exc
    store = open_store(args, plugins)
    report = fsck.check(store, repair=args.repair)
    problems = list(getattr(report, "problems", []))
    removed = list(getattr(report, "removed", []))
    data = report.to_dict() if hasattr(report, "to_dict") else {
        "problems": [str(p) for p in problems], "removed": removed}
    lines = [_problem_line(p) for p in problems] + [f"removed  {r}" for r in removed]
    emit(args, data, lines or ["no problems found"])
    ok = getattr(report, "ok", not problems)
    return 0 if ok or args.repair else EXIT_FAILED


def _problem_line(problem: Any) -> str:
    kind = getattr(problem, "kind", None)
    if kind is None:
        return f"problem  {problem}"
    fixable = "" if getattr(problem, "repairable", False) else "  (not repaired by --repair)"
    return f"problem  {kind}  {getattr(problem, 'location', '')}  " \
           f"{getattr(problem, 'detail', '')}{fixable}"


def add_commands(sub: Any) -> None:
    """Add server and fsck to the sub-parsers."""
    cmd = sub.add_parser("server", help="manage the embedded default server",
                         description="Start, stop, inspect or compact the embedded server.")
    cmd.add_argument("action", choices=["start", "stop", "status", "compact"],
                     help="status shows sizes; compact gives dropped space back to the disk")
    cmd.set_defaults(func=cmd_server, needs_store=False)

    cmd = sub.add_parser("fsck", help="check metadata against stored data (--repair fixes)")
    cmd.add_argument("--repair", action="store_true",
                     help="remove orphaned data and metadata pointing at nothing")
    cmd.set_defaults(func=cmd_fsck, needs_store=False)
