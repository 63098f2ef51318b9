"""The archive cart end to end: draw an AOI, add two captures, see the server's estimate, clip one
to the AOI, place, and land on the order page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _map_point(page, lat: float, lng: float) -> tuple[float, float]:
    x, y = page.evaluate(
        "([lat, lng]) => { const p = window.geoperaArchive.map.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
        [lat, lng],
    )
    box = page.locator("#archive-map").bounding_box()
    return box["x"] + x, box["y"] + y


def test_draw_aoi_add_two_captures_see_estimate_place_and_land_on_order(live_server, page, login):
    from orders.models import Order
    from tests.factories import make_org, make_priced_capture, make_product, make_user

    org = make_org(name="Cart Browser Org", credits=500_000)
    user = make_user(org=org, role="operator", email="cart@example.test")
    product = make_product(pid="browser-optical", rate=100, min_area=10.0)
    make_priced_capture(product=product, bounds=(151.10, -33.95, 151.20, -33.85), scene_id="SYD-A")
    make_priced_capture(product=product, bounds=(151.15, -33.95, 151.25, -33.85), scene_id="SYD-B")

    login(user)
    page.goto(live_server.url + "/archive/?view=-33.9,151.18,11")
    expect(page.locator("#results li.result")).to_have_count(2)
    expect(page.locator("#cart-panel .cart-empty")).to_be_visible()

    # Draw a rectangle AOI covering the east part of both captures.
    page.click("#aoi-rect")
    page.mouse.click(*_map_point(page, -33.87, 151.17))
    page.mouse.click(*_map_point(page, -33.93, 151.30))
    expect(page.locator("#aoi-status")).to_contain_text("intersect")
    expect(page.locator("#results li.result")).to_have_count(2)

    for scene in ("SYD-A", "SYD-B"):
        page.locator(f'#results li.result[data-capture-id="{scene}"] .js-cart-toggle').click()
        expect(page.locator(f'#cart-panel .cart-item[data-capture-id="{scene}"]')).to_be_visible()
    expect(page.locator("#cart-panel .cart-item")).to_have_count(2)
    expect(page.locator("#cart-estimate")).to_be_visible()
    expect(page.locator("#cart-after")).to_contain_text("Wallet after this order")
    # The archive page heard geopera:cart-changed: its buttons now say Remove.
    expect(page.locator('#results li.result[data-capture-id="SYD-A"] .js-cart-toggle')).to_have_text("Remove")
    # The billed geometry is drawn on the archive map in the cart's own pane.
    expect(page.locator(".leaflet-cart-pane path")).to_have_count(1)
    whole = page.locator("#cart-total-credits").text_content().strip()

    # The cart survives a reload (it is stored server-side).
    page.reload()
    expect(page.locator("#cart-panel .cart-item")).to_have_count(2)
    expect(page.locator("#cart-total-credits")).to_have_text(whole)

    # Re-draw the AOI after the reload (the page keeps it in the URL) and clip SYD-A to it.
    expect(page.locator("#aoi-status")).to_contain_text("intersect")
    page.locator('#cart-panel .cart-item[data-capture-id="SYD-A"] .cart-clip input').check()
    expect(page.locator("#cart-total-credits")).not_to_have_text(whole)
    clipped_total = page.locator("#cart-total-credits").text_content().strip()

    # Review before spending: what, licence, workspace, price, wallet before → after.
    page.select_option("#cart-license", "extended")
    page.click("#cart-place")
    review = page.get_by_test_id("cart-review")
    expect(review).to_be_visible()
    expect(review.get_by_test_id("review-what")).to_contain_text("2 captures in 1 priced group")
    expect(review.get_by_test_id("review-license")).to_have_text("Extended (partners, resale)")
    expect(review.get_by_test_id("review-workspace")).not_to_be_empty()
    expect(review.get_by_test_id("review-price")).to_have_text(clipped_total)
    credits = int(clipped_total.replace(",", "").replace(" cr", ""))
    expect(review.get_by_test_id("review-wallet")).to_contain_text(
        f"500,000 cr now → {500_000 - credits:,} cr after"
    )
    assert not Order.objects.filter(org=org).exists()  # nothing spent by opening the review
    review.get_by_role("button", name="Back to the cart").click()
    expect(review).to_be_hidden()
    page.click("#cart-place")
    page.get_by_test_id("cart-confirm").click()
    page.wait_for_url(re.compile(r"/orders/[0-9a-f-]{36}/\?placed=1$"))
    order = Order.objects.get(org=org)
    assert page.url.endswith(f"/orders/{order.pk}/?placed=1")
    assert order.license_type == "extended"
    expect(page.get_by_test_id("placed-confirmation")).to_contain_text(f"{clipped_total} (A$")
    expect(page.get_by_test_id("placed-confirmation")).to_contain_text("reserved from your wallet")
    expect(page.locator("#order-total")).to_have_text(clipped_total)
    expect(page.locator("#order-groups-table")).to_contain_text("SYD-A")
    expect(page.locator("#order-groups-table")).to_contain_text("SYD-B")
    expect(page.locator("#order-timeline")).to_contain_text("placed")
    assert sorted(c.scene_id for g in order.groups.all() for c in g.captures.all()) == ["SYD-A", "SYD-B"]
    assert f"{order.total_credits:,} cr" == clipped_total


def test_card_checkout_with_three_d_secure_completes_and_places_once(live_server, page, login):
    from geopera_web.billing.gateways import TestGateway
    from geopera_web.billing.models import Charge
    from orders.models import Order
    from tests.factories import make_org, make_priced_capture, make_product, make_user

    org = make_org(name="Card Browser Org", billing_mode="card")
    org.payment_method = TestGateway.THREE_DS
    org.save(update_fields=["payment_method"])
    user = make_user(org=org, role="admin", email="card@example.test")
    product = make_product(pid="browser-card-optical", rate=100, min_area=10.0)
    make_priced_capture(product=product, bounds=(151.10, -33.95, 151.20, -33.85), scene_id="SYD-A")

    login(user)
    page.goto(live_server.url + "/archive/?view=-33.9,151.15,11")
    page.locator('#results li.result[data-capture-id="SYD-A"] .js-cart-toggle').click()
    expect(page.locator("#cart-after")).to_contain_text("hold of")
    page.click("#cart-place")
    expect(page.get_by_test_id("review-spend")).to_contain_text("hold of A$")
    page.get_by_test_id("cart-confirm").click()
    expect(page.locator(".cart-payment")).to_contain_text("3-D Secure")
    assert not Order.objects.filter(org=org).exists()
    page.click("#cart-3ds")
    page.wait_for_url(re.compile(r"/orders/[0-9a-f-]{36}/\?placed=1$"))
    order = Order.objects.get(org=org)
    assert order.billing_mode == "card"
    assert Charge.objects.filter(org=org).count() == 1
    expect(page.locator("#order-timeline")).to_contain_text("held on the card on file")


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_an_unaffordable_cart_cannot_be_placed_and_says_what_to_do(live_server, page, login, role):
    """Item 4 of issue 16: Place is disabled with the reason (formatted) and the next step for the
    person's role."""
    from tests.factories import make_org, make_priced_capture, make_product, make_user

    org = make_org(name="Short Org", credits=1_000)
    make_user(org=org, role="admin", email="boss@short.test")
    user = make_user(org=org, role=role, email=f"{role}@short.test")
    product = make_product(pid=f"short-optical-{role}", rate=100, min_area=10.0)
    make_priced_capture(product=product, bounds=(151.10, -33.95, 151.20, -33.85), scene_id="SYD-S")

    login(user)
    page.goto(live_server.url + "/archive/?view=-33.9,151.15,11")
    page.locator('#results li.result[data-capture-id="SYD-S"] .js-cart-toggle').click()
    short = page.get_by_test_id("cart-short")
    expect(short).to_contain_text(
        re.compile(r"this order costs [\d,]+ cr and 1,000 cr are available \([\d,]+ cr short\)")
    )
    expect(page.locator("#cart-place")).to_be_disabled()
    step = page.get_by_test_id("cart-next-step")
    if role == "admin":
        expect(step).to_contain_text("Ask support for a top-up of at least")
    else:
        expect(step).to_contain_text("Ask an admin (")
    assert "-" not in page.locator("#cart-after").inner_text()  # never a negative "wallet after"
