"""Every read of orders, always scoped to the caller's org (missing and not-yours are one 404)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from geopera_web.accounts.models import Organization
from geopera_web.accounts.selectors import workspace_get
from geopera_web.errors import Conflict, InvalidInput, NotFound, parse_uuid

from .coverage.calculations import requested_km2_sql
from .models import (
    Capture,
    Cart,
    CartItem,
    CoverageSnapshot,
    DeliveredCapture,
    Order,
    OrderEvent,
    OrderGroup,
    OrderType,
)


def order_get(*, org: Organization, order_id: object, for_update: bool = False) -> Order:
    oid = parse_uuid(order_id)
    qs = Order.objects.filter(org=org, id=oid) if oid else Order.objects.none()
    if for_update:
        # Lock the order row only (a nullable joined row cannot be locked, and need not be).
        qs = qs.select_for_update(of=("self",))
    order = qs.select_related("workspace", "data_product", "charge").first()
    if order is None:
        raise NotFound("Order not found.")
    return order


def _with_groups(qs: QuerySet[Order]) -> QuerySet[Order]:
    """Everything the order serializers and pages read, in a constant number of queries."""
    return qs.select_related("workspace", "data_product", "charge", "created_by").prefetch_related(
        Prefetch(
            "groups",
            queryset=OrderGroup.objects.select_related("data_product").prefetch_related(
                Prefetch(
                    "captures", queryset=Capture.objects.only("id", "scene_id", "collection", "acquired_at")
                )
            ),
        )
    )


def order_get_detail(*, org: Organization, order_id: object) -> Order:
    """An order with its groups and their captures prefetched (API `orders.get`, the detail page)."""
    oid = parse_uuid(order_id)
    order = _with_groups(Order.objects.filter(org=org, id=oid)).first() if oid else None
    if order is None:
        raise NotFound("Order not found.")
    return order


def order_get_assets(*, org: Organization, order_id: object) -> Order:
    """An order with its groups' captures (with footprints) for its STAC item list."""
    oid = parse_uuid(order_id)
    order = (
        Order.objects.filter(org=org, id=oid)
        .prefetch_related(Prefetch("groups", queryset=OrderGroup.objects.prefetch_related("captures")))
        .first()
        if oid
        else None
    )
    if order is None:
        raise NotFound("Order not found.")
    return order


def order_events(*, order: Order) -> QuerySet[OrderEvent]:
    return order.events.select_related("actor").order_by("created_at", "id")


def order_list(*, org: Organization) -> QuerySet[Order]:
    return Order.objects.filter(org=org).select_related("workspace", "data_product")


# --- deliveries and coverage ----------------------------------------------------------------------


def tasking_order_get(*, org: Organization, order_id: object) -> Order:
    """An org's tasking order (404 if missing or another org's). Coverage is a tasking notion: an
    archive order is a 409 `not-a-tasking-order` (it exists, but has no AOIs to cover)."""
    order = order_get(org=org, order_id=order_id)
    if order.order_type != OrderType.TASKING:
        raise Conflict(
            "Coverage is computed for tasking orders; this is an archive order (its deliveries are "
            "listed by orders.list_assets).",
            slug="not-a-tasking-order",
            order_type=order.order_type,
        )
    return order


