"""The preferences form on /notifications/ and Watch on the order page, in Chromium at a desktop
and a phone width: they save in place (htmx), show a bad choice's error on its row, and nothing
on the page is wider than the screen."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from geopera_web.events.models import NotificationPreference, OrderWatcher
from geopera_web.events.notifications import NOTIFIABLE
from tests.factories import make_tasking_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 390]
_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _shot(page, name: str) -> None:
    if folder := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_preferences_form_saves_in_place(live_server, page, login, admin_user, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(admin_user)
    page.goto(live_server.url + "/notifications/")
    form = page.get_by_test_id("notification-preferences")
    expect(form.get_by_test_id("pref-row")).to_have_count(len(NOTIFIABLE))  # every kind, watch.matched too
    expect(form.locator('[data-type="watch.matched"] select')).to_have_value(
        "immediate"
    )  # on unless turned off
    row = form.locator('[data-type="delivery.received"]')
    row.locator("select").select_option("daily")
    row.locator("input[type=checkbox]").uncheck()
    _shot(page, f"prefs-{width}")
    assert page.evaluate(_OVERFLOW) <= 0
    form.get_by_test_id("prefs-save").click()
    expect(page.get_by_test_id("prefs-saved")).to_be_visible()
    pref = NotificationPreference.objects.get(user=admin_user, event_type="delivery.received")
    assert (pref.in_app, pref.email_mode) == (False, "daily")
    # The swapped form still shows the saved choice.
    expect(page.locator('[data-type="delivery.received"] select')).to_have_value("daily")

    # A choice the server refuses (here: tampered with) is shown on its row; nothing is saved.
    page.evaluate(
        """() => { const s = document.querySelector('[data-type="coverage.updated"] select');
                   s.add(new Option("Hourly", "hourly")); s.value = "hourly"; }"""
    )
    page.get_by_test_id("prefs-save").click()
    expect(page.locator('[data-type="coverage.updated"] [data-testid="pref-error"]')).to_be_visible()
    assert NotificationPreference.objects.get(event_type="coverage.updated").email_mode == "off"
    _shot(page, f"prefs-error-{width}")
    assert page.evaluate(_OVERFLOW) <= 0


@pytest.mark.parametrize("width", WIDTHS)
def test_watch_and_unwatch_on_the_order_page(live_server, page, login, org, operator_user, admin_user, width):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    order = make_tasking_request(org, operator_user)
    page.set_viewport_size({"width": width, "height": 900})
    login(admin_user)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    button = page.get_by_test_id("watch-button")
    expect(button).to_have_text("Watch")
    button.click()
    expect(page.get_by_test_id("watch-button")).to_have_text("Unwatch")
    expect(page.get_by_test_id("watcher-count")).to_have_text("1 watching")
    assert OrderWatcher.objects.filter(order_id=order.pk, user=admin_user).exists()
    _shot(page, f"order-watch-{width}")
    assert page.evaluate(_OVERFLOW) <= 0
    page.get_by_test_id("watch-button").click()
    expect(page.get_by_test_id("watch-button")).to_have_text("Watch")
    assert not OrderWatcher.objects.exists()
