"""A pending spend approval closes with its order: cancelled (orders.cancel, the order page, a
series cancel), rejected or expired, the order has nothing left to approve, so the approval becomes
EXPIRED by the system (no admin is named), its reason says why, it is in the timeline and the audit
trail, and every list and count agrees it no longer waits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from geopera_web.audit.models import AuditEvent
from orders.approvals.models import SpendApproval
from orders.approvals.selectors import approvals_pending
from orders.approvals.services import approvals_close_ended, spend_policy_update
from orders.cart.pricing import archive_quote
from orders.inbox import decisions_pending_count
from orders.models import Order
from orders.timeline import timeline_context_for, timeline_lines
from tests.factories import place_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalog(db):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()


@pytest.fixture
def waiting(org, admin_user, api_operator, sydney_captures) -> SpendApproval:
    """An operator's archive order above the threshold: pending, with its pending approval."""
    price = archive_quote(captures=[{"id": "SYD-A"}]).total_credits
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=price - 1)
    r = api_operator.post("orders.archive.place", place_body("SYD-A"))
    assert r.status_code == 202, r.content
    return SpendApproval.objects.get(order_id=r.json()["id"], decision="PENDING")


def _assert_closed(org, approval: SpendApproval, api, why: str) -> None:
    approval.refresh_from_db()
    assert approval.decision == SpendApproval.Decision.EXPIRED
    assert approval.decided_by_id is None and approval.reason == why
    listed = api.post("orders.approvals.list", {"decision": "PENDING"})
    assert listed.status_code == 200 and listed.json()["total"] == 0
    assert api.post("orders.approvals.list", {"decision": "EXPIRED"}).json()["total"] == 1
    assert decisions_pending_count(org=org, kinds="approval") == 0
    assert not approvals_pending(org=org).exists()
    assert AuditEvent.objects.filter(action="decision.approval.expired", target_id=str(approval.pk)).exists()
    order = Order.objects.get(pk=approval.order_id)
    lines = timeline_lines(
        list(order.events.all()), timeline_context_for(order=order, show_money=True, lineage={})
    )
    closed = [line for line in lines if line.title == "Spend approval closed"]
    assert len(closed) == 1 and why in closed[0].sentence and "in time" not in closed[0].sentence
    assert "admin" not in closed[0].sentence.lower()


def test_cancelling_the_order_on_the_api_closes_its_pending_approval(org, waiting, api_operator, api_admin):
    assert api_admin.post("orders.approvals.list", {"decision": "PENDING"}).json()["total"] == 1
    r = api_operator.post("orders.cancel", {"order_id": str(waiting.order_id)})
    assert r.status_code == 200, r.content
    _assert_closed(org, waiting, api_admin, "The order was cancelled.")
    # Deciding it now is the ordinary 409 of a closed decision, naming what it is.
    again = api_admin.post(
        "orders.approvals.decide", {"approval_id": str(waiting.pk), "decision": "ACCEPTED"}
    )
    assert again.status_code == 409 and again.json()["current_decision"] == "EXPIRED"


def test_cancelling_on_the_order_page_closes_it_too(org, waiting, operator_user, api_admin):
    c = Client()
    c.force_login(operator_user)
    assert c.post(f"/orders/{waiting.order_id}/cancel/").status_code == 302
    _assert_closed(org, waiting, api_admin, "The order was cancelled.")


def test_a_rejected_quotation_closes_the_operators_pending_approval(
    org, admin_user, api_admin, asked_quotation
):
    from tasking.services import quotation_decide

    quotation, approval = asked_quotation
    quotation_decide(org=org, actor=admin_user, quotation_id=quotation.id, decision="REJECTED")
    assert Order.objects.get(pk=quotation.order_id).status == "rejected"
    _assert_closed(org, approval, api_admin, f"The quotation was rejected by {admin_user}.")


def test_an_expired_quotation_closes_it(org, api_admin, asked_quotation):
    from tasking.models import Quotation
    from tasking.services import decisions_expire_stale

    quotation, approval = asked_quotation
    Quotation.objects.filter(pk=quotation.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    decisions_expire_stale()
    assert Order.objects.get(pk=quotation.order_id).status == "expired"
    _assert_closed(org, approval, api_admin, "The quotation expired.")


def test_cancelling_a_series_parent_closes_the_pending_series_approval(
    org, operator_user, admin_user, staff_user, api_admin
):
    from orders.services import order_cancel
    from tasking.services import feasibility_decide, quotation_decide
    from tests.factories import make_quotation, make_study, study_option
    from tests.tasking.series_helpers import SERIES_PRICE, place_series

    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=SERIES_PRICE - 1)
    order = place_series(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=study.options.get().id)
    quotation = make_quotation(order, staff_user, credits=SERIES_PRICE)
    approval = quotation_decide(
        org=org, actor=operator_user, quotation_id=quotation.id, decision="ACCEPTED"
    ).pending_approval
    order_cancel(org=org, actor=operator_user, order_id=order.pk)
    _assert_closed(org, approval, api_admin, "The order was cancelled.")


