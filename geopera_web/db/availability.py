"""Is this exception the database being unreachable (refusing connections, down, or our
connection cut), rather than a query that failed? Those answer 503 with Retry-After, while every
other database error stays a 500.

Two kinds of unavailability, because they promise different things to the client:

- ``CONNECT``: the failure happened while connecting (refused, too many clients, server starting
  or shutting down). That statement never reached the server; whether the request sent earlier
  ones (and committed them) on a connection since lost is `used_since_request_start`.
- ``LOST``: an open connection went away (backend terminated, server crashed, socket cut) while
  the request was using it. A COMMIT in flight may have landed: the outcome is unknown.

An error without a SQLSTATE is *not* evidence of a dead connection by itself (a query with more
than 65,535 parameters fails in libpq on a healthy connection): after connecting, only a
connection that is actually closed or broken counts."""

from __future__ import annotations

import enum
from types import TracebackType

from django.db import InterfaceError, OperationalError, connections

# Seconds a client is told to wait before retrying while the database refuses connections.
DATABASE_RETRY_AFTER_SECONDS = 5

# SQLSTATEs of a connection that could not be had: class 08 (connection exception),
# 53300 too_many_connections, 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now.
_CONNECTION_SQLSTATES = frozenset({"53300", "57P01", "57P02", "57P03"})


class Unavailable(enum.Enum):
    CONNECT = "connect"  # could not connect: nothing of this request was sent
    LOST = "lost"  # the connection died while in use: the outcome is unknown


def _raised_while_connecting(exc: BaseException) -> bool:
    """Did the error come out of Django's `connect()` (new connection or CONN_HEALTH_CHECKS
    reconnect)? Django re-raises the driver's error with the original traceback, which still
    holds the frames of `BaseDatabaseWrapper.connect`."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "connect" and code.co_filename.replace("\\", "/").endswith(
            "django/db/backends/base/base.py"
        ):
            return True
        tb = tb.tb_next
    return False


def _a_connection_is_gone() -> bool:
    """After an error on an open connection: is one of this thread's connections closed or
    broken — or already dropped by Django (an atomic block closes it when ROLLBACK fails)?"""
    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        if raw is None or getattr(raw, "closed", False) or getattr(raw, "broken", False):
            return True
    return False


def database_unavailability(exc: BaseException) -> Unavailable | None:
    """`CONNECT` or `LOST` for Django's OperationalError/InterfaceError caused by the connection
    itself; None for a statement timeout, a lock timeout, a deadlock, a libpq-side refusal of a
    query or any other error of a query on a working connection."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return None
    if _raised_while_connecting(exc):
        sqlstate = getattr(exc.__cause__, "sqlstate", None)
        if sqlstate and not (sqlstate.startswith("08") or sqlstate in _CONNECTION_SQLSTATES):
            return None  # e.g. 28P01 bad password: a configuration fault, not an outage
        return Unavailable.CONNECT
    return Unavailable.LOST if _a_connection_is_gone() else None


def is_database_unavailable(exc: BaseException) -> bool:
    return database_unavailability(exc) is not None


def database_used_since_request_start() -> bool:
    """Did this request run any statement (our backend notes each cursor; `request_started`
    resets the note)? A refused connect after one does not mean nothing was changed."""
    return any(getattr(c, "used_since_request_start", False) for c in connections.all(initialized_only=True))


def request_started_reset(**_kwargs: object) -> None:
    """`request_started` receiver: no statement of the new request has run yet."""
    for conn in connections.all(initialized_only=True):
        conn.used_since_request_start = False
