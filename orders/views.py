from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.contrib.gis.geos import GEOSGeometry
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from geopera_web.accounts.decorators import org_required, role_required, staff_required
from geopera_web.accounts.selectors import workspace_list
from geopera_web.api.idempotency import run_idempotent
from geopera_web.api.views import json_response
from geopera_web.billing.gateways import TestGateway, get_gateway
from geopera_web.billing.selectors import wallet_get
from geopera_web.errors import ApplicationError, Conflict, InvalidInput, PaymentRequired

from .aoi_files import MAX_UPLOAD_BYTES, aoi_from_upload
from .api import order_to_wire
from .cart.pricing import archive_quote
from .catalog.data import ARCHIVE_HOST, quicklook_shapes
from .catalog.selectors import MAX_LIMIT, archive_products, quicklook_cloud_cover
from .fulfilment.forms import ManualDeliveryForm
from .models import DeliveredCapture, Order, OrderType
from .selectors import (
    cart_get,
    cart_items,
    coverage_features,
    coverage_geometry_download,
    coverage_group_figures,
    coverage_history,
    coverage_summary_for_orders,
    delivered_captures_list,
    order_events,
    order_filters_parse,
    order_get_detail,
    order_get_for_support,
    order_search,
)
from .services import (
    acquisition_end_of,
    cart_item_clip,
    cart_payload,
    cart_place,
    cart_remove,
    cart_set_aoi,
    cart_set_split,
    cart_toggle,
    coverage_target_for,
    manual_delivery_record,
    order_cancel,
    order_cancel_effect,
    order_is_cancellable,
    order_tag_remove,
    order_tags_merge,
)


def _coming(request: HttpRequest, title: str, what: list[str]) -> HttpResponse:
    return render(request, "placeholder.html", {"title": title, "what": what})


@require_GET
@org_required
def archive(request: HttpRequest) -> HttpResponse:
    """The map-centric archive: filters + results | map | cart panel. All searching happens in
    static/js/archive.js against catalog.search with the session (filters live in the URL)."""
    products = list(archive_products())
    config = {
        "searchUrl": "/v1/op/catalog.search",
        "aoiUploadUrl": "/archive/aoi-upload",
        "hostName": ARCHIVE_HOST,
        "pageSize": 200,
        "maxFeatures": MAX_LIMIT,
        "collections": [
            {
                "id": p.collection,
                "name": p.name,
                "creditsPerKm2": p.credits_per_km2,
                "minAreaKm2": p.min_area_km2,
            }
            for p in products
        ],
    }
    return render(request, "orders/archive.html", {"products": products, "archive_config": config})


@require_POST
@org_required
def archive_aoi_upload(request: HttpRequest) -> JsonResponse:
    """An uploaded AOI file → its GeoJSON geometry, or a 400 saying exactly what is wrong."""
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse(
            {"error": "Choose a file to upload (GeoJSON, KML or zipped shapefile)."}, status=400
        )
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        return JsonResponse(
            {"error": f"{upload.name} is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB."}, status=400
        )
    try:
        geom = aoi_from_upload(filename=upload.name or "upload", data=upload.read())
    except InvalidInput as exc:
        return JsonResponse({"error": exc.detail}, status=400)
    return JsonResponse({"geometry": json.loads(geom.geojson), "name": upload.name})


