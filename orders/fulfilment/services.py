"""Fulfilment writes, one path for archive and tasking orders alike.

- `fulfilment_sync` hands an order to its provider once (`Order.provider_ref`), asks where it
  stands, stores every new delivery batch as DeliveryBatch + DeliveredCapture rows
  (`delivery_batch_record`) and applies the order type's settlement rule.
- `manual_delivery_record`: support staff record a capture by hand (a STAC Item or a GeoJSON
  footprint), for either order type.
- `fulfilment_poll`: the periodic sweep (celery beat) over every order still receiving.

Per order type only the rules differ (`_RULES`): which status receives deliveries, which event
says the order went to the provider, what a provider's final answer does to the money and the
status (archive: capture and FULFILLED, or release and FAILED), and what follows a delivery
(tasking: coverage is recomputed on commit, and the completion rules of `orders.coverage` apply).
Assets, deliveries and coverage read the rows only.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from geopera_web.actor import ActorLike, actor_of
from geopera_web.audit.services import audit_record
from geopera_web.billing.services import charge_capture, charge_release
from geopera_web.errors import Conflict, InvalidInput, parse_uuid
from geopera_web.ops.sweeper import enqueue
from geopera_web.safe_urls import assets_with_stored_hrefs

from ..events import (
    event_delivery_received,
    event_delivery_recorded,
    event_provider_placed,
    event_provider_submitted,
)
from ..models import DeliveredCapture, DeliveryBatch, Order, OrderType
from ..services import order_transition
from ..tasks import recompute_coverage
from .adapters import BatchData, CaptureData, FulfilmentAdapter, FulfilmentState, FulfilmentStatus
from .registry import adapter_for
from .uploads import parse_delivery_upload

logger = logging.getLogger(__name__)


# --- the rules per order type --------------------------------------------------------------------


def _archive_settle(order: Order, status: FulfilmentStatus) -> None:
    """A provider's final answer for an archive order (the order row is locked by the caller)."""
    if status.state == FulfilmentState.COMPLETE:
        items = DeliveredCapture.objects.filter(order=order, status=DeliveredCapture.Status.DELIVERED).count()
        if order.charge_id:
            charge_capture(charge_id=order.charge_id)
        order_transition(
            order=order,
            to=Order.Status.FULFILLED,
            message=f"{items} item(s) delivered; payment captured.",
            data={"items": items},
        )
    elif status.state == FulfilmentState.FAILED:
        if order.charge_id:
            charge_release(charge_id=order.charge_id, memo="The provider could not fulfil the order")
        order_transition(
            order=order,
            to=Order.Status.FAILED,
            message=(status.message or "The provider could not fulfil the order.") + " Payment released.",
        )


def _tasking_after_poll(order_id: Any, now: datetime) -> bool:
    """Coverage must be current before the window-end rule reads it (both idempotent)."""
    from ..coverage.services import coverage_recompute, order_coverage_settle

    coverage_recompute(order_id=order_id)
    return order_coverage_settle(order_id=order_id, now=now) is not None


def _recompute_on_commit(order: Order) -> None:
    order_id = str(order.pk)
    transaction.on_commit(lambda: enqueue(recompute_coverage, order_id))


@dataclass(frozen=True)
class _Rules:
    receiving: str  # the status in which the order receives deliveries
    submitted_event: Callable[..., Any]
    settle: Callable[[Order, FulfilmentStatus], None] | None = None  # on the provider's final answer
    on_delivery: Callable[[Order], None] | None = None  # after a batch is stored (same transaction)
    after_poll: Callable[[Any, datetime], bool] | None = None  # the beat's follow-up; True: settled


_RULES: dict[str, _Rules] = {
    OrderType.ARCHIVE: _Rules(
        receiving=Order.Status.PROCESSING, submitted_event=event_provider_submitted, settle=_archive_settle
    ),
    OrderType.TASKING: _Rules(
        receiving=Order.Status.ACTIVE,
        submitted_event=event_provider_placed,
        on_delivery=_recompute_on_commit,
        after_poll=_tasking_after_poll,
    ),
}


def order_is_deliverable(order: Order) -> bool:
    """Whether the order takes deliveries now: while it receives them (archive: processing,
    tasking: active)."""
    return order.status == _RULES[order.order_type].receiving


