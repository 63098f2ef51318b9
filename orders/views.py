"""Order pages: the org's order list and an order's detail page (tags, cancel). The sub-packages
have their own pages (`orders.catalog.views`, `.cart.views`, `.coverage.views`, `.fulfilment.views`)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from geopera_web.accounts.decorators import org_required, role_required
from geopera_web.accounts.selectors import workspace_list, workspace_may_order
from geopera_web.errors import Conflict, InvalidInput, NotFound, parse_uuid, parse_whole
from geopera_web.events.notifications import order_watch_state

from .coverage.selectors import coverage_summary_for_orders
from .fulfilment.selectors import delivered_asset_count, delivered_asset_links
from .lineage.graph import order_lineage_captures, order_lineage_deliveries, order_lineage_outline
from .models import Order, OrderGroup, OrderType
from .selectors import order_events_latest, order_filters_parse, order_get, order_get_detail, order_search
from .services import (
    CancelEffect,
    order_cancel,
    order_cancel_effect,
    order_is_cancellable,
    order_tag_remove,
    order_tags_merge,
    order_watch_set,
)
from .states import STATUS_FILTER_CHOICES, order_states_attach
from .timeline import timeline_context_for, timeline_lines


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
    # Drafts were never placed and cancelled orders are not being bought: the total leaves them out.
    totals = qs.order_by().aggregate(
        n=Count("id"),
        credits=Sum("total_credits", filter=~Q(status__in=[Order.Status.DRAFT, Order.Status.CANCELLED])),
    )
    page = Paginator(qs, 25).get_page(params.get("page"))
    page.object_list = order_states_attach(page.object_list)
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
        "statuses": STATUS_FILTER_CHOICES,
        "types": OrderType.choices,
        "workspaces": workspace_list(org=request.org),
    }
    template = "orders/order_list.html#results" if request.htmx else "orders/order_list.html"
    return render(request, template, context)


# Orders whose coverage means something: acquiring, or done acquiring.
ACQUIRING = (Order.Status.ACTIVE, Order.Status.FULFILLED, Order.Status.PARTIALLY_FULFILLED)


def _rows() -> int:
    """How many rows each of the order page's lists (assets, timeline, a group's captures in the
    lineage) shows at once; the rest come a page at a time ("Show more")."""
    return settings.ORDER_PAGE_MAX_ROWS


def _offset(request: HttpRequest) -> int:
    offset = parse_whole(request.GET.get("offset", "0"))
    if offset is None:
        raise InvalidInput("offset must be a whole number of rows, 0 or more.", slug="invalid-offset")
    return offset


def _timeline_page(request: HttpRequest, order: Order, skip: int, lineage: dict) -> dict:
    ctx = timeline_context_for(order=order, show_money=request.membership.role == "admin", lineage=lineage)
    rows = _rows()
    events = order_events_latest(order=order, skip=skip, rows=rows)
    total = order.events.count()
    return {"timeline": timeline_lines(events, ctx), "timeline_total": total, "timeline_next": skip + rows}


def _assets_page(order: Order, offset: int) -> dict:
    rows = _rows()
    assets = delivered_asset_links(order=order, offset=offset, limit=rows)
    total = delivered_asset_count(order=order)
    return {"assets": assets, "assets_total": total, "assets_next": offset + len(assets)}


def _cancel_preview(request: HttpRequest, order: Order, series: Any) -> CancelEffect:
    """What the order page's Cancel does: cancelling a series parent cancels its series
    (`orders.services.order_cancel`), so its dialog shows the series' plan."""
    from tasking.series import series_cancel_preview, series_cancelling_parent

    if series is not None and series_cancelling_parent(order) is not None:
        _, plan = series_cancel_preview(org=request.org, series_id=series.pk)
        return plan.effect(order.billing_mode)
    return order_cancel_effect(order)


