from __future__ import annotations

import json
import uuid

import pytest

from geopera_web.accounts.models import Workspace
from geopera_web.billing.gateways import TestGateway
from geopera_web.billing.models import Charge, LedgerEntry, Wallet
from orders.models import Order, OrderGroup
from tests.conftest import caller_for_user
from tests.factories import make_org, make_user, place_body
from tests.geometry import geojson_box
from tests.on_commit import besides_outbox

pytestmark = pytest.mark.django_db


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_estimate_matches_guide_shape(sydney_captures, api_viewer):
    response = api_viewer.post(
        "orders.archive.estimate", {"captures": [{"id": "SYD-A"}, {"id": "SYD-B"}], "splitByDate": False}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"groups", "errors", "total_aud", "total_credits"}
    [group] = body["groups"]
    assert {"captures", "aoi_km2", "credits", "aud"} <= set(group)
    assert group["captures"] == ["SYD-A", "SYD-B"]
    assert body["total_credits"] == group["credits"] and body["total_aud"] == group["credits"] / 100
    assert body["errors"] == []


def test_estimate_reports_errors_with_capture_id(sydney_captures, api_viewer):
    body = api_viewer.post(
        "orders.archive.estimate",
        {"captures": [{"id": "NOPE"}, {"id": "SYD-A", "geometry": geojson_box(0, 0, 1, 1)}]},
    ).json()
    assert [(e["captureId"], e["code"]) for e in body["errors"]] == [
        ("NOPE", "unknown_capture"),
        ("SYD-A", "geometry_outside_footprint"),
    ]
    assert body["groups"] == [] and body["total_credits"] == 0


