"""An admin accepts a quotation directly at the moment another admin approves the operator's
request to accept it (real PostgreSQL, one connection each): the direct acceptance cannot close the
request (its row is held by the approving admin, who is then refused with 409), and the order lives
on, so nothing that closes approvals of ended orders takes it. The beat sweep must close it."""

from __future__ import annotations

import pytest
from django.db import transaction

from geopera_web.billing.models import Charge
from orders.approvals.models import SpendApproval
from orders.approvals.services import approval_decide, spend_policy_update
from orders.models import Order
from tasking.models import Quotation
from tasking.services import feasibility_decide, quotation_decide
from tasking.tasks import expire_stale_decisions
from tests.factories import make_quotation, make_study, make_tasking_request, study_option
from tests.tasking.test_series_per_occurrence_races import _Thread, _wait_for_waiters

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def catalog(db):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()


class _QuotationHolder(_Thread):
    def __init__(self, quotation_id) -> None:
        import threading

        self.release, self.held = threading.Event(), threading.Event()

        def hold():
            with transaction.atomic():
                Quotation.objects.select_for_update().get(pk=quotation_id)
                self.held.set()
                assert self.release.wait(30)

        super().__init__(hold)


def test_a_request_approved_while_its_quotation_is_accepted_directly_is_closed_by_the_sweep(
    org, operator_user, admin_user, staff_user
):
    from tests.factories import make_user

    other_admin = make_user(org=org, role="admin", email="second-admin@acme.example")
    order = make_tasking_request(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=study.options.get().id)
    quotation = make_quotation(order, staff_user, credits=40_000)
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=10_000)
    approval = quotation_decide(
        org=org, actor=operator_user, quotation_id=quotation.id, decision="ACCEPTED"
    ).pending_approval
    assert approval is not None

    holder = _QuotationHolder(quotation.pk)
    holder.start()
    assert holder.held.wait(10)
    direct = _Thread(
        lambda: quotation_decide(org=org, actor=admin_user, quotation_id=quotation.id, decision="ACCEPTED")
    )
    direct.start()
    _wait_for_waiters(1)  # the direct acceptance is first in line for the quotation
    approve = _Thread(
        lambda: approval_decide(
            org=org, actor=other_admin, approval_id=approval.pk, decision=SpendApproval.Decision.ACCEPTED
        )
    )
    approve.start()
    _wait_for_waiters(2)  # the approving admin holds the request and waits for the quotation
    holder.release.set()
    for t in (holder, direct, approve):
        t.join(30)
    assert not isinstance(direct.result, BaseException), repr(direct.result)
    assert getattr(approve.result, "status", None) == 409, repr(approve.result)
    assert Order.objects.get(pk=order.pk).status == "active"
    assert Charge.objects.filter(org=org).count() == 1

    expire_stale_decisions()
    approval.refresh_from_db()
    assert approval.decision == SpendApproval.Decision.EXPIRED, approval.decision
    assert approval.decided_by_id is None
    assert approval.reason == f"The quotation was accepted by {admin_user}."
    assert expire_stale_decisions() == 0


def test_the_sweep_closes_a_request_for_an_option_of_a_study_decided_without_it(
    org, operator_user, admin_user, staff_user
):
    """The same net for feasibility options: the study was decided (here: as if its hook had been
    skipped) and the operator's request for one of its options still waits."""
    from tasking.decisions import approvals_close_moot
    from tasking.models import FeasibilityStudy

    order = make_tasking_request(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(40_000), study_option(30_000)])
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=10_000)
    option = study.options.order_by("-price_credits").first()
    feasibility_decide(org=org, actor=operator_user, study_id=study.id, option_id=option.id)
    approval = SpendApproval.objects.get(target_id=option.pk, decision="PENDING")
    assert approvals_close_moot() == 0  # its study still waits: nothing to close
    FeasibilityStudy.objects.filter(pk=study.pk).update(decision="REJECTED", decided_by=admin_user)
    assert approvals_close_moot() == 1
    approval.refresh_from_db()
    assert approval.decision == "EXPIRED"
    assert approval.reason == f"The feasibility study was rejected by {admin_user}."
    assert approvals_close_moot() == 0
