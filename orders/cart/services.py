"""Writes of the archive cart and archive checkout: the cart rows, and `archive_order_place`, which
re-prices captures on the server, secures the money and creates a processing archive order (the
API's orders.archive.place and the cart's Place button both end here)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon
from django.db import transaction

from geopera_web.accounts.models import BillingMode, Organization, User, Workspace
from geopera_web.accounts.selectors import workspace_default, workspace_get_open
from geopera_web.accounts.services import workspace_order_check
from geopera_web.actor import ActorLike, actor_of
from geopera_web.billing.services import (
    charge_authorize,
    credits_to_aud,
)
from geopera_web.errors import Conflict, InvalidInput, NotFound

from ..approvals.models import SpendApproval
from ..approvals.services import (
    approval_request,
    approval_required,
    budget_enforce,
    price_changed,
    register_approval_action,
)
from ..events import event_order_placed, event_payment_authorized
from ..models import Capture, Cart, CartItem, Order, OrderGroup, OrderType
from ..services import display_name_clean, license_type_clean, order_tags_clean, order_transition
from ..tasks import fulfil_archive_order
from .pricing import ArchiveQuote, ErrorCode, archive_quote, parse_polygon_geojson

logger = logging.getLogger(__name__)


def _idempotency_ref(*, org: Organization, key: str | None) -> str:
    # The gateway keys its 3-D Secure challenge by this reference: a retry with the same
    # Idempotency-Key must present the same one, or the completed challenge would not be found.
    return f"{org.pk}:orders.archive.place:{key}" if key else ""


def _workspace_for(*, org: Organization, workspace_id: object | None) -> Workspace:
    """The org's workspace `workspace_id`; the org's default workspace when omitted (documented on
    `projectId`). Another org's workspace is the same 404 as a missing one."""
    if workspace_id in (None, ""):
        return workspace_default(org=org)
    workspace = workspace_get_open(org=org, workspace_id=workspace_id)
    if workspace is None:
        raise NotFound("Workspace (projectId) not found in your organization.", slug="workspace-not-found")
    return workspace


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _captures(n: int) -> str:
    return _plural(n, "capture")


def archive_order_name(quote: ArchiveQuote) -> str:
    """A default order name a person can tell apart in a list: what was bought and when, e.g.
    "Pléiades Neo · PNEO-123" for one capture, "Pléiades Neo · 3 captures, 1–4 Mar 2026" for more."""
    names = sorted({g.data_product.name for g in quote.groups})
    what = names[0] if len(names) == 1 else f"{names[0]} + {_plural(len(names) - 1, 'other product')}"
    ids = [cid for g in quote.groups for cid in g.capture_ids]
    if len(ids) == 1:
        return f"{what} · {ids[0]}"
    dates = sorted(
        c.date()
        for c in Capture.objects.filter(
            pk__in=[pk for g in quote.groups for pk in g.capture_pks]
        ).values_list("acquired_at", flat=True)
    )
    when = ""
    if dates:
        first, last = dates[0], dates[-1]
        when = f", {first:%-d %b %Y}" if first == last else f", {first:%-d %b %Y} – {last:%-d %b %Y}"
    return f"{what} · {_captures(len(ids))}{when}"


def quote_errors_as_validation(quote: ArchiveQuote) -> list[dict[str, Any]]:
    return [
        {"loc": ["body", "captures", e.index], "msg": f"{e.capture_id}: {e.message}", "type": e.code}
        for e in quote.errors
    ]


