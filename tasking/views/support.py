"""The support desk (staff only): tasking orders of every org waiting for a study or a quotation,
and the editors that upload them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from geopera_web.accounts.decorators import staff_required
from geopera_web.errors import ApplicationError
from orders.models import Order

from ..feasibility import window_of
from ..schemas import (
    product_schema,
)
from ..selectors import (
    support_order_get,
    support_queue,
)
from ..services import (
    quotation_upload,
    study_upload,
)
from .common import aoi_geojson, sensor_of

MAX_STUDY_OPTIONS = 10


@require_GET
@staff_required
def support_desk(request: HttpRequest) -> HttpResponse:
    """Across all orgs: tasking orders waiting for a study or a quotation, oldest first."""
    orders = list(support_queue()[:200])
    now = timezone.now()
    features = []
    for order in orders:
        order.sensor = sensor_of(order)
        order.waiting_for = "study" if order.sub_status == "FEASIBILITY_WAITING_UPLOAD" else "quotation"
        order.age = now - order.updated_at
        order.window = window_of(order.params or {})
        for g in order.groups.all():
            features.append(
                {
                    "type": "Feature",
                    "geometry": json.loads(g.geometry.geojson),
                    "properties": {
                        "name": f"{order.org.name}: {order.display_name} · {g.name}",
                        "url": reverse("tasking:support_order", args=[order.id]),
                    },
                }
            )
    return render(
        request,
        "tasking/support.html",
        {"orders": orders, "aoi_geojson": json.dumps({"type": "FeatureCollection", "features": features})},
    )


def _dt(value: str) -> datetime | None:
    """A datetime-local value (UTC, as the form says) or ISO string."""
    value = (value or "").strip()
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _int_or_none(value: str) -> Any:
    value = (value or "").strip().replace(",", "")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value  # the service names it


def _params_for_people(order: Order) -> list[tuple[str, Any]]:
    """The requested params under their schema titles ("Acquisition end", not "acquisitionEnd"),
    in the schema's order; keys the schema does not know keep their wire name, at the end."""
    params = order.params or {}
    product = getattr(order.data_product, "tasking", None) if order.data_product_id else None
    props = product_schema(product).get("properties", {}) if product else {}
    known = [(props[k].get("title") or k, params[k]) for k in props if k in params]
    return known + sorted((k, v) for k, v in params.items() if k not in props)


def _support_context(order: Order, **extra: Any) -> dict[str, Any]:
    now = timezone.now().replace(second=0, microsecond=0)
    start, end = window_of(order.params or {})
    accepted = next(
        (s.accepted_option for s in order.feasibility_studies.all() if s.accepted_option_id), None
    )
    defaults = {
        "deadline": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "window_start": (start or now).strftime("%Y-%m-%dT%H:%M"),
        "window_end": (end or now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        "quote_credits": (
            accepted.price_credits if accepted and accepted.price_credits else order.total_credits
        ),
        "quote_valid": (now + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
    }
    return {
        "order": order,
        "sensor": sensor_of(order),
        "aoi_geojson": aoi_geojson(order),
        "params_items": _params_for_people(order),
        "defaults": defaults,
        "option_slots": range(3),
        "max_study_options": MAX_STUDY_OPTIONS,
        "accepted_option": accepted,
        **extra,
    }


@require_GET
@staff_required
def support_order(request: HttpRequest, order_id: str) -> HttpResponse:
    order = support_order_get(order_id=order_id)
    return render(request, "tasking/support_order.html", _support_context(order))


def _support_editor_errors(
    request: HttpRequest, order: Order, exc: ApplicationError, *, errors_key: str
) -> HttpResponse:
    """The support order page again, with what the service refused next to the editor that sent it
    and the staff member's input kept."""
    errors = exc.extra.get("errors") or [{"msg": exc.detail}]
    return render(
        request,
        "tasking/support_order.html",
        _support_context(order, posted=request.POST, **{errors_key: errors}),
        status=exc.status,
    )


@require_POST
@staff_required
def support_study_upload(request: HttpRequest, order_id: str) -> HttpResponse:
    order = support_order_get(order_id=order_id)
    options = []
    # The editor starts with a few rows and can add more; never trust the count beyond the cap.
    raw_count = request.POST.get("option_count", "")
    option_count = min(max(int(raw_count) if raw_count.isdigit() else 3, 1), MAX_STUDY_OPTIONS)
    for i in range(option_count):
        description = request.POST.get(f"opt-{i}-description", "").strip()
        if not description:
            continue
        angle = request.POST.get(f"opt-{i}-max_off_nadir", "")
        options.append(
            {
                "description": description,
                "window_start": _dt(request.POST.get(f"opt-{i}-window_start", "")),
                "window_end": _dt(request.POST.get(f"opt-{i}-window_end", "")),
                "expected_captures": _int_or_none(request.POST.get(f"opt-{i}-expected_captures", "")) or 1,
                "expected_revisits": _int_or_none(request.POST.get(f"opt-{i}-expected_revisits", "")) or 0,
                "max_off_nadir": float(angle) if angle.replace(".", "", 1).isdigit() else None,
                "price_credits": _int_or_none(request.POST.get(f"opt-{i}-price_credits", "")),
                "valid_until": _dt(request.POST.get(f"opt-{i}-valid_until", "")),
            }
        )
    try:
        study_upload(
            actor=request.user,
            order_id=order.id,
            options=options,
            deadline=_dt(request.POST.get("deadline", "")),
            notes=request.POST.get("notes", ""),
        )
    except ApplicationError as exc:
        return _support_editor_errors(request, order, exc, errors_key="study_errors")
    messages.success(request, f"Feasibility study uploaded for “{order.display_name}” ({order.org.name}).")
    return redirect("tasking:support")


@require_POST
@staff_required
def support_quotation_upload(request: HttpRequest, order_id: str) -> HttpResponse:
    order = support_order_get(order_id=order_id)
    try:
        quotation_upload(
            actor=request.user,
            order_id=order.id,
            credits=_int_or_none(request.POST.get("credits", "")),
            valid_until=_dt(request.POST.get("valid_until", "")),
            notes=request.POST.get("notes", ""),
        )
    except ApplicationError as exc:
        return _support_editor_errors(request, order, exc, errors_key="quote_errors")
    messages.success(request, f"Quotation sent to {order.org.name} for “{order.display_name}”.")
    return redirect("tasking:support")
