"""The catalog demo seeder: products and a few thousand captures over known places, once."""

from __future__ import annotations

import pytest

from geopera_web.demo import DemoWorld, seeders
from orders.demo import DEMO_CATALOG_COUNT, seed_catalog_demo
from orders.models import Capture, DataProduct


@pytest.mark.django_db
def test_catalog_seeder_is_registered_and_idempotent():
    assert ("catalog", 20) in {(name, order) for order, name, _ in seeders()}
    logs: list[str] = []
    world = DemoWorld(orgs={}, users={}, log=logs.append)
    seed_catalog_demo(world)
    seed_catalog_demo(world)
    assert Capture.objects.count() == DEMO_CATALOG_COUNT >= 2000
    assert DataProduct.objects.filter(order_type="archive").count() == 6
    neo = DataProduct.objects.get(id="archive-pleiades-neo")
    assert (neo.credits_per_km2, neo.min_area_km2) == (2000, 25.0)
    assert "catalog: demo captures already present, skipped" in logs
    # Over places people know: most scenes within ~2° of a listed city.
    sydney = Capture.objects.filter(footprint__intersects="SRID=4326;POINT(151.21 -33.87)").count()
    assert sydney > 10
