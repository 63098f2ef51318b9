"""What the orders app contributes to the platform: dashboard panels, demo data."""

from __future__ import annotations

import datetime as dt

from geopera_web.demo import DemoWorld, register_seeder

DEMO_CATALOG_SEED = 2024
DEMO_CATALOG_COUNT = 4000


def seed_catalog_demo(world: DemoWorld) -> None:
    """Archive products and a few thousand captures over well-known cities (idempotent)."""
    from django.utils import timezone

    from .catalog_data import generate_scenes
    from .catalog_services import archive_products_ensure, captures_bulk_load
    from .models import Capture

    created = archive_products_ensure()
    world.log(f"catalog: archive products ready ({created} new)")
    marker = f"_{DEMO_CATALOG_SEED:x}-"
    if Capture.objects.filter(scene_id__contains=marker).exists():
        world.log("catalog: demo captures already present, skipped")
        return
    inserted = captures_bulk_load(
        rows=generate_scenes(count=DEMO_CATALOG_COUNT, seed=DEMO_CATALOG_SEED, end_date=timezone.now().date())
    )
    world.log(f"catalog: {inserted} demo captures")


register_seeder(order=20, name="catalog", seeder=seed_catalog_demo)


DEMO_TAG = "demo-seed"
# The demo orders clip every capture to the CBD (the catalog's strips are hundreds of km² each).
_CBD = (151.18, -33.89, 151.23, -33.85)


def _sydney_captures(world: DemoWorld) -> list:
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from .models import Capture, DataProduct

    area = Polygon.from_bbox(_CBD)
    area.srid = 4326
    found = list(
        Capture.objects.filter(
            footprint__intersects=area, data_product__order_type="archive", data_product__is_active=True
        ).order_by("data_product__credits_per_km2", "-acquired_at", "scene_id")[:6]
    )
    if len(found) >= 4:
        return found
    world.log("archive-orders: no catalog captures over Sydney's CBD; creating a handful")
    product, _ = DataProduct.objects.get_or_create(
        id="demo-optical-50cm",
        defaults={
            "name": "Optical 50 cm (demo)",
            "order_type": "archive",
            "collection": "demo-optical",
            "credits_per_km2": 120,
            "min_area_km2": 25.0,
        },
    )
    captures = []
    for i in range(6):
        left = 151.12 + i * 0.02  # every strip crosses the CBD, which the demo orders clip to
        poly = Polygon.from_bbox((left, -33.95, left + 0.1, -33.80))
        poly.srid = 4326
        capture, _ = Capture.objects.get_or_create(
            collection=product.collection,
            scene_id=f"DEMO-SYD-{i + 1:02d}",
            defaults={
                "data_product": product,
                "footprint": MultiPolygon(poly, srid=4326),
                "acquired_at": dt.datetime(2026, 10, 1 + i, 0, 5, tzinfo=dt.UTC),
                "cloud_cover": 3.0 + i,
                "off_nadir": 8.0 + i,
                "gsd": 0.5,
                "sun_elevation": 55.0,
                "platform": "demo-sat-1",
            },
        )
        captures.append(capture)
    return captures


def seed_archive_orders(world: DemoWorld) -> None:
    """Three Acme archive orders placed through the real services: one processing, one fulfilled,
    one cancelled. Idempotent: does nothing once the demo orders exist."""
    from .models import Order
    from .providers import SimulatedProvider
    from .services import archive_order_place, archive_order_sync, order_cancel

    org, user = world.orgs["acme"], world.users["acme_operator"]
    if Order.objects.filter(org=org, tags__contains=[DEMO_TAG]).exists():
        world.log("archive-orders: demo orders already there")
        return
    captures = _sydney_captures(world)
    x0, y0, x1, y1 = _CBD
    cbd = {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}
    plans = [
        ("Harbour bridge survey", captures[0:2], "fulfilled"),
        ("CBD rooftops refresh", captures[2:4], "processing"),
        ("Barangaroo change check", captures[4:6] or captures[0:1], "cancelled"),
    ]
    for name, chosen, fate in plans:
        order = archive_order_place(
            org=org,
            actor=user,
            captures=[{"id": c.scene_id, "geometry": cbd} for c in chosen],
            display_name=name,
            tags=[DEMO_TAG, "sydney"],
        )
        if fate == "fulfilled":
            # The simulated provider delivers after its delay; the demo wants one delivered now.
            now = SimulatedProvider(overrides={"ARCHIVE_DELAY_SECONDS": 0, "ARCHIVE_FAILURE_RATE": 0.0})
            archive_order_sync(order_id=order.pk, provider=now)
        elif fate == "cancelled":
            order_cancel(org=org, actor=user, order_id=order.pk)
        world.log(f"archive-orders: {name} ({fate})")


register_seeder(order=40, name="archive-orders", seeder=seed_archive_orders)
