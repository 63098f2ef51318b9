"""The order lifecycle: every status change (`order_transition`, and nothing else), tags, and
cancellation with its money effect. Placement, fulfilment, coverage and the cart write through
their own sub-packages (`orders.cart.services`, `orders.fulfilment.services`,
`orders.coverage.services`), which call `order_transition` for every status change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from geopera_web.accounts.models import BillingMode, Organization, User
from geopera_web.accounts.services import workspace_order_check
from geopera_web.actor import ActorLike, actor_of
from geopera_web.billing.models import Charge
from geopera_web.billing.services import (
    charge_capture,
    charge_refund,
    charge_release,
    credits_to_aud,
)
from geopera_web.errors import Conflict, InvalidInput
from geopera_web.events.notifications import order_watch_state, order_watcher_set

from .events import event_cancel_settlement, event_status_changed, event_tags_changed
from .models import Order, OrderType
from .selectors import order_get

if TYPE_CHECKING:
    from tasking.series import SeriesCancelPlan

    from .coverage.settlement import SettlementLine


# Ways out of ACTIVE short of FULFILLED: each must settle the held charge before it moves.
EARLY_EXITS = frozenset({Order.Status.CANCELLED, Order.Status.PARTIALLY_FULFILLED, Order.Status.FAILED})


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
    if (
        locked.status == Order.Status.ACTIVE
        and to in EARLY_EXITS
        and locked.charge_id
        and Charge.objects.filter(pk=locked.charge_id, status=Charge.Status.AUTHORIZED).exists()
    ):
        # A programming error, not a user's: every way out of ACTIVE short of the target settles
        # the charge first (orders.coverage.settlement), or the delivered share would go unpaid.
        raise RuntimeError(
            f"Order {locked.pk} would leave ACTIVE for {to} with its charge still held; settle it first."
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
    if locked.status in Order.TERMINAL:
        # An ended order has nothing left to approve: its pending spend approvals close with it,
        # in this transaction (every exit passes here: cancel, reject, expiry, failure).
        from .approvals.services import ORDER_ENDED_WORDS, approvals_close_for_order
        from .decisions import decisions_close_for_order

        approvals_close_for_order(order=locked)
        # Its studies and quotations too: an ended order's quote no longer waits for anyone.
        ended = ORDER_ENDED_WORDS.get(locked.status, f"was {locked.get_status_display().lower()}")
        decisions_close_for_order(order=locked, why=f"The order {ended}.")
        for hook in _ENDED_HOOKS:
            hook(locked, actor)
    order.status, order.sub_status = locked.status, locked.sub_status
    return locked


# Called with every order that reaches a terminal status, in `order_transition`'s transaction, after
# its approvals and decisions closed: what another app keeps about an order registers here (tasking
# declines a series occurrence whose own child ended before its quotation was accepted).
_ENDED_HOOKS: list[Callable[[Order, ActorLike], None]] = []


def on_order_ended(hook: Callable[[Order, ActorLike], None]) -> Callable[[Order, ActorLike], None]:
    _ENDED_HOOKS.append(hook)
    return hook


# What a placed order may carry, checked by every placement path before any money moves.
LICENSE_TYPES: dict[str, str] = {
    "standard": "Standard (single organization)",
    "extended": "Extended (partners, resale)",
}
# Tags are bounded by settings (ORDER_MAX_TAGS, ORDER_TAG_MAX_CHARS), read per call. A display name
# is bounded by its column (Order.display_name), so that stays a constant.
MAX_DISPLAY_NAME = Order._meta.get_field("display_name").max_length


# The same bounds as serializer `setting_bounds` (orders.place, .estimate, .update,
# orders.archive.place), so the served document states them.
TAGS_BOUNDS = {"tags": {"max_length": "ORDER_MAX_TAGS", "child.max_length": "ORDER_TAG_MAX_CHARS"}}
TAGS_HELP = (
    "At most {max_length} tags (ORDER_MAX_TAGS) of at most {child_max_length} characters each "
    "(ORDER_TAG_MAX_CHARS); trimmed and de-duplicated."
)


def _invalid(loc: list, msg: str, type_: str = "value_error") -> InvalidInput:
    return InvalidInput(msg, status=422, errors=[{"loc": ["body", *loc], "msg": msg, "type": type_}])


def license_type_clean(value: object, *, loc: tuple = ("licenseType",)) -> str:
    """One of LICENSE_TYPES ("standard" when empty); 422 naming the choices otherwise."""
    if value in (None, ""):
        return "standard"
    if not isinstance(value, str) or value not in LICENSE_TYPES:
        shown = repr(value)[:50]
        raise _invalid(
            list(loc), f"licenseType {shown} is not offered; choose one of: {', '.join(LICENSE_TYPES)}."
        )
    return value


def display_name_clean(value: object, *, loc: tuple = ("displayName",)) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise _invalid(list(loc), "displayName must be text.")
    value = value.strip()
    if len(value) > MAX_DISPLAY_NAME:
        raise _invalid(list(loc), f"displayName is {len(value)} characters; at most {MAX_DISPLAY_NAME}.")
    return value


def order_tags_clean(tags: object, *, loc: tuple = ("tags",)) -> list[str]:
    """Tags as stored: strings, trimmed, de-duplicated (first kept), at most ORDER_MAX_TAGS of at
    most ORDER_TAG_MAX_CHARS characters (settings). Every path that writes tags (placement, drafts, merge-patch) uses
    it, so an order can never hold more tags than an update would accept."""
    if tags in (None, ""):
        return []
    if not isinstance(tags, list | tuple):
        raise _invalid(list(loc), "tags must be a list of strings.", "type_error.list")
    out: list[str] = []
    for i, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise _invalid([*loc, i], "Each tag must be a string.", "type_error.str")
        tag = tag.strip()
        if len(tag) > settings.ORDER_TAG_MAX_CHARS:
            raise _invalid(
                [*loc, i],
                f"Tag {i + 1} is {len(tag)} characters; at most {settings.ORDER_TAG_MAX_CHARS} (ORDER_TAG_MAX_CHARS).",
            )
        if tag and tag not in out:
            out.append(tag)
    if len(out) > settings.ORDER_MAX_TAGS:
        raise _invalid(
            list(loc),
            f"An order may carry at most {settings.ORDER_MAX_TAGS} tags (ORDER_MAX_TAGS); this has {len(out)}.",
        )
    return out


@transaction.atomic
def order_tags_merge(*, org: Organization, actor: ActorLike, order_id: object, tags: list[str]) -> Order:
    """Merge-patch of an order's tags: the union of old and new, de-duplicated, order kept."""
    order = order_get(org=org, order_id=order_id, for_update=True)
    workspace_order_check(workspace=order.workspace, actor=actor, action="change")
    merged = order_tags_clean([*order.tags, *order_tags_clean(tags)])
    if merged != order.tags:
        added = [t for t in merged if t not in order.tags]
        order.tags = merged
        order.save(update_fields=["tags", "updated_at"])
        event_tags_changed(order=order, actor=actor, added=added)
    return order