@dataclass(frozen=True)
class GroupFigures:
    group_id: Any
    position: int
    name: str
    requested_km2: float
    covered_km2: float
    remainder_km2: float
    covered_percent: float
    remainder_percent: float
    captures_delivered: int
    last_delivery_at: datetime | None
    computed_at: datetime | None
    credits: int
    snapshot_id: int | None

    def as_wire(self) -> dict[str, Any]:
        return {
            "groupId": str(self.group_id),
            "name": self.name,
            "requestedSqKm": round(self.requested_km2, 6),
            "coveredSqKm": round(self.covered_km2, 6),
            "remainderSqKm": round(self.remainder_km2, 6),
            "coveredPercentage": round(self.covered_percent, 4),
            "remainderPercentage": round(self.remainder_percent, 4),
            "capturesDelivered": self.captures_delivered,
            "lastDeliveryAt": _iso(self.last_delivery_at),
            "computedAt": _iso(self.computed_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


_FIGURES_SQL = f"""
SELECT g.id, g.position, g.name, g.credits,
       COALESCE(s.requested_km2, {requested_km2_sql("g")}),
       s.covered_km2, s.remainder_km2, s.captures_delivered, s.last_delivery_at, s.computed_at, s.id
FROM orders_ordergroup g
LEFT JOIN LATERAL (
    SELECT * FROM orders_coveragesnapshot cs WHERE cs.group_id = g.id
    ORDER BY cs.computed_at DESC, cs.id DESC LIMIT 1
) s ON TRUE
WHERE g.order_id = %s
ORDER BY g.position, g.id
"""


def coverage_group_figures(*, org: Organization, order_id: object) -> tuple[Order, list[GroupFigures]]:
    """The latest coverage figures of each AOI of a tasking order (any status). An AOI with no
    snapshot yet is 0% covered."""
    order = tasking_order_get(org=org, order_id=order_id)
    with connection.cursor() as cur:
        cur.execute(_FIGURES_SQL, [order.pk])
        rows = cur.fetchall()
    figures = []
    for gid, pos, name, credits, req, cov, rem, n, last, computed, snap_id in rows:
        cov = cov or 0.0
        rem = req if rem is None else rem
        figures.append(
            GroupFigures(
                group_id=gid,
                position=pos,
                name=name or f"AOI {pos + 1}",
                requested_km2=req,
                covered_km2=cov,
                remainder_km2=rem,
                covered_percent=100.0 * cov / req if req else 0.0,
                remainder_percent=100.0 * rem / req if req else 0.0,
                captures_delivered=n or 0,
                last_delivery_at=last,
                computed_at=computed,
                credits=credits,
                snapshot_id=snap_id,
            )
        )
    return order, figures


_FEATURES_SQL = """
SELECT g.id, ST_AsGeoJSON(g.geometry, 7), ST_AsGeoJSON(s.covered, 7), ST_AsGeoJSON(s.remainder, 7)
FROM orders_ordergroup g
LEFT JOIN LATERAL (
    SELECT covered, remainder FROM orders_coveragesnapshot cs WHERE cs.group_id = g.id
    ORDER BY cs.computed_at DESC, cs.id DESC LIMIT 1
) s ON TRUE
WHERE g.order_id = %s
"""


def coverage_features(*, org: Organization, order_id: object) -> tuple[Order, list[dict[str, Any]]]:
    """GeoJSON features of a tasking order's coverage: per AOI, `requested`, `covered` and
    `remainder` (property `kind`) with `sqKmArea` and `percentage`. An empty covered or remainder
    part has a null geometry (GeoJSON allows it), so every AOI always has its three features."""
    order, figures = coverage_group_figures(org=org, order_id=order_id)
    with connection.cursor() as cur:
        cur.execute(_FEATURES_SQL, [order.pk])
        geoms = {gid: (req, cov, rem) for gid, req, cov, rem in cur.fetchall()}
    features = []
    for f in figures:
        req, cov, rem = geoms[f.group_id]
        if f.snapshot_id is None:
            rem = req  # nothing delivered yet: the whole AOI remains
        base = {
            "groupId": str(f.group_id),
            "name": f.name,
            "orderId": str(order.pk),
            "capturesDelivered": f.captures_delivered,
            "lastDeliveryAt": _iso(f.last_delivery_at),
            "computedAt": _iso(f.computed_at),
        }
        for kind, geom, km2, pct in (
            ("requested", req, f.requested_km2, 100.0),
            ("covered", cov, f.covered_km2, f.covered_percent),
            ("remainder", rem, f.remainder_km2, f.remainder_percent),
        ):
            features.append(
                {
                    "type": "Feature",
                    "id": f"{f.group_id}:{kind}",
                    "geometry": json.loads(geom) if geom else None,
                    "properties": {
                        **base,
                        "kind": kind,
                        "sqKmArea": round(km2, 6),
                        "percentage": round(pct, 4),
                    },
                }
            )
    return order, features


def coverage_history(*, org: Organization, order_id: object) -> list[dict[str, Any]]:
    """Coverage over time: one point per snapshot moment, with the order's area-weighted percent
    and each AOI's percent as of then (an AOI without a snapshot yet counts as 0%)."""
    order, figures = coverage_group_figures(org=org, order_id=order_id)
    requested = {f.group_id: f.requested_km2 for f in figures}
    current: dict[Any, float] = dict.fromkeys(requested, 0.0)
    points: list[dict[str, Any]] = []
    snaps = CoverageSnapshot.objects.filter(order=order).order_by("computed_at", "id")
    for s in snaps.values("group_id", "computed_at", "covered_km2"):
        current[s["group_id"]] = s["covered_km2"]
        total = sum(requested.values()) or 1.0
        point = {
            "at": s["computed_at"],
            "percent": 100.0 * sum(current.values()) / total,
            "groups": {str(g): 100.0 * current[g] / requested[g] if requested[g] else 0.0 for g in requested},
        }
        if points and points[-1]["at"] == point["at"]:
            points[-1] = point
        else:
            points.append(point)
    return points


def coverage_summary_for_orders(*, org: Organization, order_ids: list[Any]) -> dict[Any, float]:
    """{order id: covered percent of all its AOIs together (area-weighted)} for the org's tasking
    orders among `order_ids`, in one query. Archive orders and other orgs' ids are absent."""
    ids = [u for u in (parse_uuid(i) for i in order_ids) if u]
    if not ids:
        return {}
    sql = f"""
        SELECT o.id,
               SUM(COALESCE(s.covered_km2, 0)),
               SUM(COALESCE(s.requested_km2, {requested_km2_sql("g")}))
        FROM orders_order o
        JOIN orders_ordergroup g ON g.order_id = o.id
        LEFT JOIN LATERAL (
            SELECT covered_km2, requested_km2 FROM orders_coveragesnapshot cs WHERE cs.group_id = g.id
            ORDER BY cs.computed_at DESC, cs.id DESC LIMIT 1
        ) s ON TRUE
        WHERE o.org_id = %s AND o.order_type = %s AND o.id = ANY(%s)
        GROUP BY o.id
    """
    with connection.cursor() as cur:
        cur.execute(sql, [org.pk, OrderType.TASKING, ids])
        return {oid: (100.0 * cov / req if req else 0.0) for oid, cov, req in cur.fetchall()}


def delivered_captures_list(*, org: Organization, order_id: object) -> QuerySet[DeliveredCapture]:
    order = order_get(org=org, order_id=order_id)
    return DeliveredCapture.objects.filter(order=order).select_related("group", "batch")


def coverage_geometry_download(
    *, org: Organization, order_id: object, group_id: object, kind: str
) -> tuple[Order, OrderGroup, dict[str, Any]]:
    """One AOI's latest covered or remainder geometry as a GeoJSON FeatureCollection."""
    order, features = coverage_features(org=org, order_id=order_id)
    gid = parse_uuid(group_id)
    group = order.groups.filter(pk=gid).first() if gid else None
    if group is None or kind not in ("covered", "remainder", "requested"):
        raise NotFound("No such AOI in this order.")
    feats = [
        f
        for f in features
        if f["properties"]["groupId"] == str(group.pk)
        and f["properties"]["kind"] == kind
        and f["geometry"] is not None
    ]
    return order, group, {"type": "FeatureCollection", "features": feats}


def delivered_assets(*, org: Organization, order_id: object, base_url: str = "") -> dict[str, Any]:
    """The STAC FeatureCollection of a tasking order's delivered captures (failed acquisitions
    left out), each Item carrying its provenance: properties `geopera:order_id`,
    `geopera:group_id`/`geopera:group_name` (the AOI it serves), `geopera:delivered_at`,
    `geopera:source` (provider | manual), a `via` link to the order page and a `derived_from` link
    to `orders.get`. Same envelope as the archive `orders.list_assets` (numberMatched/Returned).
    `base_url` (e.g. request.build_absolute_uri("/")) makes the links absolute."""
    order = order_get(org=org, order_id=order_id)
    base = base_url.rstrip("/")
    order_href = f"{base}/orders/{order.pk}/"
    items = []
    rows = (
        DeliveredCapture.objects.filter(order=order, status=DeliveredCapture.Status.DELIVERED)
        .select_related("group")
        .order_by("acquired_at", "scene_id")
    )
    for c in rows:
        fp = c.footprint
        props = {
            **(c.properties or {}),
            "datetime": _iso(c.acquired_at),
            "eo:cloud_cover": c.cloud_cover,
            "geopera:order_id": str(order.pk),
            "geopera:group_id": str(c.group_id),
            "geopera:group_name": str(c.group),
            "geopera:delivered_at": _iso(c.delivered_at),
            "geopera:source": c.source,
        }
        items.append(
            {
                "type": "Feature",
                "stac_version": "1.0.0",
                "stac_extensions": [],
                "id": c.scene_id,
                "geometry": json.loads(fp.geojson),
                "bbox": list(fp.extent),
                "properties": props,
                "assets": c.assets or {},
                "links": [
                    {"rel": "via", "href": order_href, "type": "text/html", "title": f"Order {order}"},
                    {
                        "rel": "derived_from",
                        "href": f"{base}/v1/op/orders.get?order_id={order.pk}",
                        "type": "application/json",
                        "title": "The order this capture was delivered for",
                    },
                ],
            }
        )
    return {
        "type": "FeatureCollection",
        "features": items,
        "numberMatched": len(items),
        "numberReturned": len(items),
        "links": [{"rel": "via", "href": order_href, "type": "text/html"}],
        "geopera:order_id": str(order.pk),
    }


def order_get_for_support(*, order_id: object) -> Order:
    """Any org's order, for support staff pages only (the caller has checked `is_staff`)."""
    oid = parse_uuid(order_id)
    order = Order.objects.select_related("org", "data_product").filter(id=oid).first() if oid else None
    if order is None:
        raise NotFound("Order not found.")
    return order


SORT_FIELDS: dict[str, str] = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "status": "status",
    "type": "order_type",
    "displayName": "display_name",
    "totalCredits": "total_credits",
}
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class OrderFilters:
    """OrdersListInput, parsed. Comma-separated lists are split; empty means "no filter"."""

    workspace_id: str | None = None
    type: str | None = None
    status: list[str] | None = None
    sub_status: list[str] | None = None
    display_name: str | None = None
    data_product_ids: list[str] | None = None
    order_ids: list[str] | None = None
    tags: list[str] | None = None
    sort: str = "createdAt,desc"


def _csv(value: str | None) -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in str(value).split(",") if v.strip()]
    return items or None


