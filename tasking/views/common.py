"""Helpers shared by the tasking pages (requests, inbox, support)."""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse

from orders.models import Order


def order_path(order: Order) -> str:
    return reverse("orders:detail", args=[order.id])


def aoi_geojson(order: Order) -> str:
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


def sensor_of(order: Order) -> Any:
    product = getattr(order.data_product, "tasking", None) if order.data_product_id else None
    return product.sensor if product else None
