"""The archive page in Chromium: footprints and results in sync, filters, zoom, and a drawn AOI."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _map_point(page, lat: float, lng: float) -> tuple[float, float]:
    pt = page.evaluate(
        "([lat, lng]) => { const p = geoperaArchive.map.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
        [lat, lng],
    )
    box = page.locator("#archive-map").bounding_box()
    return box["x"] + pt[0], box["y"] + pt[1]


def test_operator_filters_hovers_zooms_and_searches_by_a_drawn_rectangle(live_server, page, login):
    from orders.catalog.services import archive_products_ensure
    from tests.factories import make_org, make_user
    from tests.orders.conftest import box, make_capture, utc

    archive_products_ensure()
    make_capture("IN-1", footprint=box(151.15, -33.95, 151.25, -33.85), cloud=5, acquired_at=utc(2025, 4, 1))
    make_capture(
        "IN-2",
        collection="spot",
        footprint=box(151.16, -33.92, 151.22, -33.88),
        cloud=40,
        acquired_at=utc(2025, 3, 1),
    )
    make_capture("OUT-3", footprint=box(150.7, -33.7, 150.8, -33.6), cloud=5, acquired_at=utc(2025, 2, 1))
    make_capture(
        "OUT-4",
        collection="skysat",
        footprint=box(151.5, -34.2, 151.6, -34.1),
        cloud=10,
        acquired_at=utc(2025, 1, 1),
    )
    org = make_org(name="Map Org", credits=1000)
    login(make_user(org=org, role="operator", email="mapper@example.test"))

    page.goto(live_server.url + "/archive/")
    results = page.locator("#results li.result")
    results.first.wait_for()
    assert results.count() == 4
    # The map draws them from the vector tiles (tests/browser/test_archive_tiles.py has more).
    page.wait_for_function("geoperaArchive.drawn().footprints === 4")
    row = page.locator('li.result[data-capture-id="IN-1"]')
    assert "A$" in row.inner_text() and "Add to cart" in row.inner_text()
    assert row.locator("img").get_attribute("src").endswith("quicklook.svg")

    # Filter: max cloud 20 % hides IN-2 and puts the filter in the URL.
    page.locator("#f-cloud").fill("20")
    page.wait_for_function("document.querySelectorAll('#results li.result').length === 3")
    page.wait_for_function("geoperaArchive.drawn().footprints === 3")
    assert "cloud=20" in page.url
    # Collections: untick SkySat.
    page.locator('input[name=collection][value="skysat"]').uncheck()
    page.wait_for_function("document.querySelectorAll('#results li.result').length === 2")

    # Hover a row: its footprint is outlined; hover a footprint: its row is highlighted.
    page.locator('li.result[data-capture-id="OUT-3"]').hover()
    assert page.locator('path[data-capture-id="OUT-3"]').get_attribute("stroke-width") == "3"
    page.mouse.move(*_map_point(page, -33.65, 150.75))
    page.wait_for_selector('li.result.is-hover[data-capture-id="OUT-3"]')

    # Cart contract: the toggle dispatches geopera:cart-toggle, cart-changed restyles the row.
    page.evaluate(
        "window.__toggles = []; document.addEventListener('geopera:cart-toggle', e => __toggles.push(e.detail.captureId))"
    )
    page.locator('li.result[data-capture-id="IN-1"] .js-cart-toggle').click()
    assert page.evaluate("__toggles") == ["IN-1"]
    page.evaluate(
        "document.dispatchEvent(new CustomEvent('geopera:cart-changed', {detail: {captureIds: ['IN-1']}}))"
    )
    assert page.locator('li.result[data-capture-id="IN-1"] .js-cart-toggle').inner_text() == "Remove"
    assert "in-cart" in page.locator('li.result[data-capture-id="IN-1"]').get_attribute("class")

    # Draw a rectangle AOI with geoman around IN-1 only: the results are restricted to it.
    page.locator('input[name=collection][value="skysat"]').check()
    page.locator("#f-cloud").fill("100")
    page.wait_for_function("document.querySelectorAll('#results li.result').length === 4")
    page.evaluate(
        "window.__aoi = null; document.addEventListener('geopera:aoi-changed', e => __aoi = e.detail.geometry)"
    )
    page.locator("#aoi-rect").click()
    page.mouse.click(*_map_point(page, -33.97, 151.12))
    page.mouse.click(*_map_point(page, -33.83, 151.30))
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#results li.result')).map(li => li.dataset.captureId).join() === 'IN-1,IN-2'"
    )
    assert page.evaluate("__aoi.type") == "Polygon"
    assert page.evaluate("geoperaArchive.aoi !== null")
    assert "aoi=" in page.url
    assert "drawn rectangle" in page.locator("#aoi-status").inner_text()

    # Click a row: the map moves to show its footprint. Start from a view that does not show it
    # (an AOI is set, so moving the map does not re-run the search).
    shows_in2 = """() => { const m = geoperaArchive.map; if (m._animatingZoom) return false;
        const b = L.geoJSON(geoperaArchive.featureOf('IN-2')).getBounds();
        return m.getBounds().contains(b) && b.contains(m.getCenter()); }"""
    page.evaluate("geoperaArchive.map.setView([10, 100], 4, {animate: false})")
    assert not page.evaluate(shows_in2)
    page.locator('li.result[data-capture-id="IN-2"] .title').click()
    page.wait_for_function(shows_in2)

    # The shared URL reopens the same AOI and filters.
    shared = page.url
    page.goto(shared)
    page.wait_for_function("document.querySelectorAll('#results li.result').length === 2")
    assert re.search(r"aoi=", page.url)
    page.locator("#aoi-clear").click()
    page.wait_for_function("geoperaArchive.aoi === null")


def test_uploading_an_aoi_file_searches_by_it_and_a_bad_file_says_why(live_server, page, login, tmp_path):
    import json

    from orders.catalog.services import archive_products_ensure
    from tests.factories import make_org, make_user
    from tests.orders.conftest import box, make_capture

    archive_products_ensure()
    make_capture("HARBOUR", footprint=box(151.15, -33.95, 151.25, -33.85))
    make_capture("WEST", footprint=box(150.7, -33.7, 150.8, -33.6))
    login(make_user(org=make_org(name="Upload Org"), role="operator", email="uploader@example.test"))
    page.goto(live_server.url + "/archive/")
    page.wait_for_function("document.querySelectorAll('#results li.result').length === 2")

    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    page.set_input_files("#aoi-file", str(bad))
    page.wait_for_selector("#aoi-error:not([hidden])")
    assert "unsupported file type .txt" in page.inner_text("#aoi-error")
    assert page.evaluate("geoperaArchive.aoi") is None

    good = tmp_path / "harbour.geojson"
    ring = [[151.18, -33.92], [151.22, -33.92], [151.22, -33.88], [151.18, -33.88], [151.18, -33.92]]
    good.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    page.set_input_files("#aoi-file", str(good))
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#results li.result')).map(li => li.dataset.captureId).join() === 'HARBOUR'"
    )
    assert page.locator("#aoi-error").is_hidden()
    assert "harbour.geojson" in page.inner_text("#aoi-status")
    assert page.evaluate("geoperaArchive.aoi.type") == "MultiPolygon"
