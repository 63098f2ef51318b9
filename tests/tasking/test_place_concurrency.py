"""Two submits of the same request form at the same instant make one order (the database's
unique page key decides), and both answers name that order."""

from __future__ import annotations

import pytest

from orders.models import Order
from tasking.services import sensor_catalog_seed
from tests.concurrency import run_concurrently
from tests.factories import make_org, make_user
from tests.tasking.flow_helpers import place


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submits_of_one_form_place_one_order():
    sensor_catalog_seed()
    org = make_org(name="Double Click Org")
    user = make_user(org=org, role="operator")
    results = run_concurrently(lambda: place(org, user, idempotency_key="form-render-1"), threads=6)
    assert all(isinstance(r, Order) for r in results), results
    assert Order.objects.filter(org=org).count() == 1
    assert {r.pk for r in results} == {Order.objects.get(org=org).pk}
