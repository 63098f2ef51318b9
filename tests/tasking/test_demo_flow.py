from __future__ import annotations

import pytest

from geopera_web.demo import DemoWorld, seeders
from orders.models import Order
from tasking.demo import DEMO_ORDERS, seed_tasking_flow
from tasking.models import FeasibilityStudy, Quotation
from tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db


def test_demo_orders_cover_every_stage_and_reseeding_adds_nothing():
    assert any(name == "tasking-flow" and order == 50 for order, name, _ in seeders())
    acme, blue = (
        make_org(name="Acme Flow", credits=5_000_000),
        make_org(name="Blue Flow", billing_mode="enterprise"),
    )
    users = {
        "acme_admin": make_user(org=acme, role="admin"),
        "acme_operator": make_user(org=acme),
        "blue_admin": make_user(org=blue, role="admin"),
        "blue_operator": make_user(org=blue),
        "staff": make_user(org=None, staff=True),
    }
    world = DemoWorld(orgs={"acme": acme, "blue": blue}, users=users, log=lambda _: None)
    seed_tasking_flow(world)
    seed_tasking_flow(world)
    assert Order.objects.filter(order_type="tasking").count() == len(DEMO_ORDERS)
    subs = set(Order.objects.values_list("status", "sub_status"))
    assert {
        ("pending", "FEASIBILITY_WAITING_UPLOAD"),
        ("pending", "FEASIBILITY_WAITING_RESPONSE"),
        ("pending", "QUOTATION_WAITING_UPLOAD"),
        ("pending", "QUOTATION_WAITING_RESPONSE"),
        ("active", "QUOTATION_ACCEPTED"),
        ("draft", ""),
    } <= subs
    for org in (acme, blue):
        assert FeasibilityStudy.objects.filter(org=org, decision="PENDING").exists()
        assert Quotation.objects.filter(org=org, decision="PENDING").exists()
        study = FeasibilityStudy.objects.filter(org=org, decision="PENDING").first()
        assert sorted(o.price_credits is not None for o in study.options.all()) == [False, True]
