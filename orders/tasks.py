"""Celery tasks of the orders app. Each takes ids, imports its service inside the body, calls it,
and holds no business logic (HackSoft's direction: services enqueue tasks on commit, tasks call
services). Safe to run twice: the services are idempotent."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError


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
    window-end rule."""
    from .fulfilment.services import fulfilment_poll
    from .models import OrderType

    result = fulfilment_poll(order_type=OrderType.TASKING)
    return {"batches": result["batches"], "settled": result["settled"]}


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def fulfil_archive_order(self, order_id: str) -> str:
    """Submit/poll one archive order with its provider. Enqueued on commit after placement; when the
    provider says "not yet", it asks again when the provider said to (and `poll_provider_orders`
    catches any it lost)."""
    from .fulfilment.services import fulfilment_sync

    result = fulfilment_sync(order_id=order_id)
    if result.order is None:
        return "missing"
    retry_after = result.status.retry_after if result.status else None
    if result.order.status == "processing" and retry_after and not self.request.is_eager:
        fulfil_archive_order.apply_async((order_id,), countdown=max(1, int(retry_after) + 1))
    return result.order.status


@shared_task(acks_late=True)
def poll_provider_orders(limit: int = 200) -> int:
    """Periodic safety net (celery beat): sync every archive order still processing."""
    from .fulfilment.services import fulfilment_poll
    from .models import OrderType

    return fulfilment_poll(order_type=OrderType.ARCHIVE, limit=limit)["orders"]


@shared_task(
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=6,
)
def match_watches(since: str) -> int:
    """After a catalog import: match the captures imported since `since` against every watch (one
    statement) and tell the watchers; returns the alerts written. Safe to run twice."""
    import datetime as dt

    from .watches.services import watches_match

    return len(watches_match(since=dt.datetime.fromisoformat(since)))
