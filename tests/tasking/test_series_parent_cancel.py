"""Cancelling a series' parent order (orders.cancel, the order page's cancel) is cancelling the
series, in the same transaction: the same occurrences stop, with the same settlement and the same
preview numbers as orders.tasking.series.cancel — no sweep needed. Hostile callers: another org's
ids, viewers and read-only keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from geopera_web.billing.models import Charge
from geopera_web.errors import Conflict, PermissionDenied
from orders.services import order_cancel, order_cancel_preview
from tasking.models import TaskingSeries
from tasking.series import series_advance, series_cancel_preview
from tests.conftest import caller_for_key
from tests.tasking.series_helpers import accepted_series, assert_ledger_matches_wallet, place_series

pytestmark = pytest.mark.django_db


def _first_ordered(series: TaskingSeries) -> None:
    """The first occurrence ordered (charged 10,000), its window not open yet."""
    series_advance(now=series.occurrences.get(index=0).window_start - timedelta(hours=1))


def test_cancelling_the_parent_cancels_the_series_at_once(org, operator_user, admin_user, staff_user):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    _first_ordered(series)
    _, series_plan = series_cancel_preview(org=org, series_id=series.pk)
    _, preview = order_cancel_preview(org=org, order_id=series.parent_id)
    assert (
        (preview.action, preview.credits) == ("release", series_plan.released_credits) == ("release", 10_000)
    )
    order, effect = order_cancel(org=org, actor=admin_user, order_id=series.parent_id)
    # No sweep ran: the series, its occurrences and the charged child stopped in this call.
    series.refresh_from_db()
    assert series.state == "cancelled" and order.status == "cancelled"
    assert set(series.occurrences.values_list("state", flat=True)) == {"cancelled"}
    child = series.occurrences.get(index=0).order
    assert child.status == "cancelled" and child.charge.status == Charge.Status.RELEASED
    assert (effect.action, effect.credits) == ("release", 10_000)
    assert series_advance(now=series.occurrences.get(index=1).window_start)["ordered"] == 0
    assert_ledger_matches_wallet(org)


def test_a_parent_with_started_occurrences_lets_them_run_on(org, operator_user, admin_user, staff_user):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    series_advance(now=series.occurrences.get(index=0).window_start)
    first = series.occurrences.get(index=0)
    first.window_start = first.window_start - timedelta(days=4)  # its window is open now
    first.save(update_fields=["window_start"])
    order_cancel(org=org, actor=operator_user, order_id=series.parent_id)
    states = dict(series.occurrences.values_list("index", "state"))
    assert states == {0: "ordered", 1: "cancelled", 2: "cancelled", 3: "cancelled"}
    first.order.refresh_from_db()
    assert first.order.status == "active" and first.order.charge.status == Charge.Status.AUTHORIZED
    assert_ledger_matches_wallet(org)


def test_a_changed_preview_cancels_nothing(org, operator_user, admin_user, staff_user):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    _first_ordered(series)
    with pytest.raises(Conflict) as exc:
        order_cancel(org=org, actor=admin_user, order_id=series.parent_id, expected_charge_credits=5)
    assert exc.value.slug == "cancel-preview-changed"
    series.refresh_from_db()
    assert series.state == "running"
    assert series.occurrences.get(index=0).order.charge.status == Charge.Status.AUTHORIZED


def test_a_quoted_series_parent_cancelled_closes_its_series(org, operator_user):
    order = place_series(org, operator_user)
    order_cancel(org=org, actor=operator_user, order_id=order.pk)
    series = TaskingSeries.objects.get(parent=order)
    assert series.state == "cancelled"
    assert set(series.occurrences.values_list("state", flat=True)) == {"cancelled"}


def test_a_viewer_cannot_cancel_the_parent(org, viewer_user, operator_user, admin_user, staff_user):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    with pytest.raises(PermissionDenied):
        order_cancel(org=org, actor=viewer_user, order_id=series.parent_id)
    series.refresh_from_db()
    assert series.state == "running"


def test_orders_cancel_on_the_parent_answers_the_series_numbers(
    api_admin, api_other, org, operator_user, admin_user, staff_user
):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    _first_ordered(series)
    body = {"order_id": str(series.parent_id)}
    assert api_other.post("orders.cancel", body).status_code == 404
    dry = api_admin.post("orders.cancel", {**body, "dryRun": True})
    assert dry.status_code == 200, dry.content
    series_dry = api_admin.post("orders.tasking.series.cancel", {"series_id": str(series.pk), "dryRun": True})
    assert dry.json()["releasedCredits"] == series_dry.json()["releasedCredits"] == 10_000
    series.refresh_from_db()
    assert series.state == "running"
    done = api_admin.post("orders.cancel", body)
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["releasedCredits"]) == ("cancelled", 10_000)
    series.refresh_from_db()
    assert series.state == "cancelled"
    assert api_admin.post("orders.cancel", body).status_code == 409
    assert_ledger_matches_wallet(org)


def test_a_read_only_key_cannot_cancel_a_series(org, operator_user, admin_user, staff_user):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    key = caller_for_key(org, scopes=("orders:read",))
    assert key.post("orders.tasking.series.cancel", {"series_id": str(series.pk)}).status_code == 403
    assert key.post("orders.cancel", {"order_id": str(series.parent_id)}).status_code == 403
    assert key.post("orders.tasking.series.get", {"series_id": str(series.pk)}).status_code == 200
    series.refresh_from_db()
    assert series.state == "running"


def test_the_order_pages_cancel_on_the_parent_cancels_the_series(
    org, other_admin, operator_user, admin_user, staff_user
):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    _first_ordered(series)
    other = Client()
    other.force_login(other_admin)
    assert other.post(f"/orders/{series.parent_id}/cancel/").status_code == 404
    c = Client()
    c.force_login(operator_user)
    r = c.post(f"/orders/{series.parent_id}/cancel/")
    assert r.status_code == 302
    series.refresh_from_db()
    assert series.state == "cancelled"
    assert series.occurrences.get(index=0).order.charge.status == Charge.Status.RELEASED
    assert_ledger_matches_wallet(org)


def test_bad_series_ids_are_4xx_not_500(api_admin):
    for bad in ("not-a-uuid", "", 7):
        assert api_admin.post("orders.tasking.series.get", {"series_id": bad}).status_code in (400, 422)
        assert api_admin.post("orders.tasking.series.cancel", {"series_id": bad}).status_code in (400, 422)


def test_an_approval_decided_after_the_parent_was_cancelled_spends_nothing(
    org, operator_user, admin_user, staff_user, settings
):
    from orders.approvals.models import SpendApproval
    from orders.approvals.services import approval_decide, spend_policy_update
    from tasking.services import feasibility_decide, quotation_decide
    from tests.factories import make_quotation, make_study, study_option
    from tests.tasking.series_helpers import SERIES_PRICE

    settings.TASKING_SERIES_LEAD_HOURS = 24 * 40  # accepting would order every occurrence at once
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=SERIES_PRICE - 1)
    order = place_series(org, operator_user)
    study = make_study(order, staff_user, options=[study_option(None)])
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=study.options.get().id)
    quotation = make_quotation(order, staff_user, credits=SERIES_PRICE)
    approval = quotation_decide(
        org=org, actor=operator_user, quotation_id=quotation.id, decision="ACCEPTED"
    ).pending_approval
    order_cancel(org=org, actor=operator_user, order_id=order.pk)
    with pytest.raises(Conflict):
        approval_decide(
            org=org, actor=admin_user, approval_id=approval.pk, decision=SpendApproval.Decision.ACCEPTED
        )
    series = TaskingSeries.objects.get(parent=order)
    assert series.state == "cancelled" and series.total_credits == 0
    assert not Charge.objects.filter(org=org).exists()
    assert set(series.occurrences.values_list("state", flat=True)) == {"cancelled"}
    assert_ledger_matches_wallet(org)


def test_a_failed_occurrences_remainder_rolls_in_unbilled(org, operator_user, admin_user, staff_user):
    """The first occurrence delivers nothing: its whole 20,000 is released and its AOI rolls into the
    next at 0 credits. The next occurrence's own AOI already holds that area, so one capture over it
    is paid once, as the next occurrence's share (20,000), not again as the rolled remainder."""
    from orders.coverage.services import order_coverage_settle

    series = accepted_series(org, operator_user, admin_user, staff_user, weeks=2, rollRemainder=True)
    occ = list(series.occurrences.order_by("index"))
    series_advance(now=occ[0].window_start)
    first = series.occurrences.get(index=0).order
    order_coverage_settle(order_id=first.pk, now=occ[0].window_end + timedelta(minutes=1))
    first.refresh_from_db()
    assert first.status == "failed" and first.charge.status == Charge.Status.RELEASED
    assert first.charge.authorized_credits == 20_000 and first.groups.get().credits != 20_000
    series_advance(now=occ[1].window_start + timedelta(minutes=5))
    second = series.occurrences.get(index=1)
    assert second.state == "ordered", second.note
    base, rolled = list(second.order.groups.order_by("position"))
    assert rolled.geometry.equals(base.geometry) or rolled.geometry.within(base.geometry.buffer(1e-9))
    assert (rolled.credits, second.order.total_credits) == (0, 20_000)
    assert second.order.charge.authorized_credits == 20_000
    assert_ledger_matches_wallet(org)


