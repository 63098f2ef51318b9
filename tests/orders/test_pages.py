from __future__ import annotations

import uuid

import pytest
from django.test import Client

from geopera_web.billing.models import Wallet
from orders.fulfilment.services import archive_order_sync
from tests.factories import place_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(operator_user):
    client = Client()
    client.force_login(operator_user)
    return client


def test_order_list_page_filters_and_totals(placed_order, operator_client, api_operator):
    second = api_operator.post(
        "orders.archive.place", place_body("SYD-C", displayName="Coastal check")
    ).json()
    archive_order_sync(order_id=second["id"])
    html = operator_client.get("/orders/").content.decode()
    assert "2 orders" in html and str(placed_order.pk) in html and second["id"] in html
    only = operator_client.get("/orders/", {"status": "fulfilled"}).content.decode()
    assert second["id"] in only and str(placed_order.pk) not in only and "1 order " in only
    text = operator_client.get("/orders/", {"q": "coastal"}).content.decode()
    assert second["id"] in text and str(placed_order.pk) not in text
    partial = operator_client.get(
        "/orders/", {"type": "archive"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert partial.lstrip().startswith('<section class="card" id="order-results">')


def test_order_list_page_ignores_unknown_filter_values(placed_order, operator_client):
    response = operator_client.get("/orders/", {"status": "bogus", "type": "x"})
    assert response.status_code == 200 and str(placed_order.pk) in response.content.decode()


def test_order_detail_page_shows_breakdown_timeline_and_cancel_effect(placed_order, operator_client):
    html = operator_client.get(f"/orders/{placed_order.pk}/").content.decode()
    assert 'id="order-map"' in html and 'id="order-groups"' in html
    assert "SYD-A" in html and "SYD-B" in html
    assert f"reservation of {placed_order.total_credits:,} credits" in html
    assert "placed" in html and "payment_authorized" in html


def test_cancel_from_page_releases_and_shows_it(placed_order, operator_client, org):
    response = operator_client.post(f"/orders/{placed_order.pk}/cancel/", follow=True)
    assert response.status_code == 200
    placed_order.refresh_from_db()
    assert placed_order.status == "cancelled"
    assert Wallet.objects.get(org=org).reserved_credits == 0
    html = response.content.decode()
    assert "Order cancelled" in html and 'id="cancel-confirm"' not in html
    again = operator_client.post(f"/orders/{placed_order.pk}/cancel/")
    assert again.status_code == 409


def test_tags_editor_merges_and_removes(placed_order, operator_client):
    response = operator_client.post(
        f"/orders/{placed_order.pk}/tags/", {"tags": "flood, nsw"}, headers={"HX-Request": "true"}
    )
    assert 'id="order-tags"' in response.content.decode()
    operator_client.post(f"/orders/{placed_order.pk}/tags/", {"remove": "flood"})
    placed_order.refresh_from_db()
    assert placed_order.tags == ["nsw"]


def test_viewer_sees_detail_without_cancel_or_tag_editing(placed_order, viewer_user):
    client = Client()
    client.force_login(viewer_user)
    html = client.get(f"/orders/{placed_order.pk}/").content.decode()
    assert 'id="cancel-confirm"' not in html and 'id="tag-input"' not in html
    assert client.post(f"/orders/{placed_order.pk}/cancel/").status_code == 403


def test_fulfilled_order_page_lists_assets(placed_order, operator_client):
    archive_order_sync(order_id=placed_order.pk)
    html = operator_client.get(f"/orders/{placed_order.pk}/").content.decode()
    assert "visual.tif" in html and 'id="cancel-confirm"' not in html


@pytest.mark.parametrize("suffix,method", [("", "get"), ("cancel/", "post"), ("tags/", "post")])
def test_other_orgs_order_pages_are_404(placed_order, other_admin, suffix, method):
    client = Client()
    client.force_login(other_admin)
    response = getattr(client, method)(
        f"/orders/{placed_order.pk}/{suffix}", {"tags": "x"} if method == "post" else {}
    )
    assert response.status_code == 404
    placed_order.refresh_from_db()
    assert placed_order.status == "processing" and placed_order.tags == []


def test_other_orgs_orders_not_in_list(placed_order, other_admin):
    client = Client()
    client.force_login(other_admin)
    html = client.get("/orders/").content.decode()
    assert str(placed_order.pk) not in html and "0 orders" in html
    assert client.get(f"/orders/{uuid.uuid4()}/").status_code == 404
