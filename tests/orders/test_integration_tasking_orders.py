"""Where coverage meets the orders pages and API: the list's coverage column (one query for the
page), the detail page's coverage summary and links, and orders.list_assets for tasking orders."""

from __future__ import annotations

import pytest
from django.test import Client

from orders.coverage.services import coverage_recompute

from .coverage_helpers import deliver, make_tasking_order

pytestmark = pytest.mark.django_db

AOI = (151.0, -33.0, 151.1, -32.9)
HALF = (150.9, -33.1, 151.05, -32.8)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _half_covered(org):
    order = make_tasking_order(org=org, aois=[AOI])
    deliver(order, order.groups.get(), [HALF], ref="half")
    coverage_recompute(order_id=order.pk)
    return order


def test_order_list_shows_each_tasking_orders_coverage_without_a_query_per_row(
    org, operator_user, django_assert_max_num_queries
):
    orders = [_half_covered(org) for _ in range(2)]
    client = _client(operator_user)
    client.get("/orders/")  # warm the session and caches
    with django_assert_max_num_queries(20):
        html = client.get("/orders/").content.decode()
    assert html.count('data-testid="coverage-summary"') == 2
    assert "{#" not in html and "{%" not in html  # no template source leaks onto the page
    assert "50" in html and f"/orders/{orders[0].pk}/coverage/" in html
    for _ in range(3):
        _half_covered(org)
    with django_assert_max_num_queries(20):
        more = client.get("/orders/").content.decode()
    assert more.count('data-testid="coverage-summary"') == 5


def test_tasking_order_detail_links_coverage_and_save_as_template(org, operator_user, viewer_user):
    order = _half_covered(org)
    html = _client(operator_user).get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="coverage-summary"' in html
    assert f"/orders/{order.pk}/coverage/" in html
    assert f"/templates/new/?from_order={order.pk}" in html
    assert "<code>half-0</code>" in html  # the delivered capture is listed under Assets
    viewer_html = _client(viewer_user).get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="coverage-link"' in viewer_html and "save-as-template" not in viewer_html


def test_list_assets_of_a_tasking_order_are_its_delivered_captures(org, api_operator, api_other):
    order = _half_covered(org)
    response = api_operator.post("orders.list_assets", {"order_id": str(order.pk)})
    assert response.status_code == 200
    items = response.json()["features"]
    assert [i["id"] for i in items] == ["half-0"]
    assert items[0]["properties"]["geopera:order_id"] == str(order.pk)
    assert api_other.post("orders.list_assets", {"order_id": str(order.pk)}).status_code == 404


def test_orders_not_acquiring_show_no_coverage(org, operator_user):
    from orders.models import Order

    make_tasking_order(org=org, aois=[AOI], status=Order.Status.PENDING, authorize=False)
    html = _client(operator_user).get("/orders/").content.decode()
    assert 'data-testid="coverage-summary"' not in html


def test_dashboard_shows_recent_orders_with_coverage(org, operator_user):
    order = _half_covered(org)
    html = _client(operator_user).get("/").content.decode()
    assert 'data-testid="recent-orders"' in html and f"/orders/{order.pk}/" in html
    assert 'data-testid="coverage-summary"' in html


def test_dashboard_without_orders_points_to_the_archive_and_tasking(org, operator_user):
    html = _client(operator_user).get("/").content.decode()
    assert "No orders yet" in html and "/archive/" in html and "/tasking/new/" in html