@require_GET
def archive_quicklook(request: HttpRequest, scene_id: str) -> HttpResponse:
    """A synthetic quicklook (SVG) for a simulated scene: terrain colours from the scene id, clouds
    in proportion to its cloud cover. Public like the STAC catalog that links to it."""
    cloud = quicklook_cloud_cover(scene_id=scene_id)
    if cloud is None:
        raise Http404("No such scene.")
    svg = render_to_string("orders/quicklook.svg", quicklook_shapes(scene_id=scene_id, cloud_cover=cloud))
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
@org_required
def archive_products_page(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/products.html", {"products": archive_products()})


# --- cart (the panel on the archive page) ---------------------------------------------------------


def _panel_context(
    request: HttpRequest,
    *,
    key: str | None = None,
    notice: str = "",
    payment: dict | None = None,
    form: dict | None = None,
) -> dict:
    """Everything the cart panel shows, in a constant number of queries: the items, the server's
    estimate for them, the wallet after the order, and a fresh Idempotency-Key for this click-through."""
    org, user = request.org, request.user
    cart = cart_get(org=org, user=user)
    items = cart_items(cart=cart)
    split = bool(cart and cart.split_by_date)
    quote = archive_quote(captures=cart_payload(items), split_by_date=split)
    errors = {e.capture_id: e for e in quote.errors}
    wallet = wallet_get(org=org)
    total = quote.total_credits
    groups_fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(g.geometry.json),
                "properties": {"captures": g.capture_ids, "credits": g.credits, "name": g.name},
            }
            for g in quote.groups
            if g.geometry is not None
        ],
    }
    state = {
        "captureIds": [i.capture.scene_id for i in items],
        "clipped": [i.capture.scene_id for i in items if i.is_clipped],
        "billed": groups_fc,
        "hasAoi": bool(cart and cart.aoi),
        "totalCredits": total,
    }
    return {
        "cart_panel": True,
        "cart": cart,
        "items": [{"item": i, "error": errors.get(i.capture.scene_id)} for i in items],
        "quote": quote,
        "split_by_date": split,
        "has_aoi": bool(cart and cart.aoi),
        "billing_mode": org.billing_mode,
        "wallet": wallet,
        "balance_after": wallet.available_credits - total,
        "workspaces": list(workspace_list(org=org)),
        "license_types": LICENSE_TYPES,
        "idempotency_key": key or str(uuid.uuid4()),
        "cart_state": state,
        "can_place": request.membership.role in ("admin", "operator"),
        "notice": notice,
        "payment": payment,
        "form": form or {},
    }


LICENSE_TYPES = [("standard", "Standard (single organization)"), ("extended", "Extended (partners, resale)")]


def _panel(request: HttpRequest, status: int = 200, **kwargs) -> HttpResponse:
    return render(request, "orders/_cart_panel.html", _panel_context(request, **kwargs), status=status)


@require_GET
@org_required
def cart_panel(request: HttpRequest) -> HttpResponse:
    return _panel(request)


@require_POST
@org_required
def cart_toggle_view(request: HttpRequest) -> HttpResponse:
    cart_toggle(org=request.org, user=request.user, capture_id=request.POST.get("capture_id", ""))
    return _panel(request)


@require_POST
@org_required
def cart_remove_view(request: HttpRequest, capture_id: str) -> HttpResponse:
    cart_remove(org=request.org, user=request.user, capture_id=capture_id)
    return _panel(request)


