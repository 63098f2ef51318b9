"""Pages of the tasking flow: the request page's AOI part, the org's tasking list, the unified
decisions inbox, and the support desk. Thin: selectors to read, services to write."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from geopera_web.accounts.decorators import org_required, role_required, staff_required
from geopera_web.accounts.models import Membership, Role
from geopera_web.accounts.selectors import workspace_list
from geopera_web.billing.selectors import wallet_get
from geopera_web.errors import ApplicationError, InvalidInput
from orders.models import Order

from .aoi import check_features, features_of
from .feasibility import feature_feasibility, window_of
from .models import FeasibilityStudy
from .schemas import params_from_form, product_schema, schema_form_fields
from .selectors import (
    Decision,
    decisions_pending,
    pending_decision_count,
    quotation_get,
    study_get,
    support_order_get,
    support_queue,
    tasking_draft_get,
    tasking_order_list,
    tasking_product_get,
)
from .services import (
    feasibility_decide,
    quotation_decide,
    quotation_upload,
    study_reject,
    study_upload,
    tasking_draft_save,
    tasking_order_place,
)
from .views import _tasking_new_context

WRITERS = ("admin", "operator")
MAX_STUDY_OPTIONS = 10


def _order_path(order: Order) -> str:
    # orders:detail comes with the cart work; link by path so this page does not depend on it.
    return f"/orders/{order.id}/"


def _aoi_geojson(order: Order) -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": json.loads(g.geometry.geojson),
                    "properties": {
                        "name": g.name or f"AOI {g.position + 1}",
                        "areaKm2": round(g.area_km2, 1),
                    },
                }
                for g in order.groups.all()
            ],
        }
    )


def _sensor_of(order: Order) -> Any:
    product = getattr(order.data_product, "tasking", None) if order.data_product_id else None
    return product.sensor if product else None


# --- /tasking/ -----------------------------------------------------------------------------------


@require_GET
@org_required
def tasking_home(request: HttpRequest) -> HttpResponse:
    """The org's tasking orders with status and sub-status; drafts can be resumed."""
    qs = tasking_order_list(org=request.org)
    status = request.GET.get("status", "")
    if status in Order.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    for order in page.object_list:
        order.detail_path = _order_path(order)
        order.sensor = _sensor_of(order)
    return render(
        request,
        "tasking/home.html",
        {"page": page, "status_filter": status, "statuses": Order.Status.choices},
    )


# --- /tasking/new/ (extends the tasking-config page with AOIs, checks, drafts, place) ------------


@require_GET
@org_required
def tasking_new(request: HttpRequest) -> HttpResponse:
    """The request page: AOIs (draw/upload), live per-AOI checks, params form, draft, place.
    `?draft=<id>` resumes a draft (its product, params and AOIs)."""
    draft = None
    if request.GET.get("draft"):
        draft = tasking_draft_get(org=request.org, draft_id=request.GET["draft"])
        if draft.data_product_id and not request.GET.get("product"):
            request.GET = request.GET.copy()
            request.GET["product"] = draft.data_product_id
    context = _tasking_new_context(request)
    if draft is not None and context.get("schema"):
        context["fields"] = schema_form_fields(context["schema"], draft.params or {})
    context.update(
        draft=draft,
        draft_aois=_aoi_geojson(draft) if draft else _aoi_from_link(request),
        idempotency_key=uuid.uuid4().hex,
        workspaces=list(workspace_list(org=request.org)),
    )
    if request.htmx and request.htmx.target == "tasking-config":
        return render(request, "tasking/new.html#config", context)
    return render(request, "tasking/request.html", context)


def _aoi_from_link(request: HttpRequest) -> str:
    """`?aoi=<GeoJSON>` (e.g. "Re-task the remainder" from a coverage page) as the starting AOIs.
    A link with an unusable area still opens the page, and says why the area was left out."""
    raw = request.GET.get("aoi", "").strip()
    if not raw:
        return ""
    try:
        features = features_of(raw)
    except InvalidInput as exc:
        messages.warning(request, f"The area in the link was left out: {exc.detail}")
        return ""
    named = [
        {
            "type": "Feature",
            "geometry": f.get("geometry"),
            "properties": {"name": (f.get("properties") or {}).get("name") or f"Area {i + 1}"},
        }
        for i, f in enumerate(features)
    ]
    return json.dumps({"type": "FeatureCollection", "features": named})


def _request_inputs(request: HttpRequest) -> tuple[Any, dict[str, Any], Any]:
    product = tasking_product_get(product_id=request.POST.get("data_product_id", ""))
    params = params_from_form(product_schema(product), request.POST)
    raw = request.POST.get("featureCollection", "").strip()
    return product, params, raw


