from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .navigation import badges_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs on every page: active org, wallet, role, badges, map config."""
    context: dict[str, Any] = {
        "basemap_url": settings.BASEMAP_URL,
        "basemap_attribution": settings.BASEMAP_ATTRIBUTION,
    }
    org = getattr(request, "org", None)
    if org is None:
        return context
    from geopera_web.billing.selectors import request_wallet

    membership = request.membership
    context.update(
        {
            "active_org": org,
            "active_role": membership.role,
            "is_org_admin": membership.role == "admin",
            "can_write": membership.role in ("admin", "operator"),
            "org_memberships": request.memberships,
            "wallet": request_wallet(request),
            "nav_badges": badges_for(request),
        }
    )
    return context
