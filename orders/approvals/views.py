"""The Policies page: org admins set the approval threshold, approval expiry and per-workspace
thresholds and monthly budgets; everyone in the org sees them with this month's burn-down."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from geopera_web.accounts.decorators import org_required
from geopera_web.accounts.models import Role
from geopera_web.errors import ApplicationError, PermissionDenied, parse_whole

from .selectors import approval_list, policies_overview
from .services import spend_policy_update


def _figure(value: str | None) -> int | str | None:
    value = (value or "").strip().replace(",", "").replace("_", "")
    if not value:
        return None
    figure = parse_whole(value)
    return value if figure is None else figure  # not a figure: the service's 422 names the field


@require_http_methods(["GET", "POST"])
@org_required
def policies_page(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.membership.role != Role.ADMIN:
            raise PermissionDenied(
                "Only admins of the organization change spend policies.", required_roles=["admin"]
            )
        scope = request.POST.get("scope", "")
        try:
            spend_policy_update(
                org=request.org,
                actor=request.user,
                workspace_id=scope or None,
                approval_threshold_credits=_figure(request.POST.get("approval_threshold_credits")),
                monthly_budget_credits=_figure(request.POST.get("monthly_budget_credits")) if scope else None,
                approval_ttl_hours=_figure(request.POST.get("approval_ttl_hours")) if not scope else None,
            )
        except ApplicationError as exc:
            errors[scope or "org"] = exc.detail
        else:
            messages.success(request, "Spend policy saved.")
            return redirect("orders:policies")
    overview = policies_overview(org=request.org)
    return render(
        request,
        "orders/approvals/policies.html",
        {
            "overview": overview,
            "errors": errors,
            "can_edit": request.membership.role == Role.ADMIN,
            "recent": list(approval_list(org=request.org)[:10]),
        },
        status=422 if errors else 200,
    )
