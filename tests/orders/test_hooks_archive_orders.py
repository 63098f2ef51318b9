"""The archive-orders demo seeder: three Acme orders through the real services, once."""

from __future__ import annotations

import pytest

from geopera_web.demo import DemoWorld, seeders
from orders.demo import DEMO_TAG, seed_archive_orders
from orders.models import Order

pytestmark = pytest.mark.django_db


def test_archive_orders_seeder_is_registered_after_the_catalog_and_idempotent(org, operator_user):
    names = {name: order for order, name, _ in seeders()}
    assert names["archive-orders"] == 40 > names["catalog"]
    logs: list[str] = []
    world = DemoWorld(orgs={"acme": org}, users={"acme_operator": operator_user}, log=logs.append)
    seed_archive_orders(world)
    seed_archive_orders(world)
    orders = Order.objects.filter(org=org, tags__contains=[DEMO_TAG])
    assert sorted(orders.values_list("status", flat=True)) == ["cancelled", "fulfilled", "processing"]
    assert all(o.events.filter(kind="placed").count() == 1 for o in orders)
    assert "archive-orders: demo orders already there" in logs
    fulfilled = orders.get(status="fulfilled")
    assert fulfilled.charge.status == "captured" and fulfilled.delivered_captures.exists()