def order_filters_parse(data: dict) -> OrderFilters:
    """Validate the list filters; a value that can never match is a 422 naming the field."""
    errors: list[dict] = []
    statuses = _csv(data.get("status"))
    if statuses and (bad := [s for s in statuses if s not in Order.Status.values]):
        errors.append(
            {
                "loc": ["body", "status"],
                "msg": f"Unknown status {', '.join(bad)}; one of {', '.join(Order.Status.values)}.",
                "type": "value_error",
            }
        )
    order_type = data.get("type") or None
    if order_type and order_type not in OrderType.values:
        errors.append(
            {
                "loc": ["body", "type"],
                "msg": f"type must be one of {', '.join(OrderType.values)}.",
                "type": "value_error",
            }
        )
    order_ids = _csv(data.get("orderIds"))
    if order_ids and any(parse_uuid(o) is None for o in order_ids):
        errors.append({"loc": ["body", "orderIds"], "msg": "Order ids are UUIDs.", "type": "value_error"})
    sort = data.get("sort") or "createdAt,desc"
    field, _, direction = str(sort).partition(",")
    if field.strip() not in SORT_FIELDS or direction.strip().lower() not in ("", "asc", "desc"):
        errors.append(
            {
                "loc": ["body", "sort"],
                "msg": f"sort is '<field>,<asc|desc>' with field one of {', '.join(SORT_FIELDS)}.",
                "type": "value_error",
            }
        )
    if errors:
        raise InvalidInput("Invalid list filters.", status=422, errors=errors)
    return OrderFilters(
        workspace_id=data.get("workspaceId") or None,
        type=order_type,
        status=statuses,
        sub_status=_csv(data.get("subStatus")),
        display_name=(data.get("displayName") or "").strip() or None,
        data_product_ids=_csv(data.get("dataProductIds")),
        order_ids=order_ids,
        tags=_csv(data.get("tags")),
        sort=f"{field.strip()},{direction.strip().lower() or 'asc'}",
    )


