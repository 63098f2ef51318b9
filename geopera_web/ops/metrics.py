"""`/metrics` for Prometheus (django-prometheus): request counts and latencies by view, response
codes, database and cache operations. Not public: the scraper sends `Authorization: Bearer
<METRICS_TOKEN>` (a setting; empty = no token accepted), or a signed-in staff user opens it.
Anyone else gets a 404, as if it were not there."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView


def _allowed(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404
    return ExportToDjangoView(request)
