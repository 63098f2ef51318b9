"""The decision kinds of the tasking flow, registered with the one decision state machine
(`orders.decisions`): feasibility studies and quotations. A kind names its inbox slug, the noun its
messages use, its deadline column, the order event for each final decision, and what expiry does
to the order (a tasking order still waiting for the org expires with it)."""

from __future__ import annotations

from typing import Any

from orders import events
from orders.decisions import DecisionKind, decision_kind_of, register_decision_kind

from .models import FeasibilityStudy, Quotation

D = FeasibilityStudy.Decision


def _expire_waiting_order(obj: Any) -> None:
    from orders.models import Order
    from orders.services import order_transition

    order = Order.objects.select_for_update().get(pk=obj.order_id)
    if order.status == Order.Status.PENDING:
        noun = decision_kind_of(obj).noun
        order_transition(
            order=order, to=Order.Status.EXPIRED, actor=None, message=f"No decision on the {noun} in time."
        )


FEASIBILITY = register_decision_kind(
    DecisionKind(
        slug="feasibility",
        model=FeasibilityStudy,
        noun="feasibility study",
        deadline_field="deadline",
        events={
            D.ACCEPTED: events.event_feasibility_accepted,
            D.REJECTED: events.event_feasibility_rejected,
            D.EXPIRED: events.event_feasibility_expired,
        },
        on_expired=_expire_waiting_order,
    )
)
QUOTATION = register_decision_kind(
    DecisionKind(
        slug="quotation",
        model=Quotation,
        noun="quotation",
        deadline_field="valid_until",
        headline=lambda q: f"A quotation ({q.credits:,} credits)",
        events={
            D.ACCEPTED: events.event_quotation_accepted,
            D.REJECTED: events.event_quotation_rejected,
            D.EXPIRED: events.event_quotation_expired,
        },
        on_expired=_expire_waiting_order,
    )
)
