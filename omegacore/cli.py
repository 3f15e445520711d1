"""The omegacore command line: stored objects, files, plugins and the embedded server.

Global options (--mongo-url, --bucket, --prefix, --json, --traceback) may stand before
or after the sub-command. Plugins add sub-commands through the omega_cli_commands hook
and file formats for put and get through omega_file_formats. A problem is reported in
one line on stderr, with an exit code that says what kind of problem it is (see
EXIT_CODES in omegacore.cli_support and docs/cli.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from omegacore import cli_objects, cli_server, specs
from omegacore.cli_support import (
    EXIT_BROKEN_PIPE,
    EXIT_CODES,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    explain,
)
from omegacore.plugins import MIXIN_HOOKS, PluginRegistry


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


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error that says where to find help."""

    def error(self, message: str) -> Any:  # argparse's signature returns NoReturn
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _add_global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """The options every command accepts; on sub-commands they keep what the top set."""

    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    options: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        (("--mongo-url",), {"default": default(None), "metavar": "URL",
                            "help": "MongoDB URL (default: OMEGA_MONGO_URL, else the "
                                    "embedded server)"}),
        (("--bucket",), {"default": default(None), "help": "bucket (default: omegaml)"}),
        (("--prefix",), {"default": default(None),
                         "help": "name prefix such as data/ or models/ (default: names "
                                 "are paths, prefix and name together)"}),
        (("--json",), {"action": "store_true", "default": default(False),
                       "help": "print results as JSON"}),
        (("--traceback",), {"action": "store_true", "default": default(False),
                            "help": "show the traceback of an internal error"}),
    ]
    for flags, kwargs in options:
        try:
            parser.add_argument(*flags, **kwargs)
        except argparse.ArgumentError:
            pass  # a plugin's command defines the option itself


def build_parser(plugins: PluginRegistry) -> argparse.ArgumentParser:
    """The argument parser, including the sub-commands plugins add."""
    parser = _Parser(
        prog="omegacore",
        description=(__doc__ or "").split("\n\n")[0].replace("\n", " "),
        epilog="exit codes: " + "; ".join(f"{c} {t}" for c, t in sorted(EXIT_CODES.items())),
    )
    _add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)

    cmd = sub.add_parser("plugins", help="list installed plugins, kinds, mixins, load errors")
    cmd.add_argument("--check", action="store_true",
                     help="also import every backend and mixin and report what fails")
    cmd.set_defaults(func=_cmd_plugins, needs_store=False)

    cli_objects.add_commands(sub, plugins)
    cli_server.add_commands(sub)
    plugins.call_each("omega_cli_commands", subparsers=sub)
    for command in {id(p): p for p in sub.choices.values()}.values():
        _add_global_options(command, top=False)
    return parser


def _run(args: argparse.Namespace, plugins: PluginRegistry) -> int:
    if getattr(args, "needs_store", True):  # a plugin's command: run(args, store)
        from omegacore.cli_support import open_store

        return int(args.func(args, open_store(args, plugins)) or 0)
    return int(args.func(args, plugins) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    args: argparse.Namespace | None = None
    try:
        plugins = PluginRegistry()
        parser = build_parser(plugins)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, or a usage error already printed
            return int(exc.code or 0) if not isinstance(exc.code, str) else 2
        code = _run(args, plugins)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the one place errors become messages
        known = explain(exc, args if args is not None else argparse.Namespace())
        if known is not None:
            code, message = known
            print(f"omegacore: {message}", file=sys.stderr)
            return code
        if args is not None and getattr(args, "traceback", False):
            traceback.print_exc()
        else:
            print(f"omegacore: internal error {type(exc).__name__}: {exc} (rerun with "
                  "--traceback and report it)", file=sys.stderr)
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    """After the reader closed the pipe: send what is left to /dev/null, quietly."""
    try:
        stdout = sys.__stdout__
        if stdout is not None and sys.stdout is stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
