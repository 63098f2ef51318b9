"""What an order's state means to the person looking at it: one mapping for every page.

`Order.status` / `Order.sub_status` say where the lifecycle stands (the API's words). People need to
know who the order waits on: the customer ("Action required: decide by …"), support ("Feasibility in
progress", "Support is preparing your quote"), the provider ("Acquiring"), or nobody (done). Every
template, list, dashboard and support page shows a status through `order_state` (the
`{% order_state %}` tag in `orders/templatetags/order_states.py`), never `get_status_display`.

An order is "action required" exactly when one of its decisions is pending while the order is
pending — the same rule as the inbox and its badge — so the counts agree everywhere. The decision
kinds come from the registry in `orders.decisions` (tasking registers studies and quotations; any
further kind, such as approvals, is picked up the same way).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .decisions import AbstractDecision, decision_kinds
from .models import Order

S = Order.Status
Sub = Order.SubStatus


class WaitsOn:
    CUSTOMER = "customer"
    SUPPORT = "support"
    PROVIDER = "provider"
    NOBODY = ""


@dataclass(frozen=True)
class OrderState:
    key: str  # stable, for CSS and tests: "action-required", "support-feasibility", ...
    label: str  # the badge text
    waits_on: str  # WaitsOn.*
    tone: str  # CSS tone: "action", "support", "progress", "ok", "warn", "bad", "draft"
    detail: str = ""  # the line under the badge ("Choose a feasibility option", ...)
    deadline: datetime | None = None
    decision_kind: str = ""  # the pending decision's kind slug ("feasibility", "quotation", ...)

    @property
    def needs_customer(self) -> bool:
        return self.waits_on == WaitsOn.CUSTOMER and self.key == "action-required"


_FINAL: dict[str, OrderState] = {
    S.FULFILLED: OrderState("fulfilled", "Fulfilled", WaitsOn.NOBODY, "ok"),
    S.PARTIALLY_FULFILLED: OrderState(
        "partially-fulfilled", "Partially fulfilled", WaitsOn.NOBODY, "warn", "Ended short; the rest refunded"
    ),
    S.FAILED: OrderState("failed", "Failed", WaitsOn.NOBODY, "bad", "Nothing was charged for it"),
    S.CANCELLED: OrderState("cancelled", "Cancelled", WaitsOn.NOBODY, "bad"),
    S.REJECTED: OrderState("rejected", "Rejected", WaitsOn.NOBODY, "bad"),
    S.EXPIRED: OrderState("expired", "Expired", WaitsOn.NOBODY, "bad", "No decision was made in time"),
}

_WHAT_TO_DECIDE = {
    "feasibility": "Choose a feasibility option",
    "quotation": "Accept or reject the quote",
}


def order_state(order: Order, *, pending: tuple[str, datetime] | None | bool = False) -> OrderState:
    """The state of one order. `pending` is its pending decision (kind slug, deadline) when the caller
    loaded it (`order_states_attach`); left out, it is looked up (one query per decision kind)."""
    status = order.status
    if status in _FINAL:
        return _FINAL[status]
    if status == S.DRAFT:
        return OrderState("draft", "Draft", WaitsOn.CUSTOMER, "draft", "Not submitted yet")
    if status == S.PROCESSING and order.order_type == "tasking":
        # A recurring tasking series' parent (tasking.series): its occurrences are its own orders.
        return OrderState(
            "processing", "Series running", WaitsOn.PROVIDER, "progress", "Each occurrence is its own order"
        )
    if status == S.PROCESSING:
        return OrderState(
            "processing", "Processing", WaitsOn.PROVIDER, "progress", "The provider is preparing it"
        )
    if status == S.ACTIVE:
        return OrderState(
            "acquiring", "Acquiring", WaitsOn.PROVIDER, "progress", "The provider is acquiring imagery"
        )
    # PENDING: who does it wait on?
    if pending is False:
        pending = getattr(order, "_pending_decision", False)
        if pending is False:
            pending = _pending_decisions([order.pk]).get(order.pk)
    if pending:
        kind, deadline = pending
        return OrderState(
            "action-required",
            "Action required",
            WaitsOn.CUSTOMER,
            "action",
            _WHAT_TO_DECIDE.get(kind, "A decision is waiting"),
            deadline,
            kind,
        )
    if order.sub_status == Sub.QUOTATION_WAITING_UPLOAD:
        return OrderState(
            "support-quote",
            "Support is preparing your quote",
            WaitsOn.SUPPORT,
            "support",
            "Nothing to do yet",
        )
    if order.sub_status == Sub.FEASIBILITY_WAITING_UPLOAD:
        return OrderState(
            "support-feasibility",
            "Feasibility in progress",
            WaitsOn.SUPPORT,
            "support",
            "Support is studying it",
        )
    return OrderState("pending", "Submitted", WaitsOn.SUPPORT, "support", "Waiting to be processed")


def _pending_decisions(order_ids: Iterable[Any]) -> dict[Any, tuple[str, datetime]]:
    """{order id: (kind slug, deadline)} of each order's pending decision (the earliest deadline
    wins). One query per registered decision kind."""
    ids = list(order_ids)
    found: dict[Any, tuple[str, datetime]] = {}
    if not ids:
        return found
    for kind in decision_kinds():
        rows = kind.model.objects.filter(
            order_id__in=ids, decision=AbstractDecision.Decision.PENDING, order__status=S.PENDING
        ).values_list("order_id", kind.deadline_field)
        for order_id, deadline in rows:
            if order_id not in found or deadline < found[order_id][1]:
                found[order_id] = (kind.slug, deadline)
    return found


def order_states_attach(orders: Iterable[Order]) -> list[Order]:
    """Load the pending decisions of a page of orders at once and set `order.state` on each (so a
    list shows states in a constant number of queries). Returns the orders as a list."""
    orders = list(orders)
    pending = _pending_decisions(o.pk for o in orders if o.status == S.PENDING)
    for o in orders:
        o._pending_decision = pending.get(o.pk)  # type: ignore[attr-defined]
        o.state = order_state(o, pending=o._pending_decision)  # type: ignore[attr-defined]
    return orders


def waiting_counts(*, org: Any) -> dict[str, int]:
    """How many of the org's pending orders wait on the customer and how many on support: the
    dashboard's figures ("customer" equals the inbox count when each order has one decision open)."""
    pending = list(Order.objects.filter(org=org, status=S.PENDING).values_list("pk", "sub_status"))
    decided = _pending_decisions(pk for pk, _ in pending)
    customer = sum(1 for pk, _ in pending if pk in decided)
    return {"customer": customer, "support": len(pending) - customer}


