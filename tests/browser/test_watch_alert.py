"""A watch alert's link, followed in Chromium: the confirmation page adds the matched captures to
the cart, and the archive map opens with exactly those captures selected (outlined on the map,
marked and listed first in the results) and the cart beside it holding them."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _item(scene_id: str, bounds) -> dict:
    x0, y0, x1, y1 = bounds
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": scene_id,
        "collection": "pleiades",
        "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]},
        "properties": {
            "datetime": "2026-11-30T00:10:00Z",
            "eo:cloud_cover": 4,
            "gsd": 0.5,
            "view:off_nadir": 8,
        },
    }


def _import(*items: dict) -> None:
    from orders.catalog.services import catalog_import

    catalog_import(text=json.dumps({"type": "FeatureCollection", "features": list(items)}))


def test_following_an_alert_link_opens_the_archive_with_the_matches_selected_and_in_the_cart(
    live_server, page, login
):
    from orders.catalog.services import archive_products_ensure
    from orders.models import CartItem, WatchAlert
    from orders.watches.services import watch_create, watches_match
    from tests.factories import make_org, make_user
    from tests.geometry import geojson_box

    archive_products_ensure()
    org = make_org(name="Watch Browser Org", credits=500_000)
    user = make_user(org=org, role="operator", email="watch-browser@example.test")
    _import(_item("OLD-IN-AREA", (151.02, -33.98, 151.08, -33.90)))  # before the watch: not a match
    watch_create(org=org, user=user, name="Botany", aoi=geojson_box(151.00, -34.00, 151.20, -33.80))
    since = timezone.now()
    _import(
        _item("NEW-A", (151.00, -34.00, 151.10, -33.80)), _item("NEW-B", (151.10, -34.00, 151.20, -33.85))
    )
    watches_match(since=since)  # what the worker runs after the import (safe to run twice)
    alert = WatchAlert.objects.get()

    login(user)
    page.goto(f"{live_server.url}/watches/alerts/{alert.pk}/")
    expect(page.locator('[data-testid="alert-capture"]')).to_have_count(2)
    page.click('[data-testid="alert-add"]')
    page.wait_for_url(re.compile(r"/archive/\?"))
    assert "select=NEW-" in page.url
    assert set(CartItem.objects.filter(cart__user=user).values_list("capture__scene_id", flat=True)) == {
        "NEW-A",
        "NEW-B",
    }

    # The list: the two matches marked and first; the older capture listed but not selected.
    expect(page.locator("#results li.result")).to_have_count(3)
    expect(page.locator("#results li.result.is-linked")).to_have_count(2)
    linked = page.locator("#results li.result.is-linked").evaluate_all(
        "els => els.map(e => e.dataset.captureId)"
    )
    assert sorted(linked) == ["NEW-A", "NEW-B"]
    first_two = page.locator("#results li.result").evaluate_all(
        "els => els.slice(0, 2).map(e => e.dataset.captureId)"
    )
    assert sorted(first_two) == ["NEW-A", "NEW-B"]
    expect(page.locator('#results li.result[data-capture-id="OLD-IN-AREA"]')).not_to_have_class(
        re.compile("is-linked")
    )

    # The map: exactly the two outlined, and their tile style is the selected one.
    expect(page.locator(".leaflet-catalogTop-pane path[data-linked-id]")).to_have_count(2)
    weights = page.evaluate(
        "ids => ids.map(id => window.geoperaArchive.styleOf(id).weight)", ["NEW-A", "NEW-B", "OLD-IN-AREA"]
    )
    assert weights[0] == weights[1] == 4 and weights[2] < 4

    # The cart beside the map holds them, and the note counts them.
    expect(page.locator("#cart-panel .cart-item")).to_have_count(2)
    for scene in ("NEW-A", "NEW-B"):
        expect(page.locator(f'#cart-panel .cart-item[data-capture-id="{scene}"]')).to_be_visible()
    expect(page.locator('[data-testid="linked-note"]')).to_contain_text(
        "2 captures selected · 2 in your cart"
    )

    # Clearing the selection unmarks them and drops ?select= from the URL.
    page.click('[data-testid="linked-clear"]')
    expect(page.locator("#results li.result.is-linked")).to_have_count(0)
    expect(page.locator(".leaflet-catalogTop-pane path[data-linked-id]")).to_have_count(0)
    assert "select=" not in page.url


def test_a_selected_capture_the_filters_leave_out_is_fetched_by_id_and_listed(live_server, page, login):
    from orders.catalog.services import archive_products_ensure
    from tests.factories import make_org, make_user

    archive_products_ensure()
    org = make_org(name="Watch Browser Org 2", credits=0)
    user = make_user(org=org, role="viewer", email="watch-browser2@example.test")
    # Outside the filters of the link (cloud ≤ 1): the page of results does not hold it.
    _import(_item("CLOUDY-ONE", (151.0, -34.0, 151.1, -33.9)), _item("OTHER", (151.0, -34.0, 151.05, -33.95)))
    page_url = f"{live_server.url}/archive/?view=-33.95,151.05,11&cloud=0&select=CLOUDY-ONE"
    login(user)
    page.goto(page_url)
    expect(page.locator('#results li.result.is-linked[data-capture-id="CLOUDY-ONE"]')).to_have_count(1)
    expect(page.locator('[data-testid="linked-note"]')).to_contain_text("1 capture selected")
    expect(page.locator(".leaflet-catalogTop-pane path[data-linked-id]")).to_have_count(1)
