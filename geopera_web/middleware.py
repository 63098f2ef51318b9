from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from geopera_web.api.problems import database_unavailable_response, is_api_path
from geopera_web.db.availability import database_unavailability
from geopera_web.errors import ApplicationError


class PageErrorMiddleware:
    """An ApplicationError raised by a page becomes a page (or, for htmx, a toast) that says
    what went wrong, with the right status; a NotFound is the ordinary 404 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if is_api_path(request.path):
            return None
        if (kind := database_unavailability(exc)) is not None:
            return database_unavailable_response(request, kind)
        if not isinstance(exc, ApplicationError):
            return None
        context = {"error": exc}
        if getattr(request, "htmx", False):
            response = render(
                request, "_partials/toast.html", {"level": "error", "message": exc.detail}, status=exc.status
            )
            response["HX-Retarget"] = "#toasts"
            response["HX-Reswap"] = "beforeend"
            return response
        template = "404.html" if exc.status == 404 else "error.html"
        return render(request, template, context, status=exc.status)
