"""Celery tasks of the orders app. Each takes ids, re-reads state, and is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError

from .models import Order, OrderType

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=6,
)
def recompute_coverage(order_id: str) -> int:
    """Snapshot the coverage of every AOI whose deliveries changed; returns snapshots written."""
    from .services import coverage_recompute

    return len(coverage_recompute(order_id=order_id))


@shared_task(acks_late=True)
def poll_tasking_deliveries() -> dict:
    """Beat (every 30 s): fetch new deliveries for every ACTIVE tasking order, then apply the
    window-end rule. One order failing never stops the others; the next beat retries it."""
    from .services import coverage_recompute, order_coverage_settle, tasking_deliveries_sync

    delivered = settled = 0
    ids = Order.objects.filter(order_type=OrderType.TASKING, status=Order.Status.ACTIVE).values_list(
        "id", flat=True
    )
    for order_id in list(ids):
        try:
            delivered += tasking_deliveries_sync(order_id=order_id)
            # Coverage must be current before the window-end rule reads it (idempotent if it is).
            coverage_recompute(order_id=order_id)
            if order_coverage_settle(order_id=order_id):
                settled += 1
        except Exception:  # noqa: BLE001 - one bad order must not block every other order's deliveries
            logger.exception("Polling tasking deliveries failed for order %s", order_id)
    return {"batches": delivered, "settled": settled}
