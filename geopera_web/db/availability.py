"""Is this exception the database being unreachable (refusing connections, down, or our
connection cut), rather than a query that failed? Those answer 503 with Retry-After — the client
should simply retry — while every other database error stays a 500."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

# Seconds a client is told to wait before retrying while the database refuses connections.
DATABASE_RETRY_AFTER_SECONDS = 5

# SQLSTATEs of a connection that could not be had or was cut: class 08 (connection exception),
# 53300 too_many_connections, 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now.
_CONNECTION_SQLSTATES = frozenset({"53300", "57P01", "57P02", "57P03"})


def is_database_unavailable(exc: BaseException) -> bool:
    """True for Django's OperationalError/InterfaceError when the cause is the connection itself
    (refused, too many clients, server shutting down, connection closed) — not for a statement
    timeout, a lock timeout, a deadlock or any other error of a query on a working connection."""
    if isinstance(exc, InterfaceError):
        return True  # "connection already closed" and friends: never a query's own fault
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith("08") or sqlstate in _CONNECTION_SQLSTATES
    # No SQLSTATE: libpq failed before (or instead of) a server answer — connection refused,
    # host unreachable, or the server closed the connection unexpectedly.
    return True
