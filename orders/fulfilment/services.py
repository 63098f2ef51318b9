"""Fulfilment writes: handing orders to their provider, polling it, and storing what it delivers.

Archive orders: `archive_order_sync` submits, polls and settles (capture on delivery, release on
failure). Tasking orders: deliveries land as DeliveryBatch + DeliveredCapture rows
(`delivery_batch_record`), from the provider (`tasking_deliveries_sync`) or recorded by hand
(`manual_delivery_record`); each landing enqueues a coverage recompute (on commit).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from geopera_web.actor import ActorLike, actor_of
from geopera_web.billing.services import (
    charge_capture,
    charge_release,
)
from geopera_web.errors import Conflict, InvalidInput, parse_uuid

from ..events import (
    event_delivery_received,
    event_delivery_recorded,
    event_provider_placed,
    event_provider_submitted,
)
from ..models import DeliveredCapture, DeliveryBatch, Order, OrderType
from ..services import order_transition
from .delivery import BatchData, CaptureData, parse_delivery_upload, tasking_provider_for
from .providers import ProviderAdapter, ProviderState, provider_for


def _enqueue_recompute(order_id: Any) -> None:
    from ..tasks import recompute_coverage

    transaction.on_commit(lambda: recompute_coverage.delay(str(order_id)))


@transaction.atomic
def delivery_batch_record(
    *,
    order: Order,
    batch: BatchData,
    source: str = "provider",
    provider: str = "",
    actor: ActorLike = None,
    received_at: datetime | None = None,
    note: str = "",
) -> DeliveryBatch | None:
    """Store one batch of captures for a tasking order; None when this batch ref is already stored
    (a retried poll). Captures must name groups of this order. Enqueues a coverage recompute.

    Only an ACTIVE tasking order takes deliveries (409 with the current status otherwise): what a
    cancelled or settled order was charged is final, and a capture recorded after that would
    change its coverage without changing its money. The order row is locked, so a cancellation
    and a delivery never interleave."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    order_deliverable_check(locked)
    if DeliveryBatch.objects.filter(order=order, ref=batch.ref).exists():
        return None
    group_ids = set(order.groups.values_list("id", flat=True))
    if any(c.group_id not in group_ids for c in batch.captures):
        raise InvalidInput("Every delivered capture must serve one of this order's AOIs.")
    known = set(
        DeliveredCapture.objects.filter(
            order=order, scene_id__in=[c.scene_id for c in batch.captures]
        ).values_list("scene_id", flat=True)
    )
    if known and source == DeliveryBatch.Source.MANUAL:
        raise InvalidInput(
            f"Scene {sorted(known)[0]} is already recorded for this order; give the capture another id."
        )
    when = received_at or timezone.now()
    user = actor_of(actor).user
    row = DeliveryBatch.objects.create(
        order=order,
        ref=batch.ref,
        source=source,
        provider=provider,
        received_at=when,
        note=note,
        created_by=user,
    )
    DeliveredCapture.objects.bulk_create(
        [
            DeliveredCapture(
                order=order,
                group_id=c.group_id,
                batch=row,
                scene_id=c.scene_id,
                footprint=c.footprint,
                acquired_at=c.acquired_at,
                delivered_at=when,
                cloud_cover=c.cloud_cover,
                status=c.status,
                status_reason=c.status_reason,
                assets=c.assets,
                properties=c.properties,
                source=source,
                created_by=user,
            )
            for c in batch.captures
            if c.scene_id not in known
        ]
    )
    ok = sum(1 for c in batch.captures if c.status == DeliveredCapture.Status.DELIVERED)
    failed = len(batch.captures) - ok
    record_event = (
        event_delivery_received if source == DeliveryBatch.Source.PROVIDER else event_delivery_recorded
    )
    record_event(order=order, actor=actor, batch_ref=batch.ref, delivered=ok, failed=failed, note=note)
    _enqueue_recompute(order.pk)
    return row


def order_is_deliverable(order: Order) -> bool:
    return order.order_type == OrderType.TASKING and order.status == Order.Status.ACTIVE


def order_deliverable_check(order: Order) -> None:
    """409 (with `current_status`) unless the order can take a delivery now."""
    if order.order_type != OrderType.TASKING:
        raise InvalidInput("Deliveries are recorded for tasking orders only.")
    if order.status != Order.Status.ACTIVE:
        raise Conflict(
            f"The order is {order.get_status_display().lower()}: deliveries are recorded only while "
            "it is active (acquiring). Its charge is settled; nothing more can be delivered on it.",
            slug="order-not-deliverable",
            current_status=order.status,
            current_sub_status=order.sub_status,
        )


