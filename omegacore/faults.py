"""Server faults in words a user can act on.

pymongo reports an unreachable server as ``ServerSelectionTimeoutError`` after its own
timeout, and a lost connection as ``AutoReconnect`` or ``NetworkTimeout``. The store's
public methods translate them into ``ServerUnavailable``, naming the server (without
credentials) and what was being done; puts say whether they took effect
(``PutInterrupted``, raised by ``omegacore.staging``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import gridfs.errors
from pymongo.errors import (
    ConnectionFailure,
    CursorNotFound,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from omegacore import settings
from omegacore.errors import OmegaError, ServerUnavailable, StaleRead

F = TypeVar("F", bound=Callable[..., Any])

#: server error codes of a read whose data was removed under it (collection dropped,
#: cursor killed): the store reads again if the object was replaced meanwhile
_DATA_GONE_CODES = frozenset({26, 43, 96, 175, 237})


def is_read_race(exc: BaseException) -> bool:
    """Whether ``exc`` can mean that the data being read was replaced or dropped meanwhile."""
    if isinstance(exc, (StaleRead, CursorNotFound, gridfs.errors.NoFile,
                        gridfs.errors.CorruptGridFile)):
        return True
    return isinstance(exc, OperationFailure) and exc.code in _DATA_GONE_CODES


#: the classes ``is_read_race`` looks at, for ``except`` clauses
READ_RACE_ERRORS = (StaleRead, OperationFailure, gridfs.errors.GridFSError)


def unavailable(server: str, doing: str, exc: BaseException) -> ServerUnavailable:
    """The error for a server that could not be reached or was lost while ``doing``."""
    if isinstance(exc, ServerSelectionTimeoutError):
        return ServerUnavailable(
            f"could not reach the MongoDB server at {server} within "
            f"{settings.server_timeout():g} s while {doing}: check that it runs and that "
            "mongo_url / OMEGA_MONGO_URL names it (OMEGA_SERVER_TIMEOUT sets the wait)")
    return ServerUnavailable(
        f"the connection to the MongoDB server at {server} was lost while {doing} "
        f"({type(exc).__name__}: {exc})")


def translate_errors(doing: str, name_index: int = 0) -> Callable[[F], F]:
    """Decorate a store method so connection faults become ``ServerUnavailable``.

    ``doing`` describes the call, formatted with the object name as ``{0}``: the
    positional argument at ``name_index`` or the ``name`` keyword. omegacore's own errors
    (e.g. ``PutInterrupted``) pass unchanged.
    """

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except OmegaError:
                raise
            except ConnectionFailure as exc:
                name = args[name_index] if len(args) > name_index else kwargs.get("name", "")
                what = doing.format(name)
                raise unavailable(self.server_display(), what, exc) from exc

        return wrapper  # type: ignore[return-value]

    return decorate
