"""Reads of deliveries (org-scoped): an order's delivered captures and its STAC assets."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from geopera_web.accounts.models import Organization

from ..models import DeliveredCapture
from ..selectors import order_get


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def delivered_captures_list(*, org: Organization, order_id: object) -> QuerySet[DeliveredCapture]:
    order = order_get(org=org, order_id=order_id)
    return DeliveredCapture.objects.filter(order=order).select_related("group", "batch")


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
    rows = (
        DeliveredCapture.objects.filter(order=order, status=DeliveredCapture.Status.DELIVERED)
        .select_related("group")
        .order_by("acquired_at", "scene_id")
    )
    for c in rows:
        fp = c.footprint
        properties = dict(c.properties or {})
        collection = properties.pop("collection", None)
        props = {
            **properties,
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
                **({"collection": collection} if collection else {}),
                "geometry": json.loads(fp.geojson),
                "bbox": list(fp.extent),
                "properties": props,
                "assets": c.assets or {},
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