@transaction.atomic
def order_tag_remove(*, org: Organization, actor: ActorLike, order_id: object, tag: str) -> Order:
    order = order_get(org=org, order_id=order_id, for_update=True)
    workspace_order_check(workspace=order.workspace, actor=actor, action="change")
    if tag in order.tags:
        order.tags = [t for t in order.tags if t != tag]
        order.save(update_fields=["tags", "updated_at"])
        event_tags_changed(order=order, actor=actor, removed=[tag])
    return order


def order_watch_set(*, org: Organization, user: User, order_id: object, watching: bool) -> dict[str, Any]:
    """Watch or unwatch one of the org's orders (any member who can see it may): watchers hear of
    its status changes, deliveries and coverage like its creator. Another org's order is a 404.
    Returns the new watch state (`watching`, `count`)."""
    order = order_get(org=org, order_id=order_id)
    order_watcher_set(org=org, user=user, order_id=order.pk, watching=watching)
    return order_watch_state(org=org, user=user, order_id=order.pk)


@dataclass(frozen=True)
class CancelEffect:
    """What cancelling does with the order's money — the preview before the Cancel button, the
    `orders.cancel` answer and the timeline all come from this one value.

    `action`: "release" (nothing taken: the whole reservation / hold / accrual goes back),
    "settle" (an acquiring tasking order with deliveries: `charged_credits` are taken for what was
    delivered, by the pro-rata rule of `orders.coverage.settlement`, and `credits` go back),
    "refund" (already captured: `credits` are refunded) or "none". `lines` is the per-AOI split.
    """

    action: str
    credits: int  # given back: released or refunded
    billing_mode: str
    charged_credits: int = 0
    lines: tuple[SettlementLine, ...] = ()
    # The parent order of a recurring series: the series' plan (`tasking.series.SeriesCancelPlan`:
    # which occurrences are cancelled, which started ones run on); its sentences are this one's.
    series: SeriesCancelPlan | None = field(default=None, compare=False)

    def _describe(self, *, done: bool) -> str:
        aud = f"A${credits_to_aud(self.credits):,.2f}"
        if self.action == "settle":
            return self._describe_settle(done=done)
        if self.action == "none" or not self.credits:
            return (
                "No money had been taken for this order."
                if done
                else ("No money has been taken for this order; nothing needs to be given back.")
            )
        singular, plural = ("was", "were") if done else ("will be", "will be")
        if self.action == "refund":
            return f"{self.credits:,} credits ({aud}) {plural} refunded."
        nothing = "Nothing was delivered, so nothing is charged: " if self.lines else ""
        if self.billing_mode == BillingMode.CREDIT:
            return (
                f"{nothing}The reservation of {self.credits:,} credits ({aud}) {singular} released back to "
                "your wallet."
            )
        if self.billing_mode == BillingMode.CARD:
            return f"{nothing}The card authorization hold of {aud} {singular} voided."
        return f"{nothing}{self.credits:,} credits ({aud}) {plural} taken off this month's invoice."

    def _describe_settle(self, *, done: bool) -> str:
        charged = f"{self.charged_credits:,} credits (A${credits_to_aud(self.charged_credits):,.2f})"
        back = f"{self.credits:,} credits (A${credits_to_aud(self.credits):,.2f})"
        if self.billing_mode == BillingMode.CARD:
            charged = f"A${credits_to_aud(self.charged_credits):,.2f}"
            back = f"A${credits_to_aud(self.credits):,.2f}"
            return (
                f"{charged} {'was' if done else 'will be'} captured from the card hold for the imagery "
                f"already delivered; the remaining {back} of the hold {'was' if done else 'will be'} voided."
            )
        if self.billing_mode == BillingMode.CREDIT:
            return (
                f"{charged} {'were' if done else 'will be'} charged for the imagery already delivered; "
                f"the remaining {back} of the reservation {'were' if done else 'will be'} released back "
                "to your wallet."
            )
        return (
            f"{charged} {'stayed' if done else 'stay'} on this month's invoice for the imagery already "
            f"delivered; {back} {'were' if done else 'will be'} taken off it."
        )

    @property
    def sentence(self) -> str:
        """What cancelling will do with the money (the confirmation before the Cancel button); for
        a series parent, which occurrences are cancelled (with their money) and which run on."""
        return self.series.sentence if self.series is not None else self._describe(done=False)

    @property
    def done_sentence(self) -> str:
        """What cancelling did with the money (timeline, message after cancelling)."""
        return self.series.done_sentence if self.series is not None else self._describe(done=True)

    def as_wire(self) -> dict[str, Any]:
        return {
            "billingMode": self.billing_mode,
            "moneyAction": self.action,
            "credits": self.credits,
            "aud": credits_to_aud(self.credits),
            "chargedCredits": self.charged_credits,
            "chargedAud": credits_to_aud(self.charged_credits),
            "releasedCredits": self.credits if self.action in ("release", "settle") else 0,
            "groups": [line.as_wire() for line in self.lines],
        }


