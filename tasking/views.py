from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from geopera_web.accounts.decorators import org_required, staff_required


def _coming(request: HttpRequest, title: str, what: list[str]) -> HttpResponse:
    return render(request, "placeholder.html", {"title": title, "what": what})


@require_GET
@org_required
def tasking_home(request: HttpRequest) -> HttpResponse:
    return _coming(
        request,
        "Tasking",
        [
            "Request a new acquisition over one or more areas, drawn or uploaded.",
            "Pick a sensor or a template; the form comes from the product's schema.",
            "Live checks per area: size, shape, predicted passes and price.",
        ],
    )


@require_GET
@org_required
def inbox(request: HttpRequest) -> HttpResponse:
    return _coming(
        request,
        "Inbox",
        [
            "Every feasibility study and quotation waiting for your organization, newest first.",
            "Options side by side with price, window and off-nadir; accept or reject in place.",
        ],
    )


@require_GET
@org_required
def templates_page(request: HttpRequest) -> HttpResponse:
    return _coming(
        request,
        "Templates",
        [
            "Your organization's reusable tasking settings, searchable and filterable by sensor.",
            "Create, edit, duplicate, delete (with undo); use one to prefill a tasking request.",
        ],
    )


@require_GET
@staff_required
def support_desk(request: HttpRequest) -> HttpResponse:
    return _coming(
        request,
        "Support desk",
        [
            "Tasking orders across all organizations waiting for a feasibility study or a quotation.",
            "A study editor for priced options, a quotation editor, and manual deliveries.",
        ],
    )
