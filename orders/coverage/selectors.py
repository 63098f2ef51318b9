"""Reads of coverage: per-AOI figures, GeoJSON features, history and per-order summaries (always
org-scoped; the figures come from the latest CoverageSnapshot of each AOI group)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from geopera_web.accounts.models import Organization
from geopera_web.errors import Conflict, NotFound, parse_uuid

from ..models import CoverageSnapshot, Order, OrderGroup, OrderType
from ..selectors import order_get
from .calculations import requested_km2_sql


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