def order_cancel_effect(order: Order) -> CancelEffect:
    """What cancelling `order` now would do with its money (reads only; the cancel preview).

    An acquiring tasking order with a held charge is settled by the pro-rata rule on the coverage
    of the deliveries committed now: the covered share is charged, the rest released."""
    charge = order.charge
    if charge is None:
        return CancelEffect("none", 0, order.billing_mode)
    if charge.status == Charge.Status.AUTHORIZED:
        if order.order_type == OrderType.TASKING and order.status == Order.Status.ACTIVE:
            from .coverage.settlement import settlement_now

            plan = settlement_now(order, authorized_credits=charge.authorized_credits)
            action = "settle" if plan.charge_credits > 0 else "release"
            return CancelEffect(
                action,
                plan.release_credits,
                charge.billing_mode,
                charged_credits=plan.charge_credits,
                lines=plan.lines,
            )
        return CancelEffect("release", charge.authorized_credits, charge.billing_mode)
    if charge.status == Charge.Status.CAPTURED:
        return CancelEffect("refund", charge.captured_credits - charge.refunded_credits, charge.billing_mode)
    return CancelEffect("none", 0, charge.billing_mode)


def order_is_cancellable(order: Order) -> bool:
    return Order.Status.CANCELLED in Order.TRANSITIONS[order.status]


