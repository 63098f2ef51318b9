from __future__ import annotations

from celery import shared_task

from .idempotency import purge_expired


@shared_task(acks_late=True)
def purge_expired_idempotency_records() -> int:
    """Periodic (beat): forget idempotency claims older than their 24 h window."""
    return purge_expired()
