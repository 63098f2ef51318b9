"""Every write to orders. Status changes go through `order_transition` and nothing else."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from geopera_web.billing.services import charge_capture, charge_refund, charge_release
from geopera_web.errors import Conflict, InvalidInput, parse_uuid

from .coverage import compute_group_coverage, group_fingerprints
from .delivery import BatchData, CaptureData, parse_delivery_upload, tasking_provider_for
from .events import order_event
from .models import CoverageSnapshot, DeliveredCapture, DeliveryBatch, Order, OrderGroup, OrderType


@transaction.atomic
def order_transition(
    *,
    order: Order,
    to: str,
    actor: Any = None,
    sub_status: str | None = None,
    message: str = "",
    data: dict | None = None,
) -> Order:
    """Move an order to `to` (and optionally a sub-status), per Order.TRANSITIONS, with an event.

    Locks the order row; an illegal move is a 409 carrying the current status. A change of
    sub-status alone (to == current status) is allowed and recorded.
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if to != locked.status and to not in Order.TRANSITIONS[locked.status]:
        raise Conflict(
            f"The order is {locked.status}; it cannot become {to}.",
            current_status=locked.status,
            current_sub_status=locked.sub_status,
        )
    from_status, from_sub = locked.status, locked.sub_status
    locked.status = to
    if sub_status is not None:
        locked.sub_status = sub_status
    if (from_status, from_sub) == (locked.status, locked.sub_status):
        return locked
    locked.save(update_fields=["status", "sub_status", "updated_at"])
    order_event(
        order=locked,
        kind="status_changed",
        actor=actor,
        message=message,
        from_status=from_status + (f"/{from_sub}" if from_sub else ""),
        to_status=locked.status + (f"/{locked.sub_status}" if locked.sub_status else ""),
        data=data,
    )
    order.status, order.sub_status = locked.status, locked.sub_status
    return locked


# --- tasking deliveries and coverage --------------------------------------------------------------
# Deliveries land as DeliveryBatch + DeliveredCapture rows; each landing enqueues a coverage
# recompute (on commit). Coverage snapshots drive the completion rules: FULFILLED when every AOI
# reaches its target, PARTIALLY_FULFILLED (with a pro-rata refund) when the window ends below it.


def _enqueue_recompute(order_id: Any) -> None:
    from .tasks import recompute_coverage

    transaction.on_commit(lambda: recompute_coverage.delay(str(order_id)))


@transaction.atomic
def delivery_batch_record(
    *,
    order: Order,
    batch: BatchData,
    source: str = "provider",
    provider: str = "",
    actor: Any = None,
    received_at: datetime | None = None,
    note: str = "",
) -> DeliveryBatch | None:
    """Store one batch of captures for a tasking order; None when this batch ref is already stored
    (a retried poll). Captures must name groups of this order. Enqueues a coverage recompute."""
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
    user = _user_or_none(actor)
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
    order_event(
        order=order,
        kind="delivery_received" if source == "provider" else "delivery_recorded",
        actor=actor,
        message=f"{ok} capture{'s' if ok != 1 else ''} delivered"
        + (f", {failed} failed (to be re-acquired)" if failed else "")
        + (f" — {note}" if note else ""),
        data={"batch": batch.ref, "delivered": ok, "failed": failed, "source": source},
    )
    _enqueue_recompute(order.pk)
    return row


def _user_or_none(actor: Any) -> Any:
    user = (
        getattr(actor, "user", actor)
        if actor is not None and not hasattr(actor, "is_authenticated")
        else actor
    )
    return user if user is not None and getattr(user, "is_authenticated", False) else None


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
                order_event(
                    order=locked,
                    kind="provider_placed",
                    message=f"Sent to {provider.name} for acquisition ({locked.provider_ref}).",
                    data={"provider": provider.name, "ref": locked.provider_ref},
                )
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
    actor: Any,
    acquired_at: datetime | None = None,
    note: str = "",
) -> DeliveredCapture:
    """Support staff record a capture by hand from a STAC Item or a GeoJSON footprint file.

    The order must be a tasking order that is ACTIVE or already settled (a late delivery is kept
    for the record); the footprint must overlap the chosen AOI. Bad files raise InvalidInput with
    a message that says what to fix.
    """
    if order.order_type != OrderType.TASKING:
        raise InvalidInput("Deliveries are recorded for tasking orders only.")
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


def coverage_target_for(order: Order) -> float:
    """Percent of each AOI that must be covered: the order's `coverageTarget` param, else the
    COVERAGE_TARGET_PERCENT setting (95)."""
    value = (order.params or {}).get("coverageTarget")
    try:
        target = (
            float(value) if value is not None else float(getattr(settings, "COVERAGE_TARGET_PERCENT", 95))
        )
    except (TypeError, ValueError):
        target = 95.0
    return min(max(target, 1.0), 100.0)