@require_POST
@org_required
def aoi_check(request: HttpRequest) -> HttpResponse:
    """htmx: per-AOI live checks (area vs limits, vertices, self-intersection with the fix,
    predicted feasibility, price) for what is on the map now. Writes nothing."""
    product, params, raw = _request_inputs(request)
    rows: list[dict[str, Any]] = []
    problem = ""
    if raw:
        try:
            checks = check_features(raw, product.data_product)
        except InvalidInput as exc:
            checks, problem = [], exc.detail
        for c in checks:
            feas = None
            if c.ok:
                try:
                    feas = feature_feasibility(product=product, check=c, params=params)
                except ApplicationError as exc:  # e.g. a window the predictor cannot take
                    problem = exc.detail
            rows.append({"check": c, "feas": feas})
    total = sum(r["check"].credits or 0 for r in rows if r["check"].ok)
    return render(
        request,
        "tasking/_aoi_checks.html",
        {
            "rows": rows,
            "problem": problem,
            "total": total,
            "product": product,
            "all_ok": bool(rows) and all(r["check"].ok for r in rows),
        },
    )


@require_POST
@role_required(*WRITERS)
def draft_save(request: HttpRequest) -> HttpResponse:
    product, params, raw = _request_inputs(request)
    draft = tasking_draft_save(
        org=request.org,
        actor=request.user,
        data_product_id=product.id,
        params=params,
        feature_collection=raw or None,
        draft_id=request.POST.get("draft_id") or None,
        workspace_id=request.POST.get("workspace_id") or None,
    )
    if not request.htmx:
        messages.success(request, "Draft saved.")
        return redirect(f"{reverse('tasking:new')}?draft={draft.id}")
    return render(request, "tasking/_draft_saved.html", {"draft": draft})


@require_POST
@role_required(*WRITERS)
def place(request: HttpRequest) -> HttpResponse:
    """Place the request (Idempotency-Key from the form: a double submit places once)."""
    product, params, raw = _request_inputs(request)
    try:
        order = tasking_order_place(
            org=request.org,
            actor=request.user,
            data_product_id=product.id,
            params=params,
            feature_collection=raw,
            workspace_id=request.POST.get("workspace_id") or None,
            draft_id=request.POST.get("draft_id") or None,
            # The template picker of the params form (kept current by its own htmx swaps).
            template_id=request.POST.get("template") or None,
            idempotency_key=request.POST.get("idempotency_key", "")[:100],
        )
    except InvalidInput as exc:
        errors = exc.extra.get("errors") or [{"msg": exc.detail}]
        return render(request, "tasking/_place_errors.html", {"errors": errors}, status=422)
    messages.success(request, f"Request “{order.display_name}” placed: support will study its feasibility.")
    target = f"{reverse('tasking:home')}?placed={order.id}"
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


# --- /inbox/ -------------------------------------------------------------------------------------


def _window_text(params: dict[str, Any]) -> tuple[Any, Any]:
    return window_of(params)


def _option_rows(study: FeasibilityStudy) -> list[dict[str, Any]]:
    """Options side by side, with the cells that differ between options flagged (and the best)."""
    options = list(study.options.all())
    prices = [o.price_credits for o in options]
    windows = [(o.window_start, o.window_end) for o in options]
    angles = [o.max_off_nadir for o in options]
    captures = [o.expected_captures for o in options]
    priced = [p for p in prices if p is not None]
    rows = []
    for o in options:
        rows.append(
            {
                "option": o,
                "diff_price": len(set(prices)) > 1,
                "best_price": o.price_credits is not None
                and len(priced) > 1
                and o.price_credits == min(priced),
                "diff_window": len(set(windows)) > 1,
                "diff_angle": len(set(angles)) > 1,
                "best_angle": len(set(angles)) > 1 and o.max_off_nadir == min(angles),
                "diff_captures": len(set(captures)) > 1,
            }
        )
    return rows


def _spend_text(org: Any, credits: int | None, wallet: Any) -> dict[str, Any]:
    """What accepting will do to the org's money, said exactly (credits, A$, the wallet after)."""
    if credits is None:
        return {"credits": None, "text": "Nothing is charged now: support will send a quotation to accept."}
    aud = f"A${credits / 100:,.2f}"
    if org.billing_mode == "credit":
        after = wallet.available_credits - credits
        text = (
            f"Reserves {credits:,} credits ({aud}) from your wallet. Available after: {after:,} credits "
            f"(A${after / 100:,.2f})."
        )
        return {"credits": credits, "text": text, "short": after < 0}
    if org.billing_mode == "card":
        return {"credits": credits, "text": f"Authorizes {aud} ({credits:,} credits) on the card on file."}
    return {"credits": credits, "text": f"Adds {aud} ({credits:,} credits) to this month's invoice."}