@require_POST
@org_required
def cart_aoi_view(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("geometry") or ""
    try:
        geometry = json.loads(raw) if raw.strip() else None
    except ValueError:
        raise InvalidInput("The area of interest is not valid JSON.") from None
    cart_set_aoi(org=request.org, user=request.user, geometry=geometry)
    return _panel(request)


@require_POST
@org_required
def cart_clip_view(request: HttpRequest, capture_id: str) -> HttpResponse:
    clip = request.POST.get("clip") in ("1", "true", "on")
    cart_item_clip(org=request.org, user=request.user, capture_id=capture_id, clip=clip)
    return _panel(request)


@require_POST
@org_required
def cart_split_view(request: HttpRequest) -> HttpResponse:
    split = request.POST.get("splitByDate") in ("1", "true", "on")
    cart_set_split(org=request.org, user=request.user, split_by_date=split)
    return _panel(request)


def _place(request: HttpRequest, *, key: str, workspace_id: str, license_type: str) -> HttpResponse:
    """Place the cart under `key` through the platform's idempotency store, shared with the API's
    orders.archive.place: a double click or a retry after 3-D Secure replays, never re-places."""
    form = {"projectId": workspace_id, "licenseType": license_type}
    # The fingerprint is the form, not the cart: the key is minted with each panel render (i.e. per
    # cart state), and the cart is emptied by the first placement, so a replay must not depend on it.
    body = {"via": "cart", "projectId": workspace_id or None, "licenseType": license_type}

    def execute() -> HttpResponse:
        order = cart_place(
            org=request.org,
            user=request.user,
            workspace_id=workspace_id or None,
            license_type=license_type,
            idempotency_key=key,
        )
        return json_response(order_to_wire(order_get_detail(org=request.org, order_id=order.pk)), status=202)

    try:
        response = run_idempotent(
            org=request.org, operation="orders.archive.place", key=key, body=body, execute=execute
        )
    except PaymentRequired as exc:
        payment = {
            "message": exc.detail,
            "client_secret": exc.extra.get("client_secret", ""),
            "slug": exc.slug,
        }
        return _panel(request, status=402, key=key, payment=payment, form=form)
    except Conflict as exc:
        if exc.slug == "idempotency-key-in-flight":
            return _panel(request, key=key, notice="in-flight", form=form)
        return _panel(request, status=409, key=key, notice=exc.detail, form=form)
    except ApplicationError as exc:
        return _panel(request, status=exc.status, key=key, notice=exc.detail, form=form)
    order_id = json.loads(response.content)["id"]
    url = reverse("orders:detail", args=[order_id])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _key_from(request: HttpRequest) -> str:
    key = request.POST.get("idempotency_key", "").strip()
    return key or str(uuid.uuid4())


@require_POST
@role_required("admin", "operator")
def cart_place_view(request: HttpRequest) -> HttpResponse:
    return _place(
        request,
        key=_key_from(request),
        workspace_id=request.POST.get("projectId", ""),
        license_type=request.POST.get("licenseType") or "standard",
    )


@require_POST
@role_required("admin", "operator")
def cart_challenge_view(request: HttpRequest) -> HttpResponse:
    """Stands in for the bank's 3-D Secure page (test gateway only), then retries the placement
    with the SAME Idempotency-Key, as a real checkout does after the challenge."""
    if not isinstance(get_gateway(), TestGateway):
        raise Http404
    TestGateway.complete_challenge(request.POST.get("client_secret", ""))
    return _place(
        request,
        key=_key_from(request),
        workspace_id=request.POST.get("projectId", ""),
        license_type=request.POST.get("licenseType") or "standard",
    )


# --- order pages ---------------------------------------------------------------------------------


@require_GET
@org_required
def order_list_page(request: HttpRequest) -> HttpResponse:
    params = request.GET
    status = params.get("status", "")
    data = {
        "type": params.get("type", ""),
        "status": status if status in Order.Status.values else "",
        "workspaceId": params.get("workspace", ""),
        "displayName": params.get("q", ""),
        "tags": params.get("tags", ""),
        "sort": params.get("sort") or "createdAt,desc",
    }
    if data["type"] not in OrderType.values:
        data["type"] = ""
    filters = order_filters_parse(data)
    qs = order_search(org=request.org, filters=filters, with_groups=False)
    totals = qs.order_by().aggregate(n=Count("id"), credits=Sum("total_credits"))
    page = Paginator(qs, 25).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "orders": page.object_list,
        # One query for the page's tasking orders (no N+1); only orders that acquire have coverage.
        "coverage": coverage_summary_for_orders(
            org=request.org, order_ids=[o.pk for o in page.object_list if o.status in ACQUIRING]
        ),
        "totals": totals,
        "query": query.urlencode(),
        "params": params,
        "statuses": Order.Status.choices,
        "types": OrderType.choices,
        "workspaces": workspace_list(org=request.org),
    }
    template = "orders/order_list.html#results" if request.htmx else "orders/order_list.html"
    return render(request, template, context)


# Orders whose coverage means something: acquiring, or done acquiring.
ACQUIRING = (Order.Status.ACTIVE, Order.Status.FULFILLED, Order.Status.PARTIALLY_FULFILLED)


def _detail_context(request: HttpRequest, order: Order) -> dict:
    groups = list(order.groups.all())
    if order.order_type == OrderType.TASKING:
        # Tasking deliveries are DeliveredCaptures (one per scene, with STAC assets).
        assets = [
            {
                "capture_id": d.scene_id,
                "href": (d.assets.get("visual") or next(iter(d.assets.values()), {})).get("href", ""),
            }
            for d in delivered_captures_list(org=request.org, order_id=order.pk).filter(
                status=DeliveredCapture.Status.DELIVERED
            )
        ]
    else:
        deliveries = (order.metadata or {}).get("deliveries") or {}
        assets = [{"capture_id": k, **v} for k, v in sorted(deliveries.items())]
    return {
        "order": order,
        "groups": groups,
        "events": list(order_events(order=order)),
        "assets": assets,
        "groups_geojson": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": json.loads(g.geometry.json),
                    "properties": {"name": g.name or f"Group {g.position + 1}", "credits": g.credits},
                }
                for g in groups
            ],
        },
        "coverage_percent": coverage_summary_for_orders(org=request.org, order_ids=[order.pk]).get(order.pk)
        if order.order_type == OrderType.TASKING and order.status in ACQUIRING
        else None,
        "cancellable": order_is_cancellable(order),
        "cancel_effect": order_cancel_effect(order),
        "can_write": request.membership.role in ("admin", "operator"),
    }


