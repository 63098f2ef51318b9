"""Recurring acquisitions under races (real PostgreSQL, one connection per thread): a series quote
accepted twice at once (two tabs), an approval and a direct acceptance at once, and the beat sweep
against a series cancel. Whatever wins, the series is authorised once, nothing is charged twice or
after the cancel, and the ledger equals the wallet."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from geopera_web.audit.models import AuditEvent
from geopera_web.billing.models import Charge, Wallet
from orders.approvals.models import SpendApproval
from orders.approvals.services import approval_decide, spend_policy_update
from orders.models import Order
from tasking.models import SeriesOccurrence, TaskingSeries
from tasking.series import series_advance, series_cancel
from tasking.services import feasibility_decide, quotation_decide
from tests.concurrency import run_concurrently
from tests.factories import make_quotation, make_study, study_option
from tests.tasking.series_helpers import (
    SERIES_PRICE,
    accepted_series,
    assert_ledger_matches_wallet,
    place_series,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _quoted(org, operator, admin, staff):
    order = place_series(org, operator)
    study = make_study(order, staff, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin, study_id=study.id, option_id=study.options.get().id)
    return order, make_quotation(order, staff, credits=SERIES_PRICE)


def _authorised_once(org, order) -> None:
    series = TaskingSeries.objects.get(parent=order)
    assert (series.state, series.total_credits) == ("running", SERIES_PRICE)
    assert AuditEvent.objects.filter(action="series.accept", org=org).count() == 1
    # Every occurrence is due (lead time): each charged once, its share, nothing for the parent.
    assert Charge.objects.filter(org=org).count() == 4
    assert sorted(Charge.objects.filter(org=org).values_list("authorized_credits", flat=True)) == [10_000] * 4
    assert Order.objects.filter(metadata__series__id=str(series.pk)).count() == 4
    assert_ledger_matches_wallet(org)


def test_a_series_quote_accepted_twice_at_once_authorises_it_once(
    org, operator_user, admin_user, staff_user, settings
):
    settings.TASKING_SERIES_LEAD_HOURS = 24 * 40
    order, quotation = _quoted(org, operator_user, admin_user, staff_user)
    results = run_concurrently(
        lambda: quotation_decide(org=org, actor=admin_user, quotation_id=quotation.id, decision="ACCEPTED"),
        threads=2,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and getattr(errors[0], "status", None) == 409, results
    _authorised_once(org, order)


def test_an_approval_and_a_direct_acceptance_at_once_authorise_it_once(
    org, operator_user, admin_user, staff_user, settings
):
    settings.TASKING_SERIES_LEAD_HOURS = 24 * 40
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=SERIES_PRICE - 1)
    order, quotation = _quoted(org, operator_user, admin_user, staff_user)
    approval = quotation_decide(
        org=org, actor=operator_user, quotation_id=quotation.id, decision="ACCEPTED"
    ).pending_approval
    turn = itertools.count()

    def either():
        if next(turn) % 2:
            return approval_decide(
                org=org, actor=admin_user, approval_id=approval.pk, decision=SpendApproval.Decision.ACCEPTED
            )
        return quotation_decide(org=org, actor=admin_user, quotation_id=quotation.id, decision="ACCEPTED")

    results = run_concurrently(either, threads=2)
    assert [r for r in results if not isinstance(r, BaseException)], results
    for r in results:
        assert not isinstance(r, BaseException) or getattr(r, "status", None) == 409, results
    _authorised_once(org, order)


def test_the_sweep_racing_a_series_cancel_charges_nothing_after_it(
    org, operator_user, admin_user, staff_user, settings
):
    before = Wallet.objects.get(org=org).available_credits
    series = accepted_series(org, operator_user, admin_user, staff_user)
    settings.TASKING_SERIES_LEAD_HOURS = 24 * 40  # every occurrence due for the sweep
    now = series.occurrences.get(index=0).window_start - timedelta(days=1)  # none started
    turn = itertools.count()

    def either():
        if next(turn) % 2:
            return series_advance(now=now)
        return series_cancel(org=org, actor=admin_user, series_id=series.pk, now=now)

    results = run_concurrently(either, threads=2)
    assert not [r for r in results if isinstance(r, BaseException)], results
    series.refresh_from_db()
    assert series.state == "cancelled"
    assert set(series.occurrences.values_list("state", flat=True)) == {SeriesOccurrence.State.CANCELLED}
    # Whatever the sweep ordered before the cancel took the locks was released by it.
    assert not Charge.objects.filter(org=org).exclude(status=Charge.Status.RELEASED).exists()
    wallet = Wallet.objects.get(org=org)
    assert (wallet.available_credits, wallet.reserved_credits) == (before, 0)
    assert series_advance(now=now)["ordered"] == 0
    assert_ledger_matches_wallet(org)
