"""Issue 16, item 6: a decision made in place in the inbox says what was decided (which option, at
what price), and every count on the page follows it: the list's "N pending decisions" (filtered or
not) and the badge."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.tasking.test_order_states import make_four_waiting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def catalog(db):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()


@pytest.fixture
def waiting(org, operator_user, admin_user, staff_user):
    result = make_four_waiting(org, operator_user, admin_user, staff_user)
    org.wallet.available_credits = 5_000_000
    org.wallet.save()
    return result


@pytest.mark.parametrize(
    "query, after", [("", "1 pending decision"), ("?kind=feasibility", "0 pending decisions (filtered)")]
)
def test_accepting_an_option_says_which_and_keeps_counts_in_step(
    live_server, page, login, waiting, admin_user, query, after
):
    login(admin_user)
    page.goto(live_server.url + "/inbox/" + query)
    expect(page.locator("#inbox-badge")).to_have_text("2")
    row = page.locator("[data-testid=decision-row][data-kind=feasibility]")
    row.get_by_test_id("accept-option-2").click()
    page.locator("dialog[open]").get_by_test_id("confirm").click()
    outcome = page.get_by_test_id("decision-outcome")
    expect(outcome).to_contain_text("Option 2 chosen for 50,000 cr")
    expect(outcome).not_to_contain_text("Quotation accepted")
    expect(page.get_by_test_id("inbox-count")).to_have_text(after)
    expect(page.locator("#inbox-badge")).to_have_text("1")


def test_rejecting_a_quote_says_quote_rejected(live_server, page, login, waiting, admin_user):
    login(admin_user)
    page.goto(live_server.url + "/inbox/?kind=quotation")
    row = page.locator("[data-testid=decision-row][data-kind=quotation]")
    row.get_by_test_id("reject").click()
    page.locator("dialog[open]").get_by_test_id("confirm").click()
    expect(page.get_by_test_id("decision-outcome")).to_contain_text("Quote rejected")
    expect(page.get_by_test_id("inbox-count")).to_have_text("0 pending decisions (filtered)")
