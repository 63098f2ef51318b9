"""Celery tasks of the tasking app."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def refresh_tles() -> None:
    """Refresh the TLEs we track from settings.TLE_SOURCE_URL (beat, every 6 hours).

    Idempotent (the newer epoch wins; re-storing the same TLE changes nothing). Never raises: the
    shipped TLEs stay usable, and the next scheduled run is the retry.
    """
    from .tle_store import tle_refresh_from_source

    try:
        result = tle_refresh_from_source(url=settings.TLE_SOURCE_URL)
    except Exception:  # a refresh must never break the beat loop
        logger.exception("TLE refresh crashed; keeping the stored TLEs")
        return
    if not result.ok:
        logger.warning("TLE refresh skipped (%s): %s", result.url or "-", "; ".join(result.problems))
        return
    if result.problems:
        logger.warning("TLE refresh skipped %d element sets: %s", len(result.problems), result.problems[:5])
    logger.info(
        "TLE refresh from %s: %d valid element sets, updated %s", result.url, result.fetched, result.updated
    )
