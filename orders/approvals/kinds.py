"""Spend approvals as a decision kind of the one state machine (`orders.decisions`), and the
archive order's approval action. Imported by `orders.apps` at start-up."""

from __future__ import annotations

from typing import Any

from .. import events
from ..decisions import DecisionKind, register_decision_kind
from .models import SpendApproval
from .services import approval_on_expired

D = SpendApproval.Decision

APPROVAL = register_decision_kind(
    DecisionKind(
        slug="approval",
        model=SpendApproval,
        noun="spend approval",
        deadline_field="expires_at",
        headline=lambda a: f"A request to spend {a.credits:,} credits",
        workspace_field="workspace_id",
        wire_related=("requested_by",),
        events={
            D.ACCEPTED: events.event_approval_approved,
            D.REJECTED: events.event_approval_rejected,
            D.EXPIRED: events.event_approval_expired,
        },
        on_expired=approval_on_expired,
    )
)


def approval_to_wire(approval: SpendApproval) -> dict[str, Any]:
    order = approval.order
    return {
        "id": str(approval.pk),
        "kind": "approval",
        "action": approval.action,
        "decision": approval.decision,
        "orderId": str(approval.order_id),
        "orderDisplayName": order.display_name,
        "workspaceId": str(approval.workspace_id),
        "credits": approval.credits,
        "aud": round(approval.credits / 100, 2),
        "note": approval.note,
        "reason": approval.reason,
        "requestedBy": str(approval.requested_by) if approval.requested_by_id else None,
        "budgetLeftAfterCredits": approval.budget_left_after,
        "targetId": str(approval.target_id) if approval.target_id else None,
        "expiresAt": approval.expires_at.isoformat(),
        "createdAt": approval.created_at.isoformat(),
        "decidedAt": approval.decided_at.isoformat() if approval.decided_at else None,
        "decidedBy": str(approval.decided_by) if approval.decided_by_id else None,
    }
