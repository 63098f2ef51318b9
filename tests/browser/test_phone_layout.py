"""Item 2 of issue 16: every main page fits a 390 px wide phone (no horizontal document scroll),
the top navigation collapses into a menu button, and the key action of each page stays visible."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.tasking.test_order_states import make_four_waiting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("GEOPERA_SHOTS", "")) if os.environ.get("GEOPERA_SHOTS") else None

# What sticks out past the right edge, for a failure message that names the culprit.
OVERFLOWERS = """() => {
  const w = document.documentElement.clientWidth - window.scrollX;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    const pr = el.parentElement && el.parentElement.getBoundingClientRect();
    if (r.width && r.right > w + 1 && !(pr && pr.right > w + 1 && el.parentElement !== document.body)) {
      let p = el.parentElement, clipped = false;
      while (p && p !== document.body) {
        const s = getComputedStyle(p);
        if (s.overflowX !== 'visible' && p.getBoundingClientRect().right <= w + 1) { clipped = true; break; }
        p = p.parentElement;
      }
      if (!clipped) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' right=' + Math.round(r.right));
    }
  }
  return out.slice(0, 12);
}"""


@pytest.fixture(autouse=True)
def catalog(db):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()


@pytest.fixture
def world(org, operator_user, admin_user, staff_user):
    from tests.factories import make_archive_order, make_priced_capture, make_product

    waiting = make_four_waiting(org, operator_user, admin_user, staff_user)
    org.wallet.available_credits = 5_000_000
    org.wallet.save()
    product = make_product(pid="phone-optical", rate=100, min_area=10.0)
    make_priced_capture(product=product, bounds=(151.10, -33.95, 151.20, -33.85), scene_id="PH-A")
    make_priced_capture(product=product, bounds=(151.15, -33.95, 151.25, -33.85), scene_id="PH-B")
    archive = make_archive_order(org=org, actor=admin_user, scene_ids=["PH-A"])
    return {**waiting, "archive": archive}


def _fits(page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: document is {width} px wide: {page.evaluate(OVERFLOWERS)}"


def _open_menu(page) -> None:
    toggle = page.get_by_test_id("nav-toggle")
    expect(toggle).to_be_visible()
    expect(page.locator(".mainnav")).to_be_hidden()
    toggle.click()
    expect(page.locator(".mainnav")).to_be_visible()


def test_every_page_fits_a_phone_as_admin(live_server, page, login, world, admin_user):
    page.set_viewport_size(PHONE)
    login(admin_user)
    u = live_server.url
    pages = [
        ("dashboard", "/", None),
        ("archive", "/archive/?view=-33.9,151.18,11", "#archive-map"),
        ("tasking", "/tasking/", None),
        ("tasking-new", "/tasking/new/", None),
        ("inbox", "/inbox/", None),
        ("templates", "/templates/", None),
        ("orders", "/orders/", None),
        ("order-archive", f"/orders/{world['archive'].id}/", None),
        ("order-tasking", f"/orders/{world['quote_pending'].id}/", None),
        ("coverage", f"/orders/{world['quote_pending'].id}/coverage/", None),
        ("billing", "/billing/", None),
        ("products", "/archive/products/", None),
        ("watches", "/watches/", None),
        ("watch-new", "/watches/new/", None),
        ("policies", "/policies/", None),
        ("api-keys", "/settings/api-keys/", None),
        ("tokens", "/settings/tokens/", None),
    ]
    failures = []
    for name, path, key in pages:
        page.goto(u + path)
        try:
            _fits(page, f"admin-{name}")
            if key:
                expect(page.locator(key)).to_be_visible()
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)

    # The order lists stack into cards: every row's status is on screen, not scrolled off the right.
    for path in ("/orders/", "/tasking/", "/"):
        page.goto(u + path)
        states = page.get_by_test_id("order-state")
        assert states.count() >= 4
        for i in range(states.count()):
            box = states.nth(i).locator(".state").first.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
                f"{path}: status {i} at {box}"
            )

    # The navigation sits behind a Menu button, with tap-sized links.
    page.goto(u + "/")
    _open_menu(page)
    link = page.locator(".mainnav a", has_text="Orders")
    assert link.bounding_box()["height"] >= 40
    link.click()
    expect(page).to_have_url(u + "/orders/")
    expect(page.locator(".mainnav")).to_be_hidden()

    # The archive shows one pane at a time: map, list, cart; drawing an AOI brings the map back.
    page.goto(u + "/archive/?view=-33.9,151.18,11")
    toggle = page.get_by_test_id("pane-toggle")
    expect(page.locator("#archive-map")).to_be_visible()
    toggle.get_by_role("button", name="List").click()
    expect(page.locator("#results li.result")).to_have_count(2)
    expect(page.locator("#results li.result").first).to_be_visible()
    page.locator("#results li.result .js-cart-toggle").first.click()
    expect(toggle.locator("[data-pane-count]")).to_have_text("1")
    toggle.get_by_role("button", name="Cart").click()
    expect(page.locator("#cart-panel .cart-item")).to_have_count(1)
    expect(page.locator("#archive-map")).to_be_hidden()
    toggle.get_by_role("button", name="List").click()
    page.click("#aoi-rect")
    expect(page.locator("#archive-map")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_viewer_and_an_operator_get_pages_that_fit(
    live_server, page, login, world, viewer_user, operator_user
):
    page.set_viewport_size(PHONE)
    failures = []
    for user in (viewer_user, operator_user):
        page.context.clear_cookies()
        login(user)
        for path in ("/", "/archive/", "/tasking/", "/tasking/new/", "/inbox/", "/orders/", "/billing/"):
            page.goto(live_server.url + path)
            try:
                _fits(page, f"{user.email.split('@')[0]}-{path.strip('/').replace('/', '-') or 'dashboard'}")
            except AssertionError as exc:
                failures.append(str(exc))
    assert not failures, "\n".join(failures)
    expect(page.get_by_test_id("nav-toggle")).to_be_visible()


def test_support_pages_fit_a_phone(live_server, page, login, world, staff_user):
    page.set_viewport_size(PHONE)
    login(staff_user)
    failures = []
    for name, path in [
        ("support", "/support/"),
        ("support-order", f"/support/orders/{world['waiting_study'].id}/"),
    ]:
        page.goto(live_server.url + path)
        try:
            _fits(page, f"staff-{name}")
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)


# Every table of a page, at phone width: none may scroll or stick out sideways, and no cell with text
# may be squeezed narrower than a readable line.
READABLE_PX = 120
TABLE_PROBLEMS = """(minWidth) => {
  const w = document.documentElement.clientWidth, out = [];
  for (const t of document.querySelectorAll('table')) {
    const r = t.getBoundingClientRect();
    if (!r.width || !t.offsetParent) continue;
    const name = t.id || t.dataset.testid || t.className;
    if (t.scrollWidth > t.clientWidth + 1) out.push(name + ' scrolls: ' + t.scrollWidth + ' > ' + t.clientWidth);
    if (r.right > w + 1) out.push(name + ' sticks out to ' + Math.round(r.right));
    for (const c of t.querySelectorAll('td')) {
      const cr = c.getBoundingClientRect();
      if (!cr.width || !c.textContent.trim()) continue;
      if (cr.width < minWidth) out.push(name + ' cell "' + c.textContent.trim().slice(0, 30) + '" is ' + Math.round(cr.width) + ' px');
      if (cr.right > w + 1) out.push(name + ' cell "' + c.textContent.trim().slice(0, 30) + '" off screen');
    }
  }
  return out.slice(0, 15);
}"""


def test_money_price_and_option_tables_stack_as_cards_on_a_phone(live_server, page, login, world, admin_user):
    """Billing's Ledger and Charges, an order's Price breakdown and the inbox's options become
    label: value cards below the breakpoint instead of scrolling or squeezing."""
    page.set_viewport_size(PHONE)
    login(admin_user)
    checks = [
        ("/billing/", ['[data-testid="ledger"]', '[data-testid="charges"]']),
        (f"/orders/{world['archive'].id}/", ["#order-groups-table"]),
        ("/inbox/", ['[data-testid="options"]']),
    ]
    failures = []
    for path, tables in checks:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        for selector in tables:
            expect(page.locator(selector).first).to_be_visible()
        problems = page.evaluate(TABLE_PROBLEMS, READABLE_PX)
        if problems:
            failures.append(f"{path}: {problems}")
    assert not failures, "\n".join(failures)

    # A card reads "label: value": the label comes from the column, beside its value.
    page.goto(live_server.url + "/billing/")
    status = page.locator('[data-testid="charges"] td[data-label="Status"]').first
    label = status.evaluate("c => getComputedStyle(c, '::before').content")
    assert label == '"Status"'
    # Each option of a study is one card: its cells sit one under the other, in the option's order.
    page.goto(live_server.url + "/inbox/")
    table = page.locator('[data-testid="options"]').first
    prices = table.locator('td[data-label="Price"]')
    whats = table.locator('td[data-label="What"]')
    assert prices.count() >= 2
    first_price, second_what = prices.nth(0).bounding_box(), whats.nth(1).bounding_box()
    assert first_price["y"] < second_what["y"], "option 2 starts after option 1's price"
    # On a desktop the same table keeps its columns side by side.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    a, b = whats.nth(0).bounding_box(), whats.nth(1).bounding_box()
    assert abs(a["y"] - b["y"]) < 2 and b["x"] > a["x"]
