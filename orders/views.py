from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from geopera_web.accounts.decorators import org_required


def _coming(request: HttpRequest, title: str, what: list[str]) -> HttpResponse:
    return render(request, "placeholder.html", {"title": title, "what": what})


@require_GET
@org_required
def archive(request: HttpRequest) -> HttpResponse:
    return _coming(
        request,
        "Archive",
        [
            "A full-height map of the catalog's captures for the current view, with filters for dates, "
            "cloud cover, off-nadir angle, collection and resolution.",
            "Draw or upload an area of interest (GeoJSON, KML, zipped shapefile) to search by it.",
            "A cart with the server's live price, split by date if you like, and a Place button.",
        ],
    )


@require_GET
@org_required
def order_list_page(request: HttpRequest) -> HttpResponse:
    return _coming(
        request,
        "Orders",
        [
            "Every archive and tasking order of your organization, filterable and paged.",
            "Each order's map, price breakdown, timeline, delivered assets and coverage.",
        ],
    )