def _detail_context(request: HttpRequest, order: Order) -> dict:
    groups = list(order.groups.all())
    # Deliveries are DeliveredCaptures for every order type (one per scene, with STAC assets).
    # Every list is bounded (ORDER_PAGE_MAX_ROWS) with its total; "Show more" pages in place.
    lineage = order_lineage_outline(org=request.org, order_id=order.pk, rows=_rows())
    return {
        "order": order,
        "groups": groups,
        # The groups are priced at list; a quote (or a series' share of one) may set another total.
        "groups_credits": sum(g.credits for g in groups),
        **_timeline_page(request, order, 0, lineage),
        **_assets_page(order, 0),
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
        # A recurring tasking series (tasking.series): the parent's series, or the child's.
        "series_parent": (parent_series := getattr(order, "series", None)),
        "series_child": ((order.metadata or {}).get("series") or None) if parent_series is None else None,
        "cancellable": (cancellable := order_is_cancellable(order)),
        # The cancel preview (for an acquiring tasking order it measures coverage now; for a series
        # parent, the series' plan: which occurrences are cancelled and which run on).
        "cancel_effect": _cancel_preview(request, order, parent_series) if cancellable else None,
        "can_write": request.membership.role in ("admin", "operator")
        and workspace_may_order(workspace=order.workspace, user=request.user),
        "lineage": lineage,
        "watch": order_watch_state(org=request.org, user=request.user, order_id=order.pk),
    }


@require_GET
@org_required
def order_detail_page(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    order = order_get_detail(org=request.org, order_id=order_id)
    return render(request, "orders/order_detail.html", _detail_context(request, order))


@require_GET
@org_required
def order_assets_more(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    """The next page of the order page's asset list (htmx, appended in place)."""
    order = order_get(org=request.org, order_id=order_id)
    context = {"order": order, **_assets_page(order, _offset(request))}
    return render(request, "orders/order_detail.html#asset_rows", context)


@require_GET
@org_required
def order_timeline_more(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    """Earlier events of the order page's timeline (htmx, put in place of the "Show earlier" row)."""
    order = order_get(org=request.org, order_id=order_id)
    skip = _offset(request)
    # The links to lineage anchors need the anchors the page's first load has.
    lineage = order_lineage_outline(org=request.org, order_id=order.pk, rows=_rows())
    context = {"order": order, "timeline_skip": skip, **_timeline_page(request, order, skip, lineage)}
    return render(request, "orders/order_detail.html#timeline_rows", context)


@require_GET
@org_required
def order_lineage_deliveries_more(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    """The next page of the delivery batches in the order page's lineage (htmx, appended)."""
    order = order_get(org=request.org, order_id=order_id)
    page = order_lineage_deliveries(org=request.org, order_id=order.pk, offset=_offset(request), rows=_rows())
    return render(request, "orders/order_detail.html#lineage_deliveries", {"order": order, "lineage": page})


@require_GET
@org_required
def order_lineage_group_more(request: HttpRequest, order_id: uuid.UUID, group_id: str) -> HttpResponse:
    """The next page of one group's captures in the order page's lineage (htmx, appended)."""
    order = order_get(org=request.org, order_id=order_id)
    gid = parse_uuid(group_id)
    if gid is None or not OrderGroup.objects.filter(order=order, id=gid).exists():
        raise NotFound("No such group in this order.")
    offset, rows = _offset(request), _rows()
    items = order_lineage_captures(org=request.org, order_id=order.pk, group_id=gid, offset=offset, rows=rows)
    total = order.delivered_captures.filter(group_id=gid).count()
    node = {"entity_id": str(gid), "count": total, "children": items, "next_offset": offset + len(items)}
    return render(request, "orders/order_detail.html#lineage_items", {"order": order, "n": node})


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
@org_required
def order_watch_view(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    """Watch / Unwatch on the order page (any member of the order's org; another org's is a 404)."""
    watch = order_watch_set(
        org=request.org, user=request.user, order_id=order_id, watching=request.POST.get("watch") == "1"
    )
    if request.htmx:
        order = order_get(org=request.org, order_id=order_id)
        return render(request, "orders/order_detail.html#watch", {"order": order, "watch": watch})
    return redirect("orders:detail", order_id=order_id)


@require_POST
@role_required("admin", "operator")
def order_cancel_view(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    expected = request.POST.get("expected_charge_credits", "")
    try:
        order, effect = order_cancel(
            org=request.org,
            actor=request.user,
            order_id=order_id,
            expected_charge_credits=parse_whole(expected),
        )
    except Conflict as exc:
        if exc.slug != "cancel-preview-changed":
            raise
        # A delivery landed while the dialog was open: show the new figures, cancel nothing.
        messages.warning(request, exc.detail)
        if request.htmx:
            return HttpResponseClientRedirect(reverse("orders:detail", args=[order_id]))
        return redirect("orders:detail", order_id=order_id)
    messages.success(
        request, f"{'Series' if effect.series is not None else 'Order'} cancelled. {effect.done_sentence}"
    )
    if request.htmx:
        return HttpResponseClientRedirect(reverse("orders:detail", args=[order.pk]))
    return redirect("orders:detail", order_id=order.pk)
