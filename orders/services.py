"""Every write to orders. Status changes go through `order_transition` and nothing else."""

from __future__ import annotations

import json
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from geopera_web.accounts.models import BillingMode, Organization, User, Workspace
from geopera_web.accounts.selectors import workspace_default, workspace_get
from geopera_web.billing.models import Charge
from geopera_web.billing.services import (
    charge_authorize,
    charge_capture,
    charge_refund,
    charge_release,
    credits_to_aud,
)
from geopera_web.errors import Conflict, InvalidInput, NotFound, parse_uuid

from .cart.pricing import MAX_CART_CAPTURES, ArchiveQuote, archive_quote, parse_polygon_geojson
from .coverage.calculations import compute_group_coverage, group_fingerprints
from .events import order_event
from .fulfilment.delivery import BatchData, CaptureData, parse_delivery_upload, tasking_provider_for
from .fulfilment.providers import ProviderAdapter, ProviderState, provider_for
from .models import (
    Capture,
    Cart,
    CartItem,
    CoverageSnapshot,
    DeliveredCapture,
    DeliveryBatch,
    Order,
    OrderGroup,
    OrderType,
)
from .selectors import order_get

logger = logging.getLogger(__name__)


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


# --- archive orders ------------------------------------------------------------------------------


def _idempotency_ref(*, org: Organization, key: str | None) -> str:
    # The gateway keys its 3-D Secure challenge by this reference: a retry with the same
    # Idempotency-Key must present the same one, or the completed challenge would not be found.
    return f"{org.pk}:orders.archive.place:{key}" if key else ""


def _workspace_for(*, org: Organization, workspace_id: object | None) -> Workspace:
    """The org's workspace `workspace_id`; the org's default workspace when omitted (documented on
    `projectId`). Another org's workspace is the same 404 as a missing one."""
    if workspace_id in (None, ""):
        return workspace_default(org=org)
    workspace = workspace_get(org=org, workspace_id=workspace_id)
    if workspace is None:
        raise NotFound("Workspace (projectId) not found in your organization.", slug="workspace-not-found")
    return workspace


def quote_errors_as_validation(quote: ArchiveQuote) -> list[dict[str, Any]]:
    return [
        {"loc": ["body", "captures", e.index], "msg": f"{e.capture_id}: {e.message}", "type": e.code}
        for e in quote.errors
    ]