def test_the_sweep_closes_one_left_pending_on_an_ended_order(org, waiting, api_admin):
    # An approval left pending on an ended order (from before the rule, or taken by a decide at
    # the moment the order ended) is closed by the beat sweep.
    Order.objects.filter(pk=waiting.order_id).update(status=Order.Status.CANCELLED, sub_status="")
    assert approvals_close_ended() == 1
    waiting.refresh_from_db()
    assert waiting.decision == "EXPIRED" and waiting.reason == "The order was cancelled."
    assert approvals_close_ended() == 0


# --- the decision an approval asks to make was made without it ------------------------------------


@pytest.fixture
def asked_quotation(org, operator_user, admin_user, staff_user, api_operator):
    """An operator asked to accept a 40,000-credit quotation above the 10,000 threshold."""
    from tasking.services import feasibility_decide
    from tests.factories import make_quotation, make_study, make_tasking_request, study_option

    order = make_tasking_request(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=study.options.get().id)
    quotation = make_quotation(order, staff_user, credits=40_000)
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=10_000)
    asked = api_operator.post(
        "orders.tasking.quotation_decide", {"quotation_id": str(quotation.pk), "decision": "ACCEPTED"}
    )
    assert asked.status_code == 200, asked.content
    return quotation, SpendApproval.objects.get(target_id=quotation.pk, decision="PENDING")


def test_an_admin_accepting_the_quotation_directly_closes_the_operators_request(
    org, admin_user, api_admin, asked_quotation
):
    quotation, approval = asked_quotation
    done = api_admin.post(
        "orders.tasking.quotation_decide", {"quotation_id": str(quotation.pk), "decision": "ACCEPTED"}
    )
    assert done.status_code == 200, done.content
    assert Order.objects.get(pk=quotation.order_id).status == "active"  # the order lives on
    why = f"The quotation was accepted by {admin_user}."
    _assert_closed(org, approval, api_admin, why)
    again = api_admin.post(
        "orders.approvals.decide", {"approval_id": str(approval.pk), "decision": "ACCEPTED"}
    )
    assert again.status_code == 409 and again.json()["current_decision"] == "EXPIRED"


def test_approving_the_request_itself_is_not_closed_by_its_own_acceptance(org, api_admin, asked_quotation):
    quotation, approval = asked_quotation
    done = api_admin.post(
        "orders.approvals.decide", {"approval_id": str(approval.pk), "decision": "ACCEPTED"}
    )
    assert done.status_code == 200, done.content
    approval.refresh_from_db()
    quotation.refresh_from_db()
    assert approval.decision == "ACCEPTED" and quotation.decision == "ACCEPTED"
    assert not AuditEvent.objects.filter(action="decision.approval.expired").exists()


def test_an_admin_choosing_another_option_closes_the_request_for_the_first(
    org, operator_user, admin_user, staff_user, api_admin
):
    from tasking.services import feasibility_decide
    from tests.factories import make_study, make_tasking_request, study_option

    order = make_tasking_request(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(40_000), study_option(30_000)])
    first, second = study.options.order_by("price_credits").reverse()
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=10_000)
    asked = feasibility_decide(org=org, actor=operator_user, study_id=study.id, option_id=first.id)
    approval = SpendApproval.objects.get(target_id=first.pk, decision="PENDING")
    assert asked.pending_approval == approval
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=second.id)
    _assert_closed(org, approval, api_admin, f"The feasibility study was accepted by {admin_user}.")


# --- studies and quotations close with their order too --------------------------------------------


def test_cancelling_a_tasking_order_closes_its_pending_quotation_and_study(
    org, operator_user, admin_user, staff_user, api_admin
):
    from tasking.models import FeasibilityStudy, Quotation
    from tasking.services import feasibility_decide
    from tests.factories import make_quotation, make_study, make_tasking_request, study_option

    order = make_tasking_request(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=study.options.get().id)
    quotation = make_quotation(order, staff_user, credits=40_000)
    other = make_tasking_request(org, operator_user)
    waiting_study = make_study(other, staff_user, options=[study_option(None)])
    for target in (order, other):
        assert api_admin.post("orders.cancel", {"order_id": str(target.pk)}).status_code == 200
    quotation.refresh_from_db()
    waiting_study.refresh_from_db()
    assert quotation.decision == Quotation.Decision.EXPIRED and quotation.decided_by_id is None
    assert waiting_study.decision == FeasibilityStudy.Decision.EXPIRED
    listed = api_admin.post("orders.tasking.quotations.list", {"decision": "PENDING"})
    assert listed.status_code == 200 and listed.json()["total"] == 0
    studies = api_admin.post("orders.tasking.feasibility_studies.list", {"decision": "PENDING"})
    assert studies.status_code == 200 and studies.json()["total"] == 0
    # The timeline says it closed with the order, not that nobody answered in time.
    for target, title in ((order, "Quote closed"), (other, "Feasibility study closed")):
        lines = timeline_lines(
            list(target.events.all()), timeline_context_for(order=target, show_money=True, lineage={})
        )
        closed = [line for line in lines if line.title == title]
        assert len(closed) == 1 and "The order was cancelled." in closed[0].sentence
        assert "expired" not in closed[0].sentence and "in time" not in closed[0].sentence
