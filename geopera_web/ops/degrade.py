"""Graceful degradation when the cache Redis is down.

The cache holds only what can be lost or recomputed (rate-limit counters, refreshed TLEs, locks of
best-effort jobs), so no request may fail because it is away: `cache_or_default` runs a cache call
and, on any error, logs one warning (at most once per `DEGRADED_LOG_EVERY_SECONDS` per use) and
returns the default. Rate limits therefore fail open, and `/readyz` reports the cache as failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger("geopera.degraded")

T = TypeVar("T")

DEGRADED_LOG_EVERY_SECONDS = 30.0
_last_logged: dict[str, float] = {}
_lock = threading.Lock()


def degraded(use: str, exc: BaseException) -> None:
    """Log (rate-limited per `use`) that `use` runs degraded because of `exc`."""
    now = time.monotonic()
    with _lock:
        if now - _last_logged.get(use, -1e9) < DEGRADED_LOG_EVERY_SECONDS:
            return
        _last_logged[use] = now
    logger.warning("degraded: %s without the cache (%s: %s)", use, exc.__class__.__name__, exc)


def cache_or_default(use: str, call: Callable[[], T], default: T) -> T:
    """`call()`, or `default` (with a logged warning) when the cache cannot be reached."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - any cache failure degrades, none propagates
        degraded(use, exc)
        return default