# The status filter of the order lists, worded like the badges (the model's labels are the API's).
STATUS_FILTER_CHOICES: list[tuple[str, str]] = [
    (S.DRAFT, "Draft"),
    (S.PENDING, "Pending: a decision or support"),
    (S.PROCESSING, "Processing"),
    (S.ACTIVE, "Acquiring"),
    (S.FULFILLED, "Fulfilled"),
    (S.PARTIALLY_FULFILLED, "Partially fulfilled"),
    (S.FAILED, "Failed"),
    (S.CANCELLED, "Cancelled"),
    (S.REJECTED, "Rejected"),
    (S.EXPIRED, "Expired"),
]


# --- a lifecycle step in words (order timelines) ------------------------------------------------

_STEP_SUB: dict[str, tuple[str, str]] = {
    Sub.FEASIBILITY_WAITING_UPLOAD: ("Feasibility in progress", "support"),
    Sub.FEASIBILITY_WAITING_RESPONSE: ("Waiting for your feasibility choice", "action"),
    Sub.QUOTATION_WAITING_UPLOAD: ("Support is preparing your quote", "support"),
    Sub.QUOTATION_WAITING_RESPONSE: ("Waiting for your answer to the quote", "action"),
    Sub.QUOTATION_ACCEPTED: ("Accepted: acquiring", "progress"),
    Sub.QUOTATION_REJECTED: ("Quote rejected", "bad"),
    Sub.APPROVAL_WAITING_RESPONSE: ("Waiting for an admin's approval", "action"),
}
_STEP_STATUS: dict[str, tuple[str, str]] = {
    S.DRAFT: ("Draft", "draft"),
    S.PENDING: ("Submitted", "support"),
    S.PROCESSING: ("Processing", "progress"),
    S.ACTIVE: ("Acquiring", "progress"),
    **{status: (state.label, state.tone) for status, state in _FINAL.items()},
}


def lifecycle_step(value: str) -> tuple[str, str]:
    """(words, tone) for a timeline's "status" or "status/SUB_STATUS" (as `OrderEvent` stores them),
    e.g. "pending/QUOTATION_WAITING_RESPONSE" -> ("Waiting for your answer to the quote", "action").
    An unknown value is shown as it is rather than hidden."""
    status, _, sub = (value or "").partition("/")
    if status in _FINAL:  # "cancelled/QUOTATION_ACCEPTED" is cancelled, not "acquiring"
        return _STEP_STATUS[status]
    if sub in _STEP_SUB:
        return _STEP_SUB[sub]
    return _STEP_STATUS.get(status, (value, ""))
