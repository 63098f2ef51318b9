"""Operations of spend policies and approvals: orders.approvals.list, orders.approvals.decide,
orders.policies.get, orders.policies.update (imported by `orders/api.py`)."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers

from geopera_web.accounts.models import Scope
from geopera_web.api.fields import (
    PAGE_SIZE_BOUNDS,
    PAGE_SIZE_HELP,
    SettingBoundsMixin,
    numbered_page,
    page_field,
)
from geopera_web.api.openapi import NON_BLANK_STRING
from geopera_web.api.registry import Effect, OpContext, operation

from .kinds import approval_to_wire
from .selectors import approval_list, policies_overview
from .services import approval_decide, spend_policy_update


class ApprovalsListInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = PAGE_SIZE_BOUNDS

    decision = serializers.RegexField(
        r"^(PENDING|ACCEPTED|REJECTED|EXPIRED)$", required=False, allow_blank=True, allow_null=True
    )
    workspaceId = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)  # noqa: N815
    page = page_field()
    size = serializers.IntegerField(required=False, default=20, min_value=1, help_text=PAGE_SIZE_HELP)


class ApprovalOutput(serializers.Serializer):
    """A spend approval request: what (`action`, `orderId`), who (`requestedBy`, `note`), the price
    (`credits`), what the workspace's monthly budget would have left (`budgetLeftAfterCredits`,
    null without a budget), its deadline (`expiresAt`) and outcome (`decision`, `reason`)."""

    id = serializers.UUIDField()
    kind = serializers.CharField(help_text="always approval")
    action = serializers.CharField(help_text="archive_place | quotation_accept | feasibility_accept")
    decision = serializers.CharField(help_text="PENDING | ACCEPTED | REJECTED | EXPIRED")
    orderId = serializers.UUIDField()  # noqa: N815
    orderDisplayName = serializers.CharField()  # noqa: N815
    workspaceId = serializers.UUIDField()  # noqa: N815
    credits = serializers.IntegerField()
    aud = serializers.FloatField()
    note = serializers.CharField()
    reason = serializers.CharField()
    requestedBy = serializers.CharField(allow_null=True)  # noqa: N815
    budgetLeftAfterCredits = serializers.IntegerField(allow_null=True)  # noqa: N815
    targetId = serializers.CharField(allow_null=True, help_text="The quotation or option to accept.")  # noqa: N815
    expiresAt = serializers.DateTimeField()  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815
    decidedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    decidedBy = serializers.CharField(allow_null=True)  # noqa: N815


class ApprovalsPage(serializers.Serializer):
    items = ApprovalOutput(many=True)
    page = serializers.IntegerField()
    size = serializers.IntegerField()
    total = serializers.IntegerField()


class ApprovalDecideInput(serializers.Serializer):
    approval_id = serializers.CharField(max_length=64)
    decision = serializers.RegexField(r"^(ACCEPTED|REJECTED)$")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="Required to reject: the requester is told.",
    )


class PolicyGetInput(serializers.Serializer):
    pass


class PolicyUpdateInput(SettingBoundsMixin, serializers.Serializer):
    """The organization row (no `workspaceId`) or a workspace row. A monthly budget is per workspace:
    `monthlyBudgetCredits` (not null) needs a non-blank `workspaceId`."""

    # The largest credit figure a person may type (CREDITS_MAX), read when the input is built.
    setting_bounds = {
        "approvalThresholdCredits": {"max_value": "CREDITS_MAX"},
        "monthlyBudgetCredits": {"max_value": "CREDITS_MAX"},
    }

    # spend_policy_update's rule, as the document states it: no budget, or a budget and a workspace.
    openapi_schema_extra: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"properties": {"monthlyBudgetCredits": {"type": "null"}}},
            {
                "required": ["workspaceId", "monthlyBudgetCredits"],
                "properties": {"workspaceId": {"type": "string", "pattern": NON_BLANK_STRING}},
            },
        ]
    }

    workspaceId = serializers.CharField(  # noqa: N815
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=64,
        help_text="Omit for the organization row.",
    )
    approvalThresholdCredits = serializers.IntegerField(  # noqa: N815
        required=False,
        allow_null=True,
        min_value=0,
        help_text="At most {max_value} credits (CREDITS_MAX).",
    )
    monthlyBudgetCredits = serializers.IntegerField(  # noqa: N815
        required=False,
        allow_null=True,
        min_value=0,
        help_text="Workspace rows only; at most {max_value} credits (CREDITS_MAX).",
    )
    approvalTtlHours = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True, min_value=1, max_value=720, help_text="Organization row only."
    )


class WorkspacePolicyOutput(serializers.Serializer):
    workspaceId = serializers.UUIDField()  # noqa: N815
    name = serializers.CharField()
    approvalThresholdCredits = serializers.IntegerField(allow_null=True)  # noqa: N815
    effectiveThresholdCredits = serializers.IntegerField(allow_null=True)  # noqa: N815
    monthlyBudgetCredits = serializers.IntegerField(allow_null=True)  # noqa: N815
    spentThisMonthCredits = serializers.IntegerField()  # noqa: N815
    leftThisMonthCredits = serializers.IntegerField(allow_null=True)  # noqa: N815


class PoliciesOutput(serializers.Serializer):
    approvalThresholdCredits = serializers.IntegerField(allow_null=True)  # noqa: N815
    approvalTtlHours = serializers.IntegerField()  # noqa: N815
    month = serializers.DateField()
    workspaces = WorkspacePolicyOutput(many=True)


@operation(
    "orders.approvals.list",
    scope=Scope.ORDERS_READ,
    effect=Effect.READ,
    input=ApprovalsListInput,
    output=ApprovalsPage,
    summary="List the org's spend approval requests (newest first, paged).",
)
def approvals_list_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Every spend approval of the org, newest first; filter by `decision` and `workspaceId`."""
    qs = approval_list(
        org=ctx.org, decision=data.get("decision") or None, workspace_id=data.get("workspaceId")
    )
    return numbered_page(qs, page=data["page"], size=data["size"], wire=approval_to_wire)