@transaction.atomic
def archive_order_place(
    *,
    org: Organization,
    actor: ActorLike,
    captures: list[dict[str, Any]],
    workspace_id: object | None = None,
    license_type: str = "standard",
    split_by_date: bool = False,
    display_name: str = "",
    tags: list[str] | None = None,
    idempotency_key: str | None = None,
    approval_note: str = "",
) -> Order:
    """Re-price the cart on the server, secure the money, and create a processing archive order.

    An operator's order above the spend policy's threshold spends nothing: it is created PENDING
    (APPROVAL_WAITING_RESPONSE) with a spend approval (`approval_note` is their note for the admin);
    an admin's approval performs it at the price shown. The workspace's monthly budget is enforced
    here, in this transaction, before the money is secured (402 `budget-exceeded`).

    Refuses (404, nothing written) a cart naming a capture that is not in the catalog, and (422) a
    cart with no captures or with any capture that cannot be priced:
    an order never silently drops part of what was asked for. Money goes through
    `charge_authorize` (credit reservation / card hold / enterprise accrual; 402 when it cannot be
    secured). Fulfilment is queued with the provider after commit.
    """
    # Every field is checked before any money moves (a field the database would refuse after the
    # authorization would otherwise roll back the order but not the card hold).
    license_type = license_type_clean(license_type)
    display_name = display_name_clean(display_name)
    tags = order_tags_clean(tags)
    workspace = _workspace_for(org=org, workspace_id=workspace_id)
    workspace_order_check(workspace=workspace, actor=actor, action="place")
    if not captures:
        raise InvalidInput(
            "The cart is empty.",
            status=422,
            errors=[{"loc": ["body", "captures"], "msg": "Add at least one capture.", "type": "value_error"}],
        )
    quote = archive_quote(captures=captures, split_by_date=split_by_date)
    unknown = [e for e in quote.errors if e.code == ErrorCode.UNKNOWN_CAPTURE]
    if unknown:
        # A capture named by id that is not in the catalog is a 404 (the reference's answer for an
        # object named by id); a capture that exists but cannot be priced is a 422 below.
        raise NotFound(
            f"No capture {', '.join(repr(e.capture_id) for e in unknown)} in the catalog; fix the cart and retry.",
            slug="unknown-capture",
            errors=[
                {"loc": ["body", "captures", e.index], "msg": f"{e.capture_id}: {e.message}", "type": e.code}
                for e in unknown
            ],
        )
    if quote.errors or not quote.groups:
        raise InvalidInput(
            "Some captures cannot be ordered; fix the cart and retry.",
            status=422,
            errors=quote_errors_as_validation(quote),
        )
    hosts = sorted({g.data_product.host for g in quote.groups})
    if len(hosts) > 1:
        # One order is fulfilled by one provider (orders.fulfilment.registry.adapter_for).
        raise InvalidInput(
            f"These captures come from {len(hosts)} providers ({', '.join(hosts)}); place one order per provider.",
            status=422,
            errors=[
                {
                    "loc": ["body", "captures"],
                    "msg": "Captures of one provider per order.",
                    "type": "value_error",
                }
            ],
        )
    order_id = uuid.uuid4()
    user = actor_of(actor).user
    n_captures = sum(len(g.capture_ids) for g in quote.groups)
    fields = {
        "display_name": display_name or archive_order_name(quote),
        "tags": tags,
        "license_type": license_type,
        "split_by_date": split_by_date,
        "created_by": user,
    }
    if approval_required(org=org, workspace=workspace, actor=actor, credits=quote.total_credits):
        order = _archive_order_create(
            order_id=order_id,
            org=org,
            workspace=workspace,
            quote=quote,
            status=Order.Status.PENDING,
            sub_status=Order.SubStatus.APPROVAL_WAITING_RESPONSE,
            charge=None,
            **fields,
        )
        event_order_placed(
            order=order,
            actor=actor,
            message=f"Asked for {_captures(n_captures)} for {quote.total_credits:,} credits "
            f"(A${credits_to_aud(quote.total_credits):,.2f}): above the approval threshold, so an admin "
            "approves before anything is spent.",
            data={
                "totalCredits": quote.total_credits,
                "licenseType": license_type,
                "splitByDate": split_by_date,
            },
        )
        approval_request(
            org=org,
            workspace=workspace,
            order=order,
            action=SpendApproval.Action.ARCHIVE_PLACE,
            credits=quote.total_credits,
            actor=actor,
            note=approval_note,
            payload={"captures": captures, "splitByDate": split_by_date, "licenseType": license_type},
        )
        return order
    budget_enforce(org=org, workspace=workspace, credits=quote.total_credits)
    charge = charge_authorize(
        org=org,
        credits=quote.total_credits,
        reference=f"order:{order_id}",
        actor=user,
        description=f"Archive order of {_captures(n_captures)}",
        idempotency_ref=_idempotency_ref(org=org, key=idempotency_key),
    )
    order = _archive_order_create(
        order_id=order_id,
        org=org,
        workspace=workspace,
        quote=quote,
        status=Order.Status.PROCESSING,
        sub_status="",
        charge=charge,
        **fields,
    )
    event_order_placed(
        order=order,
        actor=actor,
        message=f"Placed {_captures(n_captures)} in {_plural(len(quote.groups), 'priced group')} for "
        f"{quote.total_credits:,} credits (A${credits_to_aud(quote.total_credits):,.2f}).",
        data={"totalCredits": quote.total_credits, "licenseType": license_type, "splitByDate": split_by_date},
    )
    event_payment_authorized(
        order=order,
        actor=actor,
        message=_authorized_message(charge.billing_mode, charge.authorized_credits),
        data={"chargeId": str(charge.pk), "billingMode": charge.billing_mode},
    )
    transaction.on_commit(lambda: _enqueue_fulfilment(fulfil_archive_order, order.pk))
    return order


