"""Coverage pages: per-AOI coverage of a tasking order, and its geometries as files."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib.gis.geos import GEOSGeometry
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from geopera_web.accounts.decorators import org_required

from ..fulfilment.selectors import delivered_captures_list
from ..models import OrderEvent
from .selectors import coverage_features, coverage_geometry_download, coverage_group_figures, coverage_history
from .services import acquisition_end_of, coverage_target_for

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
        # No remainder left is 100% covered, as the map, the refund and the timeline say: the
        # covered area's own geodesic sum can fall a hair short of the AOI's (99.99997%).
        covered_percent = f.covered_percent if aoi else 100.0
        rows.append(
            {
                "f": f,
                "covered_percent": covered_percent,
                "color": PALETTE[i % len(PALETTE)],
                "at_target": covered_percent >= target - 1e-9,
                "archive_url": f"{archive_url}?{urlencode({'aoi': aoi})}" if aoi else "",
                "retask_url": f"{retask}?{urlencode({'aoi': aoi, 'product': product})}" if aoi else "",
            }
        )
    requested = sum(f.requested_km2 for f in figures)
    covered = sum(f.covered_km2 for f in figures)
    refund = order.events.filter(kind=OrderEvent.Kind.COVERAGE_REFUND).order_by("-created_at").first()
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
    context.update(_watch_context(request, order=order, has_remainder=bool(remainders)))
    return render(request, "orders/coverage.html", context)


def _watch_context(request: HttpRequest, *, order: Any, has_remainder: bool) -> dict[str, Any]:
    """The order's newest watch of its remainder and what the archive could now cover of it (the
    watch's matches, priced by the cart's pricing), or the button to start watching."""
    from ..watches.models import WatchWatcher
    from ..watches.selectors import watch_outlook

    watch = order.watches.filter(org=request.org).order_by("-created_at").first()
    return {
        "watch": watch,
        "watch_outlook": watch_outlook(watch=watch) if watch and not watch.covered_at else None,
        "watching": bool(watch) and WatchWatcher.objects.filter(watch=watch, user=request.user).exists(),
        "can_watch": has_remainder and request.membership.role in ("admin", "operator"),
    }


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
