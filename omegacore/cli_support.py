"""What every ``omegacore`` sub-command shares: exit codes, errors, output, the store.

A command reports a problem by raising ``CLIError(message, code)``; ``omegacore.cli.main``
prints the message as one line on stderr and exits with the code. Errors from the store,
the driver or the file system are translated by :func:`explain`, so a user mistake or a
fault of the environment never shows a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from omegacore import settings

#: The command did what was asked.
EXIT_OK = 0
#: The command ran and found problems (plugin load errors, ``fsck`` findings).
EXIT_FAILED = 1
#: Wrong use: a bad argument or option, an empty or ambiguous name, a file type no format takes.
EXIT_USAGE = 2
#: What was asked about does not exist (an object name, the embedded server for ``status``).
EXIT_NOT_FOUND = 3
#: A file's content cannot be used: malformed, empty or corrupt, or a column it lacks.
EXIT_BAD_FILE = 4
#: The file system refused: a missing file or directory, no permission, a full disk.
EXIT_IO = 5
#: The database server cannot be reached or started.
EXIT_SERVER = 6
#: An optional library or the plugin of a kind is not installed.
EXIT_MISSING = 7
#: A fault of omegacore or of a plugin (rerun with ``--traceback`` and report it).
EXIT_INTERNAL = 70
#: Interrupted with Ctrl-C.
EXIT_INTERRUPTED = 130
#: The reader of the output went away (e.g. piped into ``head``); nothing is printed.
EXIT_BROKEN_PIPE = 141

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILED: "the command ran and found problems (plugin load errors, fsck findings)",
    EXIT_USAGE: "wrong use: bad option, empty or ambiguous name, unsupported file type",
    EXIT_NOT_FOUND: "no such object (or, for server status, no running server)",
    EXIT_BAD_FILE: "the file's content cannot be used (malformed, empty, corrupt)",
    EXIT_IO: "a file or directory is missing or cannot be written",
    EXIT_SERVER: "the database server cannot be reached or started",
    EXIT_MISSING: "an optional library or a kind's plugin is not installed",
    EXIT_INTERNAL: "an internal error (rerun with --traceback and report it)",
    EXIT_INTERRUPTED: "interrupted",
    EXIT_BROKEN_PIPE: "the output pipe was closed by its reader",
}


class CLIError(Exception):
    """A problem to report in one line, with the exit code that classifies it."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.code = code


def emit(args: argparse.Namespace, data: Any, lines: Iterable[str] = ()) -> None:
    """Print ``data`` as JSON with ``--json``, else the human-readable ``lines``."""
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    else:
        for line in lines:
            print(line)


def note(message: str) -> None:
    """A remark for the person at the terminal (stderr, so stdout stays data)."""
    print(message, file=sys.stderr)


# --------------------------------------------------------------------------------------------
# the store the command works on
# --------------------------------------------------------------------------------------------
def server_timeout() -> float:
    """Seconds to wait for the server: ``OMEGA_SERVER_TIMEOUT`` through the settings."""
    getter = getattr(settings, "server_timeout", None)
    if callable(getter):
        return float(getter())
    return 5.0


def _with_timeout(url: str) -> str:
    """``url`` with ``serverSelectionTimeoutMS`` added unless it sets one."""
    query = urlsplit(url).query
    if any(k.lower() == "serverselectiontimeoutms" for k, _ in parse_qsl(query)):
        return url
    option = f"serverSelectionTimeoutMS={int(server_timeout() * 1000)}"
    if "?" in url:
        return url + ("" if url.endswith(("?", "&")) else "&") + option
    head = url if "/" in url.split("://", 1)[-1] else url + "/"
    return f"{head}?{option}"


def mongo_url(args: argparse.Namespace) -> str | None:
    """The URL to use (``--mongo-url`` or ``OMEGA_MONGO_URL``) with a short server timeout,
    or None for the embedded server."""
    url = getattr(args, "mongo_url", None) or settings.mongo_url_from_env()
    return _with_timeout(url) if url else None


def url_source(args: argparse.Namespace) -> str:
    if getattr(args, "mongo_url", None):
        return "--mongo-url"
    if settings.mongo_url_from_env():
        return "OMEGA_MONGO_URL"
    return "the embedded server"


def hosts_of(url: str | None) -> str:
    """The host list of a MongoDB URL, without user name or password."""
    if not url:
        return "the embedded server"
    netloc = url.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
    return netloc.rsplit("@", 1)[-1] or url


def open_store(args: argparse.Namespace, plugins: Any, prefix: str | None = None) -> Any:
    """An ``OmegaStore`` for the global options (``prefix`` overrides ``--prefix``)."""
    from omegacore.store import OmegaStore

    if prefix is None:
        prefix = args.prefix if args.prefix is not None else ""
    return OmegaStore(mongo_url=mongo_url(args), bucket=args.bucket, prefix=prefix,
                      plugins=plugins)


# --------------------------------------------------------------------------------------------
# errors of the layers below, in words
# --------------------------------------------------------------------------------------------
def explain(exc: BaseException, args: argparse.Namespace) -> tuple[int, str] | None:
    """The exit code and one-line message for an error a user can act on, else None."""
    import pymongo.errors

    from omegacore import errors, server

    unavailable = tuple(
        cls for cls in (server.ServerUnavailable, getattr(errors, "ServerUnavailable", None))
        if isinstance(cls, type)
    )
    if isinstance(exc, CLIError):
        return exc.code, str(exc)
    if isinstance(exc, unavailable):
        return EXIT_SERVER, f"{_first_line(exc)}"
    if isinstance(exc, (pymongo.errors.ServerSelectionTimeoutError,
                        pymongo.errors.ConnectionFailure)):
        url = mongo_url(args)
        return EXIT_SERVER, (
            f"cannot reach the MongoDB server at {hosts_of(url)} (from {url_source(args)}) "
            f"within {server_timeout():g} s: start it or correct the URL "
            "(OMEGA_SERVER_TIMEOUT sets the wait)"
        )
    if isinstance(exc, pymongo.errors.OperationFailure) and exc.code in (13, 18):
        return EXIT_SERVER, (f"the server refused access: {_first_line(exc)}; "
                             "check the URL's credentials")
    if isinstance(exc, errors.KindNotInstalled):
        return EXIT_MISSING, _first_line(exc)
    if isinstance(exc, errors.DoesNotExist):
        return EXIT_NOT_FOUND, _first_line(exc)
    if isinstance(exc, errors.PluginLoadError):
        return EXIT_MISSING, _first_line(exc)
    if isinstance(exc, errors.PluginConflict):
        return EXIT_USAGE, _first_line(exc)
    if isinstance(exc, (FileNotFoundError, NotADirectoryError, IsADirectoryError,
                        PermissionError)):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return EXIT_IO, f"{where}{exc.strerror or _first_line(exc)}"
    if isinstance(exc, OSError) and exc.errno is not None:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return EXIT_IO, f"{where}{exc.strerror or _first_line(exc)}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