@operation(
    "orders.approvals.decide",
    scope=Scope.ORDERS_WRITE,
    effect=Effect.SPEND,
    input=ApprovalDecideInput,
    output=ApprovalOutput,
    user_only=True,
    summary="Approve (performs the original spend at the price shown) or reject a spend approval.",
)
def approvals_decide_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins only. ACCEPTED runs the original action (archive order, quotation or option
    acceptance) at the approval's price: 409 `price-changed` with `current_credits` when the price
    moved, 402 `budget-exceeded` / `insufficient-credits` when it cannot be paid (the request stays
    pending). REJECTED needs a `reason`, which the requester is told. Already decided: 409 with
    `current_decision`; past its deadline: 410."""
    ctx.require_role("admin", action="decide on spend approvals")
    approval = approval_decide(
        org=ctx.org,
        actor=ctx.principal,
        approval_id=data["approval_id"],
        decision=data["decision"],
        reason=data.get("reason") or "",
    )
    return approval_to_wire(approval)


@operation(
    "orders.policies.get",
    scope=Scope.ORDERS_READ,
    effect=Effect.READ,
    input=PolicyGetInput,
    output=PoliciesOutput,
    summary="The org's spend policies: approval threshold, approval expiry, and per-workspace budgets this month.",
)
def policies_get_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """The organization's approval threshold (operators' single spends above it wait for an admin)
    and approval expiry, and for every workspace its threshold override, monthly budget, what it
    committed this month (UTC) and what is left."""
    return policies_overview(org=ctx.org)


@operation(
    "orders.policies.update",
    scope=Scope.ORDERS_WRITE,
    effect=Effect.COMPUTE,
    input=PolicyUpdateInput,
    output=PoliciesOutput,
    user_only=True,
    summary="Set the org's (no workspaceId) or a workspace's approval threshold and monthly budget.",
)
def policies_update_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins only. Omitted or null figures clear them (no threshold / no budget). The
    organization row holds the threshold and `approvalTtlHours`; a workspace row overrides the
    threshold and holds the monthly budget."""
    ctx.require_role("admin", action="change spend policies")
    spend_policy_update(
        org=ctx.org,
        actor=ctx.principal,
        workspace_id=data.get("workspaceId"),
        approval_threshold_credits=data.get("approvalThresholdCredits"),
        monthly_budget_credits=data.get("monthlyBudgetCredits"),
        approval_ttl_hours=data.get("approvalTtlHours"),
    )
    return policies_overview(org=ctx.org)