def test_estimate_with_malformed_captures_is_422(api_viewer):
    response = api_viewer.post("orders.archive.estimate", {"captures": [{"geometry": None}]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "captures"]


def test_place_reserves_credits_and_answers_like_the_guide(sydney_captures, api_operator, org):
    before = Wallet.objects.get(org=org).available_credits
    response = api_operator.post("orders.archive.place", place_body("SYD-A", "SYD-B"))
    assert response.status_code == 202, response.content
    body = response.json()
    assert {
        "id",
        "status",
        "orderType",
        "billingMode",
        "currency",
        "totalAud",
        "totalCredits",
        "groups",
    } <= set(body)
    assert (body["status"], body["orderType"], body["billingMode"], body["currency"]) == (
        "processing",
        "archive",
        "credit",
        "AUD",
    )
    captures = place_body("SYD-A", "SYD-B")["captures"]
    estimate = api_operator.post("orders.archive.estimate", {"captures": captures}).json()
    assert body["totalCredits"] == estimate["total_credits"] and body["totalAud"] == estimate["total_aud"]
    wallet = Wallet.objects.get(org=org)
    assert wallet.available_credits == before - body["totalCredits"]
    assert wallet.reserved_credits == body["totalCredits"]
    order = Order.objects.get(pk=body["id"])
    assert order.charge.status == Charge.Status.AUTHORIZED
    assert order.workspace == Workspace.objects.get(org=org, is_default=True)
    group = OrderGroup.objects.get(order=order)
    assert sorted(group.captures.values_list("scene_id", flat=True)) == ["SYD-A", "SYD-B"]
    assert [e.kind for e in order.events.all()] == ["placed", "payment_authorized"]


def test_client_sent_price_is_ignored(sydney_captures, api_operator):
    body = api_operator.post(
        "orders.archive.place", {**place_body("SYD-A"), "totalCredits": 1, "credits": 1}
    ).json()
    assert body["totalCredits"] > 1


def test_place_enqueues_fulfilment_after_commit(
    sydney_captures, api_operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_operator.post("orders.archive.place", place_body("SYD-A"))
    assert len(besides_outbox(callbacks)) == 1
    # Eager Celery in unit tests: the simulated provider (delay 0) fulfilled it.
    assert Order.objects.get(pk=response.json()["id"]).status == "fulfilled"


def test_api_key_cannot_place(sydney_captures, api_key_caller, org):
    body = _problem(api_key_caller.post("orders.archive.place", place_body("SYD-A")), 403)
    assert "API keys" in body["detail"]
    assert not Order.objects.filter(org=org).exists()


def test_place_without_credentials_is_401(sydney_captures, client):
    response = client.post(
        "/v1/op/orders.archive.place", data=json.dumps(place_body("SYD-A")), content_type="application/json"
    )
    _problem(response, 401)


def test_viewer_cannot_place(sydney_captures, api_viewer):
    _problem(api_viewer.post("orders.archive.place", place_body("SYD-A")), 403)


def test_insufficient_credits_is_402_and_nothing_is_written(sydney_captures, db):
    poor = make_org(name="Poor Org", credits=50)
    caller = caller_for_user(make_user(org=poor, role="admin"), poor)
    body = _problem(caller.post("orders.archive.place", place_body("SYD-A")), 402)
    assert body["available_credits"] == 50 and body["required_credits"] > 50
    assert not Order.objects.filter(org=poor).exists()
    assert not Charge.objects.filter(org=poor).exists()
    assert Wallet.objects.get(org=poor).available_credits == 50


def _card_caller(payment_method: str):
    org = make_org(name=f"Card Org {payment_method}", billing_mode="card")
    org.payment_method = payment_method
    org.save(update_fields=["payment_method"])
    return org, caller_for_user(make_user(org=org, role="operator"), org)


def test_declined_card_is_402(sydney_captures):
    org, caller = _card_caller(TestGateway.DECLINED)
    body = _problem(caller.post("orders.archive.place", place_body("SYD-A")), 402)
    assert "declined" in body["detail"]
    assert not Order.objects.filter(org=org).exists()


def test_missing_card_is_402(sydney_captures):
    org, caller = _card_caller("")
    _problem(caller.post("orders.archive.place", place_body("SYD-A")), 402)


def test_three_d_secure_then_retry_with_same_key_places_once(sydney_captures):
    org, caller = _card_caller(TestGateway.THREE_DS)
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = _problem(caller.post("orders.archive.place", place_body("SYD-A"), headers=headers), 402)
    assert first["client_secret"]
    # Retrying before the challenge is still a 402, with the same challenge.
    again = _problem(caller.post("orders.archive.place", place_body("SYD-A"), headers=headers), 402)
    assert again["client_secret"] == first["client_secret"]
    assert TestGateway.complete_challenge(first["client_secret"])
    ok = caller.post("orders.archive.place", place_body("SYD-A"), headers=headers)
    assert ok.status_code == 202, ok.content
    assert ok.json()["billingMode"] == "card"
    replay = caller.post("orders.archive.place", place_body("SYD-A"), headers=headers)
    assert replay.content == ok.content
    assert Order.objects.filter(org=org).count() == 1
    assert Charge.objects.filter(org=org).count() == 1


def test_enterprise_order_accrues_to_invoice(sydney_captures):
    org = make_org(name="Big Co", billing_mode="enterprise")
    caller = caller_for_user(make_user(org=org, role="admin"), org)
    body = caller.post("orders.archive.place", place_body("SYD-A")).json()
    assert body["billingMode"] == "enterprise"
    assert Charge.objects.get(org=org).authorized_credits == body["totalCredits"]


def test_other_orgs_workspace_is_404(sydney_captures, api_operator, other_org):
    theirs = Workspace.objects.filter(org=other_org).first()
    body = _problem(
        api_operator.post("orders.archive.place", place_body("SYD-A", projectId=str(theirs.pk))), 404
    )
    assert "Workspace" in body["detail"]
    _problem(api_operator.post("orders.archive.place", place_body("SYD-A", projectId="not-a-uuid")), 404)


def test_explicit_workspace_is_used(sydney_captures, api_operator, org):
    ws = Workspace.objects.create(org=org, name="Second")
    body = api_operator.post("orders.archive.place", place_body("SYD-A", projectId=str(ws.pk))).json()
    assert Order.objects.get(pk=body["id"]).workspace == ws


def test_empty_cart_is_422(api_operator):
    response = api_operator.post("orders.archive.place", {"captures": []})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "captures"]


def test_cart_with_unknown_capture_is_404_naming_it(sydney_captures, api_operator, org):
    # A capture named by id that is not in the catalog is a 404, as the document declares.
    response = api_operator.post("orders.archive.place", place_body("SYD-A", "NOPE"))
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "'NOPE'" in response.json()["detail"]
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "captures", 1] and error["type"] == "unknown_capture"
    assert not Order.objects.filter(org=org).exists()
    assert Wallet.objects.get(org=org).reserved_credits == 0


def test_cart_with_unpriceable_capture_is_422_naming_it(sydney_captures, api_operator, org):
    off = {"id": "SYD-A", "geometry": geojson_box(0, 0, 1, 1)}
    response = api_operator.post("orders.archive.place", {"captures": [{"id": "SYD-B"}, off]})
    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "captures", 1] and error["type"] == "geometry_outside_footprint"
    assert not Order.objects.filter(org=org).exists()
    assert Wallet.objects.get(org=org).reserved_credits == 0


def test_double_submit_with_same_key_is_one_order_one_reservation_byte_identical(
    sydney_captures, api_operator, org
):
    headers = {"Idempotency-Key": "cart-click-1"}
    first = api_operator.post("orders.archive.place", place_body("SYD-A", "SYD-B"), headers=headers)
    second = api_operator.post("orders.archive.place", place_body("SYD-A", "SYD-B"), headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.content == second.content
    assert second["Idempotent-Replayed"] == "true"
    assert Order.objects.filter(org=org).count() == 1
    assert LedgerEntry.objects.filter(org=org, kind="reserve").count() == 1
    conflict = api_operator.post("orders.archive.place", place_body("SYD-A"), headers=headers)
    _problem(conflict, 409)
