"""The whole tasking loop in a real browser: an operator draws an AOI and places a request; support
uploads a study; an org admin accepts an option in the inbox; support quotes; the admin accepts;
the order is active and the wallet shows the reservation."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from geopera_web.billing.selectors import wallet_get
from orders.models import Order
from tests.tasking.flow_helpers import bowtie, fc, square

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def switch_user(page, login, user):
    page.context.clear_cookies()
    return login(user)


def draw_rectangle(page):
    page.locator(".leaflet-pm-icon-rectangle").click()
    box = page.get_by_test_id("aoi-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(cx - 12, cy - 10)
    page.mouse.click(cx + 12, cy + 10)


def test_request_study_accept_quote_accept(login, live_server, operator_user, admin_user, staff_user, org):
    # --- operator: draw an AOI, fill the form, place ---------------------------------------------
    page = login(operator_user)
    page.goto(live_server.url + "/tasking/new/")
    page.select_option("#pick-product", "worldview-legion-tasking")
    expect(page.get_by_test_id("params-form")).to_have_attribute("data-product", "worldview-legion-tasking")
    page.evaluate("window.geoperaAoi.map.setView([-31.5, 118.3], 9)")
    draw_rectangle(page)
    expect(page.get_by_test_id("aoi-count")).to_have_text("1 area")
    expect(page.get_by_test_id("aoi-row-0")).to_contain_text("Feasibility study")  # live check via htmx
    # A second AOI from a GeoJSON file, and a self-intersecting one whose fix the check offers.
    upload = json.dumps(
        fc(square(lon=118.6, lat=-31.6, km=12), bowtie(lon=118.0, lat=-31.3, d=0.05))
    ).encode()
    page.set_input_files(
        "#aoi-upload", files=[{"name": "aois.geojson", "mimeType": "application/json", "buffer": upload}]
    )
    expect(page.get_by_test_id("aoi-count")).to_have_text("3 areas")
    expect(page.get_by_test_id("aoi-row-2")).to_contain_text("feature 3 self-intersects")
    page.get_by_test_id("aoi-row-2").get_by_role("button", name="Use the made-valid shape").click()
    expect(page.get_by_test_id("aoi-row-2")).not_to_contain_text("self-intersects")
    expect(page.get_by_test_id("aoi-row-1")).to_contain_text("Feasibility study")
    page.fill("#param-displayName", "Merredin browser test")
    page.get_by_test_id("place").click()
    expect(page).to_have_url(re.compile(r"/tasking/\?placed="))
    row = page.get_by_test_id("tasking-order").first
    expect(row).to_contain_text("Feasibility in progress")
    order = Order.objects.get(display_name="Merredin browser test")
    assert order.groups.count() == 3
    group = order.groups.get(position=0)
    assert group.area_km2 > 5 and group.billed_area_km2 == max(group.area_km2, 100)

    # --- staff: write a study with one unpriced option --------------------------------------------
    page = switch_user(page, login, staff_user)
    page.goto(live_server.url + "/support/")
    expect(page.get_by_test_id("queue-row")).to_contain_text("Merredin browser test")
    page.get_by_test_id("open-order").click()
    page.fill("#opt-0-description", "Standard window, best effort")
    page.fill("#opt-1-description", "Priority slot")
    page.fill("#opt-1-price_credits", "999999999")  # visible but too dear: the admin picks option 1
    page.get_by_test_id("upload-study").click()
    expect(page.get_by_test_id("support-queue")).to_contain_text("The queue is empty")

    # --- admin: accept the unpriced option in the inbox --------------------------------------------
    page = switch_user(page, login, admin_user)
    page.goto(live_server.url + "/inbox/")
    row = page.get_by_test_id("decision-row")
    expect(row).to_have_attribute("data-kind", "feasibility")
    row.get_by_test_id("accept-option-1").click()
    dialog = page.locator("dialog[open]")
    expect(dialog.get_by_test_id("spend-text")).to_contain_text("Nothing is charged now")
    dialog.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("decision-row")).to_have_attribute("data-decision", "ACCEPTED")
    expect(page.get_by_test_id("decision-outcome")).to_contain_text("Support is preparing your quote")

    # --- staff: quote -------------------------------------------------------------------------------
    page = switch_user(page, login, staff_user)
    page.goto(live_server.url + "/support/")
    page.get_by_test_id("open-order").click()
    page.fill("#q-credits", "45600")
    page.get_by_test_id("upload-quotation").click()
    expect(page.get_by_test_id("support-queue")).to_contain_text("The queue is empty")

    # --- admin: accept the quotation; the order is active and the credits are reserved ---------------
    before = wallet_get(org=org).available_credits
    page = switch_user(page, login, admin_user)
    page.goto(live_server.url + "/inbox/")
    expect(page.locator("#inbox-badge")).to_have_text("1")
    row = page.get_by_test_id("decision-row")
    expect(row).to_have_attribute("data-kind", "quotation")
    row.get_by_test_id("accept-quotation").click()
    dialog = page.locator("dialog[open]")
    expect(dialog.get_by_test_id("spend-text")).to_contain_text(
        f"Reserves 45,600 credits (A$456.00) from your wallet. Available after: {before - 45_600:,} credits"
    )
    dialog.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("decision-outcome")).to_contain_text("Acquiring")
    expect(page.locator("#inbox-badge")).to_have_text("0")
    expect(page.locator("#wallet-available")).to_have_text(f"{before - 45_600:,} cr")
    expect(page.locator(".wallet-chip")).to_have_attribute("title", re.compile("reserved: 45,600 cr"))
    order.refresh_from_db()
    assert (order.status, order.sub_status) == ("active", "QUOTATION_ACCEPTED")
    assert wallet_get(org=org).reserved_credits == 45_600


def test_a_kml_file_becomes_an_area_and_a_bad_file_says_why(login, live_server, operator_user):
    page = login(operator_user)
    page.goto(live_server.url + "/tasking/new/?product=worldview-legion-tasking")
    kml = (
        b'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        b"<Placemark><name>Paddock</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        b"118.20,-31.60 118.35,-31.60 118.35,-31.48 118.20,-31.48 118.20,-31.60"
        b"</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>"
    )
    page.set_input_files(
        "#aoi-upload",
        files=[{"name": "paddock.kml", "mimeType": "application/vnd.google-earth.kml+xml", "buffer": kml}],
    )
    expect(page.get_by_test_id("aoi-count")).to_have_text("1 area")
    expect(page.get_by_test_id("aoi-row-0")).to_contain_text(re.compile("paddock", re.I))
    page.set_input_files(
        "#aoi-upload",
        files=[
            {"name": "broken.kml", "mimeType": "application/vnd.google-earth.kml+xml", "buffer": b"<kml>"}
        ],
    )
    expect(page.locator("#toasts .toast-error")).to_be_visible()
    expect(page.get_by_test_id("aoi-count")).to_have_text("1 area")
