from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEvent


def audit_events_for_org(*, org: object, action: str = "") -> QuerySet[AuditEvent]:
    """The org's trail, newest first, optionally one action family ("wallet", "apikey.create")."""
    qs = AuditEvent.objects.filter(org=org).select_related("actor")
    if action:
        qs = qs.filter(action__startswith=action)
    return qs.order_by("-created_at", "-id")


def audit_action_families(*, org: object) -> list[str]:
    """The action families (the part before the dot) present in the org's trail, for the filter."""
    actions = AuditEvent.objects.filter(org=org).values_list("action", flat=True).distinct()
    return sorted({a.split(".", 1)[0] for a in actions})
