"""The order lifecycle: every status change (`order_transition`, and nothing else), tags, and
cancellation with its money effect. Placement, fulfilment, coverage and the cart write through
their own sub-packages (`orders.cart.services`, `orders.fulfilment.services`,
`orders.coverage.services`), which call `order_transition` for every status change."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from geopera_web.accounts.models import BillingMode, Organization
from geopera_web.actor import ActorLike, actor_of
from geopera_web.billing.models import Charge
from geopera_web.billing.services import (
    charge_refund,
    charge_release,
    credits_to_aud,
)
from geopera_web.errors import Conflict, InvalidInput

from .events import event_status_changed, event_tags_changed
from .models import Order
from .selectors import order_get


@transaction.atomic
def order_transition(
    *,
    order: Order,
    to: str,
    actor: ActorLike = None,
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
    event_status_changed(
        order=locked,
        actor=actor,
        message=message,
        from_status=from_status + (f"/{from_sub}" if from_sub else ""),
        to_status=locked.status + (f"/{locked.sub_status}" if locked.sub_status else ""),
        data=data,
    )
    order.status, order.sub_status = locked.status, locked.sub_status
    return locked


def _clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        tag = str(tag).strip()[:60]
        if tag and tag not in out:
            out.append(tag)
    return out


@transaction.atomic
def order_tags_merge(*, org: Organization, actor: ActorLike, order_id: object, tags: list[str]) -> Order:
    """Merge-patch of an order's tags: the union of old and new, de-duplicated, order kept."""
    order = order_get(org=org, order_id=order_id, for_update=True)
    merged = _clean_tags([*order.tags, *tags])
    if len(merged) > 50:
        raise InvalidInput("An order may carry at most 50 tags.")
    if merged != order.tags:
        added = [t for t in merged if t not in order.tags]
        order.tags = merged
        order.save(update_fields=["tags", "updated_at"])
        event_tags_changed(order=order, actor=actor, added=added)
    return order


@transaction.atomic
def order_tag_remove(*, org: Organization, actor: ActorLike, order_id: object, tag: str) -> Order:
    order = order_get(org=org, order_id=order_id, for_update=True)
    if tag in order.tags:
        order.tags = [t for t in order.tags if t != tag]
        order.save(update_fields=["tags", "updated_at"])
        event_tags_changed(order=order, actor=actor, removed=[tag])
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
def order_cancel(*, org: Organization, actor: ActorLike, order_id: object) -> tuple[Order, CancelEffect]:
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
    user = actor_of(actor).user
    if effect.action == "release":
        charge_release(charge_id=order.charge_id, actor=user, memo=f"Order {order.pk} cancelled")
    elif effect.action == "refund" and effect.credits:
        charge_refund(
            charge_id=order.charge_id, credits=effect.credits, actor=user, memo=f"Order {order.pk} cancelled"
        )
    order_transition(order=order, to=Order.Status.CANCELLED, actor=actor, message=effect.done_sentence)
    return order, effect
