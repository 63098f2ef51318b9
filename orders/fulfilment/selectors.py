"""Reads of deliveries (org-scoped): an order's delivered captures and its STAC assets."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from geopera_web.accounts.models import Organization

from ..models import DeliveredCapture, Order
from ..selectors import order_get

_BBOX_SQL = (
    'ARRAY[ST_XMin("orders_deliveredcapture"."footprint"), ST_YMin("orders_deliveredcapture"."footprint"), '
    'ST_XMax("orders_deliveredcapture"."footprint"), ST_YMax("orders_deliveredcapture"."footprint")]'
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def delivered_captures_list(*, org: Organization, order_id: object) -> QuerySet[DeliveredCapture]:
    order = order_get(org=org, order_id=order_id)
    return DeliveredCapture.objects.filter(order=order).select_related("group", "batch")


def delivered_asset_links(*, order: Order, offset: int = 0, limit: int | None = None) -> list[dict[str, str]]:
    """The order page's asset list: each delivered capture's scene id and its visual asset's href
    (else its first asset's), in delivery order, `limit` rows from `offset` (all when None); one
    query reading only those two columns (no footprints). `order` is already the caller's org's."""
    rows = (
        DeliveredCapture.objects.filter(order=order, status=DeliveredCapture.Status.DELIVERED)
        .order_by("acquired_at", "scene_id", "id")
        .values_list("scene_id", "assets")
    )
    rows = rows[offset : offset + limit] if limit is not None else rows[offset:]
    return [
        {
            "capture_id": scene,
            "href": ((assets or {}).get("visual") or next(iter((assets or {}).values()), {})).get("href", ""),
        }
        for scene, assets in rows
    ]


def delivered_asset_count(*, order: Order) -> int:
    """How many captures of `order` were delivered (the total the order page's asset list pages)."""
    return DeliveredCapture.objects.filter(order=order, status=DeliveredCapture.Status.DELIVERED).count()


def delivered_assets(*, org: Organization, order_id: object, base_url: str = "") -> dict[str, Any]:
    """The one STAC builder of what was delivered for an order, archive or tasking: a
    FeatureCollection (numberMatched/Returned) of its delivered captures (failed acquisitions left
    out), each Item with its assets and its provenance: properties `geopera:order_id`,
    `geopera:group_id`/`geopera:group_name` (the group it serves), `geopera:delivered_at`,
    `geopera:source` (provider | manual), the scene's `collection` when it came from the catalog,
    a `via` link to the order page and a `derived_from` link to `orders.get` (POST, with its body). Empty until something
    is delivered. `base_url` (e.g. request.build_absolute_uri("/")) makes the links absolute."""
    order = order_get(org=org, order_id=order_id)
    base = base_url.rstrip("/")
    order_href = f"{base}/orders/{order.pk}/"
    items = []
    # One query; PostGIS writes each footprint's GeoJSON and bbox, so no footprint is parsed here
    # (at 1,000 deliveries, building GEOS geometries was most of the time).
    rows = (
        DeliveredCapture.objects.filter(order=order, status=DeliveredCapture.Status.DELIVERED)
        .order_by("acquired_at", "scene_id")
        .annotate(
            geojson=AsGeoJSON("footprint", precision=15),
            bbox=RawSQL(_BBOX_SQL, ()),
        )
        .values(
            "scene_id",
            "group_id",
            "group__name",
            "group__position",
            "acquired_at",
            "delivered_at",
            "cloud_cover",
            "source",
            "assets",
            "properties",
            "geojson",
            "bbox",
        )
    )
    for c in rows:
        properties = dict(c["properties"] or {})
        collection = properties.pop("collection", None)
        props = {
            **properties,
            "datetime": _iso(c["acquired_at"]),
            "eo:cloud_cover": c["cloud_cover"],
            "geopera:order_id": str(order.pk),
            "geopera:group_id": str(c["group_id"]),
            # OrderGroup.__str__, from the two columns it reads.
            "geopera:group_name": c["group__name"] or f"Group {c['group__position'] + 1}",
            "geopera:delivered_at": _iso(c["delivered_at"]),
            "geopera:source": c["source"],
        }
        items.append(
            {
                "type": "Feature",
                "stac_version": "1.0.0",
                "stac_extensions": [],
                "id": c["scene_id"],
                **({"collection": collection} if collection else {}),
                "geometry": json.loads(c["geojson"]),
                "bbox": list(c["bbox"]),
                "properties": props,
                "assets": c["assets"] or {},
                "links": [
                    {"rel": "via", "href": order_href, "type": "text/html", "title": f"Order {order}"},
                    {
                        "rel": "derived_from",
                        # Operations are POSTs: a STAC link says so with `method` and `body`.
                        "href": f"{base}/v1/op/orders.get",
                        "method": "POST",
                        "body": {"order_id": str(order.pk)},
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
