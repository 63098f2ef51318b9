"""orders.place and orders.estimate with an archive product ("archive reserves"): the features name
catalog captures, priced and paid exactly like orders.archive.place."""

from __future__ import annotations

import pytest

from geopera_web.billing.selectors import wallet_get
from orders.models import Order
from tests.geometry import geojson_box

pytestmark = pytest.mark.django_db


def _body(*ids: str, org=None, **extra) -> dict:
    return {
        "dataProduct": "optical-50cm",
        "workspaceId": str(org.workspaces.get(is_default=True).pk) if org else "",
        "featureCollection": {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "id": i, "geometry": None, "properties": {}} for i in ids],
        },
        **extra,
    }


def test_estimate_prices_archive_captures_like_the_archive_estimate(api_operator, sydney_captures):
    via_orders = api_operator.post("orders.estimate", _body("SYD-A", "SYD-B")).json()
    via_archive = api_operator.post(
        "orders.archive.estimate", {"captures": [{"id": "SYD-A"}, {"id": "SYD-B"}]}
    ).json()
    assert via_orders["total_credits"] == via_archive["total_credits"] == via_orders["totalCredits"] > 0
    assert via_orders["groups"] == via_archive["groups"]


def test_place_reserves_and_creates_a_processing_archive_order(api_operator, org, sydney_captures):
    body = _body(
        "SYD-A", workspaceId=str(org.workspaces.get(is_default=True).pk), displayName="Via orders.place"
    )
    response = api_operator.post("orders.place", body, headers={"Idempotency-Key": "op-1"})
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["orderType"] == "archive" and out["status"] == "processing"
    order = Order.objects.get(pk=out["id"])
    assert order.charge.authorized_credits == out["totalCredits"] > 0
    assert wallet_get(org=org).reserved_credits == out["totalCredits"]
    again = api_operator.post("orders.place", body, headers={"Idempotency-Key": "op-1"})
    assert again.content == response.content and Order.objects.filter(org=org).count() == 1


def test_place_clips_to_a_feature_geometry(api_operator, sydney_captures):
    full = api_operator.post("orders.estimate", _body("SYD-A")).json()["total_credits"]
    clipped_body = _body("SYD-A")
    clipped_body["featureCollection"]["features"][0]["geometry"] = geojson_box(151.10, -33.95, 151.15, -33.85)
    clipped = api_operator.post("orders.estimate", clipped_body).json()["total_credits"]
    assert 0 < clipped < full


def test_archive_through_orders_place_refuses_api_keys(api_key_caller, org, sydney_captures):
    response = api_key_caller.post("orders.place", _body("SYD-A", org=org))
    assert response.status_code == 403 and "API keys cannot place archive orders" in response.json()["detail"]
    assert not Order.objects.filter(org=org).exists()


def test_features_must_name_captures_of_the_requested_product(api_operator, org, sydney_captures):
    unnamed = _body("SYD-A", org=org)
    unnamed["featureCollection"]["features"][0].pop("id")
    response = api_operator.post("orders.place", unnamed)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "featureCollection", "features", 0, "id"]
    wrong = _body("SYD-A", org=org)
    wrong["dataProduct"] = "some-other-archive-product"
    from tests.factories import make_product

    make_product(pid="some-other-archive-product", rate=10, min_area=1.0)
    assert api_operator.post("orders.place", wrong).status_code == 422
