"""Order timeline rows -> outbox events. `orders/events.py` calls `order_event_to_outbox` for each
row it writes, so every change point that records the timeline also reports the change."""

from __future__ import annotations

from typing import Any

from .services import event_emit

# OrderEvent.Kind value -> platform event type
_KIND_TO_TYPE: dict[str, str] = {
    "placed": "order.created",
    "status_changed": "order.status_changed",
    "approval_requested": "decision.pending",
    "feasibility_accepted": "decision.decided",
    "feasibility_rejected": "decision.decided",
    "feasibility_expired": "decision.decided",
    "quotation_accepted": "decision.decided",
    "quotation_rejected": "decision.decided",
    "quotation_expired": "decision.decided",
    "approval_approved": "decision.decided",
    "approval_rejected": "decision.decided",
    "approval_expired": "decision.decided",
    "delivery_received": "delivery.received",
    "delivery_recorded": "delivery.received",
}


def order_payload(order: Any) -> dict[str, Any]:
    return {
        "orderId": str(order.pk),
        "workspaceId": str(order.workspace_id),
        "orderType": order.order_type,
        "status": order.status,
        "displayName": str(order),
        "createdBy": order.created_by_id,
    }


def order_event_to_outbox(order_event: Any) -> None:
    event_type = _KIND_TO_TYPE.get(order_event.kind)
    if event_type is None:
        return
    order = order_event.order
    data = order_payload(order) | {
        "kind": order_event.kind,
        "message": order_event.message,
        "actor": order_event.actor_label,
    }
    if order_event.from_status or order_event.to_status:
        data |= {"fromStatus": order_event.from_status, "toStatus": order_event.to_status}
    if event_type == "decision.decided":
        kind, _, outcome = order_event.kind.rpartition("_")
        data |= {"decisionKind": kind, "decision": outcome.upper(), "details": order_event.data}
    if event_type == "decision.pending":
        data |= {"decisionKind": "approval", "details": order_event.data}
    if event_type == "delivery.received":
        data |= {"details": order_event.data}
    event_emit(org=order.org, type=event_type, data=data)
