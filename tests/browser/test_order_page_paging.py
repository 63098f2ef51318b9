"""The order page of a big order lists a page of each list (assets, timeline, a group's lineage
captures) with its total; "Show more" / "Show earlier events" load the rest in place (htmx) until
everything is on the page once, at desktop and phone widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders.models import DeliveredCapture
from tests.factories import deliver, make_tasking_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = 4


def _strips(n: int, start: int) -> list[tuple[float, float, float, float]]:
    return [(150.0 + 0.01 * i, -34.05, 150.008 + 0.01 * i, -33.9) for i in range(start, start + n)]


def _press_until_gone(page, testid: str, rows, expected: int) -> None:
    for _ in range(expected // ROWS + 2):
        button = page.get_by_test_id(testid)
        if button.count() == 0:
            break
        shown = rows.count()
        button.first.click()
        expect(rows).not_to_have_count(shown)
    expect(page.get_by_test_id(testid)).to_have_count(0)
    expect(rows).to_have_count(expected)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}])
def test_show_more_loads_every_row_in_place(live_server, page, login, org, admin_user, settings, viewport):
    settings.ORDER_PAGE_MAX_ROWS = ROWS
    order = make_tasking_order(org=org, aois=[(150.0, -34.0, 150.4, -33.7)])
    group = order.groups.get()
    for b in range(3):
        deliver(order, group, _strips(5, b * 5), ref=f"batch-{b}")
    errors: list[str] = []
    page.on(
        "console", lambda m: errors.append(m.text) if m.type == "error" and "tile" not in m.text else None
    )
    page.set_viewport_size(viewport)
    login(admin_user)
    page.goto(f"{live_server.url}/orders/{order.pk}/")

    assets = page.get_by_test_id("asset")
    expect(assets).to_have_count(ROWS)
    expect(page.get_by_test_id("assets-total")).to_have_text("15 captures delivered")
    _press_until_gone(page, "assets-more", assets, 15)
    expected = DeliveredCapture.objects.filter(order=order).order_by("acquired_at", "scene_id")
    assert assets.locator("code").all_inner_texts() == [c.scene_id for c in expected]

    events = page.get_by_test_id("timeline-item")
    expect(events).to_have_count(ROWS)
    total = order.events.count()
    _press_until_gone(page, "timeline-more", events, total)
    kinds = [events.nth(i).get_attribute("data-kind") for i in range(total)]
    assert kinds == list(order.events.order_by("created_at", "id").values_list("kind", flat=True))

    items = page.locator("#order-lineage li[data-kind=item]")
    expect(items).to_have_count(ROWS)
    _press_until_gone(page, "lineage-more", items, 15)
    assert sorted(items.locator("code").all_inner_texts()) == sorted(c.scene_id for c in expected)

    batches = page.locator("#order-lineage li[data-kind=delivery]")
    expect(batches).to_have_count(3)  # 3 batches, ROWS 4: all there, no button
    expect(page.get_by_test_id("lineage-deliveries-more")).to_have_count(0)

    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport["width"]
    assert not [e for e in errors if "Content Security Policy" in e or "htmx" in e.lower()], errors
