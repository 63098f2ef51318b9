"""The bell's unread badge sits beside the bell icon, never over it — on a 390 px phone too, where
the top bar is tight (org switcher, wallet, user menu) and its items may shrink."""

from __future__ import annotations

import pytest

from geopera_web.accounts.models import Membership
from geopera_web.events.notifications import notify_users
from tests.factories import make_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOXES = """() => {
  const r = (el) => { const b = el.getBoundingClientRect(); return {x: b.x, y: b.y, w: b.width, h: b.height}; };
  const bell = document.querySelector('[data-testid=bell]');
  return {bell: r(bell), icon: r(bell.querySelector('svg')), badge: r(bell.querySelector('[data-testid=bell-count]'))};
}"""


def _overlap(a: dict, b: dict) -> float:
    w = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return max(w, 0) * max(h, 0)


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 800}])
def test_the_unread_badge_does_not_cover_the_bell_icon(live_server, page, login, org, admin_user, viewport):
    # Two orgs (the switcher shows) and a two-digit count: the tightest top bar a person gets.
    second = make_org(name="Second Organisation With A Long Name", credits=1000)
    Membership.objects.create(user=admin_user, org=second, role="operator")
    admin_user.first_name = "Alexandria"
    admin_user.save()
    for i in range(43):
        notify_users(users=[admin_user.pk], org_id=org.pk, kind="wallet.low_balance", title=f"n{i}", link="/")
    page.set_viewport_size(viewport)
    login(admin_user)
    page.goto(live_server.url + "/")
    assert page.get_by_test_id("bell-count").inner_text() == "43"
    boxes = page.evaluate(BOXES)
    icon, badge, bell = boxes["icon"], boxes["badge"], boxes["bell"]
    assert icon["w"] >= 16 and badge["w"] >= 16, boxes  # neither squeezed away
    assert _overlap(icon, badge) == 0, f"badge covers the icon: {boxes}"
    # Both inside the link (its tap target), the badge on the icon's right.
    for part in (icon, badge):
        assert bell["x"] - 0.5 <= part["x"] and part["x"] + part["w"] <= bell["x"] + bell["w"] + 0.5, boxes
    assert badge["x"] >= icon["x"] + icon["w"], boxes
