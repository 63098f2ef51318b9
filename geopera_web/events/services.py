"""`event_emit`: the one way anything writes to the outbox.

The row is created in the caller's transaction, so it exists exactly when the change it reports
commits. Consumers (webhook fan-out, notifications) are told only after that commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from geopera_web.accounts.models import Organization

from .models import Event
from .registry import is_event_type

logger = logging.getLogger(__name__)

Consumer = Callable[[Event], None]
BatchConsumer = Callable[[list[Event]], None]
_consumers: list[tuple[str, BatchConsumer]] = []


def register_batch_consumer(name: str, consumer: BatchConsumer) -> None:
    """Called once with the events one emit (or one `events_emit_many`) committed, so a consumer
    resolves what it needs (subscriptions, recipients) once per batch, not once per event
    (idempotent per name)."""
    global _consumers
    _consumers = [(n, c) for n, c in _consumers if n != name] + [(name, consumer)]


def register_consumer(name: str, consumer: Consumer) -> None:
    """Called with each event after its transaction committed (idempotent per name)."""

    def per_event(events: list[Event]) -> None:
        for event in events:
            try:
                consumer(event)
            except Exception:  # one bad event must not hide the rest of its batch
                logger.exception("Event consumer %s failed for %s %s", name, event.type, event.id)

    register_batch_consumer(name, per_event)


def _uuid_or_none(value: Any) -> str | None:
    return str(value) if value else None


def event_emit(
    *,
    org: Organization,
    type: str,
    data: dict[str, Any],
    dedupe_key: str | None = None,
) -> Event | None:
    """Write one event in the current transaction. Returns None when `dedupe_key` was used before."""
    if not is_event_type(type):
        raise ValueError(f"Unknown event type {type!r} (add it to geopera_web/events/registry.py)")
    fields = {
        "org": org,
        "type": type,
        "payload": data,
        "workspace_id": _uuid_or_none(data.get("workspaceId")),
        "order_id": _uuid_or_none(data.get("orderId")),
    }
    if dedupe_key:
        try:
            with transaction.atomic():
                event = Event.objects.create(dedupe_key=dedupe_key, **fields)
        except IntegrityError:
            return None
    else:
        event = Event.objects.create(**fields)

    _after_commit([event])
    return event


def events_emit_many(items: list[tuple[Organization, str, dict[str, Any]]]) -> list[Event]:
    """Several events in one INSERT (a batch of alerts stays one statement however large)."""
    for _, type_, _ in items:
        if not is_event_type(type_):
            raise ValueError(f"Unknown event type {type_!r} (add it to geopera_web/events/registry.py)")
    events = Event.objects.bulk_create(
        [
            Event(
                org=org,
                type=type_,
                payload=data,
                workspace_id=_uuid_or_none(data.get("workspaceId")),
                order_id=_uuid_or_none(data.get("orderId")),
            )
            for org, type_, data in items
        ]
    )
    _after_commit(events)
    return events


def _after_commit(events: list[Event]) -> None:
    def deliver() -> None:
        for name, consumer in list(_consumers):
            try:
                consumer(events)
            except Exception:  # one consumer's outage must not hide the events from the others
                if len(events) == 1:
                    logger.exception("Event consumer %s failed for %s %s", name, events[0].type, events[0].id)
                    continue
                # nor one bad event hide the rest of its batch: try them one by one (a batch
                # consumer is atomic or idempotent, so what it did before failing is not doubled)
                for event in events:
                    try:
                        consumer([event])
                    except Exception:
                        logger.exception("Event consumer %s failed for %s %s", name, event.type, event.id)

    deliver.is_outbox_delivery = True  # type: ignore[attr-defined]  # tests tell it from the rest
    if events:
        transaction.on_commit(deliver)


def events_locked_unstamped(event_ids: list[object], *, stamp: str) -> list[Event]:
    """The events among `event_ids` whose `stamp` column (`fanned_out_at`, `notified_at`) is still
    empty, locked for the caller's transaction, oldest first: a consumer that stamps them in the
    same transaction handles each event once, however many deliveries or sweeps race it."""
    return list(
        Event.objects.select_for_update()
        .filter(pk__in=event_ids, **{f"{stamp}__isnull": True})
        .order_by("created_at", "pk")
    )