@transaction.atomic
def archive_order_place(
    *,
    org: Organization,
    actor: Any,
    captures: list[dict[str, Any]],
    workspace_id: object | None = None,
    license_type: str = "standard",
    split_by_date: bool = False,
    display_name: str = "",
    tags: list[str] | None = None,
    idempotency_key: str | None = None,
) -> Order:
    """Re-price the cart on the server, secure the money, and create a processing archive order.

    Refuses (422, nothing written) a cart with no captures or with any capture that cannot be priced:
    an order never silently drops part of what was asked for. Money goes through
    `charge_authorize` (credit reservation / card hold / enterprise accrual; 402 when it cannot be
    secured). Fulfilment is queued with the provider after commit.
    """
    from .tasks import fulfil_archive_order

    workspace = _workspace_for(org=org, workspace_id=workspace_id)
    if not captures:
        raise InvalidInput(
            "The cart is empty.",
            status=422,
            errors=[{"loc": ["body", "captures"], "msg": "Add at least one capture.", "type": "value_error"}],
        )
    quote = archive_quote(captures=captures, split_by_date=split_by_date)
    if quote.errors or not quote.groups:
        raise InvalidInput(
            "Some captures cannot be ordered; fix the cart and retry.",
            status=422,
            errors=quote_errors_as_validation(quote),
        )
    order_id = uuid.uuid4()
    user = _user_of(actor)
    n_captures = sum(len(g.capture_ids) for g in quote.groups)
    charge = charge_authorize(
        org=org,
        credits=quote.total_credits,
        reference=f"order:{order_id}",
        actor=user,
        description=f"Archive order of {n_captures} capture(s)",
        idempotency_ref=_idempotency_ref(org=org, key=idempotency_key),
    )
    products = {g.data_product.pk for g in quote.groups}
    order = Order.objects.create(
        id=order_id,
        org=org,
        workspace=workspace,
        order_type=OrderType.ARCHIVE,
        status=Order.Status.PROCESSING,
        display_name=display_name or f"Archive: {n_captures} capture(s)",
        data_product=quote.groups[0].data_product if len(products) == 1 else None,
        tags=_clean_tags(tags or []),
        license_type=license_type,
        split_by_date=split_by_date,
        billing_mode=charge.billing_mode,
        total_credits=quote.total_credits,
        charge=charge,
        created_by=user,
    )
    groups = OrderGroup.objects.bulk_create(
        [
            OrderGroup(
                order=order,
                position=i,
                name=g.name,
                data_product=g.data_product,
                geometry=g.geometry,
                area_km2=g.area_km2,
                billed_area_km2=g.billed_area_km2,
                credits=g.credits,
                acquisition_date=g.acquisition_date,
                params={
                    "creditsPerKm2": g.data_product.credits_per_km2,
                    "minAreaKm2": g.data_product.min_area_km2,
                },
            )
            for i, g in enumerate(quote.groups)
        ]
    )
    through = OrderGroup.captures.through
    through.objects.bulk_create(
        [
            through(ordergroup_id=group.pk, capture_id=pk)
            for group, g in zip(groups, quote.groups, strict=True)
            for pk in g.capture_pks
        ]
    )
    order_event(
        order=order,
        kind="placed",
        actor=actor,
        to_status=order.status,
        message=f"Placed {n_captures} capture(s) in {len(groups)} priced group(s) for "
        f"{quote.total_credits} credits (A${credits_to_aud(quote.total_credits):.2f}).",
        data={"totalCredits": quote.total_credits, "licenseType": license_type, "splitByDate": split_by_date},
    )
    order_event(
        order=order,
        kind="payment_authorized",
        actor=actor,
        message=_authorized_message(charge.billing_mode, charge.authorized_credits),
        data={"chargeId": str(charge.pk), "billingMode": charge.billing_mode},
    )
    transaction.on_commit(lambda: _enqueue_fulfilment(fulfil_archive_order, order.pk))
    return order


def _enqueue_fulfilment(task: Any, order_id: object) -> None:
    # The order is committed by now: a broker outage must not turn its 202 into a 500. The periodic
    # `poll_provider_orders` picks up any processing order whose task was never queued.
    try:
        task.delay(str(order_id))
    except Exception:  # any broker error: logged with its traceback
        logger.exception("Could not queue fulfilment of order %s; the periodic poller will.", order_id)


def _authorized_message(mode: str, credits: int) -> str:
    aud = f"A${credits_to_aud(credits):.2f}"
    if mode == BillingMode.CREDIT:
        return f"Reserved {credits} credits ({aud}) from the wallet."
    if mode == BillingMode.CARD:
        return f"Card authorization hold of {aud}."
    return f"{credits} credits ({aud}) accrue to this month's invoice."


def _user_of(actor: Any) -> User | None:
    user = getattr(actor, "user", actor) if not isinstance(actor, User) else actor
    return user if isinstance(user, User) and user.is_authenticated else None


def _clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        tag = str(tag).strip()[:60]
        if tag and tag not in out:
            out.append(tag)
    return out


@transaction.atomic
def order_tags_merge(*, org: Organization, actor: Any, order_id: object, tags: list[str]) -> Order:
    """Merge-patch of an order's tags: the union of old and new, de-duplicated, order kept."""
    order = order_get(org=org, order_id=order_id, for_update=True)
    merged = _clean_tags([*order.tags, *tags])
    if len(merged) > 50:
        raise InvalidInput("An order may carry at most 50 tags.")
    if merged != order.tags:
        added = [t for t in merged if t not in order.tags]
        order.tags = merged
        order.save(update_fields=["tags", "updated_at"])
        order_event(order=order, kind="tags_changed", actor=actor, message="Tags added: " + ", ".join(added))
    return order


@transaction.atomic
def order_tag_remove(*, org: Organization, actor: Any, order_id: object, tag: str) -> Order:
    order = order_get(org=org, order_id=order_id, for_update=True)
    if tag in order.tags:
        order.tags = [t for t in order.tags if t != tag]
        order.save(update_fields=["tags", "updated_at"])
        order_event(order=order, kind="tags_changed", actor=actor, message=f"Tag removed: {tag}")
    return order


