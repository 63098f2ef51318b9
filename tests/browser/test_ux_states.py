"""Item 1 of issue 16 in Chromium: what waits on the customer and what waits on support are told
apart on the dashboard, the Tasking and Orders lists, the order page and the support desk, and the
counts match the inbox badge. Operators get no Decide buttons (item 12)."""

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
def four_waiting(org, operator_user, admin_user, staff_user):
    return make_four_waiting(org, operator_user, admin_user, staff_user)


def test_waiting_states_are_split_and_counted_like_the_inbox(
    live_server, page, login, four_waiting, admin_user, operator_user, staff_user
):
    login(admin_user)
    expect(page.locator("#inbox-badge")).to_have_text("2")
    expect(page.get_by_test_id("waiting-customer")).to_have_text("2 need a decision")
    expect(page.get_by_test_id("waiting-support")).to_contain_text("2 with support")
    panel = page.get_by_test_id("recent-orders")
    expect(panel.locator("[data-state=action-required]")).to_have_count(2)
    expect(panel.locator("text=Awaiting decisions")).to_have_count(0)

    page.goto(live_server.url + "/tasking/")
    states = page.get_by_test_id("order-state")
    expect(states.locator("[data-state=action-required]")).to_have_count(2)
    expect(states.filter(has_text="Feasibility in progress")).to_have_count(1)
    expect(states.filter(has_text="Support is preparing your quote")).to_have_count(1)
    expect(states.filter(has_text="Choose a feasibility option by")).to_have_count(1)
    expect(states.filter(has_text="Accept or reject the quote by")).to_have_count(1)
    expect(page.get_by_test_id("decide")).to_have_count(2)  # admins decide

    page.goto(live_server.url + "/orders/")
    expect(page.get_by_test_id("order-state").locator("[data-state=action-required]")).to_have_count(2)
    expect(page.locator("#f-status option[value=pending]")).to_have_text("Pending: a decision or support")

    page.goto(live_server.url + f"/orders/{four_waiting['study_pending'].id}/")
    expect(page.locator("#order-status")).to_contain_text("Action required")
    expect(page.get_by_test_id("decide-link")).to_be_visible()
    page.goto(live_server.url + f"/orders/{four_waiting['waiting_quote'].id}/")
    expect(page.locator("#order-status")).to_contain_text("Support is preparing your quote")
    expect(page.get_by_test_id("decide-link")).to_have_count(0)

    # An operator sees the same states but no Decide buttons (only admins decide).
    page.context.clear_cookies()
    login(operator_user)
    page.goto(live_server.url + "/tasking/")
    expect(page.get_by_test_id("order-state").locator("[data-state=action-required]")).to_have_count(2)
    expect(page.get_by_test_id("decide")).to_have_count(0)

    # Support: an order waiting on the customer is not theirs to act on.
    page.context.clear_cookies()
    login(staff_user)
    page.goto(live_server.url + f"/support/orders/{four_waiting['quote_pending'].id}/")
    expect(page.get_by_test_id("nothing-for-support")).to_contain_text("waits on the customer")
