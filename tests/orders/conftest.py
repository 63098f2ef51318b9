"""Orders fixtures. Catalog: the archive products and a handful of hand-placed captures. Cart and
orders: a priced product and captures over Sydney (see helpers.py), and a placed order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from orders.catalog.data import ARCHIVE_HOST
from orders.catalog.services import archive_products_ensure
from orders.models import Capture, DataProduct
from tests.orders.helpers import make_priced_capture, make_product


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def box(west: float, south: float, east: float, north: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((west, south, east, north)), srid=4326)


def make_capture(
    scene_id: str,
    *,
    collection: str = "pleiades",
    footprint: MultiPolygon | None = None,
    acquired_at: datetime | None = None,
    cloud: float = 5.0,
    off_nadir: float = 10.0,
    gsd: float = 0.5,
) -> Capture:
    product = DataProduct.objects.get(collection=collection, order_type="archive")
    return Capture.objects.create(
        scene_id=scene_id,
        collection=collection,
        host=ARCHIVE_HOST,
        data_product=product,
        footprint=footprint or box(151.0, -34.0, 151.2, -33.8),
        acquired_at=acquired_at or utc(2025, 3, 1, 0, 0),
        cloud_cover=cloud,
        off_nadir=off_nadir,
        gsd=gsd,
        sun_elevation=50.0,
        platform="PHR1A",
        thumbnail_url="/static/img/quicklook.svg",
    )


@pytest.fixture
def products(db) -> dict[str, DataProduct]:
    archive_products_ensure()
    return {p.collection: p for p in DataProduct.objects.filter(order_type="archive")}


@pytest.fixture
def scenes(products) -> dict[str, Capture]:
    """Five captures with distinct places, times and properties (newest first: e, d, c, b, a)."""
    return {
        "a": make_capture(
            "SYD-A", footprint=box(151.0, -34.0, 151.2, -33.8), acquired_at=utc(2024, 1, 10, 0, 0), cloud=2
        ),
        "b": make_capture(
            "SYD-B",
            collection="pleiades-neo",
            footprint=box(151.1, -33.9, 151.3, -33.7),
            acquired_at=utc(2024, 6, 15, 0, 0),
            cloud=35,
            off_nadir=25,
            gsd=0.35,
        ),
        "c": make_capture(
            "MEL-C",
            collection="spot",
            footprint=box(144.8, -38.0, 145.2, -37.6),
            acquired_at=utc(2024, 9, 1, 0, 0),
            cloud=60,
            off_nadir=5,
            gsd=1.5,
        ),
        "d": make_capture(
            "TYO-D",
            collection="skysat",
            footprint=box(139.6, 35.6, 139.8, 35.8),
            acquired_at=utc(2025, 2, 20, 1, 30),
            cloud=0,
            off_nadir=15,
            gsd=0.55,
        ),
        "e": make_capture(
            "PAR-E", footprint=box(2.2, 48.8, 2.5, 48.95), acquired_at=utc(2025, 5, 5, 10, 30), cloud=12
        ),
    }


@pytest.fixture
def make_order(org):
    """Build an ACTIVE tasking order for `org` (see tests/orders/coverage_helpers.py)."""
    from .coverage_helpers import make_tasking_order

    def _make(aois, **kwargs):
        return make_tasking_order(org=org, aois=aois, **kwargs)

    return _make


# --- cart, pricing and orders -------------------------------------------------------------------


@pytest.fixture
def product(db):
    return make_product(pid="optical-50cm", rate=100, min_area=25.0)


@pytest.fixture
def sydney_captures(product):
    """Two overlapping captures over Sydney (same day) and one disjoint a day later."""
    a = make_priced_capture(product=product, bounds=(151.10, -33.95, 151.20, -33.85), scene_id="SYD-A")
    b = make_priced_capture(product=product, bounds=(151.15, -33.95, 151.25, -33.85), scene_id="SYD-B")
    c = make_priced_capture(
        product=product,
        bounds=(151.30, -33.80, 151.35, -33.75),
        scene_id="SYD-C",
        acquired_at=utc(2026, 3, 2, 23, 50),
    )
    return a, b, c


@pytest.fixture
def placed_order(sydney_captures, api_operator):
    """A processing archive order of SYD-A + SYD-B placed through the API."""
    from orders.models import Order
    from tests.orders.helpers import place_body

    response = api_operator.post("orders.archive.place", place_body("SYD-A", "SYD-B"))
    assert response.status_code == 202, response.content
    return Order.objects.get(pk=response.json()["id"])