def acquisition_end_of(order: Order) -> datetime | None:
    raw = (order.params or {}).get("acquisitionEnd")
    parsed = parse_datetime(str(raw)) if raw else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def coverage_recompute(*, order_id: Any, now: datetime | None = None) -> list[CoverageSnapshot]:
    """Write a CoverageSnapshot for every group whose inputs changed since its latest snapshot,
    then apply the completion rule (all AOIs at target → FULFILLED). Idempotent: a second run
    with nothing new writes nothing. The order row lock serialises concurrent runs."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.order_type != OrderType.TASKING:
            return []
        prints = group_fingerprints(order_id=order.pk)
        latest = {
            s.group_id: s.fingerprint
            for s in CoverageSnapshot.objects.filter(order=order)
            .order_by("group_id", "-computed_at", "-id")
            .distinct("group_id")
        }
        changed = [gid for gid, fp in prints.items() if latest.get(gid) != fp]
        when = now or timezone.now()
        snaps = [
            CoverageSnapshot(
                order=order,
                group_id=c.group_id,
                computed_at=when,
                covered=c.covered,
                remainder=c.remainder,
                requested_km2=c.requested_km2,
                covered_km2=c.covered_km2,
                remainder_km2=c.remainder_km2,
                percent=c.percent,
                captures_delivered=c.captures_delivered,
                last_delivery_at=c.last_delivery_at,
                fingerprint=prints[c.group_id],
            )
            for c in compute_group_coverage(order_id=order.pk, group_ids=changed)
        ]
        CoverageSnapshot.objects.bulk_create(snaps)
        if order.status == Order.Status.ACTIVE and _all_at_target(order):
            _fulfil(order)
    return snaps


def _latest_snapshots(order: Order) -> dict[Any, CoverageSnapshot]:
    return {
        s.group_id: s
        for s in CoverageSnapshot.objects.filter(order=order)
        .order_by("group_id", "-computed_at", "-id")
        .distinct("group_id")
    }


def _all_at_target(order: Order) -> bool:
    latest = _latest_snapshots(order)
    groups = list(order.groups.values_list("id", flat=True))
    target = coverage_target_for(order)
    # A float hair below the target (94.99999999 of a 95% target) is at target.
    return bool(groups) and all(g in latest and latest[g].percent >= target - 1e-9 for g in groups)


def _fulfil(order: Order) -> None:
    order_transition(
        order=order,
        to=Order.Status.FULFILLED,
        message=f"Every AOI reached its {coverage_target_for(order):g}% coverage target.",
    )
    if order.charge_id:
        charge_capture(charge_id=order.charge_id)


@transaction.atomic
def order_coverage_settle(*, order_id: Any, now: datetime | None = None) -> Order | None:
    """The window-end rule for an ACTIVE tasking order whose acquisitionEnd has passed.

    At target everywhere → FULFILLED (charge captured). Below target → PARTIALLY_FULFILLED: the
    charge is captured, then refunded the sum over AOIs of round-down(credits × remainder share),
    with an order event. Nothing covered at all → FAILED and the charge is released.
    Returns the order when it settled it, None when there was nothing to do (safe to repeat).
    """
    now = now or timezone.now()
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or order.order_type != OrderType.TASKING or order.status != Order.Status.ACTIVE:
        return None
    end = acquisition_end_of(order)
    if end is None or end > now:
        return None
    if _all_at_target(order):
        _fulfil(order)
        return order
    latest = _latest_snapshots(order)
    groups = list(order.groups.order_by("position"))
    covered_any = any(g.pk in latest and latest[g.pk].covered_km2 > 0 for g in groups)
    if not covered_any:
        order_transition(
            order=order,
            to=Order.Status.FAILED,
            message="The acquisition window ended with nothing delivered; the charge was released.",
        )
        if order.charge_id:
            charge_release(charge_id=order.charge_id, memo=f"Nothing acquired for {order}")
        return order
    credits_by_group = _group_credits(order, groups)
    lines = []
    total_refund = 0
    for g in groups:
        snap = latest.get(g.pk)
        share = 1.0 if snap is None or not snap.requested_km2 else snap.remainder_km2 / snap.requested_km2
        # Areas carry float noise (a wholly uncovered AOI can come out at 0.999999999x): round the
        # share to the coverage precision (1e-6) first, so rounding the refund down never costs the
        # customer a credit by accident; the event records this same share.
        share = min(max(round(share, 6), 0.0), 1.0)
        credits = credits_by_group[g.pk]
        refund = math.floor(credits * share)
        total_refund += refund
        lines.append(
            {
                "groupId": str(g.pk),
                "name": str(g),
                "credits": credits,
                "remainderShare": share,
                "refundCredits": refund,
            }
        )
    order_transition(
        order=order,
        to=Order.Status.PARTIALLY_FULFILLED,
        message=f"The acquisition window ended below the {coverage_target_for(order):g}% coverage target.",
    )
    if order.charge_id:
        charge = charge_capture(charge_id=order.charge_id)
        total_refund = min(total_refund, charge.captured_credits - charge.refunded_credits)
        if total_refund > 0:
            charge_refund(
                charge_id=order.charge_id,
                credits=total_refund,
                memo=f"Pro-rata refund: uncovered remainder of {order}",
            )
    else:
        total_refund = 0
    order_event(
        order=order,
        kind="coverage_refund",
        message=f"Refunded {total_refund:,} credits for the uncovered remainder (pro rata per AOI).",
        data={"refundCredits": total_refund, "groups": lines},
    )
    return order


def _group_credits(order: Order, groups: list[OrderGroup]) -> dict[Any, int]:
    """What each AOI cost out of what the order was actually charged (`total_credits`, which is
    the quoted or accepted price, not necessarily the list estimate): split in proportion to the
    groups' own list prices, or by area when they carry none; rounded down."""
    total = order.total_credits
    if sum(g.credits for g in groups) > 0:
        weights = {g.pk: float(g.credits) for g in groups}
    else:
        weights = {g.pk: g.area_km2 for g in groups}
    denominator = sum(weights.values()) or 1.0
    return {pk: math.floor(total * weight / denominator) for pk, weight in weights.items()}
