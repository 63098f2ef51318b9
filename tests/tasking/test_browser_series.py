"""The series page in a real browser: the occurrences on their timeline, Cancel series with its
preview, and the result (occurrences not started cancelled, the money back)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from geopera_web.billing.selectors import wallet_get
from tasking.series import series_advance
from tests.tasking.series_helpers import accepted_series, assert_ledger_matches_wallet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cancel_a_series_from_its_page(login, live_server, operator_user, admin_user, staff_user, org):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    series = accepted_series(org, operator_user, admin_user, staff_user)
    series_advance(now=series.occurrences.get(index=0).window_start)  # the first is ordered: 10,000 held
    held = wallet_get(org=org).reserved_credits
    page = login(operator_user)
    page.goto(f"{live_server.url}/tasking/series/{series.pk}/")
    expect(page.get_by_test_id("occurrence")).to_have_count(4)
    expect(page.get_by_test_id("occurrence-order")).to_have_count(1)
    page.get_by_test_id("series-cancel-open").click()
    expect(page.locator("#series-cancel-effect")).to_contain_text(
        "4 occurrences not yet started will be cancelled"
    )
    expect(page.locator("#series-cancel-list")).to_contain_text("10,000 credits")
    page.locator("#series-cancel-confirm").click()
    expect(page.locator("body")).to_contain_text("Series cancelled.")
    expect(page.get_by_test_id("occurrence-state").first).to_have_text("Cancelled")
    series.refresh_from_db()
    assert series.state == "cancelled"
    assert held == 10_000 and wallet_get(org=org).reserved_credits == 0
    assert_ledger_matches_wallet(org)


def test_a_series_decided_per_occurrence_shows_and_takes_the_waiting_decision(
    login, live_server, operator_user, admin_user, staff_user, org
):
    from datetime import timedelta

    from geopera_web.billing.services import wallet_topup
    from tasking.models import SeriesPricing, TaskingProduct
    from tasking.services import sensor_catalog_seed
    from tests.factories import MANUAL_PRODUCT

    sensor_catalog_seed()
    TaskingProduct.objects.filter(pk=MANUAL_PRODUCT).update(series_pricing=SeriesPricing.OCCURRENCE)
    wallet_topup(org=org, credits=2_000_000, memo="browser test", actor=staff_user)
    series = accepted_series(org, operator_user, admin_user, staff_user, price=0, weeks=3)
    series_advance(now=series.occurrences.get(index=0).window_start - timedelta(hours=2))
    page = login(admin_user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/tasking/series/{series.pk}/")
    expect(page.get_by_test_id("occurrence")).to_have_count(3)
    expect(page.get_by_test_id("occurrence-state").first).to_have_text("Waiting for a decision")
    expect(page.get_by_test_id("series-waiting")).to_contain_text("1 occurrence waits for a decision")
    expect(page.get_by_test_id("series-per-occurrence-pricing")).to_have_text("Decided per occurrence")
    expect(page.get_by_test_id("occurrence-decide")).to_have_count(1)
    page.screenshot(path="/tmp/peroccur-series-page.png", full_page=True)
    page.get_by_test_id("occurrence-decide").click()
    row = page.locator("[data-testid=decision-row][data-kind=quotation]")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("series-occurrence")).to_contain_text("Occurrence 1")
    row.get_by_test_id("accept-quotation").click()
    row.get_by_test_id("confirm-dialog").first.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("decision-outcome")).to_contain_text("Quote accepted")
    page.goto(f"{live_server.url}/tasking/series/{series.pk}/")
    expect(page.get_by_test_id("occurrence-state").first).to_have_text("Ordered, window not open yet")
    expect(page.get_by_test_id("series-waiting")).to_have_count(0)
    page.screenshot(path="/tmp/peroccur-series-page-after.png", full_page=True)
    assert series.occurrences.get(index=0).state == "ordered"
    assert_ledger_matches_wallet(org)


def test_cancel_a_series_from_its_parent_order_page(
    login, live_server, operator_user, admin_user, staff_user, org
):
    from datetime import timedelta

    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    series = accepted_series(org, operator_user, admin_user, staff_user)
    series_advance(now=series.occurrences.get(index=0).window_start)
    first = series.occurrences.get(index=0)
    first.window_start -= timedelta(days=4)  # it has started: it runs on
    first.save(update_fields=["window_start"])
    page = login(operator_user)
    page.goto(f"{live_server.url}/orders/{series.parent_id}/")
    page.get_by_text("Cancel series…").click()
    expect(page.locator("#cancel-effect")).to_contain_text("1 started occurrence runs on (#1)")
    expect(page.get_by_test_id("running-occurrence")).to_have_count(1)
    expect(page.get_by_test_id("cancel-occurrence")).to_have_count(3)
    page.screenshot(path="/tmp/series-parent-cancel.png", full_page=False)
    page.locator("#cancel-confirm").click()
    expect(page.locator("body")).to_contain_text("were cancelled (#2, #3 and #4)")
    page.screenshot(path="/tmp/series-parent-cancelled.png", full_page=False)
    assert dict(series.occurrences.values_list("index", "state"))[1] == "cancelled"
