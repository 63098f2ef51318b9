"""The support desk in Chromium: filters update the list in place and land in the URL, paging,
claim/release in place, the antimeridian drawn the short way, and the page fits a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Order
from tasking.desk import desk_claim
from tasking.models import SupportClaim
from tests.factories import make_user
from tests.tasking.flow_helpers import place, upload_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
FIJI = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[179.75, -17.15], [180.0, -17.15], [180.0, -16.85], [179.75, -16.85], [179.75, -17.15]]],
        [[[-180.0, -17.15], [-179.75, -17.15], [-179.75, -16.85], [-180.0, -16.85], [-180.0, -17.15]]],
    ],
}


@pytest.fixture(autouse=True)
def catalog(db):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()


def _named(org, actor, name: str, **kw) -> Order:
    order = place(org, actor, **kw)
    Order.objects.filter(pk=order.pk).update(display_name=name)
    return order


@pytest.fixture
def desk(org, other_org, operator_user, other_admin, staff_user):
    orders = [_named(org, operator_user, f"Paddock {i:02d}") for i in range(27)]
    harbour = _named(other_org, other_admin, "Harbour berths")
    upload_study(harbour, staff_user, deadline=timezone.now() + timedelta(hours=10))
    return {"orders": orders, "harbour": harbour}


def test_filters_search_paging_and_claim_work_in_place(live_server, page, login, desk, staff_user):
    login(staff_user)
    page.goto(live_server.url + "/support/")
    rows = page.get_by_test_id("queue-row")
    expect(page.get_by_test_id("desk-count")).to_have_text("27 items")
    expect(rows).to_have_count(25)

    # paging in place, the page in the URL
    page.get_by_test_id("pager-next").click()
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"page=2"))

    # a state filter swaps the list and lands in the URL (shareable)
    marker = page.evaluate("() => (window.__sameDocument = 1)")
    page.get_by_test_id("filter-state").select_option("expiring")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Harbour berths")
    expect(rows.first).to_contain_text("expiring")
    expect(page).to_have_url(re.compile(r"state=expiring"))
    assert page.evaluate("() => window.__sameDocument") == marker  # no full reload

    # the URL alone reproduces the view
    url = page.url
    page.goto(url)
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("filter-state")).to_have_value("expiring")

    # search, typed
    page.get_by_test_id("filter-state").select_option("support")
    page.get_by_test_id("filter-q").fill("Paddock 1")
    expect(rows).to_have_count(10)  # Paddock 10..19
    expect(page).to_have_url(re.compile(r"q=Paddock\+1"))

    # claim in place; the filter "mine" then shows it
    first = rows.first
    first.get_by_test_id("claim").click()
    expect(first.get_by_test_id("claimed-by")).to_contain_text("You claimed it")
    assert SupportClaim.objects.filter(staff=staff_user).count() == 1
    page.get_by_test_id("filter-assignee").select_option("mine")
    expect(rows).to_have_count(1)
    rows.first.get_by_test_id("release").click()
    expect(rows.first.get_by_test_id("claimed-by")).to_contain_text("Nobody has claimed it")
    assert not SupportClaim.objects.exists()


def test_a_claim_by_a_colleague_is_shown_and_refused(live_server, page, login, desk, staff_user):
    colleague = make_user(org=None, role=None, email="dana@geopera.example", staff=True)
    login(staff_user)
    page.goto(live_server.url + "/support/?q=Paddock+00")
    row = page.get_by_test_id("queue-row")
    expect(row).to_have_count(1)
    desk_claim(order_id=desk["orders"][0].id, staff=colleague)  # while the page is open
    row.get_by_test_id("claim").click()
    expect(row.get_by_test_id("claim-error")).to_contain_text("already works on")
    expect(row.get_by_test_id("claimed-by")).to_contain_text("works on it")
    expect(row.get_by_test_id("claim")).to_have_count(0)
    assert SupportClaim.objects.get().staff == colleague


COASTLINE_JUMPS = """async (unwrap) => {
  const topo = await (await fetch(document.body.dataset.worldUrl)).json();
  let land = topojson.feature(topo, topo.objects.land);
  if (unwrap) land = geopera.unwrapAntimeridian(land);
  const geoms = land.geometry ? [land.geometry] : land.features.map((f) => f.geometry);
  let jumps = 0;
  for (const g of geoms) for (const poly of (g.type === "Polygon" ? [g.coordinates] : g.coordinates))
    for (const ring of poly) for (let i = 1; i < ring.length; i++)
      if (Math.abs(ring[i][0] - ring[i - 1][0]) > 180) jumps++;
  return jumps;
}"""

# The AOI's outline and its marker, in screen pixels.
AOI_BOXES = """() => {
  const paths = [...document.querySelectorAll('[data-testid=desk-map] .leaflet-overlay-pane path')];
  return paths.map((p) => { const r = p.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; });
}"""


def test_the_antimeridian_is_drawn_the_short_way(live_server, page, login, org, operator_user, staff_user):
    _named(org, operator_user, "Fiji reef", geometries=[FIJI])
    login(staff_user)
    page.goto(live_server.url + "/support/")
    expect(page.get_by_test_id("queue-row")).to_have_count(1)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=desk-map] path').length >= 3")
    # The coastline: Fiji and Chukotka cross ±180 in the vendored data; drawn as they come, each
    # would be a line across the world.
    assert page.evaluate(COASTLINE_JUMPS, False) > 0
    assert page.evaluate(COASTLINE_JUMPS, True) == 0
    # The AOI (split at ±180) is one compact shape with its marker on it, not two slivers at the
    # map's edges with a marker in the Atlantic.
    width = page.get_by_test_id("desk-map").bounding_box()["width"]
    boxes = page.evaluate(AOI_BOXES)
    aoi = max(boxes, key=lambda b: b[2] * b[3])
    marker = min(boxes, key=lambda b: b[2] * b[3])
    assert aoi[2] < width * 0.8 and aoi[2] > 50
    cx, cy = marker[0] + marker[2] / 2, marker[1] + marker[3] / 2
    assert aoi[0] <= cx <= aoi[0] + aoi[2] and aoi[1] <= cy <= aoi[1] + aoi[3]


def test_desk_fits_a_phone(live_server, page, login, desk, staff_user):
    page.set_viewport_size(PHONE)
    login(staff_user)
    page.goto(live_server.url + "/support/?state=all")
    expect(page.get_by_test_id("queue-row").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    row = page.get_by_test_id("queue-row").first
    box = row.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    claim = row.get_by_test_id("claim")
    expect(claim).to_be_visible()
    cb = claim.bounding_box()
    assert cb["x"] + cb["width"] <= PHONE["width"]
    filters = page.get_by_test_id("desk-filters").bounding_box()
    assert filters["x"] + filters["width"] <= PHONE["width"]
    claim.click()
    expect(row.get_by_test_id("claimed-by")).to_contain_text("You claimed it")