def _first_started(series: TaskingSeries) -> None:
    """The first occurrence ordered and its window open (it runs on); the other three planned."""
    series_advance(now=series.occurrences.get(index=0).window_start)
    first = series.occurrences.get(index=0)
    first.window_start = first.window_start - timedelta(days=4)
    first.save(update_fields=["window_start"])


def test_orders_cancel_on_the_parent_lists_what_is_cancelled_and_what_runs_on(
    api_admin, client, org, operator_user, admin_user, staff_user
):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    _first_started(series)
    first = series.occurrences.get(index=0)
    body = {"order_id": str(series.parent_id)}
    dry = api_admin.post("orders.cancel", {**body, "dryRun": True})
    assert dry.status_code == 200, dry.content
    plan = dry.json()["series"]
    assert [o["index"] for o in plan["cancelledOccurrences"]] == [2, 3, 4]
    assert plan["runningOn"] == [{"index": 1, "orderId": str(first.order_id)}]
    assert "will be cancelled (#2, #3 and #4)" in plan["summary"]
    assert "1 started occurrence runs on (#1)" in dry.json()["message"]
    done = api_admin.post("orders.cancel", body)
    assert done.status_code == 200, done.content
    assert [o["index"] for o in done.json()["series"]["cancelledOccurrences"]] == [2, 3, 4]
    assert "were cancelled (#2, #3 and #4)" in done.json()["message"]
    assert "runs on (#1)" in done.json()["message"]
    # The served document declares it; a one-off order answers `series: null`.
    doc = client.get("/v1/openapi.json").json()
    assert "series" in doc["components"]["schemas"]["OrderCancelOutput"]["properties"]
    child = series.occurrences.get(index=0).order
    assert (
        api_admin.post("orders.cancel", {"order_id": str(child.pk), "dryRun": True}).json()["series"] is None
    )


def test_the_parent_order_pages_cancel_dialog_says_which_occurrences_run_on(
    org, operator_user, admin_user, staff_user
):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    _first_started(series)
    c = Client()
    c.force_login(operator_user)
    page = c.get(f"/orders/{series.parent_id}/").content.decode()
    dialog = page[page.index('id="cancel-effect"') : page.index('id="cancel-confirm"')]
    assert "1 started occurrence runs on (#1)" in dialog
    assert dialog.count('data-testid="running-occurrence"') == 1
    assert dialog.count('data-testid="cancel-occurrence"') == 3
    r = c.post(f"/orders/{series.parent_id}/cancel/", follow=True)
    assert r.status_code == 200
    html = r.content.decode()
    assert "were cancelled (#2, #3 and #4)" in html and "runs on (#1)" in html
    assert dict(series.occurrences.values_list("index", "state")) == {
        0: "ordered",
        1: "cancelled",
        2: "cancelled",
        3: "cancelled",
    }
