"""The coverage page, its GeoJSON downloads and remainder links, and what other pages reuse:
coverage_summary_for_orders (one query), the _coverage_summary partial, delivered_assets (STAC)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from geopera_web.errors import NotFound
from orders.coverage.selectors import coverage_summary_for_orders
from orders.coverage.services import coverage_recompute
from orders.fulfilment.selectors import delivered_assets
from orders.models import Order, OrderType

from .coverage_helpers import deliver, make_tasking_order

pytestmark = pytest.mark.django_db
A = (151.0, -33.0, 151.1, -32.9)
B = (151.3, -33.0, 151.4, -32.9)


@pytest.fixture
def order(org):
    order = make_tasking_order(org=org, aois=[A, B], names=["Pokolbin", "Broke"])
    deliver(order, order.groups.get(position=0), [(150.9, -33.1, 151.05, -32.8)], ref="b1")
    deliver(order, order.groups.get(position=1), [(151.2, -33.1, 151.5, -32.8)], ref="b2")
    deliver(order, order.groups.get(position=1), [(151.3, -33.0, 151.31, -32.99)], ref="b3", status="failed")
    coverage_recompute(order_id=order.pk)
    return order


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_coverage_page_shows_each_aoi_with_figures_and_actions(order, viewer_user):
    response = client_for(viewer_user).get(reverse("orders:coverage", kwargs={"order_id": order.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pokolbin" in html and "Broke" in html
    assert html.count('data-testid="coverage-row"') == 2
    assert 'data-testid="coverage-chart"' in html
    data = response.context["map_data"]
    kinds = sorted({f["properties"]["kind"] for f in data["coverage"]["features"]})
    assert kinds == ["covered", "remainder", "requested"]
    assert len(data["footprints"]["features"]) == 3  # the failed one is drawn too, marked failed
    rows = response.context["rows"]
    pokolbin, broke = rows
    assert pokolbin["f"].covered_percent == pytest.approx(50, abs=0.5)
    assert broke["at_target"] and broke["archive_url"] == ""  # nothing remains to search for
    # Remainder links carry the remainder geometry (and, to re-task, the product).
    archive = urlparse(pokolbin["archive_url"])
    assert archive.path == "/archive/"
    aoi = json.loads(parse_qs(archive.query)["aoi"][0])
    remainder = GEOSGeometry(json.dumps(aoi), srid=4326)
    assert remainder.area == pytest.approx(0.05 * 0.1, rel=1e-3)
    retask = urlparse(pokolbin["retask_url"])
    assert retask.path == "/tasking/new/"
    assert parse_qs(retask.query)["product"] == [order.data_product_id]
    assert json.loads(parse_qs(retask.query)["aoi"][0]) == aoi


def test_coverage_page_of_another_orgs_order_is_404(order, other_admin):
    response = client_for(other_admin).get(reverse("orders:coverage", kwargs={"order_id": order.pk}))
    assert response.status_code == 404


def test_coverage_page_of_an_archive_order_says_why_not(org, viewer_user):
    archive = make_tasking_order(org=org, aois=[A], status=Order.Status.PENDING, authorize=False)
    Order.objects.filter(pk=archive.pk).update(order_type=OrderType.ARCHIVE)
    response = client_for(viewer_user).get(reverse("orders:coverage", kwargs={"order_id": archive.pk}))
    assert response.status_code == 409
    assert "tasking orders" in response.content.decode()


@pytest.mark.parametrize("kind", ["covered", "remainder"])
def test_download_is_a_geojson_attachment(order, viewer_user, kind):
    group = order.groups.get(position=0)
    url = reverse(
        "orders:coverage_download", kwargs={"order_id": order.pk, "group_id": group.pk, "kind": kind}
    )
    response = client_for(viewer_user).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="test-tasking-order-pokolbin-{kind}.geojson"'
    )
    fc = json.loads(response.content)
    (feature,) = fc["features"]
    assert feature["properties"]["kind"] == kind and feature["geometry"]["type"] == "MultiPolygon"
    assert client_for_other(order).get(url).status_code == 404


def client_for_other(order):
    from tests.factories import make_org, make_user

    return client_for(make_user(org=make_org(), role="admin"))


def test_coverage_summary_for_orders_is_one_query_and_org_scoped(
    order, org, other_org, django_assert_num_queries
):
    pending = make_tasking_order(org=org, aois=[A], status=Order.Status.PENDING, authorize=False)
    archive = make_tasking_order(org=org, aois=[A], status=Order.Status.PENDING, authorize=False)
    Order.objects.filter(pk=archive.pk).update(order_type=OrderType.ARCHIVE)
    foreign = make_tasking_order(org=other_org, aois=[A], authorize=False)
    with django_assert_num_queries(1):
        summary = coverage_summary_for_orders(
            org=org, order_ids=[order.pk, pending.pk, archive.pk, foreign.pk, "junk"]
        )
    assert set(summary) == {order.pk, pending.pk}
    assert summary[pending.pk] == 0
    # Area-weighted: half of A plus all of B (same size) is ~75%.
    assert summary[order.pk] == pytest.approx(75, abs=0.5)


def test_coverage_summary_partial_renders_a_bar_and_a_percentage(order):
    html = render_to_string("orders/_coverage_summary.html", {"order": order, "percent": 74.96})
    assert "75%" in html and reverse("orders:coverage", kwargs={"order_id": order.pk}) in html
    assert "width:74.96%" in html.replace(" ", "") or "width:75.0%" in html.replace(" ", "")
    assert "—" in render_to_string("orders/_coverage_summary.html", {"order": order, "percent": None})


def test_delivered_assets_is_a_stac_collection_with_provenance(order, org, other_org):
    fc = delivered_assets(org=org, order_id=order.pk, base_url="https://app.example/")
    assert fc["type"] == "FeatureCollection"
    assert len(fc["features"]) == 2  # the failed acquisition is not an asset
    item = fc["features"][0]
    assert item["stac_version"] == "1.0.0" and item["id"] == "b1-0"
    assert item["properties"]["geopera:order_id"] == str(order.pk)
    assert item["properties"]["geopera:group_name"] == "Pokolbin"
    assert item["assets"]["visual"]["href"].startswith("https://example.test/")
    rels = {link["rel"]: link["href"] for link in item["links"]}
    assert rels["via"] == f"https://app.example/orders/{order.pk}/"
    assert "derived_from" in rels
    assert len(item["bbox"]) == 4
    with pytest.raises(NotFound):
        delivered_assets(org=other_org, order_id=order.pk)


def test_coverage_page_before_any_delivery_shows_the_whole_aoi_remaining(org, viewer_user):
    order = make_tasking_order(
        org=org, aois=[A], names=["Pokolbin"], status=Order.Status.PENDING, authorize=False
    )
    response = client_for(viewer_user).get(reverse("orders:coverage", kwargs={"order_id": order.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No deliveries yet" in html
    (row,) = response.context["rows"]
    assert row["f"].covered_percent == 0 and row["archive_url"].startswith("/archive/?aoi=")
    remainder = [
        f
        for f in response.context["map_data"]["coverage"]["features"]
        if f["properties"]["kind"] == "remainder"
    ]
    assert remainder[0]["geometry"]["type"] == "MultiPolygon"
