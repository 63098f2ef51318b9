"""One builder per kind of order event (the timeline), Saleor's `order/events.py` shape.

Nothing else writes OrderEvent rows: a new kind is a new `OrderEvent.Kind` member (with the label
the timeline shows) and a builder here. Builders take who acted as anything `actor_of` accepts.
"""

from __future__ import annotations

from typing import Any

from geopera_web.actor import ActorLike, actor_of
from geopera_web.events.order_bridge import order_event_to_outbox

from .models import Order, OrderEvent

Kind = OrderEvent.Kind


def _record(
    *,
    order: Order,
    kind: OrderEvent.Kind,
    actor: ActorLike = None,
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> OrderEvent:
    if not isinstance(kind, OrderEvent.Kind):
        raise TypeError(f"Order event kinds are OrderEvent.Kind members, not {kind!r}")
    who = actor_of(actor)
    row = OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor=who.user,
        actor_label=who.label[:200],
        message=message[:500],
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )
    order_event_to_outbox(row)  # the platform's outbox, in this same transaction
    return row


# --- lifecycle -----------------------------------------------------------------------------------


def event_order_placed(
    *, order: Order, actor: ActorLike, message: str, data: dict | None = None
) -> OrderEvent:
    return _record(
        order=order, kind=Kind.PLACED, actor=actor, to_status=order.status, message=message, data=data
    )


def event_payment_authorized(
    *, order: Order, actor: ActorLike, message: str, data: dict | None = None
) -> OrderEvent:
    return _record(order=order, kind=Kind.PAYMENT_AUTHORIZED, actor=actor, message=message, data=data)


def event_status_changed(
    *,
    order: Order,
    actor: ActorLike,
    from_status: str,
    to_status: str,
    message: str = "",
    data: dict | None = None,
) -> OrderEvent:
    """`from_status` / `to_status` are "status" or "status/SUB_STATUS"."""
    return _record(
        order=order,
        kind=Kind.STATUS_CHANGED,
        actor=actor,
        message=message,
        from_status=from_status,
        to_status=to_status,
        data=data,
    )


def event_tags_changed(
    *, order: Order, actor: ActorLike, added: list[str] | None = None, removed: list[str] | None = None
) -> OrderEvent:
    parts = []
    if added:
        parts.append("Tags added: " + ", ".join(added))
    if removed:
        parts.append(("Tag removed: " if len(removed) == 1 else "Tags removed: ") + ", ".join(removed))
    return _record(order=order, kind=Kind.TAGS_CHANGED, actor=actor, message="; ".join(parts))


def event_note(*, order: Order, actor: ActorLike, message: str, data: dict | None = None) -> OrderEvent:
    return _record(order=order, kind=Kind.NOTE, actor=actor, message=message, data=data)


# --- tasking requests and decisions --------------------------------------------------------------


def event_draft_created(*, order: Order, actor: ActorLike, areas: int) -> OrderEvent:
    return _record(
        order=order,
        kind=Kind.DRAFT_CREATED,
        actor=actor,
        message=f"Draft saved with {areas} area{'' if areas == 1 else 's'}.",
    )


def event_draft_saved(*, order: Order, actor: ActorLike, areas: int) -> OrderEvent:
    return _record(
        order=order,
        kind=Kind.DRAFT_SAVED,
        actor=actor,
        message=f"Draft saved with {areas} area{'' if areas == 1 else 's'}.",
    )


def event_feasibility_referred(*, order: Order, reasons: list[str]) -> OrderEvent:
    return _record(
        order=order,
        kind=Kind.FEASIBILITY_REFERRED,
        message="Automatic feasibility could not answer; support will study it. "
        + " ".join(reasons or ["No predicted passes."]),
    )


def _study_event(kind: OrderEvent.Kind, decision: Any, actor: ActorLike, message: str, from_decision: str):
    return _record(
        order=decision.order,
        kind=kind,
        actor=actor,
        message=message or f"Feasibility study {decision.decision.lower()}.",
        from_status=from_decision,
        to_status=decision.decision,
        data={"studyId": str(decision.id), **_closed(decision)},
    )


def _closed(decision: Any) -> dict[str, Any]:
    """A decision closed with its ended order (`orders.decisions.decisions_close_for_order`) says so."""
    why = getattr(decision, "closed_because", None)
    return {"closedBecause": why} if why else {}


