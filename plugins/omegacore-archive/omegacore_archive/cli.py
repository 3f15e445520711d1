"""``omegacore export NAME FILE`` and ``omegacore import FILE [NAME]``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from omegacore.cli_objects import locate
from omegacore.cli_support import EXIT_BAD_FILE, EXIT_NOT_FOUND, CLIError, emit, open_store


def add_commands(subparsers: Any) -> None:
    export = subparsers.add_parser(
        "export", help="write an object and its data to an archive (directory or .tgz)",
        description="Write NAME with its metadata, data and versions to FILE: a .tgz/.tar.gz "
                    "tarball, a new directory, or an archive directory to add it to. "
                    "Archives are in omegaml 0.18's layout.")
    export.add_argument("name", help="the object's path, e.g. data/sales")
    export.add_argument("file", help="the archive to write, e.g. sales.tgz")
    export.set_defaults(func=run_export, needs_store=False)
    imp = subparsers.add_parser(
        "import", help="store the objects of an archive (checked before anything is written)",
        description="Store the objects archived in FILE under their archived paths, or the "
                    "one object (or the object of path NAME) as NAME.")
    imp.add_argument("file", help="the archive, a .tgz/.tar.gz or a directory")
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

    from omegacore_archive.archive import ArchiveError, base_name, open_archive, restore

    stored = []
    try:
        with tempfile.TemporaryDirectory(prefix="omegacore-import-") as work:
            opened = open_archive(args.file, work)
            if args.name is None:  # every object, each under its archived path
                chosen = [(obj, args.prefix if args.prefix is not None else obj.prefix,
                           base_name(obj.name)) for obj in opened.objects]
            else:
                if args.prefix is None and "/" in args.name:
                    head, _, name = args.name.rpartition("/")
                    prefix = head + "/"
                else:
                    prefix, name = (args.prefix or ""), args.name
                found = [o for o in opened.objects if o.path == args.name]
                chosen = [(found[0] if found else opened.select(None, prefix), prefix, name)]
            for obj, prefix, name in chosen:
                store = open_store(args, plugins, prefix=prefix)
                meta = restore(store, opened, obj, name, progress=_progress)
                stored.append((f"{meta.prefix or ''}{meta.name}", meta.kind))
    except (ArchiveError, FileNotFoundError) as exc:
        raise CLIError(str(exc), EXIT_BAD_FILE) from None
    emit(args, [{"name": name, "kind": kind} for name, kind in stored],
         [f"{args.file} -> {name} ({kind})" for name, kind in stored])
    return 0
