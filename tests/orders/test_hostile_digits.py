"""Figures typed into a page's form or query string that Python calls digits but `int` refuses
("²", a superscript two: str.isdigit() is True) or that are too long to read (more than 4,300
digits): the page answers as for any other non-number, never 500."""

from __future__ import annotations

import pytest
from django.test import Client

from orders.models import Order
from tests.factories import make_tasking_request

pytestmark = pytest.mark.django_db

HOSTILE = ["²", "1²", "9" * 5000]


@pytest.fixture
def admin_client(admin_user) -> Client:
    c = Client(raise_request_exception=False)
    c.force_login(admin_user)
    return c


@pytest.fixture(autouse=True)
def catalog(db):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()


@pytest.mark.parametrize("raw", HOSTILE)
def test_the_order_pages_offset(admin_client, org, operator_user, raw):
    order = make_tasking_request(org, operator_user)
    for name in ("assets", "timeline"):
        r = admin_client.get(f"/orders/{order.pk}/{name}/", {"offset": raw})
        assert r.status_code == 400, (name, r.status_code)


@pytest.mark.parametrize("raw", HOSTILE)
def test_the_order_cancel_form(admin_client, org, operator_user, raw):
    order = make_tasking_request(org, operator_user)
    r = admin_client.post(f"/orders/{order.pk}/cancel/", {"expected_charge_credits": raw})
    assert r.status_code == 302, r.status_code
    assert Order.objects.get(pk=order.pk).status == "cancelled"  # as for any other non-figure


@pytest.mark.parametrize("raw", HOSTILE)
def test_the_series_cancel_form(admin_client, org, operator_user, admin_user, staff_user, raw):
    from tests.tasking.series_helpers import accepted_series

    series = accepted_series(org, operator_user, admin_user, staff_user)
    r = admin_client.post(f"/tasking/series/{series.pk}/cancel/", {"expected_charge_credits": raw})
    assert r.status_code == 302, r.status_code


@pytest.mark.parametrize("raw", HOSTILE)
def test_the_spend_policies_form(admin_client, org, raw):
    r = admin_client.post("/policies/", {"approval_threshold_credits": raw})
    assert r.status_code in (200, 400, 422), r.status_code
    assert "whole number" in r.content.decode()
