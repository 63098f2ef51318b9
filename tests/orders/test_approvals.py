"""Spend policies and approvals: an operator's spend above the threshold waits for an admin, the
admin's approval performs it at the price shown, budgets refuse what would overrun the month."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from geopera_web.accounts.selectors import workspace_default
from geopera_web.billing.models import Charge, Wallet
from orders.approvals.models import BudgetWarning, SpendApproval
from orders.approvals.services import spend_policy_update
from orders.cart.pricing import archive_quote
from orders.models import Order, OrderEvent
from tasking.models import Quotation
from tests.factories import make_quotation, make_study, make_tasking_request, place_body, study_option

pytestmark = pytest.mark.django_db


@pytest.fixture
def price(sydney_captures) -> int:
    return archive_quote(captures=[{"id": "SYD-A"}]).total_credits


@pytest.fixture
def threshold(org, admin_user, price):
    return spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=price - 1)


def _place(caller, *ids, **extra):
    return caller.post("orders.archive.place", place_body(*ids, **extra))


def test_operator_above_threshold_asks_for_approval_and_spends_nothing(
    org, api_operator, threshold, price, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _place(api_operator, "SYD-A", approvalNote="Needed for the flood report")
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["subStatus"]) == ("pending", "APPROVAL_WAITING_RESPONSE")
    order = Order.objects.get(pk=body["id"])
    assert order.charge_id is None and not Charge.objects.filter(org=org).exists()
    assert Wallet.objects.get(org=org).available_credits == 100_000
    approval = SpendApproval.objects.get(order=order)
    assert (approval.credits, approval.note, approval.decision) == (
        price,
        "Needed for the flood report",
        "PENDING",
    )
    assert approval.action == "archive_place"
    assert order.events.filter(kind=OrderEvent.Kind.APPROVAL_REQUESTED).exists()
    assert [m.to for m in mail.outbox] == [["admin@acme.example"]]


def test_below_threshold_and_admins_spend_directly(
    org, api_operator, api_admin, admin_user, price, sydney_captures
):
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=price)
    assert _place(api_operator, "SYD-A").json()["status"] == "processing"
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=1)
    assert _place(api_admin, "SYD-B").json()["status"] == "processing"
    assert not SpendApproval.objects.exists()


def test_admin_approves_once_then_409(org, api_operator, api_admin, threshold, price):
    order_id = _place(api_operator, "SYD-A").json()["id"]
    approval = SpendApproval.objects.get(order_id=order_id)
    ok = api_admin.post("orders.approvals.decide", {"approval_id": str(approval.pk), "decision": "ACCEPTED"})
    assert ok.status_code == 200, ok.content
    assert ok.json()["decision"] == "ACCEPTED"
    order = Order.objects.get(pk=order_id)
    assert order.status == "processing" or order.status == "fulfilled"
    assert Charge.objects.filter(org=org).count() == 1 and order.charge.authorized_credits == price
    again = api_admin.post(
        "orders.approvals.decide", {"approval_id": str(approval.pk), "decision": "ACCEPTED"}
    )
    assert again.status_code == 409 and again.json()["current_decision"] == "ACCEPTED"
    kinds = list(order.events.values_list("kind", flat=True))
    assert "approval_requested" in kinds and "approval_approved" in kinds


def test_operator_cannot_decide_and_other_org_is_404(api_operator, api_other, threshold):
    order_id = _place(api_operator, "SYD-A").json()["id"]
    approval = SpendApproval.objects.get(order_id=order_id)
    body = {"approval_id": str(approval.pk), "decision": "ACCEPTED"}
    assert api_operator.post("orders.approvals.decide", body).status_code == 403
    assert api_other.post("orders.approvals.decide", body).status_code == 404
    assert api_other.post("orders.approvals.list", {}).json()["total"] == 0


def test_reject_needs_a_reason_and_tells_the_requester(
    api_operator, api_admin, threshold, django_capture_on_commit_callbacks
):
    order_id = _place(api_operator, "SYD-A").json()["id"]
    approval = SpendApproval.objects.get(order_id=order_id)
    body = {"approval_id": str(approval.pk), "decision": "REJECTED"}
    assert api_admin.post("orders.approvals.decide", body).status_code == 422
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_admin.post("orders.approvals.decide", {**body, "reason": "Use last month's scene"})
    assert response.status_code == 200 and response.json()["reason"] == "Use last month's scene"
    assert Order.objects.get(pk=order_id).status == "rejected"
    assert [m.to for m in mail.outbox] == [["operator@acme.example"]]
    assert "Use last month's scene" in mail.outbox[0].body


def test_changed_price_is_409_with_the_new_price(api_operator, api_admin, threshold, price, product):
    order_id = _place(api_operator, "SYD-A").json()["id"]
    approval = SpendApproval.objects.get(order_id=order_id)
    product.credits_per_km2 *= 2
    product.save()
    response = api_admin.post(
        "orders.approvals.decide", {"approval_id": str(approval.pk), "decision": "ACCEPTED"}
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["current_credits"] > price and problem["approved_credits"] == price
    approval.refresh_from_db()
    assert approval.decision == "PENDING" and Order.objects.get(pk=order_id).charge_id is None


def test_expired_approval_is_410_and_the_sweep_expires_the_order(api_operator, api_admin, threshold):
    from tasking.services import decisions_expire_stale

    order_id = _place(api_operator, "SYD-A").json()["id"]
    approval = SpendApproval.objects.get(order_id=order_id)
    SpendApproval.objects.filter(pk=approval.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = api_admin.post(
        "orders.approvals.decide", {"approval_id": str(approval.pk), "decision": "ACCEPTED"}
    )
    assert response.status_code == 410
    assert decisions_expire_stale() >= 1
    assert Order.objects.get(pk=order_id).status == "expired"


def test_budget_refuses_what_would_overrun_the_month_and_warns_once(org, admin_user, api_admin, price):
    ws = workspace_default(org=org)
    spend_policy_update(
        org=org, actor=admin_user, workspace_id=ws.pk, monthly_budget_credits=int(price * 1.2)
    )
    assert _place(api_admin, "SYD-A").status_code == 202
    assert list(BudgetWarning.objects.values_list("level", flat=True)) == [80]
    refused = _place(api_admin, "SYD-B")
    assert refused.status_code == 402
    problem = refused.json()
    assert problem["type"].endswith("budget-exceeded")
    assert problem["left_credits"] == int(price * 1.2) - price and problem["workspace_name"] == ws.name
    assert "left" in problem["detail"]
    overview = api_admin.post("orders.policies.get", {}).json()
    row = next(w for w in overview["workspaces"] if w["workspaceId"] == str(ws.pk))
    assert row["spentThisMonthCredits"] == price


def test_policies_update_validates_and_is_admin_only(api_admin, api_operator):
    assert api_operator.post("orders.policies.update", {"approvalThresholdCredits": 5}).status_code == 403
    assert api_admin.post("orders.policies.update", {"approvalThresholdCredits": -5}).status_code == 422
    assert api_admin.post("orders.policies.update", {"monthlyBudgetCredits": 5}).status_code == 422
    ok = api_admin.post("orders.policies.update", {"approvalThresholdCredits": 5000, "approvalTtlHours": 24})
    assert ok.status_code == 200 and ok.json()["approvalThresholdCredits"] == 5000
    assert ok.json()["approvalTtlHours"] == 24


def test_operator_quotation_above_threshold_is_approved_by_an_admin(
    org, operator_user, admin_user, staff_user, api_operator, api_admin
):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    from tasking.services import feasibility_decide

    order = make_tasking_request(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=study.options.get().id)
    quotation = make_quotation(order, staff_user, credits=40_000)
    body = {"quotation_id": str(quotation.pk), "decision": "ACCEPTED"}
    assert api_operator.post("orders.tasking.quotation_decide", body).status_code == 403  # no policy yet
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=10_000)
    asked = api_operator.post("orders.tasking.quotation_decide", {**body, "approvalNote": "Harbour job"})
    assert asked.status_code == 200, asked.content
    assert asked.json()["approval"]["credits"] == 40_000
    quotation.refresh_from_db()
    assert quotation.decision == "PENDING" and not Charge.objects.filter(org=org).exists()
    approval = SpendApproval.objects.get(target_id=quotation.pk)
    done = api_admin.post(
        "orders.approvals.decide", {"approval_id": str(approval.pk), "decision": "ACCEPTED"}
    )
    assert done.status_code == 200, done.content
    quotation.refresh_from_db()
    order.refresh_from_db()
    assert quotation.decision == Quotation.Decision.ACCEPTED and order.status == "active"
    assert Charge.objects.filter(org=org).count() == 1 and order.charge.authorized_credits == 40_000
