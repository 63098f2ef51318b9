"""Celery tasks of the orders app. Each takes ids, re-reads state, and is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError

from .fulfilment.providers import ProviderState, provider_for
from .fulfilment.services import archive_order_sync
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
    from .coverage.services import coverage_recompute

    return len(coverage_recompute(order_id=order_id))


@shared_task(acks_late=True)
def poll_tasking_deliveries() -> dict:
    """Beat (every 30 s): fetch new deliveries for every ACTIVE tasking order, then apply the
    window-end rule. One order failing never stops the others; the next beat retries it."""
    from .coverage.services import coverage_recompute, order_coverage_settle
    from .fulfilment.services import tasking_deliveries_sync

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


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def fulfil_archive_order(self, order_id: str) -> str:
    """Submit/poll one archive order with its provider. Enqueued on commit after placement; when the
    provider says "not yet", it re-schedules itself (and `poll_provider_orders` catches any it lost)."""
    order = archive_order_sync(order_id=order_id)
    if order is None:
        return "missing"
    if order.status == Order.Status.PROCESSING and not self.request.is_eager:
        status = provider_for(order).poll(order=order)
        if status.state == ProviderState.PROCESSING and status.retry_after:
            fulfil_archive_order.apply_async((order_id,), countdown=max(1, int(status.retry_after) + 1))
    return order.status


@shared_task(acks_late=True)
def poll_provider_orders(limit: int = 200) -> int:
    """Periodic safety net (celery beat): sync every archive order still processing."""
    ids = list(
        Order.objects.filter(order_type=OrderType.ARCHIVE, status=Order.Status.PROCESSING)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    for order_id in ids:
        archive_order_sync(order_id=order_id)
    return len(ids)