@dataclass(frozen=True)
class CancelEffect:
    """What cancelling gives back, for the confirmation text and the response."""

    action: str  # "release" | "refund" | "none"
    credits: int
    billing_mode: str

    def _describe(self, *, done: bool) -> str:
        aud = f"A${credits_to_aud(self.credits):.2f}"
        if self.action == "none" or not self.credits:
            return (
                "No money had been taken for this order."
                if done
                else ("No money has been taken for this order; nothing needs to be given back.")
            )
        singular, plural = ("was", "were") if done else ("will be", "will be")
        if self.action == "refund":
            return f"{self.credits} credits ({aud}) {plural} refunded."
        if self.billing_mode == BillingMode.CREDIT:
            return (
                f"The reservation of {self.credits} credits ({aud}) {singular} released back to your wallet."
            )
        if self.billing_mode == BillingMode.CARD:
            return f"The card authorization hold of {aud} {singular} voided."
        return f"{self.credits} credits ({aud}) {plural} taken off this month's invoice."

    @property
    def sentence(self) -> str:
        """What cancelling will give back (the confirmation before the Cancel button)."""
        return self._describe(done=False)

    @property
    def done_sentence(self) -> str:
        """What cancelling gave back (timeline, message after cancelling)."""
        return self._describe(done=True)


def order_cancel_effect(order: Order) -> CancelEffect:
    charge = order.charge
    if charge is None:
        return CancelEffect("none", 0, order.billing_mode)
    if charge.status == Charge.Status.AUTHORIZED:
        return CancelEffect("release", charge.authorized_credits, charge.billing_mode)
    if charge.status == Charge.Status.CAPTURED:
        return CancelEffect("refund", charge.captured_credits - charge.refunded_credits, charge.billing_mode)
    return CancelEffect("none", 0, charge.billing_mode)


def order_is_cancellable(order: Order) -> bool:
    return Order.Status.CANCELLED in Order.TRANSITIONS[order.status]


@transaction.atomic
def order_cancel(*, org: Organization, actor: Any, order_id: object) -> tuple[Order, CancelEffect]:
    """Cancel an order from a cancellable state and give its money back (release the reservation /
    void the hold / take it off the invoice; refund what was captured). 409 with `current_status`
    otherwise. Lock order: the order row, then (in billing) the charge and the wallet."""
    order = order_get(org=org, order_id=order_id, for_update=True)
    if not order_is_cancellable(order):
        raise Conflict(
            f"The order is {order.status}; only orders that are still in progress can be cancelled.",
            current_status=order.status,
            current_sub_status=order.sub_status,
        )
    effect = order_cancel_effect(order)
    user = _user_of(actor)
    if effect.action == "release":
        charge_release(charge_id=order.charge_id, actor=user, memo=f"Order {order.pk} cancelled")
    elif effect.action == "refund" and effect.credits:
        charge_refund(
            charge_id=order.charge_id, credits=effect.credits, actor=user, memo=f"Order {order.pk} cancelled"
        )
    order_transition(order=order, to=Order.Status.CANCELLED, actor=actor, message=effect.done_sentence)
    return order, effect


# --- fulfilment (provider adapter) -----------------------------------------------------------------


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
        order_event(
            order=order,
            kind="provider_submitted",
            message=f"Submitted to {provider.name} as {order.provider_ref}.",
            data={"provider": provider.name, "providerRef": order.provider_ref},
        )
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


# --- cart ----------------------------------------------------------------------------------------


def cart_get_or_create(*, org: Organization, user: User) -> Cart:
    cart, _ = Cart.objects.get_or_create(org=org, user=user)
    return cart


def _aoi_from_geojson(geometry: Any) -> MultiPolygon | None:
    if geometry in (None, "", {}):
        return None
    geom, why = parse_polygon_geojson(geometry)
    if geom is None:
        raise InvalidInput(f"The area of interest cannot be used: {why}")
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon(geom, srid=4326)


