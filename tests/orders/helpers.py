"""Helpers for the cart/pricing/orders tests: priced products and captures built directly (the
catalog's import/seed commands are tested on their own)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.gis.geos import MultiPolygon, Polygon

from orders.models import Capture, DataProduct

_seq = itertools.count(1)


def geojson_box(x0: float, y0: float, x1: float, y1: float) -> dict:
    """A GeoJSON Polygon for a lon/lat box."""
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def make_product(
    *,
    pid: str | None = None,
    rate: int = 100,
    min_area: float = 0.0,
    active: bool = True,
    order_type="archive",
) -> DataProduct:
    pid = pid or f"test-product-{next(_seq)}"
    return DataProduct.objects.create(
        id=pid,
        name=pid.replace("-", " ").title(),
        order_type=order_type,
        collection="test-collection",
        credits_per_km2=rate,
        min_area_km2=min_area,
        is_active=active,
    )


def make_priced_capture(
    *,
    product: DataProduct,
    bounds: tuple[float, float, float, float],
    scene_id: str | None = None,
    acquired_at: dt.datetime | None = None,
) -> Capture:
    x0, y0, x1, y1 = bounds
    poly = Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)), srid=4326)
    return Capture.objects.create(
        scene_id=scene_id or f"scene-{next(_seq):05d}",
        collection=product.collection,
        data_product=product,
        footprint=MultiPolygon(poly, srid=4326),
        acquired_at=acquired_at or dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.UTC),
        cloud_cover=5.0,
        off_nadir=10.0,
        gsd=0.5,
        platform="sim-1",
    )


def place_body(*ids: str, **extra) -> dict:
    return {"captures": [{"id": i} for i in ids], "licenseType": "standard", **extra}
