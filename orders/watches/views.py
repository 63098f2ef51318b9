"""The Watches page (list, delete), the new-watch form reached from the coverage page ("Watch the
remainder") and the archive page ("Watch this area"), and the link an alert sends."""

from __future__ import annotations

import json
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from geopera_web import jsonbounds
from geopera_web.accounts.decorators import org_required
from geopera_web.errors import InvalidInput

from ..models import DataProduct, OrderType
from .selectors import watch_list, watch_watcher_names
from .services import (
    WRITE_ROLES,
    UnknownCollection,
    order_remainder,
    watch_alert_preview,
    watch_alert_to_cart,
    watch_create,
    watch_delete,
    watch_watcher_set,
)


def _can_write(request: HttpRequest) -> bool:
    return request.membership.role in WRITE_ROLES


@require_GET
@org_required
def watches_page(request: HttpRequest) -> HttpResponse:
    watches = list(watch_list(org=request.org, user=request.user))
    names = watch_watcher_names(watch_ids=[w.pk for w in watches])
    for w in watches:
        w.watcher_names = names.get(w.pk, [])
    return render(
        request,
        "orders/watches/watches.html",
        {"watches": watches, "can_write": _can_write(request)},
    )


@require_POST
@org_required
def watch_watch_view(request: HttpRequest, watch_id: UUID) -> HttpResponse:
    """Watch / Stop watching on the Watches page (any member of the org; another org's is a 404)."""
    watching = request.POST.get("watch") == "1"
    watch = watch_watcher_set(org=request.org, user=request.user, watch_id=watch_id, watching=watching)
    messages.success(
        request,
        f"You will be told of new captures for “{watch.name}”."
        if watching
        else f"You will no longer be told of “{watch.name}”.",
    )
    return redirect("orders:watches")


def _form_from(data) -> dict:
    return {
        "name": data.get("name", ""),
        "aoi": data.get("aoi", ""),
        "order": data.get("order", ""),
        "max_cloud_cover": data.get("max_cloud_cover", data.get("cloud", "")),
        "max_off_nadir": data.get("max_off_nadir", data.get("offnadir", "")),
        "collections": data.getlist("collections")
        or [c for c in data.get("collections_csv", "").split(",") if c],
        "min_new_coverage_percent": data.get("min_new_coverage_percent", "10"),
    }


@require_http_methods(["GET", "POST"])
@org_required
def watch_new(request: HttpRequest) -> HttpResponse:
    """GET: the form, pre-filled from the archive's filters (`aoi`, `cloud`, `offnadir`,
    `collections`) or from a tasking order (`order`: its remainder). POST: save the watch."""
    if request.method == "POST":
        form = _form_from(request.POST)
        try:
            watch_create(
                org=request.org,
                user=request.user,
                name=form["name"],
                aoi=form["aoi"] or None,
                order_id=form["order"] or None,
                max_cloud_cover=form["max_cloud_cover"],
                max_off_nadir=form["max_off_nadir"],
                collections=form["collections"],
                min_new_coverage_percent=form["min_new_coverage_percent"],
            )
        except (InvalidInput, UnknownCollection) as exc:
            # The form again with what is wrong (an unknown collection is named by id: a 404).
            return _form(request, form, error=exc.detail, status=exc.status)
        messages.success(request, "Watch saved: you will be told when new captures cover it.")
        return redirect("orders:watches")
    data = request.GET.copy()
    if "collections" in data and "," in (data.get("collections") or ""):
        data["collections_csv"] = data.pop("collections")[0]
    form = _form_from(data)
    return _form(request, form)


def _form(request: HttpRequest, form: dict, *, error: str = "", status: int = 200) -> HttpResponse:
    preview = None
    order = None
    if form["order"]:
        from ..coverage.selectors import tasking_order_get

        order = tasking_order_get(org=request.org, order_id=form["order"])  # 404 if not this org's
        remainder = order_remainder(org=request.org, order_id=order.pk)
        preview = json.loads(remainder.geojson) if remainder is not None else None
        form["name"] = form["name"] or f"Remainder of {order.display_name or 'order'}"
    elif form["aoi"]:
        try:
            preview = jsonbounds.loads(form["aoi"])
        except ValueError:
            preview = None
    products = DataProduct.objects.filter(order_type=OrderType.ARCHIVE, is_active=True).order_by("name")
    return render(
        request,
        "orders/watches/watch_new.html",
        {
            "form": form,
            "order": order,
            "error": error,
            "preview": preview,
            "products": products,
            "can_write": _can_write(request),
        },
        status=status,
    )


@require_POST
@org_required
def watch_delete_view(request: HttpRequest, watch_id: UUID) -> HttpResponse:
    watch_delete(org=request.org, user=request.user, watch_id=watch_id)
    messages.success(request, "Watch deleted.")
    return redirect("orders:watches")


@require_http_methods(["GET", "POST"])
@org_required
def watch_alert_open(request: HttpRequest, alert_id: UUID) -> HttpResponse:
    """The link of an alert. GET (the e-mail's link) changes nothing: a confirmation page says
    what would be added (the captures clipped to the watched area) and at what price. POST
    (CSRF-checked) puts them in the person's cart (posting twice adds nothing twice), then the
    archive map opens on the area with them selected. An alert is its watch's watchers' alone:
    anyone else's is a 404."""
    from ..coverage.views import _aoi_param

    if request.method == "GET":
        preview = watch_alert_preview(org=request.org, user=request.user, alert_id=alert_id)
        return render(request, "orders/watches/watch_alert.html", preview)
    alert, scene_ids = watch_alert_to_cart(org=request.org, user=request.user, alert_id=alert_id)
    watch = alert.watch
    params = {"aoi": _aoi_param(json.loads(watch.aoi.json)), "select": ",".join(scene_ids)}
    if watch.max_cloud_cover is not None:
        params["cloud"] = f"{watch.max_cloud_cover:g}"
    if watch.max_off_nadir is not None:
        params["offnadir"] = f"{watch.max_off_nadir:g}"
    if watch.collections:
        params["collections"] = ",".join(watch.collections)
    return redirect(f"{reverse('orders:archive')}?{urlencode(params)}")
