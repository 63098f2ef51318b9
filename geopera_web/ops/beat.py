"""One beat for the whole deployment, enforced by a PostgreSQL advisory lock.

`LockedScheduler` (`CELERY_BEAT_SCHEDULER`) holds `pg_try_advisory_lock(BEAT_LOCK_KEY)` on a
connection of its own. A beat that does not hold the lock sends nothing: it logs once that another
beat holds it, stays idle, and takes over within `CELERY_BEAT_MAX_LOOP_INTERVAL` seconds of the
holder dying (PostgreSQL releases the lock with the holder's connection). The holder records a
`beat` heartbeat on every tick (`/readyz`). Advisory locks are per database, so every deployment
(database) has its own single beat.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
from typing import Any

import psycopg
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger("geopera.beat")


def beat_lock_key() -> int:
    """A stable signed 64-bit key per queue name (several installs may share one database)."""
    digest = hashlib.sha256(f"geopera-beat:{settings.CELERY_TASK_DEFAULT_QUEUE}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _connect() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        autocommit=True,
        connect_timeout=5,
        application_name="geopera-beat-lock",
    )


class BeatLock:
    """The advisory lock, re-checked (and re-taken after a lost connection) on every `held()`."""

    def __init__(self) -> None:
        self.key = beat_lock_key()
        self._conn: psycopg.Connection | None = None
        self._held = False
        self._said_idle = False

    def held(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._held = False
                self._conn = _connect()
            if self._held:
                self._conn.execute("SELECT 1")  # still ours while this connection lives
                return True
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            self._held = bool(row and row[0])
        except psycopg.Error as exc:
            logger.warning("beat lock: database unreachable (%s); sending nothing", exc.__class__.__name__)
            self._drop()
            return False
        if self._held:
            logger.info("beat lock %s acquired: this beat sends the periodic tasks", self.key)
            self._said_idle = False
        elif not self._said_idle:
            logger.warning(
                "another celery beat holds the beat lock %s: this beat stays idle and sends nothing "
                "(it takes over if that one stops). Run exactly one beat per deployment.",
                self.key,
            )
            self._said_idle = True
        return self._held

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def release(self) -> None:
        self._drop()


class LockedScheduler(PersistentScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.beat_lock = BeatLock()
        self.node = f"{socket.gethostname()}:{id(self):x}"
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.beat_lock.held():
            return self.max_interval
        from .heartbeats import heartbeat_record

        heartbeat_record(component="beat", node=self.node)
        return min(super().tick(*args, **kwargs), self.max_interval)

    def close(self) -> None:
        super().close()
        self.beat_lock.release()
