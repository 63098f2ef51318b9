"""Admin of spend policies, approvals and budget warnings: read-only for everyone. A policy changes on
the Policies page (`orders.policies.update`), an approval is decided in the inbox
(`orders.approvals.decide`); both go through services that lock and record what they do."""

from __future__ import annotations

from django.contrib import admin

from geopera_web.admin_policy import ReadOnlyAdmin

from .models import BudgetWarning, SpendApproval, SpendPolicy


@admin.register(SpendPolicy)
class SpendPolicyAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = (
        "org",
        "workspace",
        "approval_threshold_credits",
        "monthly_budget_credits",
        "approval_ttl_hours",
        "updated_at",
    )
    list_select_related = ("org", "workspace")
    search_fields = ("org__name", "workspace__name")


@admin.register(SpendApproval)
class SpendApprovalAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("id", "org", "workspace", "action", "credits", "decision", "expires_at", "created_at")
    list_filter = ("decision", "action")
    list_select_related = ("org", "workspace")
    search_fields = ("id", "org__name", "order__id")
    raw_id_fields = ("order", "requested_by")


@admin.register(BudgetWarning)
class BudgetWarningAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("workspace", "month", "level", "spent_credits", "budget_credits", "created_at")
    list_select_related = ("workspace",)
