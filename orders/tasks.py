"""Celery tasks of the orders app. Each takes ids, re-reads state, calls a service: safe to run twice."""

from __future__ import annotations

from celery import shared_task

from .models import Order, OrderType
from .providers import ProviderState, provider_for
from .services import archive_order_sync


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
