"""Issue 16, item 11: archive filters survive a reload (they live in the URL, like the cart lives on
the server), the page counts the active filters, and one control clears them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filters_survive_a_reload_are_counted_and_clear(live_server, page, login, admin_user):
    from tests.factories import make_priced_capture, make_product

    product = make_product(pid="filters-optical", rate=100, min_area=10.0)
    make_priced_capture(product=product, bounds=(151.10, -33.95, 151.20, -33.85), scene_id="FL-A")
    login(admin_user)
    page.goto(live_server.url + "/archive/?view=-33.9,151.18,11")
    expect(page.get_by_test_id("filters-active")).to_have_text("No filters")
    expect(page.get_by_test_id("filters-clear")).to_be_hidden()

    page.fill("#f-cloud", "20")
    page.fill("#f-gsdmax", "1.5")
    expect(page.get_by_test_id("filters-active")).to_have_text("2 filters active")
    expect(page).to_have_url(re.compile(r"cloud=20.*gsdmax=1\.5|gsdmax=1\.5.*cloud=20"))

    page.reload()
    expect(page.locator("#f-cloud")).to_have_value("20")
    expect(page.locator("#f-gsdmax")).to_have_value("1.5")
    expect(page.get_by_test_id("filters-active")).to_have_text("2 filters active")

    page.get_by_test_id("filters-clear").click()
    expect(page.get_by_test_id("filters-active")).to_have_text("No filters")
    expect(page.locator("#f-cloud")).to_have_value("100")
    expect(page.locator("#f-gsdmax")).to_have_value("")
    expect(page).not_to_have_url(re.compile(r"cloud=|gsdmax="))
    expect(page.locator("#results li.result")).to_have_count(1)
