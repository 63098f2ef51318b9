"""Fixtures for the orders tests: data products and captures over Sydney, built directly (the
catalog's import/seed commands are tested on their own)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from orders.models import Capture, DataProduct

_seq = itertools.count(1)


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
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


def make_capture(
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


@pytest.fixture
def product(db):
    return make_product(pid="optical-50cm", rate=100, min_area=25.0)


@pytest.fixture
def sydney_captures(product):
    """Two overlapping captures over Sydney (same day) and one disjoint a day later."""
    a = make_capture(product=product, bounds=(151.10, -33.95, 151.20, -33.85), scene_id="SYD-A")
    b = make_capture(product=product, bounds=(151.15, -33.95, 151.25, -33.85), scene_id="SYD-B")
    c = make_capture(
        product=product,
        bounds=(151.30, -33.80, 151.35, -33.75),
        scene_id="SYD-C",
        acquired_at=dt.datetime(2026, 3, 2, 23, 50, tzinfo=dt.UTC),
    )
    return a, b, c


def place_body(*ids: str, **extra) -> dict:
    return {"captures": [{"id": i} for i in ids], "licenseType": "standard", **extra}


@pytest.fixture
def placed_order(sydney_captures, api_operator):
    """A processing archive order of SYD-A + SYD-B placed through the API."""
    from orders.models import Order

    response = api_operator.post("orders.archive.place", place_body("SYD-A", "SYD-B"))
    assert response.status_code == 202, response.content
    return Order.objects.get(pk=response.json()["id"])