def _not_cancellable(order: Order) -> Conflict:
    return Conflict(
        f"The order is {order.status}; only orders that are still in progress can be cancelled.",
        current_status=order.status,
        current_sub_status=order.sub_status,
    )


def order_cancel_preview(*, org: Organization, order_id: object) -> tuple[Order, CancelEffect]:
    """What cancelling would do, without doing it (404 for another org's order, 409 when it can no
    longer be cancelled)."""
    order = order_get(org=org, order_id=order_id)
    if not order_is_cancellable(order):
        raise _not_cancellable(order)
    from tasking.series import series_cancel_preview, series_cancelling_parent

    if (series := series_cancelling_parent(order)) is not None:
        # The parent of a recurring series holds no money: cancelling it cancels the series.
        _, plan = series_cancel_preview(org=org, series_id=series.pk)
        return order, plan.effect(order.billing_mode)
    return order, order_cancel_effect(order)


@transaction.atomic
def order_cancel(
    *,
    org: Organization,
    actor: ActorLike,
    order_id: object,
    expected_charge_credits: int | None = None,
) -> tuple[Order, CancelEffect]:
    """Cancel an order from a cancellable state and settle its money: release the reservation /
    void the hold / take it off the invoice; for an acquiring tasking order, charge what was
    delivered and release the rest (`order_cancel_effect`); refund what was captured. 409 with
    `current_status` otherwise.

    `expected_charge_credits` is what the person was shown before confirming: when a delivery
    landed since and the charge is now different, nothing happens and the 409 carries the new
    preview. Lock order: the order row (deliveries wait for it), then (in billing) the charge and
    the wallet.

    The parent order of a running (or still quoted) recurring series is cancelled by cancelling the
    series (`tasking.series.series_cancel`, which locks the series first and cancels this order
    last): its not-started occurrences are settled here, each by its own order's rules."""
    from tasking.series import series_cancel, series_cancelling_parent

    found = order_get(org=org, order_id=order_id)
    if (series := series_cancelling_parent(found)) is not None:
        series, plan = series_cancel(
            org=org, actor=actor, series_id=series.pk, expected_charge_credits=expected_charge_credits
        )
        order = order_get(org=org, order_id=found.pk)
        return order, plan.effect(order.billing_mode)
    order = order_get(org=org, order_id=order_id, for_update=True)
    workspace_order_check(workspace=order.workspace, actor=actor, action="cancel")
    if not order_is_cancellable(order):
        raise _not_cancellable(order)
    effect = order_cancel_effect(order)
    if expected_charge_credits is not None and expected_charge_credits != effect.charged_credits:
        raise Conflict(
            f"Deliveries changed since the preview: cancelling now charges {effect.charged_credits:,} "
            f"credits, not {expected_charge_credits:,}. {effect.sentence} Review and confirm again.",
            slug="cancel-preview-changed",
            current_status=order.status,
            preview=effect.as_wire(),
        )
    user = actor_of(actor).user
    memo = "Cancelled"  # Billing links the order by name beside it: no ids in stored text
    if effect.action == "settle":
        charge_capture(
            charge_id=order.charge_id,
            credits=effect.charged_credits,
            actor=user,
            memo=f"{memo}: charged for the imagery delivered",
            rest_memo=f"{memo}: the share not delivered released",
        )
    elif effect.action == "release":
        charge_release(charge_id=order.charge_id, actor=user, memo=memo)
    elif effect.action == "refund" and effect.credits:
        charge_refund(charge_id=order.charge_id, credits=effect.credits, actor=user, memo=memo)
    if effect.lines:
        event_cancel_settlement(
            order=order,
            actor=actor,
            message=effect.done_sentence,
            charged_credits=effect.charged_credits,
            released_credits=effect.credits,
            groups=[line.as_wire() for line in effect.lines],
        )
    order_transition(order=order, to=Order.Status.CANCELLED, actor=actor, message=effect.done_sentence)
    return order, effect
