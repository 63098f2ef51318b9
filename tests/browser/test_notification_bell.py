"""The bell refreshes itself: a notification created after the page loaded shows in the badge
without a reload; while the tab is hidden the bell asks nothing, and it refreshes at once when the
tab is shown again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from geopera_web.events.notifications import notify_users

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => hidden ? "hidden" : "visible"});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def _notify(user, org, title: str) -> None:
    notify_users(users=[user.pk], org_id=org.pk, kind="wallet.low_balance", title=title, link="/billing/")


def _bell_polls(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/notifications/bell/" in r.url else None)
    return seen


def test_a_new_notification_appears_in_the_badge_without_reload(
    live_server, page, login, org, admin_user, settings
):
    settings.NOTIFICATIONS_POLL_SECONDS = 1
    login(admin_user)
    page.goto(live_server.url + "/orders/")
    badge = page.get_by_test_id("bell-count")
    expect(badge).to_have_text("0")
    _notify(admin_user, org, "Credits are running low")
    expect(badge).to_have_text("1", timeout=5000)
    expect(page.get_by_test_id("bell")).to_have_attribute("aria-label", "Notifications (1 unread)")
    _notify(admin_user, org, "Still low")
    expect(badge).to_have_text("2", timeout=5000)
    assert page.url.endswith("/orders/")  # no navigation happened


def test_a_hidden_tab_does_not_poll_and_refreshes_when_shown(
    live_server, page, login, org, admin_user, settings
):
    settings.NOTIFICATIONS_POLL_SECONDS = 1
    login(admin_user)
    page.goto(live_server.url + "/orders/")
    polls = _bell_polls(page)
    page.evaluate(_SET_HIDDEN, True)
    _notify(admin_user, org, "While away")
    page.wait_for_timeout(3500)  # three intervals
    assert polls == []
    expect(page.get_by_test_id("bell-count")).to_have_text("0")
    page.evaluate(_SET_HIDDEN, False)
    expect(page.get_by_test_id("bell-count")).to_have_text("1", timeout=3000)
    assert polls


def test_showing_the_tab_refreshes_before_the_next_interval(
    live_server, page, login, org, admin_user, settings
):
    settings.NOTIFICATIONS_POLL_SECONDS = 600
    login(admin_user)
    page.goto(live_server.url + "/orders/")
    page.evaluate(_SET_HIDDEN, True)
    _notify(admin_user, org, "While away")
    page.evaluate(_SET_HIDDEN, False)
    expect(page.get_by_test_id("bell-count")).to_have_text("1", timeout=3000)
