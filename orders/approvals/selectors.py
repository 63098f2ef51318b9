"""Reads of spend policies and approvals, always inside the caller's org."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from geopera_web.accounts.models import Organization
from geopera_web.accounts.selectors import workspace_list
from geopera_web.errors import parse_uuid

from .models import DEFAULT_APPROVAL_TTL_HOURS, SpendApproval, SpendPolicy
from .services import month_start, workspace_month_spent


def approval_list(
    *, org: Organization, decision: str | None = None, workspace_id: object = None
) -> QuerySet[SpendApproval]:
    qs = SpendApproval.objects.filter(org=org).select_related(
        "order", "requested_by", "decided_by", "workspace"
    )
    if decision:
        qs = qs.filter(decision=decision)
    if workspace_id:
        ws = parse_uuid(workspace_id)
        qs = qs.filter(workspace_id=ws) if ws else qs.none()
    return qs.order_by("-created_at", "-id")


def approvals_pending(*, org: Organization, workspace_id: object = None) -> QuerySet[SpendApproval]:
    """Pending approvals whose order still waits (a cancelled order's request is moot)."""
    return approval_list(org=org, decision=SpendApproval.Decision.PENDING, workspace_id=workspace_id).filter(
        order__status="pending"
    )


def policies_overview(*, org: Organization) -> dict[str, Any]:
    """The org row and every workspace with its budget burn-down this month (one query per workspace
    for the month's spend; orgs have a handful of workspaces)."""
    rows = {p.workspace_id: p for p in SpendPolicy.objects.filter(org=org)}
    org_row = rows.get(None)
    org_threshold = org_row.approval_threshold_credits if org_row else None
    since = month_start()
    workspaces = []
    for ws in workspace_list(org=org):
        row = rows.get(ws.pk)
        threshold = row.approval_threshold_credits if row else None
        budget = row.monthly_budget_credits if row else None
        spent = workspace_month_spent(workspace=ws, since=since)
        workspaces.append(
            {
                "workspaceId": str(ws.pk),
                "name": ws.name,
                "approvalThresholdCredits": threshold,
                "effectiveThresholdCredits": threshold if threshold is not None else org_threshold,
                "monthlyBudgetCredits": budget,
                "spentThisMonthCredits": spent,
                "leftThisMonthCredits": max(0, budget - spent) if budget is not None else None,
                "percentUsed": min(100, round(spent * 100 / budget))
                if budget
                else (100 if budget == 0 and spent else 0),
            }
        )
    return {
        "approvalThresholdCredits": org_threshold,
        "approvalTtlHours": org_row.approval_ttl_hours if org_row else DEFAULT_APPROVAL_TTL_HOURS,
        "month": since.date().isoformat(),
        "workspaces": workspaces,
    }
