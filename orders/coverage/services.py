"""Coverage writes and the completion rules of a tasking order.

Coverage snapshots drive completion: FULFILLED when every AOI reaches its target,
PARTIALLY_FULFILLED (with a pro-rata refund) when the acquisition window ends below it, FAILED
(charge released) when nothing was covered at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from geopera_web.billing.services import (
    charge_capture,
    charge_refund,
    charge_release,
)

from ..events import event_coverage_refund
from ..models import CoverageSnapshot, Order, OrderType
from ..services import order_transition
from .calculations import compute_group_coverage, group_fingerprints
from .settlement import coverage_from_snapshots, settlement_plan


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
        if snaps:
            _coverage_event(order, snaps)
            # Watches of this order's remainder follow it (same transaction, same row lock).
            from ..watches.services import watch_remainders_follow

            watch_remainders_follow(order=order, now=when)
        if order.status == Order.Status.ACTIVE and _all_at_target(order):
            _fulfil(order)
    return snaps


def _coverage_event(order: Order, snaps: list[CoverageSnapshot]) -> None:
    from geopera_web.events.order_bridge import order_payload
    from geopera_web.events.services import event_emit

    groups = [
        {"groupId": str(s.group_id), "percent": round(s.percent, 2), "coveredKm2": round(s.covered_km2, 3)}
        for s in snaps
    ]
    event_emit(org=order.org, type="coverage.updated", data=order_payload(order) | {"groups": groups})


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
    charge is captured, then refunded what the pro-rata rule of `orders.coverage.settlement`
    gives back (per AOI, round-down(credits × remainder share)), with an order event. Nothing
    covered at all → FAILED and the charge is released.
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
    plan = settlement_plan(order, coverage=coverage_from_snapshots(_latest_snapshots(order)))
    if not plan.covered_any:
        # Money first, then the status: an order never leaves ACTIVE with its charge still held.
        if order.charge_id:
            charge_release(charge_id=order.charge_id, memo="Nothing acquired in the acquisition window")
        order_transition(
            order=order,
            to=Order.Status.FAILED,
            message="The acquisition window ended with nothing delivered; the charge was released.",
        )
        return order
    total_refund = 0
    if order.charge_id:
        charge = charge_capture(charge_id=order.charge_id)
        total_refund = min(plan.release_credits, charge.captured_credits - charge.refunded_credits)
        if total_refund > 0:
            charge_refund(
                charge_id=order.charge_id,
                credits=total_refund,
                memo="Pro-rata refund for the uncovered remainder",
            )
    order_transition(
        order=order,
        to=Order.Status.PARTIALLY_FULFILLED,
        message=f"The acquisition window ended below the {coverage_target_for(order):g}% coverage target.",
    )
    event_coverage_refund(
        order=order, refund_credits=total_refund, groups=[line.as_wire() for line in plan.lines]
    )
    return order
