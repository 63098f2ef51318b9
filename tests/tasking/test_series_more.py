"""Recurring acquisitions: an operator's series acceptance above the threshold asks an admin (for
the series price, once); a parent cancelled on its own stops its series; the beat task on a real
Celery worker orders each occurrence once however often it runs."""

from __future__ import annotations

import pytest

from geopera_web.billing.models import Charge
from orders.approvals.models import SpendApproval
from orders.approvals.services import approval_decide, spend_policy_update
from orders.models import Order
from orders.services import order_cancel
from tasking.models import TaskingSeries
from tasking.series import series_advance
from tasking.services import feasibility_decide, quotation_decide
from tasking.tasks import advance_series
from tests.factories import make_org, make_quotation, make_study, make_user, study_option
from tests.tasking.series_helpers import (
    SERIES_PRICE,
    accepted_series,
    advance_through,
    assert_ledger_matches_wallet,
    place_series,
)


@pytest.mark.django_db
def test_an_operator_above_the_threshold_asks_once_for_the_series_price(
    org, operator_user, admin_user, staff_user
):
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=SERIES_PRICE - 1)
    order = place_series(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=study.options.get().id)
    quotation = make_quotation(order, staff_user, credits=SERIES_PRICE)
    held = quotation_decide(org=org, actor=operator_user, quotation_id=quotation.id, decision="ACCEPTED")
    approval = held.pending_approval
    assert approval.credits == SERIES_PRICE  # the series price, not one occurrence's
    series = TaskingSeries.objects.get(parent=order)
    assert series.state == "waiting" and not Charge.objects.filter(org=org).exists()
    approval_decide(
        org=org, actor=admin_user, approval_id=approval.pk, decision=SpendApproval.Decision.ACCEPTED
    )
    series.refresh_from_db()
    assert (series.state, series.total_credits) == ("running", SERIES_PRICE)
    advance_through(series, 1)
    assert Charge.objects.filter(org=org).count() == 2  # one per ordered occurrence, no series charge
    assert SpendApproval.objects.filter(org=org).count() == 1


@pytest.mark.django_db
def test_a_parent_cancelled_on_its_own_stops_its_series(org, operator_user, admin_user, staff_user):
    from datetime import timedelta

    series = accepted_series(org, operator_user, admin_user, staff_user)
    before = series.occurrences.get(index=0).window_start - timedelta(hours=1)
    series_advance(now=before)  # the first is ordered (charged), its window not open yet
    order_cancel(org=org, actor=admin_user, order_id=series.parent_id)  # orders.cancel on the parent
    series_advance(now=before)
    series.refresh_from_db()
    assert series.state == "cancelled"
    assert set(series.occurrences.values_list("state", flat=True)) == {"cancelled"}
    child = series.occurrences.get(index=0).order
    child.refresh_from_db()
    assert child.status == "cancelled" and child.charge.status == Charge.Status.RELEASED
    assert_ledger_matches_wallet(org)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_on_a_real_worker_orders_each_due_occurrence_once(celery_worker, settings):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    org = make_org(name="Series Worker Org", credits=100_000)
    admin, operator = make_user(org=org, role="admin"), make_user(org=org, role="operator")
    staff = make_user(org=None, staff=True)
    series = accepted_series(org, operator, admin, staff)
    settings.TASKING_SERIES_LEAD_HOURS = 24 * 5  # the first occurrence (in 3 days) is due now
    advance_series.delay().get(timeout=60)
    advance_series.delay().get(timeout=60)
    assert list(series.occurrences.order_by("index").values_list("state", flat=True)) == [
        "ordered",
        "planned",
        "planned",
        "planned",
    ]
    assert Order.objects.filter(metadata__series__id=str(series.pk)).count() == 1
    assert Charge.objects.filter(org=org).count() == 1
    assert_ledger_matches_wallet(org)


@pytest.mark.django_db
def test_a_run_that_dies_mid_occurrence_leaves_nothing_and_the_next_run_orders_it(
    org, operator_user, admin_user, staff_user, monkeypatch
):
    import tasking.series as series_module

    series = accepted_series(org, operator_user, admin_user, staff_user)
    now = series.occurrences.get(index=0).window_start
    real = series_module.audit_record

    def dies(**kwargs):  # the process dies after the child and its charge, before the commit
        raise RuntimeError("worker killed")

    monkeypatch.setattr(series_module, "audit_record", dies)
    assert series_advance(now=now)["ordered"] == 0
    assert series.occurrences.get(index=0).state == "planned"
    assert not Order.objects.filter(metadata__series__id=str(series.pk)).exists()
    assert not Charge.objects.filter(org=org).exists()
    assert_ledger_matches_wallet(org)
    monkeypatch.setattr(series_module, "audit_record", real)
    assert series_advance(now=now)["ordered"] == 1
    assert Charge.objects.filter(org=org).count() == 1
