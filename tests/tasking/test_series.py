"""Recurring acquisitions (issue 14, capability 2): a tasking series of occurrences, each its own
child order with its own window, AOIs, coverage and charge, under one parent with one study and
quotation priced for the series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from geopera_web.audit.models import AuditEvent
from geopera_web.billing.models import Charge
from geopera_web.billing.selectors import wallet_get
from geopera_web.errors import InvalidInput, NotFound, PermissionDenied
from orders.coverage.services import coverage_recompute, order_coverage_settle
from orders.models import Order, OrderEvent
from tasking.models import SeriesOccurrence, TaskingSeries
from tasking.series import (
    add_months,
    occurrence_credits,
    occurrence_windows,
    series_advance,
    series_cancel,
    series_cancel_preview,
    series_get,
)
from tests.concurrency import run_concurrently
from tests.factories import deliver
from tests.tasking.series_helpers import (
    SERIES_PRICE,
    accepted_series,
    advance_through,
    assert_ledger_matches_wallet,
    place_series,
)

pytestmark = pytest.mark.django_db


# --- windows and validation ----------------------------------------------------------------------


def test_weekly_windows_are_computed_from_the_first_without_drift():
    start = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    windows = occurrence_windows(start, start + timedelta(days=5), "WEEKLY", 4)
    assert [w[0] for w in windows] == [start + timedelta(weeks=k) for k in range(4)]
    assert all(e - s == timedelta(days=5) for s, e in windows)


def test_monthly_windows_clamp_to_the_month_end_and_come_back():
    start = datetime(2027, 1, 31, 0, 0, tzinfo=UTC)
    windows = occurrence_windows(start, start + timedelta(days=3), "MONTHLY", 4)
    assert [w[0].date().isoformat() for w in windows] == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
    ]
    assert all(e > s for s, e in windows)
    assert add_months(datetime(2028, 1, 31, tzinfo=UTC), 1).day == 29  # leap year


def test_the_series_price_splits_into_whole_credits_that_add_up():
    assert occurrence_credits(40_001, 4) == [10_001, 10_000, 10_000, 10_000]
    assert sum(occurrence_credits(99_999, 7)) == 99_999


def _errors(exc) -> dict[str, str]:
    return {e["loc"][-1]: e["msg"] for e in exc.value.extra["errors"]}


def test_recurrence_is_validated_naming_the_field(org, operator_user, settings):
    settings.TASKING_SERIES_MAX_OCCURRENCES = 6
    with pytest.raises(InvalidInput) as exc:
        place_series(org, operator_user, weeks=7)
    assert "at most 6" in _errors(exc)["occurrences"]
    with pytest.raises(InvalidInput) as exc:
        place_series(org, operator_user, captureFrequency="ONCE")
    assert "captureFrequency" in _errors(exc)
    with pytest.raises(InvalidInput) as exc:
        place_series(org, operator_user, recurUntil="2030-01-01T00:00:00Z")
    assert "not both" in _errors(exc)["recurUntil"]
    with pytest.raises(InvalidInput) as exc:  # a 10-day window does not fit in a week
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        place_series(
            org,
            operator_user,
            acquisitionStart=start.isoformat(),
            acquisitionEnd=(start + timedelta(days=10)).isoformat(),
        )
    assert "at most 7 days" in _errors(exc)["acquisitionEnd"]
    assert not TaskingSeries.objects.exists() and not Order.objects.exists()


def test_an_end_date_gives_the_number_of_occurrences(org, operator_user):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    order = place_series(
        org,
        operator_user,
        weeks=None,
        recurUntil=(start + timedelta(weeks=2, hours=1)).isoformat(),
    )
    series = TaskingSeries.objects.get(parent=order)
    assert series.occurrence_count == 3 and series.until is not None
    assert series.occurrences.count() == 3


# --- the flow: accept once, order each occurrence --------------------------------------------------


def test_placing_a_series_plans_its_occurrences_and_prices_the_whole(org, operator_user):
    order = place_series(org, operator_user)
    series = TaskingSeries.objects.get(parent=order)
    per = sum(g.credits for g in order.groups.all())
    assert (series.state, series.occurrence_count, order.total_credits) == ("waiting", 4, per * 4)
    assert list(series.occurrences.values_list("state", flat=True)) == ["planned"] * 4
    assert "occurrences" not in dict(order.params) or order.params["occurrences"] == 4


def test_a_weekly_series_of_four_makes_four_child_orders_with_their_windows(
    org, operator_user, admin_user, staff_user
):
    before = wallet_get(org=org).available_credits
    series = accepted_series(org, operator_user, admin_user, staff_user)
    parent = series.parent
    parent.refresh_from_db()
    # Accepting authorises the series once and charges nothing itself.
    assert (parent.status, parent.sub_status, parent.charge_id) == ("processing", "QUOTATION_ACCEPTED", None)
    assert (series.state, series.total_credits) == ("running", SERIES_PRICE)
    assert wallet_get(org=org).available_credits == before
    occurrences = list(series.occurrences.order_by("index"))
    first = occurrences[0].window_start
    for occ in occurrences:
        series_advance(now=occ.window_start)
    children = []
    for k, occ in enumerate(series.occurrences.select_related("order", "order__charge").order_by("index")):
        assert occ.state == "ordered"
        assert occ.window_start == first + timedelta(weeks=k)
        assert occ.window_end == first + timedelta(weeks=k, days=7)
        child = occ.order
        assert child.params["acquisitionStart"] == occ.window_start.isoformat().replace("+00:00", "Z")
        assert child.params["acquisitionEnd"] == occ.window_end.isoformat().replace("+00:00", "Z")
        assert "occurrences" not in child.params
        assert (child.status, child.total_credits) == ("active", 10_000)
        assert child.charge.status == Charge.Status.AUTHORIZED and child.charge.authorized_credits == 10_000
        assert [g.name for g in child.groups.all()] == [g.name for g in parent.groups.all()]
        children.append(child)
    assert len({c.pk for c in children}) == 4
    wallet = wallet_get(org=org)
    assert (wallet.available_credits, wallet.reserved_credits) == (before - SERIES_PRICE, SERIES_PRICE)
    assert_ledger_matches_wallet(org)
    kinds = list(
        parent.events.filter(kind=OrderEvent.Kind.SERIES_OCCURRENCE_ORDERED).values_list("data", flat=True)
    )
    assert [d["index"] for d in kinds] == [1, 2, 3, 4]
    assert AuditEvent.objects.filter(action="series.occurrence_ordered", org=org).count() == 4
    assert AuditEvent.objects.filter(action="series.accept", org=org).count() == 1


def test_running_the_sweep_twice_orders_nothing_twice(org, operator_user, admin_user, staff_user):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    now = series.occurrences.get(index=0).window_start
    assert series_advance(now=now)["ordered"] == 1
    now = series.occurrences.get(index=1).window_start
    assert series_advance(now=now)["ordered"] == 1
    assert series_advance(now=now)["ordered"] == 0
    assert Order.objects.filter(metadata__series__id=str(series.pk)).count() == 2
    assert Charge.objects.filter(org=org).count() == 2


def test_an_occurrence_the_wallet_cannot_pay_is_missed_not_half_made(
    org, operator_user, admin_user, staff_user
):
    series = accepted_series(org, operator_user, admin_user, staff_user, price=4 * 90_000)
    occ0, occ1 = series.occurrences.order_by("index")[:2]
    assert series_advance(now=occ0.window_start)["ordered"] == 1  # 90,000 of the 100,000
    assert series_advance(now=occ1.window_start)["missed"] == 1
    occ1.refresh_from_db()
    assert occ1.state == "missed" and occ1.order_id is None and "charged" in occ1.note
    assert Order.objects.filter(metadata__series__id=str(series.pk)).count() == 1
    assert series.parent.events.filter(kind=OrderEvent.Kind.SERIES_OCCURRENCE_MISSED).count() == 1
    assert_ledger_matches_wallet(org)


def test_cancelling_after_the_second_settles_only_the_rest(org, operator_user, admin_user, staff_user):
    before = wallet_get(org=org).available_credits
    series = accepted_series(org, operator_user, admin_user, staff_user)
    occ = list(series.occurrences.order_by("index"))
    advance_through(series, 1)  # the first two are ordered and acquiring
    now = occ[2].window_start - timedelta(hours=12)
    series_advance(now=now)  # the third is ordered (charged) but its window has not opened
    series, plan = series_cancel_preview(org=org, series_id=series.pk, now=now)
    assert [o.index for o, _ in plan.cancelled] == [2, 3] and [o.index for o in plan.running_on] == [0, 1]
    assert plan.released_credits == 10_000 and "2 started occurrences run on" in plan.sentence
    series, plan = series_cancel(org=org, actor=operator_user, series_id=series.pk, now=now)
    states = dict(series.occurrences.values_list("index", "state"))
    assert states == {0: "ordered", 1: "ordered", 2: "cancelled", 3: "cancelled"}
    third = SeriesOccurrence.objects.select_related("order__charge").get(series=series, index=2).order
    assert third.status == "cancelled" and third.charge.status == Charge.Status.RELEASED
    running = Order.objects.filter(series_occurrence__series=series, series_occurrence__index__lt=2)
    assert set(running.values_list("status", flat=True)) == {"active"}
    wallet = wallet_get(org=org)
    assert (wallet.available_credits, wallet.reserved_credits) == (before - 20_000, 20_000)
    assert_ledger_matches_wallet(org)
    series.parent.refresh_from_db()
    assert series.state == "cancelled" and series.parent.status == "cancelled"
    assert series.parent.events.filter(kind=OrderEvent.Kind.SERIES_CANCELLED).count() == 1
    assert AuditEvent.objects.filter(action="series.cancel", org=org).count() == 1
    # The sweep orders nothing more for a cancelled series.
    assert series_advance(now=occ[3].window_start)["ordered"] == 0


def test_a_series_that_ends_settles_its_parent(org, operator_user, admin_user, staff_user):
    series = accepted_series(org, operator_user, admin_user, staff_user, weeks=2)
    occ = list(series.occurrences.order_by("index"))
    advance_through(series, 1)
    for o in series.occurrences.select_related("order"):
        group = o.order.groups.get()
        deliver(o.order, group, [group.geometry.extent], ref=f"full-{o.index}")
        coverage_recompute(order_id=o.order_id)
    assert set(Order.objects.filter(series_occurrence__series=series).values_list("status", flat=True)) == {
        "fulfilled"
    }
    assert series_advance(now=occ[1].window_end)["ended"] == 1
    series.refresh_from_db()
    series.parent.refresh_from_db()
    assert (series.state, series.parent.status) == ("ended", "fulfilled")


def test_rolling_the_remainder_passes_what_was_not_covered_to_the_next(
    org, operator_user, admin_user, staff_user
):
    before = wallet_get(org=org).available_credits
    series = accepted_series(org, operator_user, admin_user, staff_user, rollRemainder=True)
    occ = list(series.occurrences.order_by("index"))
    series_advance(now=occ[0].window_start)
    first = SeriesOccurrence.objects.get(pk=occ[0].pk).order
    group = first.groups.get()
    x0, y0, x1, y1 = group.geometry.extent
    deliver(first, group, [(x0 - 0.01, y0 - 0.01, (x0 + x1) / 2, y1 + 0.01)], ref="west-half")
    coverage_recompute(order_id=first.pk)
    # The next one waits while the first is still acquiring (its remainder is not known yet).
    assert series_advance(now=occ[1].window_start)["ordered"] == 0
    order_coverage_settle(order_id=first.pk, now=occ[0].window_end + timedelta(minutes=1))
    first.refresh_from_db()
    assert first.status == "partially_fulfilled"
    assert series_advance(now=occ[1].window_start + timedelta(minutes=5))["ordered"] == 1
    second = SeriesOccurrence.objects.get(pk=occ[1].pk)
    groups = list(second.order.groups.order_by("position"))
    assert len(groups) == 2 and groups[1].name == "AOI 1 — remainder of occurrence 1"
    assert groups[1].area_km2 == pytest.approx(group.area_km2 / 2, rel=0.05)
    # The rolled remainder is tracked, not billed again: the first occurrence keeps its pro-rata
    # refund, and the second's own capture over the area fills it (one capture, paid once).
    refund = first.events.get(kind=OrderEvent.Kind.COVERAGE_REFUND).data["refundCredits"]
    assert 0 < refund < 10_000
    assert groups[1].credits == 0 and second.order.total_credits == 10_000
    assert second.order.charge.authorized_credits == 10_000
    wallet = wallet_get(org=org)
    # First: 10,000 captured less the refund; second: 10,000 held.
    assert wallet.available_credits == before - (10_000 - refund) - 10_000
    assert_ledger_matches_wallet(org)
    assert second.rolled_in_km2 == pytest.approx(groups[1].area_km2)
    rolled = series.parent.events.filter(kind=OrderEvent.Kind.SERIES_REMAINDER_ROLLED)
    # Nothing billed, so the event carries the area only (no credits field to read as a charge).
    assert rolled.count() == 1 and "rolledCredits" not in rolled.get().data
    assert rolled.get().data["rolledKm2"] == pytest.approx(groups[1].area_km2, abs=1e-3)
    assert "not billed" in second.note and "credits" not in second.note


def _short_first_with_a_sliver(org, operator_user, admin_user, staff_user):
    """A rolling series whose first occurrence ended short: its remainder is the north-east quarter
    of the AOI plus a ~30 m strip along the south edge of the east half (≈0.2 km², a sliver)."""
    series = accepted_series(org, operator_user, admin_user, staff_user, rollRemainder=True)
    occ = list(series.occurrences.order_by("index"))
    series_advance(now=occ[0].window_start)
    first = SeriesOccurrence.objects.get(pk=occ[0].pk).order
    group = first.groups.get()
    x0, y0, x1, y1 = group.geometry.extent
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    deliver(
        first,
        group,
        [(x0 - 0.01, y0 - 0.01, xm, y1 + 0.01), (xm - 0.001, y0 + 0.0003, x1 + 0.01, ym)],
        ref="west-and-south-east",
    )
    coverage_recompute(order_id=first.pk)
    order_coverage_settle(order_id=first.pk, now=occ[0].window_end + timedelta(minutes=1))
    first.refresh_from_db()
    assert first.status == "partially_fulfilled"
    return series, occ, group


def test_a_remainder_sliver_is_not_rolled_in(org, operator_user, admin_user, staff_user, settings):
    assert settings.TASKING_SERIES_MIN_REMAINDER_KM2 == 1.0
    series, occ, group = _short_first_with_a_sliver(org, operator_user, admin_user, staff_user)
    snap = group.coverage_snapshots.order_by("-computed_at", "-id").first()
    assert snap.remainder.num_geom == 2  # the quarter and the sliver
    assert series_advance(now=occ[1].window_start + timedelta(minutes=5))["ordered"] == 1
    second = SeriesOccurrence.objects.get(pk=occ[1].pk)
    rolled = second.order.groups.get(position=1)
    # Only the quarter is rolled in: the sliver below TASKING_SERIES_MIN_REMAINDER_KM2 is left out.
    assert rolled.geometry.num_geom == 1
    assert rolled.area_km2 == pytest.approx(group.area_km2 / 4, rel=0.05)
    assert second.rolled_in_km2 == pytest.approx(rolled.area_km2)


def test_a_remainder_all_below_the_setting_rolls_nothing(
    org, operator_user, admin_user, staff_user, settings
):
    settings.TASKING_SERIES_MIN_REMAINDER_KM2 = 1_000.0
    series, occ, _group = _short_first_with_a_sliver(org, operator_user, admin_user, staff_user)
    assert series_advance(now=occ[1].window_start + timedelta(minutes=5))["ordered"] == 1
    second = SeriesOccurrence.objects.get(pk=occ[1].pk)
    assert second.order.groups.count() == 1 and second.rolled_in_km2 == 0 and second.note == ""
    assert not series.parent.events.filter(kind=OrderEvent.Kind.SERIES_REMAINDER_ROLLED).exists()


# --- concurrency: two sweeps at once ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_order_each_occurrence_once(org, operator_user, admin_user, staff_user, settings):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    settings.TASKING_SERIES_LEAD_HOURS = 24 * 40  # every occurrence is due now
    now = series.occurrences.get(index=0).window_start - timedelta(days=1)
    results = run_concurrently(lambda: series_advance(now=now), threads=4)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(r["ordered"] for r in results) == 4
    assert Order.objects.filter(metadata__series__id=str(series.pk)).count() == 4
    assert Charge.objects.filter(org=org).count() == 4
    assert_ledger_matches_wallet(org)


# --- tenancy and roles ------------------------------------------------------------------------------


def test_another_orgs_series_is_not_found(org, other_org, other_admin, operator_user, admin_user, staff_user):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    with pytest.raises(NotFound):
        series_get(org=other_org, series_id=series.pk)
    with pytest.raises(NotFound):
        series_cancel(org=other_org, actor=other_admin, series_id=series.pk)
    c = Client()
    c.force_login(other_admin)
    assert c.get(f"/tasking/series/{series.pk}/").status_code == 404
    assert c.post(f"/tasking/series/{series.pk}/cancel/").status_code == 404
    series.refresh_from_db()
    assert series.state == "running"


def test_a_viewer_can_neither_cancel_nor_place_a_series(
    org, viewer_user, operator_user, admin_user, staff_user
):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    with pytest.raises(PermissionDenied):
        series_cancel(org=org, actor=viewer_user, series_id=series.pk)
    c = Client()
    c.force_login(viewer_user)
    page = c.get(f"/tasking/series/{series.pk}/")
    assert page.status_code == 200 and b"series-cancel-confirm" not in page.content
    assert c.post(f"/tasking/series/{series.pk}/cancel/").status_code == 403
    series.refresh_from_db()
    assert series.state == "running"


def test_the_series_page_shows_each_occurrence_and_cancels_with_a_preview(
    org, operator_user, admin_user, staff_user
):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    series_advance(now=series.occurrences.get(index=0).window_start)
    c = Client()
    c.force_login(operator_user)
    html = c.get(f"/tasking/series/{series.pk}/").content.decode()
    assert html.count('data-testid="occurrence"') == 4
    assert html.count('data-testid="occurrence-order"') == 1
    assert "10,000" in html and "series-cancel-confirm" in html
    assert "4 occurrences not yet started will be cancelled" in html
    response = c.post(f"/tasking/series/{series.pk}/cancel/", follow=True)
    assert response.status_code == 200 and "Series cancelled." in response.content.decode()
    series.refresh_from_db()
    assert series.state == "cancelled"
    assert_ledger_matches_wallet(org)


def test_the_series_page_cancels_nothing_when_the_charge_changed_since_its_dialog(
    org, operator_user, admin_user, staff_user
):
    series = accepted_series(org, operator_user, admin_user, staff_user)
    series_advance(now=series.occurrences.get(index=0).window_start)
    c = Client()
    c.force_login(operator_user)
    html = c.get(f"/tasking/series/{series.pk}/").content.decode()
    assert 'name="expected_charge_credits" value="0"' in html  # what the dialog states
    # A delivery landed while the dialog was open: the cancel would now charge something else.
    response = c.post(f"/tasking/series/{series.pk}/cancel/", {"expected_charge_credits": "5"}, follow=True)
    assert response.status_code == 200 and "Deliveries changed since the preview" in response.content.decode()
    series.refresh_from_db()
    assert series.state == "running"
    assert set(series.occurrences.values_list("state", flat=True)) != {"cancelled"}


def test_a_recurrence_without_its_window_names_the_missing_fields():
    from geopera_web.errors import InvalidInput
    from tasking.series import recurrence_from_params

    with pytest.raises(InvalidInput) as exc:
        recurrence_from_params({"captureFrequency": "WEEKLY", "occurrences": 3})
    assert exc.value.status == 422
    assert [e["loc"] for e in exc.value.extra["errors"]] == [
        ["body", "params", "acquisitionStart"],
        ["body", "params", "acquisitionEnd"],
    ]
