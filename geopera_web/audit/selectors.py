from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEvent


def audit_events_for_org(*, org: object, action: str = "") -> QuerySet[AuditEvent]:
    """The org's trail, newest first, optionally one action family ("wallet", "apikey.create")."""
    qs = AuditEvent.objects.filter(org=org).select_related("actor")
    if action:
        qs = qs.filter(action__startswith=action if "." in action else action + ".")
    return qs.order_by("-created_at", "-id")


# Every action family written anywhere (the part of an action before the first dot), with the name
# the Activity filter shows. A fixed list, so the filter costs no scan of the trail; a family missing
# here fails tests/orders/test_audit_coverage.py.
AUDIT_FAMILIES: dict[str, str] = {
    "money": "Money movements",
    "decision": "Decisions",
    "approval": "Approval requests",
    "policy": "Spend policies",
    "support": "Support desk",
    "series": "Recurring acquisitions",
    "admin": "Changes in the Django admin",
    "wallet": "Top-ups and adjustments",
    "apikey": "API keys",
    "usertoken": "User tokens",
    "membership": "Members and roles",
    "user": "Users",
    "login": "Login lockouts",
}


def audit_action_families(*, org: object = None) -> dict[str, str]:
    """The Activity filter's choices: family -> label."""
    return AUDIT_FAMILIES
