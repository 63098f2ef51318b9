"""No card authorization hold outlives a transaction that rolled back (issue 9).

The test gateway remembers every hold it grants, per payment method, as a card processor does:
after a placement fails for any reason after the authorization, no hold may be left live."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from geopera_web.billing.gateways import TestGateway
from geopera_web.billing.models import Charge
from geopera_web.billing.services import charge_authorize, charge_capture, charge_release
from geopera_web.errors import InvalidInput
from orders.cart import services as cart_services
from orders.cart.services import archive_order_place
from orders.models import Order
from tests.conftest import caller_for_user
from tests.factories import make_org, make_user
from tests.orders.helpers import place_body

pytestmark = pytest.mark.django_db


def _card_org():
    org = make_org(name=f"Card Org {uuid.uuid4().hex[:6]}", billing_mode="card")
    # Any token the test gateway does not treat specially authorizes; a unique one per test lets
    # us count this org's holds alone.
    org.payment_method = f"pm_card_visa_{uuid.uuid4().hex[:8]}"
    org.save(update_fields=["payment_method"])
    return org


def test_a_failure_after_the_authorization_voids_the_hold(sydney_captures, monkeypatch):
    org = _card_org()
    user = make_user(org=org, role="operator")

    def crash(**kwargs):
        raise RuntimeError("a later step failed")

    # The step after the hold (writing the timeline) fails: everything rolls back.
    monkeypatch.setattr(cart_services, "event_order_placed", crash)
    with pytest.raises(RuntimeError):
        archive_order_place(org=org, actor=user, captures=[{"id": "SYD-A"}])
    assert not Order.objects.filter(org=org).exists()
    assert not Charge.objects.filter(org=org).exists()
    assert TestGateway.live_holds(org.payment_method) == 0


def test_an_over_long_license_type_is_422_and_leaves_no_hold(sydney_captures):
    # Before: licenseType reached the 40-character column after the hold, so the DataError (a 500)
    # rolled the order back and left the hold on the card.
    org = _card_org()
    user = make_user(org=org, role="operator")
    caller = caller_for_user(user, org)
    response = caller.post("orders.archive.place", place_body("SYD-A", licenseType="L" * 41))
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["body", "licenseType"]
    # The service checks it too, before the hold, whoever calls it (the cart, orders.place).
    with pytest.raises(InvalidInput, match="licenseType"):
        archive_order_place(org=org, actor=user, captures=[{"id": "SYD-A"}], license_type="L" * 41)
    assert not Order.objects.filter(org=org).exists()
    assert TestGateway.live_holds(org.payment_method) == 0


def test_a_placed_order_keeps_exactly_one_hold(sydney_captures, django_capture_on_commit_callbacks):
    org = _card_org()
    user = make_user(org=org, role="operator")
    with django_capture_on_commit_callbacks(execute=True):
        order = archive_order_place(org=org, actor=user, captures=[{"id": "SYD-A"}])
        assert TestGateway.live_holds(org.payment_method) == 1
    # Committed: fulfilment ran (eagerly here) and captured that one hold.
    hold = TestGateway.hold(order.charge.gateway_ref)
    assert hold["state"] == "captured" and hold["captured"] == order.total_credits
    assert TestGateway.live_holds(org.payment_method) == 0


def test_gateway_capture_and_void_wait_for_the_commit(django_capture_on_commit_callbacks):
    org = _card_org()
    # A release that rolls back must not void the hold at the bank.
    with django_capture_on_commit_callbacks(execute=True):
        charge = charge_authorize(org=org, credits=500, reference="test:1")
    with pytest.raises(RuntimeError), transaction.atomic():
        charge_release(charge_id=charge.pk)
        raise RuntimeError("rolled back")
    assert TestGateway.hold(charge.gateway_ref)["state"] == "held"
    # A capture that commits is sent once committed.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        charge_capture(charge_id=charge.pk, credits=300)
        assert TestGateway.hold(charge.gateway_ref)["state"] == "held"
    assert callbacks
    hold = TestGateway.hold(charge.gateway_ref)
    assert hold["state"] == "captured" and hold["captured"] == 300
    assert TestGateway.live_holds(org.payment_method) == 0
