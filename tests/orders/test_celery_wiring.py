"""The real wiring: placement commits, on_commit queues the task on Redis, a real worker fulfils."""

from __future__ import annotations

import time

import pytest

from geopera_web.billing.models import Charge
from orders.models import Order
from tests.factories import place_body

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def celery_includes():
    return ["celery.contrib.testing.tasks", "geopera_web.api.tasks", "orders.tasks"]


def test_placed_order_is_fulfilled_by_a_real_worker(sydney_captures, api_operator, celery_worker):
    response = api_operator.post("orders.archive.place", place_body("SYD-A"))
    assert response.status_code == 202, response.content
    order = Order.objects.get(pk=response.json()["id"])
    for _ in range(100):  # a bounded wait for the worker, not a timing assertion
        order.refresh_from_db()
        if order.status != "processing":
            break
        time.sleep(0.1)
    assert order.status == "fulfilled"
    assert Charge.objects.get(pk=order.charge_id).status == Charge.Status.CAPTURED
