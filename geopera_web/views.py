from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from geopera_web.accounts.decorators import org_required
from geopera_web.api.problems import database_unavailable_response, is_api_path, problem_response
from geopera_web.billing.ledger_rows import ledger_rows
from geopera_web.billing.selectors import ledger_list
from geopera_web.db.availability import database_unavailability

from .dashboard import dashboard_panels


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.org is None and request.user.is_staff:
        # Support staff without an org of their own work from the support desk.
        return redirect("tasking:support")
    return _org_dashboard(request)


@org_required
def _org_dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard.html",
        {
            "panels": dashboard_panels(request),
            # Admins only (the card is theirs): each row with its order (one query for the names).
            "recent_ledger": ledger_rows(ledger_list(org=request.org)[:5], org=request.org)
            if request.membership is not None and request.membership.role == "admin"
            else [],
        },
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request.path):
        return problem_response(
            status=404,
            title="Not Found",
            slug="not-found",
            instance=request.path,
            detail=f"No such endpoint: {request.path}. Operations are listed at /v1/openapi.json.",
        )
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception (one raised by a middleware too, e.g. the
    # session or membership look-up before any view): a database that refuses connections is a
    # 503 with Retry-After, not a 500.
    exc = sys.exc_info()[1]
    if exc is not None and (kind := database_unavailability(exc)) is not None:
        return database_unavailable_response(request, kind)
    if is_api_path(request.path):
        return problem_response(
            status=500,
            title="Internal Server Error",
            slug="internal-error",
            detail="Something went wrong on our side.",
        )
    # A write may have been saved before the error (the work commits as it goes): say so, never
    # "nothing was lost" — the person checks before doing it again.
    return render(
        request, "500.html", {"was_write": request.method not in ("GET", "HEAD", "OPTIONS")}, status=500
    )


def favicon(request: HttpRequest) -> HttpResponse:
    from django.templatetags.static import static

    return redirect(static("img/logo.svg"), permanent=True)