def event_feasibility_accepted(
    *, decision: Any, actor: ActorLike, message: str = "", from_decision: str
) -> OrderEvent:
    return _study_event(Kind.FEASIBILITY_ACCEPTED, decision, actor, message, from_decision)


def event_feasibility_rejected(
    *, decision: Any, actor: ActorLike, message: str = "", from_decision: str
) -> OrderEvent:
    return _study_event(Kind.FEASIBILITY_REJECTED, decision, actor, message, from_decision)


def event_feasibility_expired(
    *, decision: Any, actor: ActorLike, message: str = "", from_decision: str
) -> OrderEvent:
    return _study_event(Kind.FEASIBILITY_EXPIRED, decision, actor, message, from_decision)


def _quotation_event(
    kind: OrderEvent.Kind, decision: Any, actor: ActorLike, message: str, from_decision: str
):
    return _record(
        order=decision.order,
        kind=kind,
        actor=actor,
        message=message or f"Quotation {decision.decision.lower()}.",
        from_status=from_decision,
        to_status=decision.decision,
        data={"quotationId": str(decision.id), "credits": decision.credits, **_closed(decision)},
    )


def event_quotation_accepted(
    *, decision: Any, actor: ActorLike, message: str = "", from_decision: str
) -> OrderEvent:
    return _quotation_event(Kind.QUOTATION_ACCEPTED, decision, actor, message, from_decision)


def event_quotation_rejected(
    *, decision: Any, actor: ActorLike, message: str = "", from_decision: str
) -> OrderEvent:
    return _quotation_event(Kind.QUOTATION_REJECTED, decision, actor, message, from_decision)


def event_quotation_expired(
    *, decision: Any, actor: ActorLike, message: str = "", from_decision: str
) -> OrderEvent:
    return _quotation_event(Kind.QUOTATION_EXPIRED, decision, actor, message, from_decision)


# --- fulfilment and coverage ---------------------------------------------------------------------


def event_provider_submitted(*, order: Order, provider: str, ref: str) -> OrderEvent:
    return _record(
        order=order,
        kind=Kind.PROVIDER_SUBMITTED,
        message=f"Submitted to {provider} as {ref}.",
        data={"provider": provider, "providerRef": ref},
    )


def event_provider_placed(*, order: Order, provider: str, ref: str) -> OrderEvent:
    return _record(
        order=order,
        kind=Kind.PROVIDER_PLACED,
        message=f"Sent to {provider} for acquisition ({ref}).",
        data={"provider": provider, "ref": ref},
    )


def _delivery_message(delivered: int, failed: int, note: str) -> str:
    return (
        f"{delivered} capture{'s' if delivered != 1 else ''} delivered"
        + (f", {failed} failed (to be re-acquired)" if failed else "")
        + (f" — {note}" if note else "")
    )


def event_delivery_received(
    *, order: Order, actor: ActorLike, batch_ref: str, delivered: int, failed: int, note: str = ""
) -> OrderEvent:
    """A provider's batch was stored."""
    return _record(
        order=order,
        kind=Kind.DELIVERY_RECEIVED,
        actor=actor,
        message=_delivery_message(delivered, failed, note),
        data={"batch": batch_ref, "delivered": delivered, "failed": failed, "source": "provider"},
    )


def event_delivery_recorded(
    *, order: Order, actor: ActorLike, batch_ref: str, delivered: int, failed: int, note: str = ""
) -> OrderEvent:
    """Support staff recorded a delivery by hand."""
    return _record(
        order=order,
        kind=Kind.DELIVERY_RECORDED,
        actor=actor,
        message=_delivery_message(delivered, failed, note),
        data={"batch": batch_ref, "delivered": delivered, "failed": failed, "source": "manual"},
    )


def event_coverage_refund(*, order: Order, refund_credits: int, groups: list[dict]) -> OrderEvent:
    return _record(
        order=order,
        kind=Kind.COVERAGE_REFUND,
        message=f"Refunded {refund_credits:,} credits for the uncovered remainder (pro rata per AOI).",
        data={"refundCredits": refund_credits, "groups": groups},
    )


def event_cancel_settlement(
    *,
    order: Order,
    actor: ActorLike,
    message: str,
    charged_credits: int,
    released_credits: int,
    groups: list[dict],
) -> OrderEvent:
    """An acquiring order was cancelled: the delivered share charged, the rest released, per AOI."""
    return _record(
        order=order,
        kind=Kind.CANCEL_SETTLEMENT,
        actor=actor,
        message=message,
        data={"chargedCredits": charged_credits, "releasedCredits": released_credits, "groups": groups},
    )