def order_deliverable_check(order: Order) -> None:
    """409 (with `current_status`) unless the order can take a delivery now."""
    if not order_is_deliverable(order):
        receiving = Order.Status(_RULES[order.order_type].receiving).label.lower()
        raise Conflict(
            f"The order is {order.get_status_display().lower()}: deliveries are recorded only while "
            f"it is {receiving}. Its charge is settled; nothing more can be delivered on it.",
            slug="order-not-deliverable",
            current_status=order.status,
            current_sub_status=order.sub_status,
        )


# --- storing deliveries --------------------------------------------------------------------------


def _with_stored_hrefs(order: Order, batch_ref: str, capture: CaptureData) -> CaptureData:
    """Only absolute http(s) asset hrefs are stored, whoever delivers: a provider's other assets
    (javascript:, data:, relative, ...) are dropped, and why is kept on the capture
    (`geopera:refused_assets`) and logged. Manual uploads are refused before this (the form says why)."""
    kept, refused = assets_with_stored_hrefs(capture.assets)
    if not refused:
        return capture
    logger.warning(
        "delivery assets refused: order=%s batch=%s scene=%s refused=%s",
        order.pk,
        batch_ref,
        capture.scene_id,
        refused,
    )
    return dataclasses.replace(
        capture, assets=kept, properties={**capture.properties, "geopera:refused_assets": refused}
    )


@transaction.atomic
def delivery_batch_record(
    *,
    order: Order,
    batch: BatchData,
    source: str = DeliveryBatch.Source.PROVIDER,
    provider: str = "",
    actor: ActorLike = None,
    received_at: datetime | None = None,
    note: str = "",
) -> DeliveryBatch | None:
    """Store one batch of captures for an order (archive or tasking); None when this batch ref is
    already stored (a retried poll). Captures must name groups of this order; a manual batch may not
    repeat a scene already recorded. Writes the delivery event; for tasking orders, a coverage
    recompute is enqueued on commit.

    Only an order that is still receiving takes deliveries (409 with the current status otherwise):
    what a cancelled or settled order was charged is final, and a capture recorded after that would
    change its coverage without changing its money. The order row is locked, so a cancellation and
    a delivery never interleave."""
    order_deliverable_check(Order.objects.select_for_update(of=("self",)).get(pk=order.pk))
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
    captures = [_with_stored_hrefs(order, batch.ref, c) for c in batch.captures]
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
            for c in captures
            if c.scene_id not in known
        ]
    )
    ok = sum(1 for c in batch.captures if c.status == DeliveredCapture.Status.DELIVERED)
    failed = len(batch.captures) - ok
    record_event = (
        event_delivery_received if source == DeliveryBatch.Source.PROVIDER else event_delivery_recorded
    )
    record_event(order=order, actor=actor, batch_ref=batch.ref, delivered=ok, failed=failed, note=note)
    rules = _RULES[order.order_type]
    if rules.on_delivery is not None:
        rules.on_delivery(order)
    return row


# --- syncing with the provider -------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    order: Order | None
    new_batches: int = 0
    status: FulfilmentStatus | None = None  # the provider's answer (None: not asked)


def _submit_once(order: Order, adapter: FulfilmentAdapter, rules: _Rules) -> None:
    if order.provider_ref:
        return
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        if not locked.provider_ref and locked.status == rules.receiving:
            locked.provider_ref = adapter.place(order=locked)
            locked.save(update_fields=["provider_ref", "updated_at"])
            rules.submitted_event(order=locked, provider=adapter.name, ref=locked.provider_ref)
        order.provider_ref = locked.provider_ref


