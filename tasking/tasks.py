"""Celery tasks of the tasking app. Each takes ids, re-reads state and is safe to run twice."""

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


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def generate_automatic_study(order_id: str) -> str | None:
    """Automatic-feasibility sensors: build the study from predicted passes (no-op once uploaded)."""
    from .services import automatic_study_generate

    study = automatic_study_generate(order_id=order_id)
    return str(study.id) if study else None


@shared_task(acks_late=True)
def expire_stale_decisions() -> int:
    """Periodic (beat): expire studies, quotations and spend approvals nobody decided on in time,
    and close the pending approvals of orders that have ended."""
    from orders.approvals.services import approvals_close_ended

    from .services import decisions_expire_stale

    return decisions_expire_stale() + approvals_close_ended()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def notify_pending_decision(kind: str, obj_id: str) -> int:
    """Email the org's admins that a decision waits for them (skips decided ones)."""
    from .services import decision_notify_admins

    return decision_notify_admins(kind=kind, decision_id=obj_id)


@shared_task(acks_late=True)
def advance_series() -> dict:
    """Periodic (beat): order the due occurrences of every running tasking series and end the
    series whose occurrences have all ended (idempotent: a second run orders nothing twice)."""
    from .series import series_advance

    return series_advance()
