"""``omegacore export NAME FILE`` and ``omegacore import FILE [NAME]``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from omegacore.cli_objects import locate
from omegacore.cli_support import EXIT_BAD_FILE, EXIT_NOT_FOUND, CLIError, emit, open_store


def add_commands(subparsers: Any) -> None:
    export = subparsers.add_parser(
        "export", help="write an object and its data to an archive (directory or .tar.gz)",
        description="Write NAME with its metadata and data to FILE: a .tar.gz/.tgz tarball, "
                    "or a new directory.")
    export.add_argument("name", help="the object's path, e.g. data/sales")
    export.add_argument("file", help="the archive to write, e.g. sales.tar.gz")
    export.set_defaults(func=run_export, needs_store=False)
    imp = subparsers.add_parser(
        "import", help="store the object of an archive (checked before anything is written)",
        description="Store the object archived in FILE as NAME (default: the archived path).")
    imp.add_argument("file", help="the archive, a .tar.gz/.tgz or a directory")
    imp.add_argument("name", nargs="?", help="the object's path to store it as")
    imp.set_defaults(func=run_import, needs_store=False)


def _progress(text: str) -> None:
    print(text, file=sys.stderr)


def run_export(args: argparse.Namespace, plugins: Any) -> int:
    found = locate(args, plugins, args.name)
    if found is None:
        raise CLIError(f"{args.name!r} does not exist: 'omegacore list' shows what is stored",
                       EXIT_NOT_FOUND)
    _, meta = found
    store = open_store(args, plugins, prefix=meta.prefix or "")
    path = store.to_archive(meta.name, args.file, progress=_progress)
    emit(args, {"name": args.name, "archive": str(path)}, [f"{args.name} -> {path}"])
    return 0


def run_import(args: argparse.Namespace, plugins: Any) -> int:
    import tempfile

    from omegacore_archive.archive import ArchiveError, open_archive, restore

    try:
        with tempfile.TemporaryDirectory(prefix="omegacore-import-") as work:
            opened = open_archive(args.file, work)
            if args.name is None:  # the archived path
                prefix = args.prefix if args.prefix is not None else \
                    opened.manifest.get("prefix") or ""
                name = opened.manifest["name"]
            elif args.prefix is None and "/" in args.name:
                head, _, name = args.name.rpartition("/")
                prefix = head + "/"
            else:
                prefix, name = (args.prefix or ""), args.name
            store = open_store(args, plugins, prefix=prefix)
            meta = restore(store, opened, name, progress=_progress)
    except (ArchiveError, FileNotFoundError) as exc:
        raise CLIError(str(exc), EXIT_BAD_FILE) from None
    stored = f"{meta.prefix or ''}{meta.name}"
    emit(args, {"name": stored, "kind": meta.kind}, [f"{args.file} -> {stored} ({meta.kind})"])
    return 0
