"""Item 12 of issue 16: the Orders total leaves out drafts and cancelled orders."""

from __future__ import annotations

from django.test import Client

from orders.models import Order
from tests.factories import make_tasking_order

BOX = (151.0, -33.0, 151.1, -32.9)


def test_orders_total_excludes_drafts_and_cancelled(org, operator_user):
    active = make_tasking_order(org=org, aois=[BOX], credits=[10_000])
    draft = make_tasking_order(org=org, aois=[BOX], credits=[20_000], authorize=False, status="pending")
    cancelled = make_tasking_order(org=org, aois=[BOX], credits=[40_000], authorize=False, status="pending")
    Order.objects.filter(pk=draft.pk).update(status=Order.Status.DRAFT)
    Order.objects.filter(pk=cancelled.pk).update(status=Order.Status.CANCELLED)
    client = Client()
    client.force_login(operator_user)
    html = client.get("/orders/").content.decode()
    assert "3 orders · 10,000 cr (A$100.00)" in html and "excluding drafts and cancelled" in html
    assert active.total_credits == 10_000