def tasking_deliveries_sync(*, order_id: Any, now: datetime | None = None) -> int:
    """Ask the order's tasking provider for new batches and store them; returns how many were new.
    Only ACTIVE tasking orders receive deliveries. Safe to run twice (batch refs are unique)."""
    now = now or timezone.now()
    order = Order.objects.select_related("data_product").filter(pk=order_id).first()
    if order is None or order.order_type != OrderType.TASKING or order.status != Order.Status.ACTIVE:
        return 0
    provider = tasking_provider_for(order)
    if not order.provider_ref:
        # First contact after activation: hand the order to the provider (once: under the lock).
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if not locked.provider_ref:
                locked.provider_ref = provider.place(order=locked)
                locked.save(update_fields=["provider_ref", "updated_at"])
                event_provider_placed(order=locked, provider=provider.name, ref=locked.provider_ref)
            order.provider_ref = locked.provider_ref
    stored = set(
        order.delivery_batches.filter(source=DeliveryBatch.Source.PROVIDER).values_list("ref", flat=True)
    )
    if provider.poll(order=order, now=now).batches_ready <= len(stored):
        return 0  # nothing new at the provider: skip fetching
    new = 0
    for batch in provider.fetch_deliveries(order=order, now=now):
        if batch.ref in stored:
            continue
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.status != Order.Status.ACTIVE:
                break
            if delivery_batch_record(
                order=locked, batch=batch, source="provider", provider=provider.name, received_at=now
            ):
                new += 1
    return new


@transaction.atomic
def manual_delivery_record(
    *,
    order: Order,
    group_id: Any,
    upload: bytes,
    actor: ActorLike,
    acquired_at: datetime | None = None,
    note: str = "",
) -> DeliveredCapture:
    """Support staff record a capture by hand from a STAC Item or a GeoJSON footprint file.

    The order must be an ACTIVE tasking order (409 otherwise, before the file is even read);
    the footprint must overlap the chosen AOI. Bad files raise InvalidInput with a message that
    says what to fix.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    order_deliverable_check(order)
    group = order.groups.filter(pk=parse_uuid(group_id)).first() if parse_uuid(group_id) else None
    if group is None:
        raise InvalidInput("Choose one of this order's AOIs.")
    parsed = parse_delivery_upload(upload)
    if not parsed.footprint.intersects(group.geometry):
        raise InvalidInput(
            f"The footprint does not overlap AOI “{group}”: check the file is for this order and that "
            "coordinates are longitude, latitude."
        )
    scene_id = parsed.scene_id or f"manual-{uuid.uuid4().hex[:12]}"
    when = acquired_at or parsed.acquired_at or timezone.now()
    batch = BatchData(
        ref=f"manual-{uuid.uuid4().hex}",
        available_at=timezone.now(),
        captures=(
            CaptureData(
                group_id=group.pk,
                scene_id=scene_id,
                footprint=parsed.footprint,
                acquired_at=when,
                cloud_cover=parsed.cloud_cover,
                assets=parsed.assets,
                properties={**parsed.properties, "geopera:upload_kind": parsed.kind},
            ),
        ),
    )
    delivery_batch_record(
        order=order, batch=batch, source="manual", actor=actor, note=note or f"{parsed.kind} upload"
    )
    return DeliveredCapture.objects.get(order=order, scene_id=scene_id)


@transaction.atomic
def archive_order_sync(*, order_id: object, provider: ProviderAdapter | None = None) -> Order | None:
    """Ask the order's provider where it stands and act on the answer: submit it if it never was,
    capture the money and record the deliveries when fulfilled, release it when failed.

    Safe to run any number of times, concurrently too: it locks the order row and does nothing
    unless the order is still a processing archive order.
    """
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("data_product")
        .filter(pk=order_id, order_type=OrderType.ARCHIVE)
        .first()
    )
    if order is None or order.status != Order.Status.PROCESSING:
        return order
    provider = provider or provider_for(order)
    if not order.provider_ref:
        order.provider_ref = provider.place(order=order)
        order.save(update_fields=["provider_ref", "updated_at"])
        event_provider_submitted(order=order, provider=provider.name, ref=order.provider_ref)
    result = provider.poll(order=order)
    if result.state == ProviderState.FULFILLED:
        deliveries = provider.fetch_deliveries(order=order)
        order.metadata = {
            **order.metadata,
            "deliveries": {d.capture_id: {"href": d.href, "media_type": d.media_type} for d in deliveries},
            "delivered_at": timezone.now().isoformat(),
        }
        order.save(update_fields=["metadata", "updated_at"])
        if order.charge_id:
            charge_capture(charge_id=order.charge_id)
        order_transition(
            order=order,
            to=Order.Status.FULFILLED,
            message=f"{len(deliveries)} item(s) delivered; payment captured.",
            data={"items": len(deliveries)},
        )
    elif result.state == ProviderState.FAILED:
        if order.charge_id:
            charge_release(charge_id=order.charge_id, memo=f"Order {order.pk} failed")
        order_transition(
            order=order,
            to=Order.Status.FAILED,
            message=(result.message or "The provider could not fulfil the order.") + " Payment released.",
        )
    return order