@transaction.atomic
def cart_toggle(*, org: Organization, user: User, capture_id: str) -> bool:
    """Add the capture (scene id) to the person's cart, or take it out if it is there. Returns
    whether it is in the cart afterwards. A capture added while an AOI is drawn is not clipped:
    clipping is an explicit per-item choice."""
    capture = Capture.objects.filter(scene_id=capture_id).order_by("collection").first()
    if capture is None:
        raise NotFound(f"No capture {capture_id!r} in the catalog.")
    cart = Cart.objects.select_for_update().get(pk=cart_get_or_create(org=org, user=user).pk)
    deleted, _ = CartItem.objects.filter(cart=cart, capture=capture).delete()
    if deleted:
        cart.save(update_fields=["updated_at"])
        return False
    if CartItem.objects.filter(cart=cart).count() >= MAX_CART_CAPTURES:
        raise InvalidInput(f"A cart holds at most {MAX_CART_CAPTURES} captures; place an order first.")
    CartItem.objects.create(cart=cart, capture=capture)
    cart.save(update_fields=["updated_at"])
    return True


@transaction.atomic
def cart_remove(*, org: Organization, user: User, capture_id: str) -> None:
    cart = cart_get_or_create(org=org, user=user)
    CartItem.objects.filter(cart=cart, capture__scene_id=capture_id).delete()


@transaction.atomic
def cart_set_aoi(*, org: Organization, user: User, geometry: Any) -> Cart:
    """Remember the AOI drawn on the map. Items already clipped follow the new AOI (that is what
    "clip to AOI" means on screen); clearing the AOI leaves their last clip in place."""
    cart = cart_get_or_create(org=org, user=user)
    cart.aoi = _aoi_from_geojson(geometry)
    cart.save(update_fields=["aoi", "updated_at"])
    if cart.aoi is not None:
        CartItem.objects.filter(cart=cart, clip_geometry__isnull=False).update(clip_geometry=cart.aoi)
    return cart


@transaction.atomic
def cart_item_clip(*, org: Organization, user: User, capture_id: str, clip: bool) -> CartItem:
    """Clip one item to the cart's current AOI (a copy is stored on the item) or bill its whole
    footprint again. Clipping needs an AOI on the map (400 otherwise)."""
    cart = cart_get_or_create(org=org, user=user)
    item = CartItem.objects.filter(cart=cart, capture__scene_id=capture_id).first()
    if item is None:
        raise NotFound("That capture is not in your cart.")
    if clip and cart.aoi is None:
        raise InvalidInput("Draw or upload an area of interest first, then clip captures to it.")
    item.clip_geometry = cart.aoi if clip else None
    item.save(update_fields=["clip_geometry"])
    return item


@transaction.atomic
def cart_set_split(*, org: Organization, user: User, split_by_date: bool) -> Cart:
    cart = cart_get_or_create(org=org, user=user)
    cart.split_by_date = split_by_date
    cart.save(update_fields=["split_by_date", "updated_at"])
    return cart


def cart_payload(items: list[CartItem]) -> list[dict[str, Any]]:
    """The cart as `captures` for orders.archive.estimate / place."""
    return [
        {
            "id": i.capture.scene_id,
            **({"geometry": json.loads(i.clip_geometry.json)} if i.clip_geometry else {}),
        }
        for i in items
    ]


@transaction.atomic
def cart_place(
    *,
    org: Organization,
    user: User,
    workspace_id: object | None,
    license_type: str,
    idempotency_key: str | None,
) -> Order:
    """The Place button: the same `archive_order_place` as the API, then the ordered captures leave
    the cart (in the same transaction, so a failed placement keeps the cart intact)."""
    cart = cart_get_or_create(org=org, user=user)
    items = list(CartItem.objects.filter(cart=cart).select_related("capture"))
    if not items:
        raise InvalidInput("Your cart is empty: add captures first.")
    order = archive_order_place(
        org=org,
        actor=user,
        captures=cart_payload(items),
        workspace_id=workspace_id,
        license_type=license_type,
        split_by_date=cart.split_by_date,
        idempotency_key=idempotency_key,
    )
    CartItem.objects.filter(pk__in=[i.pk for i in items]).delete()
    return order
