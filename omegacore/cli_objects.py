"""``omegacore list | info | drop | put | get``: stored objects from a terminal.

Paths: without ``--prefix`` a NAME is the object's full path, prefix and name together
(``data/weather`` is ``weather`` in the prefix ``data/``, or the name ``data/weather`` in
no prefix); with ``--prefix`` it is the name within that prefix, as in Python.

File forms come from the ``omega_file_formats`` hook: each kind plugin declares the file
extensions it reads and writes, so the core knows no format itself.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from omegacore import settings
from omegacore.cli_support import (
    EXIT_BAD_FILE,
    EXIT_IO,
    EXIT_MISSING,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    CLIError,
    emit,
    note,
    open_store,
)
from omegacore.naming import has_wildcard, is_hidden, is_temporary, pattern_to_regex
from omegacore.specs import FileFormat, ReadResult, load_object


# --------------------------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------------------------
def _check_name(name: str) -> str:
    if not name.strip():
        raise CLIError("the object name is empty: give a name such as data/sales", EXIT_USAGE)
    if "\x00" in name:
        raise CLIError("object names must not contain the NUL character", EXIT_USAGE)
    return name


def _candidates(path: str) -> list[tuple[str, str]]:
    """Every (prefix, name) a full path can mean: no prefix first, then each ``/``."""
    found = [("", path)]
    for i, char in enumerate(path):
        if char == "/" and path[i + 1:]:
            found.append((path[: i + 1], path[i + 1:]))
    return found


def locate(args: argparse.Namespace, plugins: Any, path: str) -> tuple[Any, Any] | None:
    """The store and metadata of the object ``path`` names, or None if nothing is stored.

    Raises CLIError if the path means two stored objects (then ``--prefix`` decides).
    """
    _check_name(path)
    if args.prefix is not None:
        store = open_store(args, plugins)
        meta = store.metadata(path)
        return (store, meta) if meta is not None else None
    root = open_store(args, plugins, prefix="")
    found = [(p, meta) for p, n in _candidates(path)
             if (meta := root.metadata(n, prefix=p)) is not None]
    if not found:
        return None
    if len(found) > 1:
        meanings = " and ".join(f"{m.name!r} in prefix {p!r}" for p, m in found)
        raise CLIError(f"{path!r} names two objects, {meanings}: pass --prefix to choose one",
                       EXIT_USAGE)
    prefix, meta = found[0]
    return open_store(args, plugins, prefix=prefix), meta


def _missing(args: argparse.Namespace, path: str) -> CLIError:
    where = f" in prefix {args.prefix!r}" if args.prefix is not None else ""
    return CLIError(f"{path!r} does not exist{where}: 'omegacore list' shows what is stored",
                    EXIT_NOT_FOUND)


def _full_path(meta: Any) -> str:
    return f"{meta.prefix or ''}{meta.name}"


def _listed(args: argparse.Namespace, plugins: Any, pattern: str | None,
            everything: bool) -> list[Any]:
    """Metadata of the objects to list, sorted by path; ``pattern`` matches the path."""
    hidden = everything or (pattern or "").startswith(".")
    kind = getattr(args, "kind", None)
    if args.prefix is not None:
        store = open_store(args, plugins)
        return list(store.list(pattern, kind=kind, raw=True, hidden=hidden,
                               include_temp=everything))
    root = open_store(args, plugins, prefix="")
    prefixes = root.mongodb[settings.METADATA_COLLECTION].distinct(
        "prefix", {"bucket": root.bucket})
    regex = re.compile(pattern_to_regex(pattern)) if pattern else None
    metas = []
    for prefix in sorted(p for p in prefixes if isinstance(p, str)):
        for meta in root.list(kind=kind, raw=True, hidden=True, include_temp=True,
                              prefix=prefix):
            path = _full_path(meta)
            if regex is not None and not regex.match(path):
                continue
            if not hidden and (is_hidden(meta.name) or is_hidden(path)):
                continue
            if not everything and (is_temporary(meta.name) or is_temporary(path)):
                continue
            metas.append(meta)
    return sorted(metas, key=_full_path)


# --------------------------------------------------------------------------------------------
# list, info, drop
# --------------------------------------------------------------------------------------------
def object_size(store: Any, meta: Any) -> int:
    """Bytes the object occupies: its GridFS files plus the documents of its collections
    (the primary ones and the further ones recorded in ``storage``)."""
    storage = getattr(meta, "storage", None) or {}
    files = [meta.gridfile_id, *(storage.get("files") or [])]
    collections = [meta.collection, *(storage.get("collections") or [])]
    db = store.mongodb
    size = 0
    ids = [f for f in files if f is not None]
    if ids:
        for doc in db[f"{store.fs_collection}.files"].find({"_id": {"$in": ids}},
                                                           {"length": 1}):
            size += int(doc.get("length") or 0)
    for name in dict.fromkeys(c for c in collections if c):
        try:
            size += int(db.command("collStats", name).get("size") or 0)
        except Exception:  # noqa: BLE001 - a server without collStats: size unknown, not fatal
            pass
    return size


def human_size(size: int) -> str:
    """``1536`` -> ``1.5K``, as ``ls -lh`` shows sizes."""
    value = float(size)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{int(value)}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{size}B"  # pragma: no cover


def _when(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value or "")


def cmd_list(args: argparse.Namespace, plugins: Any) -> int:
    metas = _listed(args, plugins, args.pattern, args.all)
    show_path = args.prefix is None
    if not (args.long or args.json):
        emit(args, None, [_full_path(m) if show_path else m.name for m in metas])
        return 0
    store = open_store(args, plugins, prefix="")
    rows = []
    for meta in metas:
        rows.append({
            "name": _full_path(meta) if show_path else meta.name,
            "prefix": meta.prefix or "",
            "kind": meta.kind,
            "size": object_size(store, meta),
            "created": meta.created,
            "modified": meta.modified,
        })
    if args.json:
        emit(args, rows)
        return 0
    width = max((len(r["kind"]) for r in rows), default=4)
    emit(args, rows, [
        f"{r['kind']:<{width}}  {human_size(r['size']):>7}  {_when(r['modified']):16}  {r['name']}"
        for r in rows
    ])
    return 0


def cmd_info(args: argparse.Namespace, plugins: Any) -> int:
    found = locate(args, plugins, args.name)
    if found is None:
        raise _missing(args, args.name)
    store, meta = found
    data = meta.to_mongo().to_dict()
    data["size"] = object_size(store, meta)
    summary = getattr(store, "summary", None)  # a mixin (omegacore-objinfo) may add it
    if callable(summary):
        data["summary"] = summary(meta.name)
    emit(args, data, [__import__("json").dumps(data, indent=2, default=str,
                                               ensure_ascii=False)])
    return 0


def cmd_drop(args: argparse.Namespace, plugins: Any) -> int:
    """Drop the object NAME names, or with ``--pattern`` every object whose path matches."""
    _check_name(args.name)
    targets: list[tuple[Any, str, str]] = []  # (store, name, path shown)
    if args.pattern:
        for meta in _listed(args, plugins, args.name, everything=True):
            store = open_store(args, plugins, prefix=meta.prefix or "")
            shown = meta.name if args.prefix is not None else _full_path(meta)
            targets.append((store, meta.name, shown))
        if not targets and not args.force:
            raise CLIError(f"no object matches {args.name!r}: pass --force to succeed anyway",
                           EXIT_NOT_FOUND)
    else:
        found = locate(args, plugins, args.name)
        if found is None:
            if not args.force:
                hint = " (--pattern makes NAME a pattern)" if has_wildcard(args.name) else ""
                raise CLIError(f"{args.name!r} does not exist{hint}: pass --force to succeed "
                               "anyway", EXIT_NOT_FOUND)
        else:
            store, meta = found
            targets.append((store, meta.name, args.name))
    dropped = []
    for store, name, shown in targets:
        if store.drop(name, force=True, report=True).get(name):
            dropped.append(shown)
    missing = [] if targets else [args.name]
    emit(args, {"dropped": dropped, "missing": missing},
         [f"dropped {n}" for n in dropped] + [f"not found {n}" for n in missing])
    return 0


# --------------------------------------------------------------------------------------------
# put and get through file formats
# --------------------------------------------------------------------------------------------
def _formats(plugins: Any) -> list[FileFormat]:
    return list(plugins.file_formats())


def _extensions(formats: list[FileFormat], role: str) -> str:
    exts = sorted({e for f in formats if getattr(f, role) is not None for e in f.extensions})
    return ", ".join(exts) or "none (install a kind plugin that declares file formats)"


def _format_for(path: str, formats: list[FileFormat], role: str) -> list[FileFormat]:
    """Formats with a ``role`` (reader/writer) for ``path``, longest extension first."""
    matched: list[tuple[str, FileFormat]] = []
    for fmt in formats:
        ext = fmt.matches(path) if getattr(fmt, role) is not None else None
        if ext:
            matched.append((ext, fmt))
    longest = max((len(ext) for ext, _ in matched), default=0)
    return [f for ext, f in matched if len(ext) == longest]


def _options(args: argparse.Namespace, fmt: FileFormat, role: str,
             formats: list[FileFormat]) -> dict[str, Any]:
    """The format options given on the command line; refuses one the format does not take."""
    mine = {o.dest: o for o in fmt.options if o.applies_to in (role, "both")}
    given: dict[str, Any] = {}
    for option in {o.dest: o for f in formats for o in f.options}.values():
        value = getattr(args, option.dest, None)
        if value is None or value is False:
            continue
        if option.dest not in mine:
            raise CLIError(
                f"--{option.name} does not apply to {fmt.extensions[0]} files "
                f"({'reading' if role == 'read' else 'writing'})", EXIT_USAGE)
        given[option.dest] = value
    return given


def _require(fmt: FileFormat) -> None:
    missing = fmt.missing_requirement()
    if missing:
        hint = fmt.install or f"pip install {missing}"
        raise CLIError(f"{fmt.extensions[0]} files need {missing}: {hint}", EXIT_MISSING)


def _describe(obj: Any) -> str:
    shape = getattr(obj, "shape", None)
    if isinstance(shape, tuple) and len(shape) == 2:
        return f"{shape[0]} rows x {shape[1]} columns"
    if isinstance(shape, tuple):
        return "shape " + "x".join(str(n) for n in shape)
    try:
        count = len(obj)
        return f"{count} item{'' if count == 1 else 's'}"
    except TypeError:
        return type(obj).__name__


def cmd_put(args: argparse.Namespace, plugins: Any) -> int:
    _check_name(args.name)
    source = Path(args.file)
    formats = _formats(plugins)
    matching = _format_for(source.name, formats, "reader")
    if not matching:
        raise CLIError(
            f"{source.name}: omegacore reads files ending in {_extensions(formats, 'reader')}; "
            "rename or convert the file", EXIT_USAGE)
    fmt = matching[0]
    options = _options(args, fmt, "read", formats)
    if not source.exists():
        raise CLIError(f"{source}: no such file", EXIT_IO)
    if source.is_dir():
        raise CLIError(f"{source}: is a directory, expected a file", EXIT_IO)
    _require(fmt)
    reader = load_object(fmt.reader or "")
    try:
        obj = reader(source, **options)
    except ValueError as exc:
        raise CLIError(f"{source.name}: {exc}", EXIT_BAD_FILE) from exc
    except ImportError as exc:
        raise CLIError(f"{source.name}: {exc}; {fmt.install}".rstrip("; "), EXIT_MISSING) from exc
    extra: dict[str, Any] = {}
    if isinstance(obj, ReadResult):
        obj, extra = obj.obj, dict(obj.put_kwargs)
    prefix = args.prefix
    name = args.name
    if prefix is None:  # replace the object the path names, else create it without a prefix
        found = locate(args, plugins, args.name)
        prefix, name = (found[1].prefix or "", found[1].name) if found else ("", args.name)
    store = open_store(args, plugins, prefix=prefix)
    kwargs: dict[str, Any] = {"append": True} if args.append else {"replace": True}
    try:
        meta = store.put(obj, name, kind=fmt.kind, **kwargs, **extra)
    except TypeError as exc:
        if args.append:
            raise CLIError(f"--append: {exc}", EXIT_USAGE) from exc
        raise
    except ValueError as exc:
        raise CLIError(f"{source.name}: {exc}", EXIT_BAD_FILE) from exc
    shown = _full_path(meta) if args.prefix is None else meta.name
    emit(args, {"name": shown, "prefix": meta.prefix or "", "kind": meta.kind,
                "file": str(source), "appended": bool(args.append)},
         [f"stored {shown} ({meta.kind}): {_describe(obj)}"])
    return 0


def cmd_get(args: argparse.Namespace, plugins: Any) -> int:
    _check_name(args.name)
    formats = _formats(plugins)
    target = Path(args.output) if args.output else None
    if target is None and args.json:
        raise CLIError("--json describes a written file: add -o FILE, or drop --json to "
                       "write the object to stdout", EXIT_USAGE)
    wanted = target.name if target is not None else (f"x.{args.format.lstrip('.')}"
                                                      if args.format else None)
    candidates = _format_for(wanted, formats, "writer") if wanted else \
        [f for f in formats if f.writer is not None]
    if wanted and not candidates:
        raise CLIError(f"{wanted if target is None else target.name}: omegacore writes files "
                       f"ending in {_extensions(formats, 'writer')}", EXIT_USAGE)
    if target is not None:
        if target.is_dir():
            raise CLIError(f"{target}: is a directory; give a file name", EXIT_IO)
        if not target.parent.is_dir():
            raise CLIError(f"{target.parent}: no such directory; create it first", EXIT_IO)
    found = locate(args, plugins, args.name)
    if found is None:
        raise _missing(args, args.name)
    store, meta = found
    obj = store.get(meta.name)
    usable = [f for f in candidates if f.accepts(obj)]
    if not usable:
        takes = _extensions([f for f in formats if f.accepts(obj)], "writer")
        what = f"{args.name} is a {meta.kind} object ({type(obj).__name__})"
        raise CLIError(f"{what}; it can be written as {takes}" if wanted else
                       f"{what}; no installed file format writes it", EXIT_USAGE)
    if target is None and not args.format:
        text = [f for f in usable if f.text]
        if not text and sys.stdout.isatty():
            raise CLIError(f"{args.name} is written in a binary format "
                           f"({usable[0].extensions[0]}): add -o FILE", EXIT_USAGE)
        usable = text or usable
    fmt = usable[0]
    options = _options(args, fmt, "write", formats)
    _require(fmt)
    writer = load_object(fmt.writer or "")
    ext = fmt.matches(str(target)) if target is not None else fmt.extensions[0]
    directory = target.parent if target is not None else None
    fd, tmp_name = tempfile.mkstemp(prefix=".omegacore-", suffix=ext or "", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            remark = writer(obj, tmp, **options)
        except ValueError as exc:
            raise CLIError(f"cannot write {args.name} as {fmt.extensions[0]}: {exc}",
                           EXIT_BAD_FILE) from exc
        except ImportError as exc:
            raise CLIError(f"{exc}; {fmt.install}".rstrip("; "), EXIT_MISSING) from exc
        if target is None:
            sys.stdout.flush()
            with open(tmp, "rb") as fh:
                out = getattr(sys.stdout, "buffer", None)
                if out is not None:
                    shutil.copyfileobj(fh, out)
                    out.flush()
                else:  # a text-only stream (e.g. captured): decode
                    sys.stdout.write(fh.read().decode("utf-8"))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # as a file the user wrote, not mkstemp's 0600
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    if remark:
        note(str(remark))
    if target is not None:
        emit(args, {"name": args.name, "kind": meta.kind, "file": str(target),
                    "format": fmt.extensions[0]}, [])
        if not args.json:
            note(f"wrote {args.name} ({_describe(obj)}) to {target}")
    return 0


# --------------------------------------------------------------------------------------------
# the parsers
# --------------------------------------------------------------------------------------------
def add_commands(sub: Any, plugins: Any) -> None:
    """Add list, info, drop, put and get to the sub-parsers."""
    cmd = sub.add_parser("list", aliases=["ls"], help="list stored objects",
                         description="List stored objects by path (prefix and name).")
    cmd.add_argument("pattern", nargs="?", default=None, help="unix pattern, e.g. 'data/*'")
    cmd.add_argument("-l", "--long", action="store_true",
                     help="show kind, size and modification time")
    cmd.add_argument("--kind", default=None, help="only objects of this kind")
    cmd.add_argument("--all", action="store_true", help="include hidden and temporary names")
    cmd.set_defaults(func=cmd_list, needs_store=False)

    cmd = sub.add_parser("info", help="print an object's metadata as JSON")
    cmd.add_argument("name")
    cmd.set_defaults(func=cmd_info, needs_store=False)

    cmd = sub.add_parser("drop", help="drop an object (or every object matching a pattern)")
    cmd.add_argument("name", help="the object's path (a pattern with --pattern)")
    cmd.add_argument("--pattern", action="store_true",
                     help="NAME is a unix pattern such as 'reports/*'")
    cmd.add_argument("--force", action="store_true", help="succeed if nothing matches")
    cmd.set_defaults(func=cmd_drop, needs_store=False)

    try:
        formats = _formats(plugins)
    except Exception:  # noqa: BLE001 - a conflict is reported when put/get run
        formats = []
    readable = _extensions(formats, "reader")
    writable = _extensions(formats, "writer")
    cmd = sub.add_parser("put", help="store a file (CSV, Parquet, .npy, JSON, ...)",
                         description=f"Store a file under NAME. Readable: {readable}.")
    cmd.add_argument("file", help="the file to store")
    cmd.add_argument("name", help="the name (path) to store it under")
    cmd.add_argument("--append", action="store_true",
                     help="append to the stored object (kinds that append); default: replace")
    cmd.set_defaults(func=cmd_put, needs_store=False)
    _add_format_options(cmd, formats, "read")

    cmd = sub.add_parser("get", help="write a stored object to a file or stdout",
                         description=f"Write the object NAME to a file. Writable: {writable}.")
    cmd.add_argument("name")
    cmd.add_argument("-o", "--output", default=None,
                     help="output file; its extension chooses the format (default: stdout)")
    cmd.add_argument("--format", default=None,
                     help="format for stdout, as an extension such as csv or json")
    cmd.set_defaults(func=cmd_get, needs_store=False)
    _add_format_options(cmd, formats, "write")


def _add_format_options(cmd: argparse.ArgumentParser, formats: list[FileFormat],
                        role: str) -> None:
    seen: dict[str, list[str]] = {}
    options: dict[str, Any] = {}
    for fmt in formats:
        for option in fmt.options:
            if option.applies_to in (role, "both"):
                options.setdefault(option.dest, option)
                seen.setdefault(option.dest, []).append(fmt.extensions[0])
    for dest, option in options.items():
        exts = ", ".join(dict.fromkeys(seen[dest]))
        help_text = f"{option.help} ({exts})"
        if option.flag:
            cmd.add_argument(f"--{option.name}", dest=dest, action="store_true", default=None,
                             help=help_text)
        else:
            cmd.add_argument(f"--{option.name}", dest=dest, default=None, help=help_text)
