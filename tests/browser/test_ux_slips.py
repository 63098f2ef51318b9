"""Issue 16, items 8 and 12 in Chromium: the per-area checks stay inside their card, a viewer is told
the tasking form is look-only, option cells that merely differ are not tinted like warnings, and
archive collection names are not cut off."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.browser.test_phone_layout import OVERFLOWERS
from tests.tasking.test_order_states import make_four_waiting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WARN_SOFT = "rgb(255, 251, 235)"


@pytest.fixture(autouse=True)
def catalog(db):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()


def _areas() -> str:
    def box(x0, y0, x1, y1, name):
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        return {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }

    fc = {
        "type": "FeatureCollection",
        "features": [
            box(151.0, -34.0, 151.12, -33.9, "Harbour north"),
            box(151.2, -34.1, 151.35, -33.95, "Bay"),
        ],
    }
    return quote(json.dumps(fc))


def _inside(page, inner: str, outer: str) -> None:
    i = page.locator(inner).bounding_box()
    o = page.locator(outer).bounding_box()
    assert i["x"] + i["width"] <= o["x"] + o["width"] + 0.5, f"{inner} sticks out of {outer}: {i} vs {o}"


@pytest.mark.parametrize("width", [1440, 1024, 390])
def test_per_area_checks_stay_inside_their_card(live_server, page, login, admin_user, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(admin_user)
    page.goto(live_server.url + "/tasking/new/?product=worldview-legion-tasking&aoi=" + _areas())
    expect(page.get_by_test_id("aoi-row-1")).to_be_visible()
    _inside(page, "#aoi-checks", "#tasking-aoi")
    # The price column can be reached inside the card (scrolled into view if need be), not under the form.
    price = page.get_by_test_id("aoi-total")
    price.scroll_into_view_if_needed()
    expect(price).to_be_in_viewport()
    _inside(page, "[data-testid=aoi-total]", "#tasking-aoi")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, page.evaluate(OVERFLOWERS)


def test_a_viewer_is_told_the_tasking_form_is_look_only(live_server, page, login, viewer_user, admin_user):
    login(viewer_user)
    page.goto(live_server.url + "/tasking/new/")
    expect(page.get_by_test_id("viewer-notice")).to_contain_text("only an admin or operator")
    expect(page.get_by_test_id("place")).to_have_count(0)
    page.context.clear_cookies()
    login(admin_user)
    page.goto(live_server.url + "/tasking/new/")
    expect(page.get_by_test_id("place")).to_be_visible()
    expect(page.get_by_test_id("viewer-notice")).to_have_count(0)


def test_differing_option_cells_are_not_warning_tinted(
    live_server, page, login, org, operator_user, admin_user, staff_user
):
    make_four_waiting(org, operator_user, admin_user, staff_user)
    login(admin_user)
    page.goto(live_server.url + "/inbox/")
    diff = page.locator(".options-table td.diff").first
    expect(diff).to_be_visible()
    colour = diff.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour != WARN_SOFT


def test_archive_collection_names_are_not_cut_off(live_server, page, login, admin_user):
    from tests.factories import make_product

    make_product(pid="maxar-worldview-legion-very-high-resolution-archive", rate=100)
    login(admin_user)
    page.goto(live_server.url + "/archive/")
    label = page.locator(".collections label", has_text="Very High Resolution")
    expect(label).to_be_visible()
    assert label.evaluate("el => el.scrollWidth <= el.clientWidth"), "the collection name is clipped"
