from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from .selectors import memberships_of

SESSION_ORG_KEY = "active_org_id"


class ActiveOrganizationMiddleware:
    """Every request runs in exactly one org: `request.org` (and `request.membership`), chosen from
    the user's memberships by the session's active org, else their first. None for anonymous users
    and for staff without a membership."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.org = None
        request.membership = None
        request.memberships = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = list(memberships_of(user=user))
            request.memberships = memberships
            wanted = request.session.get(SESSION_ORG_KEY)
            chosen = next((m for m in memberships if str(m.org_id) == wanted), None) or (
                memberships[0] if memberships else None
            )
            if chosen is not None:
                request.membership = chosen
                request.org = chosen.org
        return self.get_response(request)