# --- spend approvals -----------------------------------------------------------------------------


def event_approval_requested(*, approval: Any, actor: ActorLike) -> OrderEvent:
    note = f" Note: {approval.note}" if approval.note else ""
    return _record(
        order=approval.order,
        kind=Kind.APPROVAL_REQUESTED,
        actor=actor,
        message=f"Approval requested to spend {approval.credits:,} credits "
        f"({approval.get_action_display().lower()}).{note}",
        to_status=approval.decision,
        data={"approvalId": str(approval.pk), "credits": approval.credits, "action": approval.action},
    )


def _approval_event(kind: OrderEvent.Kind, decision: Any, actor: ActorLike, message: str, from_decision: str):
    return _record(
        order=decision.order,
        kind=kind,
        actor=actor,
        message=message or f"Spend approval {decision.decision.lower()}.",
        from_status=from_decision,
        to_status=decision.decision,
        data={
            "approvalId": str(decision.id),
            "credits": decision.credits,
            "action": decision.action,
            **({"reason": decision.reason} if decision.reason else {}),
        },
    )


def event_approval_approved(
    *, decision: Any, actor: ActorLike, message: str = "", from_decision: str
) -> OrderEvent:
    return _approval_event(Kind.APPROVAL_APPROVED, decision, actor, message, from_decision)


def event_approval_rejected(
    *, decision: Any, actor: ActorLike, message: str = "", from_decision: str
) -> OrderEvent:
    return _approval_event(Kind.APPROVAL_REJECTED, decision, actor, message, from_decision)


def event_approval_expired(
    *, decision: Any, actor: ActorLike, message: str = "", from_decision: str
) -> OrderEvent:
    return _approval_event(Kind.APPROVAL_EXPIRED, decision, actor, message, from_decision)


# --- recurring acquisitions (tasking series) -----------------------------------------------------


def _series_data(series: Any, occurrence: Any = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "seriesId": str(series.pk),
        "parentOrderId": str(series.parent_id),
        "occurrences": series.occurrence_count,
    }
    if occurrence is not None:
        data |= {
            "index": occurrence.index + 1,
            "windowStart": occurrence.window_start.isoformat(),
            "windowEnd": occurrence.window_end.isoformat(),
            "credits": occurrence.credits,
        }
    return data


def event_series_occurrence_ordered(
    *, order: Order, series: Any, occurrence: Any, child: Order
) -> OrderEvent:
    """An occurrence was ordered: on the parent (naming the child) and on the child itself."""
    return _record(
        order=order,
        kind=Kind.SERIES_OCCURRENCE_ORDERED,
        message=f"Occurrence {occurrence.index + 1} of {series.occurrence_count} ordered "
        f"({occurrence.credits:,} credits).",
        data=_series_data(series, occurrence) | {"childOrderId": str(child.pk)},
    )


def event_series_occurrence_missed(*, order: Order, series: Any, occurrence: Any, reason: str) -> OrderEvent:
    return _record(
        order=order,
        kind=Kind.SERIES_OCCURRENCE_MISSED,
        message=f"Occurrence {occurrence.index + 1} of {series.occurrence_count} missed: {reason}",
        data=_series_data(series, occurrence) | {"reason": reason[:300]},
    )


def event_series_remainder_rolled(*, order: Order, series: Any, occurrence: Any, km2: float) -> OrderEvent:
    """The remainder rolled in is tracked, not billed (it lies inside the occurrence's own AOIs)."""
    return _record(
        order=order,
        kind=Kind.SERIES_REMAINDER_ROLLED,
        message=f"{km2:,.1f} km² left uncovered by occurrence {occurrence.index} rolled into occurrence "
        f"{occurrence.index + 1} (tracked there, not billed again).",
        data=_series_data(series, occurrence)
        | {"rolledKm2": round(km2, 3), "childOrderId": str(occurrence.order_id)},
    )


def event_series_cancelled(
    *, order: Order, actor: ActorLike, series: Any, cancelled: int, running_on: int, released_credits: int
) -> OrderEvent:
    return _record(
        order=order,
        kind=Kind.SERIES_CANCELLED,
        actor=actor,
        message=f"Series cancelled: {cancelled} occurrences not yet started cancelled, {running_on} run on.",
        data=_series_data(series)
        | {"cancelled": cancelled, "runningOn": running_on, "releasedCredits": released_credits},
    )
