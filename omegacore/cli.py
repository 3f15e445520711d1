"""The ``omegacore`` command line: plugins, objects and the embedded server.

Plugins add their own sub-commands through the ``omega_cli_commands`` hook (for
example ``omegacore put`` and ``omegacore get`` come with the pandas.dfrows plugin).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from omegacore import specs
from omegacore.plugins import MIXIN_HOOKS, PluginRegistry


def _store(args: argparse.Namespace, plugins: PluginRegistry) -> Any:
    from omegacore.store import OmegaStore

    return OmegaStore(
        mongo_url=args.mongo_url, bucket=args.bucket, prefix=args.prefix, plugins=plugins
    )


def _cmd_plugins(args: argparse.Namespace, plugins: PluginRegistry) -> int:
    """List plugins, kinds, mixins, switched-off plugins, warnings and load errors.

    With ``--check`` also import every backend, mixin and predicate. Exits 1 if any plugin
    failed (or a check failed), so scripts and CI notice.
    """
    for hook in MIXIN_HOOKS:  # every store imports them: report those that fail
        plugins.mixin_classes(hook=hook)
    infos = plugins.info()
    checks = plugins.check() if args.check else []
    errors, warnings_ = plugins.load_errors, plugins.load_warnings
    failed = bool(errors) or any(not c.ok for c in checks)
    if args.json:
        out: dict[str, Any] = {
            "plugins": [
                {
                    "name": i.name,
                    "distribution": i.distribution,
                    "version": i.version,
                    "kinds": [k.kind for k in i.kinds],
                    "mixins": [m.path() for m in i.mixins],
                    "hooks": i.hooks,
                    "notes": i.notes,
                }
                for i in infos
            ],
            "disabled": [
                {"plugin": d.plugin, "distribution": d.distribution, "reason": d.reason}
                for d in plugins.disabled
            ],
            "load_errors": [
                {"plugin": e.plugin, "distribution": e.distribution, "stage": e.stage,
                 "error": e.error}
                for e in errors
            ],
            "warnings": [
                {"plugin": e.plugin, "distribution": e.distribution, "stage": e.stage,
                 "error": e.error}
                for e in warnings_
            ],
        }
        if args.check:
            out["check"] = [
                {"what": c.what, "name": c.name, "distribution": c.distribution,
                 "path": c.path, "ok": c.ok, "error": c.error}
                for c in checks
            ]
        print(json.dumps(out, indent=2))
        return 1 if failed else 0
    if not infos:
        print("no plugins installed")
    for info in infos:
        print(f"{info.distribution} {info.version}".rstrip())
        for kind in info.kinds:
            chosen = f" (chosen by {', '.join(kind.selected_by)})" if kind.selected_by else ""
            print(f"  kind   {kind.kind:<16} priority {kind.priority:<4} "
                  f"{kind.backend_path()}{chosen}")
        for mixin in info.mixins:
            scope = ""
            if mixin.prefixes:
                scope += f", prefixes {', '.join(mixin.prefixes)}"
            if mixin.applies_to is not None:
                scope += f", applies_to {specs.object_path(mixin.applies_to)}"
            print(f"  mixin  {mixin.path()} (order {mixin.order}{scope})")
        other = [h for h in info.hooks if h not in ("omega_kinds", "omega_mixins")]
        if other:
            print(f"  hooks  {', '.join(other)}")
        for note in info.notes:
            print(f"  note   {note}")
    for off in plugins.disabled:
        print(f"DISABLED {off.distribution} ({off.plugin}): {off.reason}")
    for warning in warnings_:
        print(f"WARNING {warning.distribution} ({warning.plugin}): {warning.error}")
    for error in errors:
        print(f"LOAD ERROR {error.distribution} ({error.plugin}): {error.error}")
    if args.check:
        for check in checks:
            status = "ok  " if check.ok else "FAIL"
            print(f"check {status} {check.what:<5} {check.name} ({check.distribution})"
                  + ("" if check.ok else f": {check.error}"))
        bad = sum(not c.ok for c in checks)
        print(f"checked {len(checks)} backends and mixins: {bad} failed")
    return 1 if failed else 0


def _cmd_list(args: argparse.Namespace, plugins: PluginRegistry) -> int:
    store = _store(args, plugins)
    for name in store.list(args.pattern, kind=args.kind, hidden=args.all, include_temp=args.all):
        print(name)
    return 0


def _cmd_info(args: argparse.Namespace, plugins: PluginRegistry) -> int:
    store = _store(args, plugins)
    meta = store.metadata(args.name)
    if meta is None:
        print(f"{args.name!r} does not exist", file=sys.stderr)
        return 1
    print(json.dumps(meta.to_mongo().to_dict(), indent=2, default=str))
    return 0


def _cmd_drop(args: argparse.Namespace, plugins: PluginRegistry) -> int:
    from omegacore.errors import DoesNotExist

    store = _store(args, plugins)
    try:
        if args.pattern:
            result = store.drop(pattern=args.name, force=args.force, report=True)
        else:
            result = store.drop(args.name, force=args.force, report=True)
    except DoesNotExist as exc:
        print(exc, file=sys.stderr)
        return 1
    assert isinstance(result, dict)
    for name, dropped in result.items():
        print(f"{'dropped' if dropped else 'not found'} {name}")
    return 0


def _cmd_server(args: argparse.Namespace, plugins: PluginRegistry) -> int:
    from omegacore import server

    if args.action == "start":
        state = server.start_server()
        print(f"running  {state['url']}  pid {state['pid']}  data {state['storage_path']}")
    elif args.action == "stop":
        print("stopped" if server.stop_server() else "not running")
    else:
        status = server.server_status()
        if status is None:
            print("not running")
            return 3
        print(f"running  {status['url']}  pid {status['pid']}  data {status['storage_path']}")
    return 0


def build_parser(plugins: PluginRegistry) -> argparse.ArgumentParser:
    """The argument parser, including the sub-commands plugins add."""
    parser = argparse.ArgumentParser(prog="omegacore", description=__doc__.splitlines()[0])
    parser.add_argument("--mongo-url", help="MongoDB URL (default: OMEGA_MONGO_URL or embedded)")
    parser.add_argument("--bucket", default=None, help="bucket (default: omegaml)")
    parser.add_argument("--prefix", default="", help="name prefix, e.g. data/ or models/")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    cmd = sub.add_parser("plugins", help="list installed plugins, kinds, mixins, load errors")
    cmd.add_argument("--json", action="store_true", help="print as JSON")
    cmd.add_argument("--check", action="store_true",
                     help="also import every backend and mixin and report what fails")
    cmd.set_defaults(func=_cmd_plugins, needs_store=False)

    cmd = sub.add_parser("list", help="list stored objects")
    cmd.add_argument("pattern", nargs="?", default=None, help="unix pattern, e.g. 'sales/*'")
    cmd.add_argument("--kind", default=None, help="only objects of this kind")
    cmd.add_argument("--all", action="store_true", help="include hidden and temporary names")
    cmd.set_defaults(func=_cmd_list, needs_store=False)

    cmd = sub.add_parser("info", help="print an object's metadata as JSON")
    cmd.add_argument("name")
    cmd.set_defaults(func=_cmd_info, needs_store=False)

    cmd = sub.add_parser("drop", help="drop an object (or every object matching a pattern)")
    cmd.add_argument("name", help="the object's name (a pattern with --pattern)")
    cmd.add_argument("--pattern", action="store_true",
                     help="NAME is a unix pattern such as 'reports/*'")
    cmd.add_argument("--force", action="store_true", help="succeed if nothing matches")
    cmd.set_defaults(func=_cmd_drop, needs_store=False)

    cmd = sub.add_parser("server", help="manage the embedded default server")
    cmd.add_argument("action", choices=["start", "stop", "status"])
    cmd.set_defaults(func=_cmd_server, needs_store=False)

    plugins.call_each("omega_cli_commands", subparsers=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    plugins = PluginRegistry()
    parser = build_parser(plugins)
    args = parser.parse_args(argv)
    if getattr(args, "needs_store", True):
        return int(args.func(args, _store(args, plugins)) or 0)
    return int(args.func(args, plugins) or 0)


if __name__ == "__main__":
    sys.exit(main())
