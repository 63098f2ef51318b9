"""The operator's side of a spend approval in the archive cart: the review step says the order
waits for an admin and takes a note for them; the order page says so after placing; the approval
is in the order's timeline; `seed_demo` leaves one pending approval in the inbox."""

from __future__ import annotations

import pytest
from django.test import Client

from geopera_web.demo import DemoWorld, seeders
from orders.approvals.models import SpendApproval
from orders.approvals.services import spend_policy_update
from orders.cart.pricing import archive_quote
from orders.demo import DEMO_APPROVAL_TAG, seed_approvals
from orders.models import Order, OrderEvent
from tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def operator_client(operator_user):
    client = Client()
    client.force_login(operator_user)
    return client


@pytest.fixture
def threshold(org, admin_user, sydney_captures) -> int:
    price = archive_quote(captures=[{"id": "SYD-A"}]).total_credits
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=price - 1)
    return price - 1


def test_review_above_threshold_says_it_waits_for_an_admin_and_asks_for_a_note(operator_client, threshold):
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    html = operator_client.post(
        "/archive/cart/review/", {"idempotency_key": "k1"}, headers=HX
    ).content.decode()
    assert 'data-testid="review-approval"' in html and "waits for an admin" in html
    assert 'name="approvalNote"' in html and "Ask an admin to approve" in html
    assert 'data-testid="review-spend"' not in html
    assert 'data-testid="review-wallet"' not in html  # nothing leaves the wallet now


def test_review_below_threshold_has_no_note_field(operator_client, org, admin_user, sydney_captures):
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=10**9)
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    html = operator_client.post(
        "/archive/cart/review/", {"idempotency_key": "k1"}, headers=HX
    ).content.decode()
    assert 'name="approvalNote"' not in html and 'data-testid="review-spend"' in html


def test_place_above_threshold_keeps_the_note_and_the_order_page_says_it_waits(
    operator_client, org, threshold
):
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    response = operator_client.post(
        "/archive/cart/place/",
        {"idempotency_key": "k-note", "approvalNote": "  For the flood report "},
        headers=HX,
    )
    order = Order.objects.get(org=org)
    assert response["HX-Redirect"] == f"/orders/{order.pk}/?placed=1"
    approval = SpendApproval.objects.get(order=order)
    assert (approval.note, approval.decision) == ("For the flood report", "PENDING")
    page = operator_client.get(f"/orders/{order.pk}/?placed=1").content.decode()
    assert "Waiting for an admin’s approval" in page and "<h2>Order placed</h2>" not in page
    # The request is on the order's timeline.
    assert order.events.filter(kind=OrderEvent.Kind.APPROVAL_REQUESTED).exists()
    label = OrderEvent.Kind.APPROVAL_REQUESTED.label
    assert label in page


def test_over_long_note_is_a_form_error_not_a_500(operator_client, org, threshold):
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    response = operator_client.post(
        "/archive/cart/place/", {"idempotency_key": "k-long", "approvalNote": "x" * 1001}, headers=HX
    )
    assert response.status_code == 422
    assert "at most 1000 characters" in response.content.decode()
    assert not Order.objects.filter(org=org).exists()


def test_approvals_demo_leaves_one_pending_approval_with_a_note_idempotently(sydney_captures):
    assert any(name == "approvals" for _, name, _ in seeders())
    acme = make_org(name="Acme Demo", credits=100_000)
    users = {
        "acme_admin": make_user(org=acme, role="admin"),
        "acme_operator": make_user(org=acme, role="operator"),
    }
    world = DemoWorld(orgs={"acme": acme}, users=users, log=lambda _: None)
    seed_approvals(world)
    seed_approvals(world)
    approval = SpendApproval.objects.get(org=acme)
    assert approval.decision == "PENDING" and approval.note
    assert approval.requested_by == users["acme_operator"]
    assert approval.order.tags == [DEMO_APPROVAL_TAG, "sydney"]
    admin = Client()
    admin.force_login(users["acme_admin"])
    inbox = admin.get("/inbox/").content.decode()
    assert f'id="decision-{approval.pk}"' in inbox


@pytest.mark.parametrize(
    ("decision", "kind"),
    [("ACCEPTED", OrderEvent.Kind.APPROVAL_APPROVED), ("REJECTED", OrderEvent.Kind.APPROVAL_REJECTED)],
)
def test_the_decision_is_on_the_order_timeline(operator_client, org, threshold, api_admin, decision, kind):
    operator_client.post("/archive/cart/toggle/", {"capture_id": "SYD-A"})
    operator_client.post("/archive/cart/place/", {"idempotency_key": f"k-{decision}"}, headers=HX)
    order = Order.objects.get(org=org)
    approval = SpendApproval.objects.get(order=order)
    body = {"approval_id": str(approval.pk), "decision": decision}
    if decision == "REJECTED":
        body["reason"] = "Use the cheaper product"
    assert api_admin.post("orders.approvals.decide", body).status_code == 200
    page = operator_client.get(f"/orders/{order.pk}/").content.decode()
    assert kind.label in page
    if decision == "REJECTED":
        assert "Use the cheaper product" in page
