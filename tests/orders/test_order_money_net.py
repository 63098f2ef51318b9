"""Issue 16, item 7: an order's Price card reconciles with the ledger: what was charged, refunded
and released, and the net, instead of the captured figure standing alone after a refund."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from geopera_web.billing.services import charge_refund
from orders.models import Order
from tests.factories import make_archive_order, make_org, make_priced_capture, make_product, make_user

pytestmark = pytest.mark.django_db


def test_price_card_shows_charged_refunded_and_net():
    org = make_org(name="Net Org", credits=5_000_000)
    admin = make_user(org=org, role="admin", email="net@example.test")
    product = make_product(pid="net-optical", rate=100, min_area=10.0)
    make_priced_capture(product=product, bounds=(151.1, -33.95, 151.2, -33.85), scene_id="NET-1")
    order = make_archive_order(org=org, actor=admin, scene_ids=["NET-1"])
    order = Order.objects.select_related("charge").get(pk=order.pk)
    charge = order.charge
    if charge.status == "authorized":  # fulfilment captures it; run it here if the worker has not
        from orders.tasks import fulfil_archive_order

        fulfil_archive_order(str(order.pk))
        charge.refresh_from_db()
    assert charge.status == "captured"
    charge_refund(charge_id=charge.pk, credits=1_234, actor=None, memo="test refund")
    c = Client()
    c.force_login(admin)
    html = c.get(f"/orders/{order.pk}/").content.decode()
    money = html[html.index('data-testid="order-money"') :]
    money = re.sub(r"\s+", " ", money[: money.index("</dl>")])
    assert f"{charge.captured_credits:,} cr" in money
    assert "−1,234 cr" in money
    assert f"<strong>{charge.captured_credits - 1_234:,} cr</strong>" in money
