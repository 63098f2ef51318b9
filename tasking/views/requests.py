"""Pages of tasking requests: the org's tasking list and the request page (AOIs drawn or
uploaded, live per-AOI checks, the schema-driven params form, drafts, place). Thin: selectors to
read, services to write."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from geopera_web.accounts.decorators import org_required, role_required
from geopera_web.accounts.selectors import workspace_list_orderable
from geopera_web.errors import ApplicationError, InvalidInput
from orders.models import Order
from orders.states import STATUS_FILTER_CHOICES, order_states_attach

from ..aoi import check_features, features_of
from ..feasibility import feature_feasibility, prediction_work_ensure
from ..models import TaskingProduct, TaskingTemplate
from ..schemas import (
    default_window,
    params_from_form,
    params_validate,
    product_schema,
    schema_form_fields,
    template_params,
)
from ..selectors import (
    tasking_draft_get,
    tasking_order_list,
    tasking_product_for_sensor,
    tasking_product_get,
    tasking_product_list,
    template_get,
    template_list,
)
from ..services import (
    tasking_draft_save,
    tasking_order_place,
)
from .common import aoi_geojson, order_path, sensor_of

WRITERS = ("admin", "operator")


@require_GET
@org_required
def tasking_home(request: HttpRequest) -> HttpResponse:
    """The org's tasking orders with status and sub-status; drafts can be resumed."""
    qs = tasking_order_list(org=request.org)
    status = request.GET.get("status", "")
    if status in Order.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    page.object_list = order_states_attach(page.object_list)
    for order in page.object_list:
        order.detail_path = order_path(order)
        order.sensor = sensor_of(order)
    return render(
        request,
        "tasking/home.html",
        {"page": page, "status_filter": status, "statuses": STATUS_FILTER_CHOICES},
    )


def _tasking_new_context(request: HttpRequest) -> dict[str, Any]:
    """Pickers and the schema-driven params form. `?template=<id>` selects the template's product
    and prefills from it; `?product=<data_product_id>` picks a product."""
    products = list(tasking_product_list())
    templates = list(template_list(org=request.org))
    template: TaskingTemplate | None = None
    product: TaskingProduct | None = None
    template_ref = request.GET.get("template", "")
    if template_ref:
        template = template_get(org=request.org, template_id=template_ref)
        product = tasking_product_for_sensor(sensor=template.sensor)
    product_ref = request.GET.get("product", "")
    if product_ref and (template is None or product is None or product.id != product_ref):
        # An explicit product wins over the template's (the template still prefills what fits).
        product = tasking_product_get(product_id=product_ref)
    if product is None and products:
        product = products[0]
    values: dict[str, Any] = {}
    if product is not None and template is not None and template.sensor_id == product.sensor_id:
        values = template_params(template, product)
        values["displayName"] = template.name
        if template.description:
            values["extraDescription"] = template.description
    if product is not None and template is None:
        # A window to adjust rather than two empty date pickers (a template that is not "capture
        # ASAP" leaves them empty on purpose).
        values["acquisitionStart"], values["acquisitionEnd"] = default_window(product)
    schema = product_schema(product) if product else None
    return {
        "products": products,
        "templates": templates,
        "product": product,
        "template": template,
        "schema": schema,
        "fields": schema_form_fields(schema, values) if schema else [],
        "params_values": values,
    }


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
        draft_aois=aoi_geojson(draft) if draft else _aoi_from_link(request),
        idempotency_key=uuid.uuid4().hex,
        # Only where this person may place (a viewer of a workspace would be refused there).
        workspaces=list(
            workspace_list_orderable(org=request.org, user=request.user, org_role=request.membership.role)
        ),
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
    params_ok = True
    try:  # the placement rules, none required yet: a bad field is said, not predicted on
        params_validate(product=product, params=params, partial=True)
    except InvalidInput as exc:
        problem, params_ok = exc.detail, False
    if raw:
        try:
            checks = check_features(raw, product.data_product)
        except InvalidInput as exc:
            checks, problem = [], exc.detail
        if params_ok:
            try:  # the same bound on prediction work as the API: said, not predicted
                prediction_work_ensure(product=product, checks=checks, params=params)
            except InvalidInput as exc:
                problem, params_ok = exc.detail, False
        for c in checks:
            feas = None
            if c.ok and params_ok:
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


@require_POST
@org_required
def tasking_params_check(request: HttpRequest) -> HttpResponse:
    """htmx: validate the params form on the server with the product's schema and re-render it
    with per-field errors (or a confirmation). Places nothing."""
    product = tasking_product_get(product_id=request.POST.get("data_product_id", ""))
    schema = product_schema(product)
    params = params_from_form(schema, request.POST)
    errors: list[dict[str, Any]] = []
    try:
        params_validate(product=product, params=params)
    except InvalidInput as exc:
        errors = exc.extra.get("errors", [])
    fields = schema_form_fields(schema, params, errors)
    return render(
        request,
        "tasking/_params_form.html",
        {"fields": fields, "schema": schema, "product": product, "checked": not errors, "errors": errors},
        status=422 if errors else 200,
    )
