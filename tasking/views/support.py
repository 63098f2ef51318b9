"""The support desk (staff only): tasking orders of every org waiting for a study or a quotation,
and the editors that upload them."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from geopera_web.accounts.decorators import staff_required
from geopera_web.errors import ApplicationError, InvalidInput
from orders.models import Order

from .. import desk
from ..feasibility import window_of
from ..models import SupportClaim
from ..schemas import (
    product_schema,
)
from ..selectors import support_order_get
from ..services import (
    quotation_upload,
    study_upload,
)
from .common import aoi_geojson, sensor_of


def _desk_row(order: Order, now: datetime) -> Order:
    """What a desk row shows, set on the order (all from what `desk_page` loaded: no queries)."""
    order.sensor = sensor_of(order)
    order.waiting_for = {
        "FEASIBILITY_WAITING_UPLOAD": "study",
        "QUOTATION_WAITING_UPLOAD": "quotation",
    }.get(order.sub_status, "customer")
    order.age = now - order.updated_at
    order.window = window_of(order.params or {})
    order.claim = getattr(order, "support_claim", None)  # None when unclaimed (select_related)
    order.expiring = bool(
        order.waiting_for == "customer" and order.due and order.due - now < desk.EXPIRING_WITHIN
    )
    return order


def _desk_features(orders: list[Order]) -> str:
    features = []
    for order in orders:
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
    return json.dumps({"type": "FeatureCollection", "features": features})


def _desk_context(request: HttpRequest) -> dict[str, Any]:
    filters = desk.DeskFilters.from_query(request.GET)
    page = desk.desk_page(filters=filters, staff=request.user, page=request.GET.get("page") or 1)
    now = timezone.now()
    orders = [_desk_row(o, now) for o in page.object_list]
    query = filters.query_items()
    return {
        "filters": filters,
        "page": page,
        "orders": orders,
        "aoi_geojson": _desk_features(orders),
        "query": urlencode(query),
        "page_query": urlencode([*query, ("page", page.number)]) if page.number > 1 else urlencode(query),
        "states": desk.STATES,
        "state_label": desk.STATES[filters.state][0],
        "assignees": desk.ASSIGNEES,
        "sorts": desk.SORTS,
    }


@require_GET
@staff_required
def support_desk(request: HttpRequest) -> HttpResponse:
    """Across all orgs: the desk's tasking orders, filtered by the URL, a page at a time; htmx
    swaps the list region (filters, paging) in place."""
    context = _desk_context(request)
    if request.htmx and request.htmx.target == "desk-list":
        response = render(request, "tasking/support.html#list", context)
        # The address bar gets the filters that matter only (a form sends every field, empty ones too).
        query = context["page_query"]
        response["HX-Push-Url"] = reverse("tasking:support") + (f"?{query}" if query else "")
        return response
    context["choices"] = desk.desk_filter_choices()
    return render(request, "tasking/support.html", context)


def _back_to_desk(request: HttpRequest) -> str:
    """The desk URL the claim came from (its filters kept); only a /support/ path is followed."""
    back = str(request.POST.get("next", "") or "")
    return back if back.startswith("/support/") and "//" not in back else reverse("tasking:support")


def _claim_response(
    request: HttpRequest, order_id: str, *, error: str = "", status: int = 200
) -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(_back_to_desk(request))
    try:
        order = desk.desk_row(order_id=order_id, staff=request.user)
    except ApplicationError as exc:
        return HttpResponse(exc.detail, status=exc.status)
    context = {"o": _desk_row(order, timezone.now()), "claim_error": error, "next": _back_to_desk(request)}
    return render(request, "tasking/support.html#row", context, status=status)


def _claim_or_release(request: HttpRequest, order_id: str, action: Callable[..., object]) -> HttpResponse:
    try:
        action(order_id=order_id, staff=request.user)
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        return _claim_response(request, order_id, error=exc.detail, status=exc.status)
    return _claim_response(request, order_id)


@require_POST
@staff_required
def support_claim(request: HttpRequest, order_id: str) -> HttpResponse:
    return _claim_or_release(request, order_id, desk.desk_claim)


@require_POST
@staff_required
def support_release(request: HttpRequest, order_id: str) -> HttpResponse:
    return _claim_or_release(request, order_id, desk.desk_release)


class _Posted:
    """Reads the editor's fields into typed values; a value that is present but not what its field
    needs becomes a form error naming the field (never a silent default, never a 500)."""

    def __init__(self, post: Any) -> None:
        self.post = post
        self.errors: list[dict[str, Any]] = []

    def _raw(self, name: str) -> str:
        return str(self.post.get(name, "") or "").strip()

    def _bad(self, loc: list[Any], msg: str) -> None:
        self.errors.append({"loc": loc, "msg": msg, "type": "value_error"})

    def dt(self, name: str, loc: list[Any], label: str) -> datetime | None:
        """A datetime-local value (UTC, as the form says) or an ISO string; empty is None."""
        value = self._raw(name)
        if not value:
            return None
        try:
            parsed = parse_datetime(value)
        except ValueError:  # well formed but impossible (Feb 30th, hour 99)
            parsed = None
        if parsed is None:
            self._bad(loc, f"{label} is not a valid date and time (YYYY-MM-DDTHH:MM, UTC): {value[:40]!r}.")
            return None
        return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)

    def whole(self, name: str, loc: list[Any], label: str) -> int | None:
        value = self._raw(name).replace(",", "")
        if not value:
            return None
        if len(value) > 20 or not value.lstrip("-").isdigit():
            self._bad(loc, f"{label} must be a whole number: {value[:40]!r}.")
            return None
        return int(value)  # the service checks the range

    def number(self, name: str, loc: list[Any], label: str) -> float | None:
        value = self._raw(name)
        if not value:
            return None
        try:
            number = float(value) if len(value) <= 40 else math.nan
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self._bad(loc, f"{label} must be a number: {value[:40]!r}.")
            return None
        return number


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
        "max_study_options": settings.STUDY_MAX_OPTIONS,
        "accepted_option": accepted,
        "claim": SupportClaim.objects.select_related("staff").filter(order=order).first(),
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
    posted = _Posted(request.POST)
    # The editor starts with a few rows and can add more; never trust the count beyond the cap.
    raw_count = request.POST.get("option_count", "")
    option_count = min(
        max(int(raw_count) if raw_count.isdigit() and len(raw_count) < 4 else 3, 1),
        settings.STUDY_MAX_OPTIONS,
    )
    for i in range(option_count):
        description = request.POST.get(f"opt-{i}-description", "").strip()
        if not description:
            continue
        n = f"Option {i + 1}:"

        def field(name: str, i: int = i) -> tuple[str, list[Any]]:
            return f"opt-{i}-{name}", ["options", i, name]

        option = {
            "description": description,
            "window_start": posted.dt(*field("window_start"), f"{n} the window start"),
            "window_end": posted.dt(*field("window_end"), f"{n} the window end"),
            "max_off_nadir": posted.number(*field("max_off_nadir"), f"{n} the maximum off-nadir angle"),
            "price_credits": posted.whole(*field("price_credits"), f"{n} the price"),
            "valid_until": posted.dt(*field("valid_until"), f"{n} valid until"),
        }
        for name, label in (
            ("expected_captures", "expected captures"),
            ("expected_revisits", "expected revisits"),
        ):
            count = posted.whole(*field(name), f"{n} {label}")
            if count is not None:  # empty keeps the model's default (1 capture, 0 revisits)
                option[name] = count
        options.append(option)
    deadline = posted.dt("deadline", ["deadline"], "The decision deadline")
    if posted.errors:
        exc = InvalidInput(posted.errors[0]["msg"], status=422, errors=posted.errors)
        return _support_editor_errors(request, order, exc, errors_key="study_errors")
    try:
        study_upload(
            actor=request.user,
            order_id=order.id,
            options=options,
            deadline=deadline,
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
    posted = _Posted(request.POST)
    credits = posted.whole("credits", ["credits"], "Credits")
    valid_until = posted.dt("valid_until", ["valid_until"], "Valid until")
    if posted.errors:
        exc = InvalidInput(posted.errors[0]["msg"], status=422, errors=posted.errors)
        return _support_editor_errors(request, order, exc, errors_key="quote_errors")
    try:
        quotation_upload(
            actor=request.user,
            order_id=order.id,
            credits=credits,
            valid_until=valid_until,
            notes=request.POST.get("notes", ""),
        )
    except ApplicationError as exc:
        return _support_editor_errors(request, order, exc, errors_key="quote_errors")
    messages.success(request, f"Quotation sent to {order.org.name} for “{order.display_name}”.")
    return redirect("tasking:support")
