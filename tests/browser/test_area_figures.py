"""Areas above a thousand km² carry thousands separators in the archive's result list (written by
archive.js) and in the cart (the server's template), the same way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_large_areas_have_thousands_separators_in_results_and_cart(live_server, page, login):
    from tests.factories import make_org, make_priced_capture, make_product, make_user

    org = make_org(name="Area Org", credits=5_000_000)
    user = make_user(org=org, role="operator", email="area@example.test")
    product = make_product(pid="area-optical", rate=10, min_area=10.0)
    # ≈ 0.5° × 0.5° near Sydney: about 2,563 km².
    make_priced_capture(product=product, bounds=(150.50, -34.20, 151.00, -33.70), scene_id="SYD-BIG")

    login(user)
    page.goto(live_server.url + "/archive/?view=-33.95,150.75,9")
    result = page.locator('#results li.result[data-capture-id="SYD-BIG"]')
    expect(result).to_contain_text(re.compile(r"2,5\d\d km²"))
    assert page.evaluate("() => geopera.formatArea(12345.678)") == "12,345.7"
    assert page.evaluate("() => geopera.formatArea(2563.36, 2)") == "2,563.36"
    result.locator(".js-cart-toggle").click()
    item = page.locator('#cart-panel .cart-item[data-capture-id="SYD-BIG"]')
    expect(item).to_be_visible()
    expect(page.locator("#cart-panel")).to_contain_text(re.compile(r"\b2,5\d\d\.\d\d\b"))