def _row_context(
    request: HttpRequest, item: Decision, *, wallet: Any = None, admins: list[str] | None = None
):
    obj, order = item.obj, item.obj.order
    wallet = wallet or wallet_get(org=request.org)
    start, end = _window_text(order.params or {})
    ctx: dict[str, Any] = {
        "item": item,
        "obj": obj,
        "order": order,
        "aoi_geojson": _aoi_geojson(order),
        "sensor": _sensor_of(order),
        "window_start": start,
        "window_end": end,
        "order_path": _order_path(order),
        "can_decide": request.membership.role == Role.ADMIN,
        "admins": admins if admins is not None else _admin_names(request.org),
    }
    if item.kind == "feasibility":
        ctx["options"] = _option_rows(obj)
        for row in ctx["options"]:
            row["spend"] = _spend_text(request.org, row["option"].price_credits, wallet)
    else:
        ctx["spend"] = _spend_text(request.org, obj.credits, wallet)
    return ctx


def _admin_names(org: Any) -> list[str]:
    return [
        m.user.display_name if hasattr(m.user, "display_name") else str(m.user)
        for m in Membership.objects.filter(org=org, role=Role.ADMIN).select_related("user")
    ]


def _inbox_context(request: HttpRequest) -> dict[str, Any]:
    kind = request.GET.get("kind", "")
    workspace = request.GET.get("workspace", "")
    rows = decisions_pending(org=request.org, workspace_id=workspace or None, kinds=kind or None)
    page = Paginator(rows, 10).get_page(request.GET.get("page"))
    wallet = wallet_get(org=request.org)
    admins = _admin_names(request.org)
    return {
        "page": page,
        "rows": [_row_context(request, item, wallet=wallet, admins=admins) for item in page.object_list],
        "kind": kind,
        "workspace": workspace,
        "workspaces": list(workspace_list(org=request.org)),
        "pending_count": pending_decision_count(org=request.org),
        "query": urlencode([(k, v) for k, v in (("kind", kind), ("workspace", workspace)) if v]),
    }


@require_GET
@org_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Every pending study and quotation of the org, newest first; htmx polls the list region."""
    context = _inbox_context(request)
    if request.htmx and request.htmx.target == "inbox-list":
        return render(request, "tasking/inbox.html#list", context)
    return render(request, "tasking/inbox.html", context)


@require_GET
@org_required
def inbox_badge(request: HttpRequest) -> HttpResponse:
    return render(request, "tasking/_inbox_badge.html", {"count": pending_decision_count(org=request.org)})


def _decided_row(request: HttpRequest, kind: str, obj: Any, *, error: ApplicationError | None = None):
    obj.refresh_from_db()
    obj.order.refresh_from_db()
    context = {
        "r": _row_context(request, Decision(kind, obj)),
        "error": error,
        "wallet": wallet_get(org=request.org),
        "pending_count": pending_decision_count(org=request.org),
    }
    return render(request, "tasking/_inbox_decided.html", context, status=error.status if error else 200)


@require_POST
@role_required("admin")
def inbox_study_accept(request: HttpRequest, study_id: str) -> HttpResponse:
    study = study_get(org=request.org, study_id=study_id)
    try:
        study = feasibility_decide(
            org=request.org, actor=request.user, study_id=study.id, option_id=request.POST.get("option_id")
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        return _decided_row(request, "feasibility", study, error=exc)
    return _decided_row(request, "feasibility", study)


@require_POST
@role_required("admin")
def inbox_study_reject(request: HttpRequest, study_id: str) -> HttpResponse:
    study = study_get(org=request.org, study_id=study_id)
    try:
        study = study_reject(org=request.org, actor=request.user, study_id=study.id)
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        return _decided_row(request, "feasibility", study, error=exc)
    return _decided_row(request, "feasibility", study)


@require_POST
@role_required("admin")
def inbox_quotation_decide(request: HttpRequest, quotation_id: str) -> HttpResponse:
    quotation = quotation_get(org=request.org, quotation_id=quotation_id)
    try:
        quotation = quotation_decide(
            org=request.org,
            actor=request.user,
            quotation_id=quotation.id,
            decision=request.POST.get("decision", ""),
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        return _decided_row(request, "quotation", quotation, error=exc)
    return _decided_row(request, "quotation", quotation)


# --- /support/ -----------------------------------------------------------------------------------


@require_GET
@staff_required
def support_desk(request: HttpRequest) -> HttpResponse:
    """Across all orgs: tasking orders waiting for a study or a quotation, oldest first."""
    orders = list(support_queue()[:200])
    now = timezone.now()
    features = []
    for order in orders:
        order.sensor = _sensor_of(order)
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
        "sensor": _sensor_of(order),
        "aoi_geojson": _aoi_geojson(order),
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