@require_GET
@org_required
def order_detail_page(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    order = order_get_detail(org=request.org, order_id=order_id)
    return render(request, "orders/order_detail.html", _detail_context(request, order))


@require_POST
@role_required("admin", "operator")
def order_tags_view(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    if "remove" in request.POST:
        order_tag_remove(org=request.org, actor=request.user, order_id=order_id, tag=request.POST["remove"])
    else:
        tags = [t for t in request.POST.get("tags", "").split(",") if t.strip()]
        order_tags_merge(org=request.org, actor=request.user, order_id=order_id, tags=tags)
    order = order_get_detail(org=request.org, order_id=order_id)
    if request.htmx:
        return render(request, "orders/order_detail.html#tags", _detail_context(request, order))
    return redirect("orders:detail", order_id=order.pk)


@require_POST
@role_required("admin", "operator")
def order_cancel_view(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    order, effect = order_cancel(org=request.org, actor=request.user, order_id=order_id)
    messages.success(request, f"Order cancelled. {effect.done_sentence}")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("orders:detail", args=[order.pk]))
    return redirect("orders:detail", order_id=order.pk)


# --- coverage and deliveries ---------------------------------------------------------------------

# A remainder handed to another page by URL is simplified until the link stays a sane length.
_AOI_URL_MAX = 6000

PALETTE = ["#0f6e8c", "#7c3aed", "#db2777", "#0d9488", "#ca8a04", "#2563eb"]


def _url_or(name: str, fallback: str, **kwargs: Any) -> str:
    """reverse() a page another app or branch owns, with the path it is known to live at."""
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return fallback


def _round_coords(value: Any) -> Any:
    if isinstance(value, list):
        return [_round_coords(v) for v in value]
    return round(value, 5) if isinstance(value, float) else value


def _aoi_param(geometry: dict | None) -> str:
    """A compact GeoJSON geometry for a ?aoi= link (simplified within ~50 m when it is long)."""
    if not geometry:
        return ""
    geom = GEOSGeometry(json.dumps(geometry), srid=4326)
    for tolerance in (0.0, 0.0002, 0.0005, 0.001, 0.003, 0.01):
        g = geom.simplify(tolerance, preserve_topology=True) if tolerance else geom
        doc = json.loads(g.geojson)
        text = json.dumps(
            {"type": doc["type"], "coordinates": _round_coords(doc["coordinates"])}, separators=(",", ":")
        )
        if len(text) <= _AOI_URL_MAX:
            break
    return text


def _chart(points: list[dict[str, Any]], target: float) -> dict[str, Any] | None:
    """Coverage over time as SVG polylines (viewBox 0 0 320 120; y is percent)."""
    if not points:
        return None
    w, h, pad_l, pad_b, pad_t = 320.0, 120.0, 28.0, 18.0, 6.0
    t0, t1 = points[0]["at"], points[-1]["at"]
    span = (t1 - t0).total_seconds() or 1.0

    def xy(at: datetime, pct: float) -> str:
        x = pad_l + (w - pad_l - 6) * ((at - t0).total_seconds() / span if len(points) > 1 else 1.0)
        y = pad_t + (h - pad_t - pad_b) * (1 - min(max(pct, 0.0), 100.0) / 100)
        return f"{x:.1f},{y:.1f}"

    def y_of(pct: float) -> float:
        return round(pad_t + (h - pad_t - pad_b) * (1 - pct / 100), 1)

    # A step line: coverage holds until the next snapshot.
    line: list[str] = []
    for i, p in enumerate(points):
        if i:
            line.append(xy(p["at"], points[i - 1]["percent"]))
        line.append(xy(p["at"], p["percent"]))
    groups: dict[str, list[str]] = {}
    for i, p in enumerate(points):
        for gid, pct in p["groups"].items():
            series = groups.setdefault(gid, [])
            if i:
                series.append(xy(p["at"], points[i - 1]["groups"].get(gid, 0.0)))
            series.append(xy(p["at"], pct))
    return {
        "line": " ".join(line),
        "groups": groups,
        "dots": [
            dict(zip(("x", "y"), xy(p["at"], p["percent"]).split(","), strict=True)) | p for p in points
        ],
        "target_y": y_of(target),
        "y50": y_of(50),
        "y100": y_of(100),
        "y0": y_of(0),
        "start": t0,
        "end": t1,
        "last": points[-1]["percent"],
    }


@require_GET
@org_required
def coverage_page(request: HttpRequest, order_id: UUID) -> HttpResponse:
    """Per-AOI coverage of a tasking order: map, table, history, and what to do with a remainder."""
    order, features = coverage_features(org=request.org, order_id=order_id)
    _, figures = coverage_group_figures(org=request.org, order_id=order_id)
    history = coverage_history(org=request.org, order_id=order_id)
    target = coverage_target_for(order)
    captures = delivered_captures_list(org=request.org, order_id=order_id).order_by("acquired_at")
    footprints = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(c.footprint.geojson),
                "properties": {
                    "scene": c.scene_id,
                    "groupId": str(c.group_id),
                    "status": c.status,
                    "acquired": c.acquired_at.strftime("%-d %b %Y %H:%M UTC"),
                    "delivered": c.delivered_at.strftime("%-d %b %Y"),
                    "cloud": c.cloud_cover,
                    "reason": c.status_reason,
                },
            }
            for c in captures
        ],
    }
    remainders = {
        f["properties"]["groupId"]: f["geometry"] for f in features if f["properties"]["kind"] == "remainder"
    }
    retask = _url_or("tasking:new", "/tasking/new/")
    archive_url = _url_or("orders:archive", "/archive/")
    rows = []
    for i, f in enumerate(figures):
        gid = str(f.group_id)
        aoi = _aoi_param(remainders.get(gid))
        product = order.data_product_id or ""
        rows.append(
            {
                "f": f,
                "color": PALETTE[i % len(PALETTE)],
                "at_target": f.covered_percent >= target - 1e-9,
                "archive_url": f"{archive_url}?{urlencode({'aoi': aoi})}" if aoi else "",
                "retask_url": f"{retask}?{urlencode({'aoi': aoi, 'product': product})}" if aoi else "",
            }
        )
    requested = sum(f.requested_km2 for f in figures)
    covered = sum(f.covered_km2 for f in figures)
    refund = order.events.filter(kind="coverage_refund").order_by("-created_at").first()
    context = {
        "order": order,
        "rows": rows,
        "target": target,
        "overall": 100.0 * covered / requested if requested else 0.0,
        "requested_km2": requested,
        "covered_km2": covered,
        "remainder_km2": sum(f.remainder_km2 for f in figures),
        "captures_delivered": sum(1 for c in captures if c.status == "delivered"),
        "captures_failed": sum(1 for c in captures if c.status == "failed"),
        "last_delivery": max((c.delivered_at for c in captures), default=None),
        "chart": _chart(history, target),
        "refund": refund,
        "window_end": acquisition_end_of(order),
        "detail_url": _url_or("orders:detail", f"/orders/{order.pk}/", order_id=order.pk),
        "map_data": {
            "coverage": {"type": "FeatureCollection", "features": features},
            "footprints": footprints,
            "colors": {str(r["f"].group_id): r["color"] for r in rows},
        },
    }
    return render(request, "orders/coverage.html", context)


