"""The order page shows the order's lineage (workspace, groups with their delivered captures,
deliveries, decisions), from the same walk as provenance.get."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import deliver, make_study, make_tasking_order, make_tasking_request
from tests.geometry import square_degrees

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_order_page_lists_groups_captures_and_deliveries(org, viewer_user):
    order = make_tasking_order(org=org, aois=[square_degrees(151.0, -33.5, 0.05)], names=["Harbour"])
    deliver(order, order.groups.get(), [square_degrees(151.0, -33.5, 0.03)], ref="batch-z")
    page = _client(viewer_user).get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    section = html[html.index('id="order-lineage"') :]
    assert "Workspace <strong>Default workspace</strong>" in section
    assert "Harbour" in section and "batch-z-0" in section and "batch-z" in section
    assert "1 capture" in section


def test_order_page_lineage_shows_a_pending_study(org, operator_user, staff_user):
    order = make_tasking_request(org, operator_user)
    make_study(order, staff_user)
    html = _client(operator_user).get(f"/orders/{order.pk}/").content.decode()
    section = html[html.index('id="order-lineage"') :]
    assert "Feasibility study" in section and "pending" in section
