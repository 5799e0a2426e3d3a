"""Which failures are the infrastructure's (PostgreSQL or NATS away, restarting, overloaded).

Such a failure says nothing about the request or the event that met it: the same work succeeds
once the server is back. HTTP answers it with a 503 and Retry-After; consumers hand the event back
to JetStream without counting the attempt, and never park it (see daiban_common.consumer). Every
other exception is the work's own fault.
"""

from __future__ import annotations

from typing import Final

import asyncpg
import nats.errors
import nats.js.errors
from sqlalchemy import exc as sa_exc

__all__ = ["is_unavailable"]

# SQLSTATE classes and codes of a server that is away, restarting or out of resources, and of
# transient conflicts a retry resolves; none says anything about the statement that met them.
_TRANSIENT_SQLSTATE_CLASSES: Final = frozenset({"08", "53", "57", "58"})
_TRANSIENT_SQLSTATES: Final = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available
        "57014",  # query_canceled (statement_timeout)
    }
)
# asyncpg raises its InterfaceError both for a connection it has lost and for misuse (wrong
# argument count, ...); only the first kind is an outage. These are its messages for it.
_LOST_CONNECTION_MESSAGES: Final = (
    "connection is closed",
    "connection was closed",
    "another operation is in progress",
    "underlying connection is closed",
    "pool is closed",
    "connection has been released",
)
# OSErrors of the file system are bugs or configuration, not an unreachable server.
_LOCAL_OS_ERRORS: Final = (
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)
_NATS_UNAVAILABLE: Final = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.errors.NoServersError,
    nats.errors.NoRespondersError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.FlushTimeoutError,
    nats.js.errors.ServiceUnavailableError,
)
# How far to follow causes: SQLAlchemy wraps the driver's error, which wraps the socket's.
_MAX_DEPTH: Final = 8


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or an error it wraps or was raised while handling) is an infrastructure failure."""
    seen: set[int] = set()
    stack: list[tuple[BaseException, int]] = [(exc, 0)]
    while stack:
        current, depth = stack.pop()
        if id(current) in seen or depth > _MAX_DEPTH:
            continue
        seen.add(id(current))
        if _is_unavailable_here(current):
            return True
        if isinstance(current, BaseExceptionGroup):
            stack.extend((inner, depth + 1) for inner in current.exceptions)
        # `orig` is SQLAlchemy's wrapped DBAPI error; the adapter's in turn wraps asyncpg's as
        # __cause__. __context__ matters too: a rollback that fails on a dead connection (asyncpg
        # "another operation is in progress") hides the disconnect that started it.
        for inner in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(inner, BaseException):
                stack.append((inner, depth + 1))
    return False


def _is_unavailable_here(exc: BaseException) -> bool:
    if getattr(exc, "connection_invalidated", False):
        return True
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        # A disconnect found at checkout, or the pool had no connection to give in time.
        return True
    if isinstance(exc, sa_exc.PendingRollbackError) and "invalid transaction" in str(exc):
        return True
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.CannotConnectNowError):
        return True
    if isinstance(exc, asyncpg.InterfaceError | sa_exc.InterfaceError):
        text = str(exc)
        if any(message in text for message in _LOST_CONNECTION_MESSAGES):
            return True
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(sqlstate, str) and (
        sqlstate in _TRANSIENT_SQLSTATES or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
    ):
        return True
    if isinstance(exc, _NATS_UNAVAILABLE):
        return True
    # TimeoutError (asyncio's and nats-py's too) and ConnectionError are OSErrors.
    return isinstance(exc, OSError) and not isinstance(exc, _LOCAL_OS_ERRORS)