def fulfilment_sync(
    *, order_id: object, now: datetime | None = None, adapter: FulfilmentAdapter | None = None
) -> SyncResult:
    """Submit (once), poll, store new batches and settle one order. Safe to run any number of
    times, concurrently too: submission and every stored batch happen under the order's row lock,
    batch refs are unique per order, and nothing happens unless the order still receives.
    The adapter comes from the registry (UnknownProvider for an unconfigured host)."""
    now = now or timezone.now()
    order = Order.objects.select_related("data_product").filter(pk=parse_uuid(order_id)).first()
    if order is None:
        return SyncResult(None)
    rules = _RULES[order.order_type]
    if order.status != rules.receiving:
        return SyncResult(order)
    adapter = adapter or adapter_for(order)
    _submit_once(order, adapter, rules)
    status = adapter.poll(order=order, now=now)
    stored = set(
        order.delivery_batches.filter(source=DeliveryBatch.Source.PROVIDER).values_list("ref", flat=True)
    )
    new = 0
    if status.batches_ready > len(stored):  # else nothing new at the provider: skip fetching
        for batch in adapter.fetch_deliveries(order=order, now=now):
            if batch.ref in stored:
                continue
            with transaction.atomic():
                locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
                if locked.status != rules.receiving:
                    break
                recorded = delivery_batch_record(
                    order=locked, batch=batch, provider=adapter.name, received_at=now
                )
                new += recorded is not None
    if rules.settle is not None and status.state in (FulfilmentState.COMPLETE, FulfilmentState.FAILED):
        with transaction.atomic():
            locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
            if locked.status == rules.receiving:
                rules.settle(locked, status)
            order = locked
    else:
        order.refresh_from_db(fields=["status", "sub_status", "provider_ref", "updated_at"])
    return SyncResult(order, new, status)


def fulfilment_poll(*, order_type: str, limit: int | None = None, now: datetime | None = None) -> dict:
    """The periodic sweep over every order of `order_type` still receiving deliveries: sync it, then
    the type's follow-up (tasking: coverage and the window-end rule). One order failing never stops
    the others; the next sweep retries it. Returns {"orders", "batches", "settled"}."""
    now = now or timezone.now()
    rules = _RULES[order_type]
    ids = Order.objects.filter(order_type=order_type, status=rules.receiving).order_by("created_at")
    ids = list(ids.values_list("id", flat=True)[:limit] if limit else ids.values_list("id", flat=True))
    batches = settled = 0
    for order_id in ids:
        try:
            result = fulfilment_sync(order_id=order_id, now=now)
            batches += result.new_batches
            if (
                result.order is not None
                and result.order.status != rules.receiving
                or rules.after_poll is not None
                and rules.after_poll(order_id, now)
            ):
                settled += 1
        except Exception:  # noqa: BLE001 - one bad order must not block every other order's fulfilment
            logger.exception("Fulfilment sync failed for order %s", order_id)
    return {"orders": len(ids), "batches": batches, "settled": settled}


def archive_order_sync(*, order_id: object, provider: FulfilmentAdapter | None = None) -> Order | None:
    """`fulfilment_sync` for one archive order; returns the order (None when there is none)."""
    order = Order.objects.filter(pk=parse_uuid(order_id), order_type=OrderType.ARCHIVE).first()
    if order is None:
        return None
    return fulfilment_sync(order_id=order.pk, adapter=provider).order


def tasking_deliveries_sync(*, order_id: Any, now: datetime | None = None) -> int:
    """`fulfilment_sync` for one tasking order; returns how many batches were new."""
    if not Order.objects.filter(pk=parse_uuid(order_id), order_type=OrderType.TASKING).exists():
        return 0
    return fulfilment_sync(order_id=order_id, now=now).new_batches


# --- by hand -------------------------------------------------------------------------------------


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
    """Support staff record a capture by hand from a STAC Item or a GeoJSON footprint file, for an
    archive or a tasking order; the footprint must overlap the chosen group (a tasking AOI, or an
    archive group's billed area). Bad files raise
    InvalidInput with a message that says what to fix; an order that no longer receives deliveries
    (cancelled, settled) is a 409 before the file is even read."""
    order = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
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
        order=order,
        batch=batch,
        source=DeliveryBatch.Source.MANUAL,
        actor=actor,
        note=note or f"{parsed.kind} upload",
    )
    delivered = DeliveredCapture.objects.get(order=order, scene_id=scene_id)
    audit_record(
        action="support.manual_delivery",
        actor=actor_of(actor),
        org_id=order.org_id,
        target=delivered,
        order=str(order.pk),
        group=str(group.pk),
        scene_id=scene_id,
        upload_kind=parsed.kind,
    )
    return delivered
