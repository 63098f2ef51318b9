"""Spend policies (who may spend how much without an admin) and spend approvals.

- `SpendPolicy`: one row for the whole org (workspace null: its approval threshold and how long an
  approval request stays open) and at most one per workspace (a threshold that overrides the org's,
  and a monthly budget). The workspace row is also the lock every spend of that workspace takes
  before it counts the month, so no two spends can both see room that only one of them fits in.
- `SpendApproval`: an operator's spend above the threshold, waiting for an org admin — a decision
  of the one state machine (`orders.decisions`), kind "approval" in the inbox.
- `BudgetWarning`: one row per workspace, month and level (80 / 100 %), so each warning goes out once.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from geopera_web.accounts.models import Organization, Workspace

from ..decisions import AbstractDecision

DEFAULT_APPROVAL_TTL_HOURS = 72


class SpendPolicy(models.Model):
    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="spend_policies")
    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="spend_policies"
    )
    # An operator's single spend above this needs an admin's approval (None: no threshold here).
    approval_threshold_credits = models.BigIntegerField(null=True, blank=True)
    # The most a workspace may commit in a calendar month (UTC), everyone included (workspace rows).
    monthly_budget_credits = models.BigIntegerField(null=True, blank=True)
    # How long an approval request waits before it expires (org row).
    approval_ttl_hours = models.PositiveIntegerField(default=DEFAULT_APPROVAL_TTL_HOURS)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org"],
                condition=models.Q(workspace__isnull=True),
                name="orders_spendpolicy_one_org_row",
            ),
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(workspace__isnull=False),
                name="orders_spendpolicy_one_per_workspace",
            ),
            models.CheckConstraint(
                condition=models.Q(approval_threshold_credits__isnull=True)
                | models.Q(approval_threshold_credits__gte=0),
                name="orders_spendpolicy_threshold_nonneg",
            ),
            models.CheckConstraint(
                condition=models.Q(monthly_budget_credits__isnull=True)
                | models.Q(monthly_budget_credits__gte=0),
                name="orders_spendpolicy_budget_nonneg",
            ),
            models.CheckConstraint(
                condition=models.Q(approval_ttl_hours__gte=1) & models.Q(approval_ttl_hours__lte=24 * 30),
                name="orders_spendpolicy_ttl_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Spend policy of {self.workspace or self.org}"


class SpendApproval(AbstractDecision):
    """An operator asked to spend above the threshold; an org admin approves (the original action
    then runs at the price shown) or rejects it (with a reason the requester is told)."""

    class Action(models.TextChoices):
        ARCHIVE_PLACE = "archive_place", "Archive order"
        QUOTATION_ACCEPT = "quotation_accept", "Accept a quotation"
        FEASIBILITY_ACCEPT = "feasibility_accept", "Accept a priced feasibility option"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="spend_approvals")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="spend_approvals")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="approvals")
    action = models.CharField(max_length=32, choices=Action.choices)
    # The quotation or feasibility option to accept (tasking actions).
    target_id = models.UUIDField(null=True, blank=True)
    credits = models.BigIntegerField()
    note = models.CharField(max_length=1000, blank=True)
    reason = models.CharField(max_length=1000, blank=True, help_text="Why it was rejected.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    # What the workspace's monthly budget had left after this spend, when it was asked (None: no budget).
    budget_left_after = models.BigIntegerField(null=True, blank=True)
    # What the action needs to run again (archive: the captures, licence, split by date).
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["org", "decision", "-created_at"], name="orders_approval_org_decision"),
            models.Index(fields=["decision", "expires_at"], name="orders_approval_expires"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gte=0), name="orders_approval_credits_nonneg"),
            models.UniqueConstraint(
                fields=["action", "target_id"],
                condition=models.Q(decision="PENDING") & models.Q(target_id__isnull=False),
                name="orders_approval_one_pending_per_target",
            ),
        ]

    def __str__(self) -> str:
        return f"Approval {str(self.id)[:8]} ({self.credits} cr, {self.decision})"

    @property
    def deadline(self):  # the inbox treats every decision kind alike
        return self.expires_at


class BudgetWarning(models.Model):
    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    level = models.PositiveSmallIntegerField()  # 80 or 100
    spent_credits = models.BigIntegerField()
    budget_credits = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "month", "level"], name="orders_budgetwarning_once")
        ]

    def __str__(self) -> str:
        return f"{self.level} % of the budget of {self.workspace_id} in {self.month:%Y-%m}"
