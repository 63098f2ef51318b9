"""The decision kinds of the tasking flow, registered with the one decision state machine
(`orders.decisions`): feasibility studies and quotations. A kind names its inbox slug, the noun its
messages use, its deadline column, the order event for each final decision, and what expiry does
to the order (a tasking order still waiting for the org expires with it)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from geopera_web.errors import Conflict
from orders import events
from orders.approvals.models import SpendApproval
from orders.approvals.services import register_approval_action
from orders.decisions import DecisionKind, decision_kind_of, on_decided, register_decision_kind
from orders.services import on_order_ended

from .models import FeasibilityStudy, Quotation

D = FeasibilityStudy.Decision


def _expire_waiting_order(obj: Any) -> None:
    from orders.models import Order
    from orders.services import order_transition

    from .series import occurrence_decided

    order = Order.objects.select_for_update().get(pk=obj.order_id)
    if order.status == Order.Status.PENDING:
        noun = decision_kind_of(obj).noun
        order_transition(
            order=order, to=Order.Status.EXPIRED, actor=None, message=f"No decision on the {noun} in time."
        )
        occurrence_decided(order=order)  # an occurrence's own quotation: declined, the series runs on


FEASIBILITY = register_decision_kind(
    DecisionKind(
        slug="feasibility",
        model=FeasibilityStudy,
        noun="feasibility study",
        deadline_field="deadline",
        inbox_related=("order__data_product__tasking__sensor",),
        inbox_prefetch=("options",),
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
        inbox_related=("order__data_product__tasking__sensor",),
        events={
            D.ACCEPTED: events.event_quotation_accepted,
            D.REJECTED: events.event_quotation_rejected,
            D.EXPIRED: events.event_quotation_expired,
        },
        on_expired=_expire_waiting_order,
    )
)


# --- spend approvals of tasking acceptances (orders.approvals) -----------------------------------


def _quotation_approval_perform(approval: Any, actor: Any) -> None:
    """An admin approved an operator's quotation acceptance: accept it now at the approved price."""
    from orders.approvals.services import price_changed

    from .services import quotation_decide

    quotation = Quotation.objects.filter(pk=approval.target_id, org_id=approval.org_id).first()
    if quotation is None:
        raise Conflict("That quotation no longer exists.", current_decision=approval.decision)
    if quotation.credits != approval.credits:
        raise price_changed(approval=approval, now_credits=quotation.credits)
    quotation_decide(
        org=approval.org,
        actor=actor,
        quotation_id=quotation.pk,
        decision=Quotation.Decision.ACCEPTED,
        idempotency_key=f"approval-{approval.pk}",
    )


def _feasibility_approval_perform(approval: Any, actor: Any) -> None:
    """An admin approved an operator's acceptance of a priced option: accept it now."""
    from orders.approvals.services import price_changed

    from .models import FeasibilityOption
    from .services import feasibility_decide

    option = FeasibilityOption.objects.filter(pk=approval.target_id, study__org_id=approval.org_id).first()
    if option is None:
        raise Conflict("That feasibility option no longer exists.", current_decision=approval.decision)
    if option.price_credits != approval.credits:
        raise price_changed(approval=approval, now_credits=option.price_credits or 0)
    feasibility_decide(
        org=approval.org,
        actor=actor,
        study_id=option.study_id,
        option_id=option.pk,
        idempotency_key=f"approval-{approval.pk}",
    )


register_approval_action(SpendApproval.Action.QUOTATION_ACCEPT, perform=_quotation_approval_perform)
register_approval_action(SpendApproval.Action.FEASIBILITY_ACCEPT, perform=_feasibility_approval_perform)


@on_decided
def _close_moot_approvals(obj: Any) -> None:
    """A study or quotation decided without the operator's pending approval request (an admin
    accepted or rejected it directly, or it expired) leaves that request nothing to approve."""
    _close_moot(obj)


def approvals_close_moot(*, limit: int = 500) -> int:
    """The sweep's net under `_close_moot_approvals` (beat, with the decision expiry): a pending
    request to accept a quotation or a study's option that was decided while the request's row was
    held — an admin approving it at that moment, refused with 409 once the target was decided,
    its order living on — is closed here as the hook would have. One short transaction each."""
    pending = SpendApproval.objects.filter(decision=SpendApproval.Decision.PENDING)
    quotations = Quotation.objects.filter(
        pk__in=pending.filter(action=SpendApproval.Action.QUOTATION_ACCEPT).values("target_id")
    ).exclude(decision=D.PENDING)
    studies = (
        FeasibilityStudy.objects.filter(
            options__pk__in=pending.filter(action=SpendApproval.Action.FEASIBILITY_ACCEPT).values("target_id")
        )
        .exclude(decision=D.PENDING)
        .distinct()
    )
    closed = 0
    for obj in [*quotations.order_by("pk")[:limit], *studies.order_by("pk")[:limit]]:
        with transaction.atomic():
            closed += _close_moot(obj)
    return closed


def _close_moot(obj: Any) -> int:
    from orders.approvals.services import approvals_close_for_targets

    if isinstance(obj, Quotation):
        targets = [obj.pk]
    elif isinstance(obj, FeasibilityStudy):
        targets = list(obj.options.values_list("pk", flat=True))
    else:
        return 0
    noun = decision_kind_of(obj).noun
    if obj.decision == obj.Decision.EXPIRED:
        why = f"The {noun} expired."
    else:
        by = f" by {obj.decided_by}" if obj.decided_by_id else ""
        why = f"The {noun} was {obj.decision.lower()}{by}."
    return approvals_close_for_targets(targets=targets, why=why)


def _decline_ended_occurrence(order: Any, actor: Any) -> None:
    """The child of an occurrence decided on its own, ended before its quotation was accepted
    (cancelled, say): that occurrence is declined now and its series runs on."""
    if (order.metadata or {}).get("series"):
        from .series import occurrence_decided

        occurrence_decided(order=order, actor=actor)


on_order_ended(_decline_ended_occurrence)
