from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_logs_in_and_sees_the_dashboard(live_server, page, login):
    from tests.factories import make_org, make_user

    org = make_org(name="Browser Org", credits=12_345)
    user = make_user(org=org, role="operator", email="browser@example.test")
    login(user)
    assert page.url.rstrip("/") == live_server.url
    assert page.locator("h1").inner_text().startswith("Good to see you")
    assert page.locator("[data-testid=available-credits]").inner_text() == "12,345"
    assert page.locator(".wallet-chip").inner_text().startswith("12,345 cr")
    nav = page.locator("nav.mainnav").inner_text()
    for item in ("Archive", "Tasking", "Inbox", "Templates", "Orders", "Billing"):
        assert item in nav
    assert "Support desk" not in nav
    # htmx is loaded and carries the CSRF header for the dashboard's own calls.
    assert page.evaluate("typeof htmx") == "object"
    assert "X-CSRFToken" in page.locator("body").get_attribute("hx-headers")


def test_wrong_password_stays_on_login_with_a_message(live_server, page):
    from tests.factories import make_org, make_user

    user = make_user(org=make_org(), email="wrong@example.test")
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator(".form-error").is_visible()
    assert "/login/" in page.url


def test_maps_work_without_a_tile_server(live_server, page, login):
    """Tiles cannot load here (BASEMAP_URL is empty in tests): a map still renders, with the
    vendored coastline instead of tiles, and no JavaScript error."""
    from tests.factories import make_org, make_user

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(make_user(org=make_org(), email="maps@example.test"))
    page.evaluate("""() => {
        const el = document.createElement('div'); el.id = 'probe-map'; el.style.height = '300px';
        document.querySelector('main').prepend(el);
        window.probeMap = geopera.createMap(el, {center: [-33.86, 151.2], zoom: 5});
    }""")
    page.wait_for_function("document.querySelectorAll('#probe-map .leaflet-world-pane path').length > 0")
    assert page.locator("#probe-map .leaflet-tile").count() == 0
    assert page.locator("#probe-map .leaflet-control-scale").count() == 1
    assert not errors