def order_search(*, org: Organization, filters: OrderFilters, with_groups: bool = True) -> QuerySet[Order]:
    """The org's orders matching every given filter, sorted (ties broken by id, so paging is stable).

    `workspaceId` of another org (or none) is a 404, like every other id; `tags` keeps orders that
    carry ALL the listed tags; `dataProductIds` matches the order's product or any group's."""
    qs = Order.objects.filter(org=org)
    if filters.workspace_id:
        workspace = workspace_get(org=org, workspace_id=filters.workspace_id)
        if workspace is None:
            raise NotFound("Workspace not found in your organization.", slug="workspace-not-found")
        qs = qs.filter(workspace=workspace)
    if filters.type:
        qs = qs.filter(order_type=filters.type)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.sub_status:
        qs = qs.filter(sub_status__in=filters.sub_status)
    if filters.display_name:
        qs = qs.filter(display_name__icontains=filters.display_name)
    if filters.order_ids:
        qs = qs.filter(id__in=[parse_uuid(o) for o in filters.order_ids])
    if filters.data_product_ids:
        qs = qs.filter(
            Q(data_product_id__in=filters.data_product_ids)
            | Q(
                id__in=OrderGroup.objects.filter(data_product_id__in=filters.data_product_ids).values(
                    "order_id"
                )
            )
        )
    if filters.tags:
        qs = qs.filter(tags__contains=filters.tags)
    field, direction = filters.sort.split(",")
    column = SORT_FIELDS[field]
    prefix = "-" if direction == "desc" else ""
    qs = qs.order_by(f"{prefix}{column}", f"{prefix}id")
    return _with_groups(qs) if with_groups else qs.select_related("workspace", "data_product")


# --- cart ----------------------------------------------------------------------------------------


def cart_get(*, org: Organization, user: AbstractBaseUser) -> Cart | None:
    return Cart.objects.filter(org=org, user=user).first()


def cart_items(*, cart: Cart | None) -> list[CartItem]:
    if cart is None:
        return []
    return list(
        CartItem.objects.filter(cart=cart)
        .select_related("capture", "capture__data_product")
        .order_by("added_at", "id")
    )
