"""orders.coverage.get and orders.coverage.groups.list over HTTP: figures, GeoJSON, NDJSON via
Accept, tenancy (another org's order is 404) and archive orders (409)."""

from __future__ import annotations

import json

import pytest

from orders.coverage.services import coverage_recompute
from orders.models import Order, OrderType

from .coverage_helpers import deliver, make_tasking_order

pytestmark = pytest.mark.django_db

AOI_A = (151.0, -33.0, 151.1, -32.9)
AOI_B = (151.3, -33.0, 151.4, -32.9)


@pytest.fixture
def covered_order(org):
    order = make_tasking_order(org=org, aois=[AOI_A, AOI_B], names=["Vineyard", "Weir"])
    a, b = order.groups.order_by("position")
    deliver(order, a, [(150.9, -33.1, 151.05, -32.8)], ref="b1")  # half of A
    deliver(order, b, [(151.2, -33.1, 151.5, -32.8)], ref="b2")  # all of B
    coverage_recompute(order_id=order.pk)
    order.refresh_from_db()
    return order


def test_groups_list_gives_per_aoi_figures(api_viewer, covered_order):
    response = api_viewer.post("orders.coverage.groups.list", {"order_id": str(covered_order.pk)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["orderId"] == str(covered_order.pk)
    assert body["coverageTarget"] == 95.0
    vineyard, weir = body["groups"]
    assert vineyard["name"] == "Vineyard" and weir["name"] == "Weir"
    assert vineyard["coveredPercentage"] == pytest.approx(50, abs=0.5)
    assert vineyard["coveredPercentage"] + vineyard["remainderPercentage"] == pytest.approx(100, abs=1e-4)
    assert vineyard["requestedSqKm"] == pytest.approx(
        vineyard["coveredSqKm"] + vineyard["remainderSqKm"], rel=1e-6
    )
    assert weir["coveredPercentage"] == pytest.approx(100)
    assert weir["remainderSqKm"] == 0
    assert vineyard["capturesDelivered"] == 1 and vineyard["lastDeliveryAt"].endswith("Z")
    assert 70 < body["coveredPercentage"] < 80
    # The resource route answers the same.
    again = api_viewer.post("orders.coverage.groups.list", {"order_id": str(covered_order.pk)}, route=True)
    assert again.json() == body


def test_groups_list_works_for_an_order_in_any_status_before_any_delivery(api_viewer, org):
    order = make_tasking_order(org=org, aois=[AOI_A], status=Order.Status.PENDING)
    body = api_viewer.post("orders.coverage.groups.list", {"order_id": str(order.pk)}).json()
    (group,) = body["groups"]
    assert body["status"] == "pending"
    assert group["coveredPercentage"] == 0 and group["remainderPercentage"] == 100
    assert group["requestedSqKm"] == pytest.approx(group["remainderSqKm"]) and group["requestedSqKm"] > 100
    assert group["capturesDelivered"] == 0 and group["lastDeliveryAt"] is None


def test_coverage_get_is_a_feature_collection_with_three_kinds_per_aoi(api_viewer, covered_order):
    response = api_viewer.post("orders.coverage.get", {"order_id": str(covered_order.pk)})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    fc = json.loads(response.content)
    assert fc["type"] == "FeatureCollection"
    kinds = [(f["properties"]["name"], f["properties"]["kind"]) for f in fc["features"]]
    assert kinds == [
        ("Vineyard", "requested"),
        ("Vineyard", "covered"),
        ("Vineyard", "remainder"),
        ("Weir", "requested"),
        ("Weir", "covered"),
        ("Weir", "remainder"),
    ]
    by = {(f["properties"]["name"], f["properties"]["kind"]): f for f in fc["features"]}
    assert by[("Vineyard", "covered")]["geometry"]["type"] == "MultiPolygon"
    assert by[("Vineyard", "covered")]["properties"]["percentage"] == pytest.approx(50, abs=0.5)
    assert by[("Weir", "remainder")]["geometry"] is None  # fully covered: nothing remains
    assert by[("Weir", "remainder")]["properties"]["sqKmArea"] == 0
    assert by[("Vineyard", "requested")]["properties"]["percentage"] == 100


@pytest.mark.parametrize("media", ["application/x-ndjson", "application/geo+json-seq"])
def test_coverage_get_streams_one_feature_per_line_when_accept_asks(api_viewer, covered_order, media):
    response = api_viewer.post(
        "orders.coverage.get", {"order_id": str(covered_order.pk)}, headers={"Accept": media}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == media
    text = response.content.decode()
    lines = text.strip("\n").split("\n")
    assert len(lines) == 6
    features = [json.loads(line.lstrip("\x1e")) for line in lines]
    assert all(f["type"] == "Feature" for f in features)
    assert all(line.startswith("\x1e") == (media == "application/geo+json-seq") for line in lines)


@pytest.mark.parametrize("op", ["orders.coverage.get", "orders.coverage.groups.list"])
def test_another_orgs_order_is_404_like_a_missing_one(api_other, covered_order, op):
    response = api_other.post(op, {"order_id": str(covered_order.pk)})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    missing = api_other.post(op, {"order_id": "00000000-0000-0000-0000-000000000000"})
    assert missing.status_code == 404 and missing.json()["detail"] == response.json()["detail"]


@pytest.mark.parametrize("op", ["orders.coverage.get", "orders.coverage.groups.list"])
def test_archive_order_is_409_not_a_tasking_order(api_viewer, org, op):
    order = make_tasking_order(org=org, aois=[AOI_A], status=Order.Status.PENDING, authorize=False)
    Order.objects.filter(pk=order.pk).update(order_type=OrderType.ARCHIVE)
    response = api_viewer.post(op, {"order_id": str(order.pk)})
    assert response.status_code == 409
    body = response.json()
    assert body["type"].endswith("/not-a-tasking-order") and body["order_type"] == "archive"


def test_missing_order_id_is_422(api_viewer):
    response = api_viewer.post("orders.coverage.get", {})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "order_id"]
