from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from geopera_web.accounts.decorators import role_required

from .selectors import audit_action_families, audit_events_for_org


@require_GET
@role_required("admin")
def activity(request: HttpRequest) -> HttpResponse:
    """The org's audit trail for its admins: paged, filtered by action family."""
    families = audit_action_families(org=request.org)
    action = request.GET.get("action", "")
    if action not in families:
        action = ""
    page = Paginator(audit_events_for_org(org=request.org, action=action), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "audit/activity.html", {"page": page, "families": families, "action": action})