def _archive_order_create(
    *,
    order_id: uuid.UUID,
    org: Organization,
    workspace: Workspace,
    quote: ArchiveQuote,
    status: str,
    sub_status: str,
    charge: Any,
    display_name: str,
    tags: list[str],
    license_type: str,
    split_by_date: bool,
    created_by: User | None,
) -> Order:
    """The order row with its priced groups and their captures, as `quote` priced them."""
    products = {g.data_product.pk for g in quote.groups}
    order = Order.objects.create(
        id=order_id,
        org=org,
        workspace=workspace,
        order_type=OrderType.ARCHIVE,
        status=status,
        sub_status=sub_status,
        display_name=display_name,
        data_product=quote.groups[0].data_product if len(products) == 1 else None,
        tags=tags,
        license_type=license_type,
        split_by_date=split_by_date,
        billing_mode=charge.billing_mode if charge is not None else org.billing_mode,
        total_credits=quote.total_credits,
        charge=charge,
        created_by=created_by,
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
    return order


def _archive_approval_perform(approval: SpendApproval, actor: Any) -> None:
    """An admin approved an operator's archive order: re-price it (409 with the new price when it
    moved), enforce the budget, secure the money and start fulfilment. Lock order: the approval
    (caller), the workspace's policy row, the wallet, then the order (in order_transition)."""
    order = approval.order
    if order.status != Order.Status.PENDING or order.sub_status != Order.SubStatus.APPROVAL_WAITING_RESPONSE:
        raise Conflict(
            f"The order is {order.status}; there is nothing left to approve.",
            current_status=order.status,
            current_decision=approval.decision,
        )
    payload = approval.payload or {}
    quote = archive_quote(
        captures=list(payload.get("captures") or []), split_by_date=bool(payload.get("splitByDate"))
    )
    if quote.errors or not quote.groups:
        raise Conflict(
            "Some of these captures can no longer be ordered: reject this request and ask for a new order.",
            slug="captures-unavailable",
            current_decision=approval.decision,
            errors=[e.as_dict() for e in quote.errors],
        )
    if quote.total_credits != approval.credits:
        raise price_changed(approval=approval, now_credits=quote.total_credits)
    budget_enforce(org=approval.org, workspace=approval.workspace, credits=approval.credits)
    n_captures = sum(len(g.capture_ids) for g in quote.groups)
    charge = charge_authorize(
        org=approval.org,
        credits=approval.credits,
        reference=f"order:{order.pk}",
        actor=actor.user,
        description=f"Archive order of {_captures(n_captures)} (approved)",
        idempotency_ref=f"{approval.org_id}:approval:{approval.pk}",
    )
    locked = order_transition(
        order=order,
        to=Order.Status.PROCESSING,
        sub_status="",
        actor=actor,
        message=f"Approved by {actor.label}: {approval.credits:,} credits; sent for fulfilment.",
    )
    locked.charge = charge
    locked.billing_mode = charge.billing_mode
    locked.save(update_fields=["charge", "billing_mode", "updated_at"])
    event_payment_authorized(
        order=locked,
        actor=actor,
        message=_authorized_message(charge.billing_mode, charge.authorized_credits),
        data={"chargeId": str(charge.pk), "billingMode": charge.billing_mode, "approvalId": str(approval.pk)},
    )
    transaction.on_commit(lambda: _enqueue_fulfilment(fulfil_archive_order, locked.pk))


def _archive_approval_closed(approval: SpendApproval, decision: str, actor: Any) -> None:
    """A rejected or expired request ends the order that waited for it."""
    to = Order.Status.REJECTED if decision == SpendApproval.Decision.REJECTED else Order.Status.EXPIRED
    order = Order.objects.filter(pk=approval.order_id).first()
    if order is None or order.status != Order.Status.PENDING:
        return
    why = f"Spend approval rejected: {approval.reason}" if approval.reason else "No approval in time."
    order_transition(order=order, to=to, sub_status="", actor=actor, message=why)


register_approval_action(
    SpendApproval.Action.ARCHIVE_PLACE, perform=_archive_approval_perform, on_closed=_archive_approval_closed
)


def _enqueue_fulfilment(task: Any, order_id: object) -> None:
    # The order is committed by now: a broker outage must not turn its 202 into a 500. The periodic
    # `poll_provider_orders` picks up any processing order whose task was never queued.
    try:
        task.delay(str(order_id))
    except Exception:  # any broker error: logged with its traceback
        logger.exception("Could not queue fulfilment of order %s; the periodic poller will.", order_id)


def _authorized_message(mode: str, credits: int) -> str:
    aud = f"A${credits_to_aud(credits):,.2f}"
    if mode == BillingMode.CREDIT:
        return f"Reserved {credits:,} credits ({aud}) from the wallet."
    if mode == BillingMode.CARD:
        return f"Card authorization hold of {aud}."
    return f"{credits:,} credits ({aud}) accrue to this month's invoice."


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
    if CartItem.objects.filter(cart=cart).count() >= settings.CART_MAX_CAPTURES:
        raise InvalidInput(
            f"A cart holds at most {settings.CART_MAX_CAPTURES} captures (CART_MAX_CAPTURES); place an order first."
        )
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
    approval_note: str = "",
) -> Order:
    """The Place button: the same `archive_order_place` as the API, then the ordered captures leave
    the cart (in the same transaction, so a failed placement keeps the cart intact).

    The cart row is locked for the whole placement (as `cart_toggle` locks it): a second tab
    placing the same cart with its own key waits, then finds the items gone, so one cart's items
    become one order and one charge."""
    cart = Cart.objects.select_for_update().get(pk=cart_get_or_create(org=org, user=user).pk)
    items = list(CartItem.objects.filter(cart=cart).select_related("capture"))
    if not items:
        raise InvalidInput(
            "Your cart is empty: add captures first. (Placed it in another tab? The order is listed "
            "under Orders.)",
            slug="cart-empty",
        )
    order = archive_order_place(
        org=org,
        actor=user,
        captures=cart_payload(items),
        workspace_id=workspace_id,
        license_type=license_type,
        split_by_date=cart.split_by_date,
        idempotency_key=idempotency_key,
        approval_note=approval_note,
    )
    CartItem.objects.filter(pk__in=[i.pk for i in items]).delete()
    return order