@require_GET
@org_required
def coverage_download(request: HttpRequest, order_id: UUID, group_id: UUID, kind: str) -> HttpResponse:
    """One AOI's covered or remainder geometry as a GeoJSON file."""
    order, group, fc = coverage_geometry_download(
        org=request.org, order_id=order_id, group_id=group_id, kind=kind
    )
    name = slugify(f"{order.display_name or 'order'}-{group}-{kind}") or f"{kind}"
    response = HttpResponse(json.dumps(fc), content_type="application/geo+json")
    response["Content-Disposition"] = f'attachment; filename="{name}.geojson"'
    return response


@require_http_methods(["GET", "POST"])
@staff_required
def support_delivery_new(request: HttpRequest, order_id: UUID) -> HttpResponse:
    """Support staff record a delivery by hand: a STAC Item or GeoJSON footprint for one AOI."""
    order = order_get_for_support(order_id=order_id)
    form = ManualDeliveryForm(request.POST or None, request.FILES or None, order=order)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                capture = manual_delivery_record(
                    order=order,
                    group_id=form.cleaned_data["group"],
                    upload=form.cleaned_data["file"].read(),
                    actor=request.user,
                    acquired_at=form.cleaned_data.get("acquired_at"),
                    note=form.cleaned_data.get("note", ""),
                )
            except InvalidInput as exc:
                form.add_error("file", exc.detail)
            else:
                messages.success(
                    request, f"Recorded {capture.scene_id} for {capture.group}. Coverage is being updated."
                )
                return redirect(request.path)
        status = 400
    deliveries = order.delivered_captures.select_related("group").order_by("-delivered_at", "scene_id")[:50]
    return render(
        request,
        "orders/support_delivery_new.html",
        {"order": order, "form": form, "deliveries": deliveries},
        status=status,
    )
