"""The archive map draws the whole catalog from vector tiles: footprints where a tile holds few
enough, density cells (with counts) where it is crowded, the list's filters in the tile URL, and a
click on a footprint selects it in the list and opens its popup with the cart button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# At z4 Sydney and Perth lie in different tiles of the same row (x 14 and 13, y 9).
SYDNEY = [f"SYD-{i:02d}" for i in range(12)]
PERTH = ["PER-0", "PER-1", "PER-2"]


def _seed() -> None:
    from orders.catalog.services import archive_products_ensure
    from tests.geometry import box
    from tests.orders.conftest import make_capture, utc

    archive_products_ensure()
    for i, scene in enumerate(SYDNEY):
        # Eight of the twelve are cloudy: a max-cloud filter of 20 % leaves four (≤ the tile limit).
        west = 147 + i * 0.6
        make_capture(
            scene,
            footprint=box(west, -34, west + 0.5, -33.5),
            cloud=50 if i < 8 else 10,
            acquired_at=utc(2025, 3, 1 + i),
        )
    for i, scene in enumerate(PERTH):
        west = 114 + 2 * i
        make_capture(scene, footprint=box(west, -32, west + 1, -31), cloud=5, acquired_at=utc(2025, 4, 1 + i))


def _map_point(page, lat: float, lng: float) -> tuple[float, float]:
    x, y = page.evaluate(
        "([lat, lng]) => { const p = geoperaArchive.map.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
        [lat, lng],
    )
    box = page.locator("#archive-map").bounding_box()
    return box["x"] + x, box["y"] + y


def _pixel(page, lat: float, lng: float) -> list[int]:
    """The RGBA of the catalog's canvas tile under a point of the map."""
    return page.evaluate(
        """([lat, lng]) => {
            const m = geoperaArchive.map, p = m.latLngToContainerPoint([lat, lng]);
            const r = m.getContainer().getBoundingClientRect();
            const x = r.left + p.x, y = r.top + p.y;
            const c = document.elementsFromPoint(x, y).find(el => el.tagName === 'CANVAS' && el.closest('.leaflet-catalog-pane'));
            if (!c) return null;
            const b = c.getBoundingClientRect();
            return Array.from(c.getContext('2d').getImageData(Math.round(x - b.left), Math.round(y - b.top), 1, 1).data);
        }""",
        [lat, lng],
    )


def test_the_map_draws_every_capture_from_tiles_filters_refetch_and_a_click_selects(
    live_server, page, login, settings
):
    from tests.factories import make_org, make_user

    settings.TILES_MAX_FEATURES = 5  # Sydney's tile (12 captures) is crowded, Perth's (3) is not
    _seed()
    login(
        make_user(
            org=make_org(name="Tiles Org", credits=100_000), role="operator", email="tiles@example.test"
        )
    )

    tile_responses: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: tile_responses.append((r.url, r.status)) if "/tiles/captures/" in r.url else None,
    )
    page.goto(live_server.url + "/archive/?view=-30,134,4")
    expect(page.locator("#results li.result")).to_have_count(15)

    # Tiles were fetched (z4) and the loaded tiles draw Perth's 3 footprints and count Sydney's 12.
    page.wait_for_function(
        "() => { const d = geoperaArchive.drawn(); return d.footprints === 3 && d.counted === 12; }"
    )
    assert tile_responses and all(status in (200, 304) for _, status in tile_responses)
    assert any("/tiles/captures/4/" in url for url, _ in tile_responses)
    drawn = page.evaluate("geoperaArchive.drawn()")
    assert drawn["cells"] >= 1
    expect(page.get_by_test_id("density-legend")).to_be_visible()
    # The cells are painted: the canvas under a Sydney capture is not transparent, the sea is.
    assert _pixel(page, -33.75, 147.25)[3] > 0
    assert _pixel(page, -45, 110) in (None, [0, 0, 0, 0])

    # Hovering a density cell says how many captures it holds.
    page.mouse.move(*_map_point(page, -33.75, 147.25))
    expect(page.get_by_test_id("map-hover")).to_have_text(
        re.compile(r"^\d+ captures? here · click to zoom in$")
    )

    # A filter change refetches the tiles with the filter in their URL: with max cloud 20 %, Sydney
    # keeps 4 captures (≤ 5), drawn as footprints; the cloudy ones are gone from map and list.
    before = len(tile_responses)
    page.locator("#f-cloud").fill("20")
    expect(page.locator("#results li.result")).to_have_count(7)
    page.wait_for_function(
        "() => { const d = geoperaArchive.drawn(); return d.footprints === 7 && d.cells === 0; }"
    )
    refetched = [url for url, _ in tile_responses[before:]]
    assert refetched and all("eo%3Acloud_cover" in url and "lte" in url for url in refetched)
    expect(page.get_by_test_id("density-legend")).to_have_count(0)

    # Clicking a footprint selects it: its row is marked and its popup offers the cart.
    page.mouse.click(*_map_point(page, -31.5, 116.5))
    popup = page.locator('.leaflet-popup .footprint-popup[data-capture-id="PER-1"]')
    expect(popup).to_be_visible()
    expect(page.locator('li.result.is-selected[data-capture-id="PER-1"]')).to_have_count(1)
    expect(page.locator("li.result.is-selected")).to_have_count(1)

    # Add to cart from the popup: the cart takes it and the footprint turns amber on the map.
    popup.locator(".js-cart-toggle").click()
    expect(page.locator('#cart-panel .cart-item[data-capture-id="PER-1"]')).to_be_visible()
    expect(page.locator('li.result[data-capture-id="PER-1"] .js-cart-toggle')).to_have_text("Remove")
    page.locator('li.result[data-capture-id="PER-2"]').hover()  # away from PER-1's row
    page.wait_for_function(
        """() => { const m = geoperaArchive.map, p = m.latLngToContainerPoint([-31.5, 116.5]);
            const r = m.getContainer().getBoundingClientRect();
            const c = document.elementsFromPoint(r.left + p.x, r.top + p.y).find(el => el.tagName === 'CANVAS' && el.closest('.leaflet-catalog-pane'));
            if (!c) return false; const b = c.getBoundingClientRect();
            const d = c.getContext('2d').getImageData(Math.round(r.left + p.x - b.left), Math.round(r.top + p.y - b.top), 1, 1).data;
            return d[3] > 0 && d[0] > d[2] + 40; }"""
    )
    # Hovering a row outlines its footprint on the map (the map and the list stay in sync).
    expect(page.locator('#archive-map path[data-capture-id="PER-2"]')).to_have_count(1)
    page.wait_for_load_state("networkidle")


def test_a_large_aoi_fits_the_tile_url_and_still_filters_the_tiles(live_server, page, login):
    """An AOI with many vertices (an uploaded shapefile) must not make the tile URLs longer than a
    request line may be (gunicorn: 4,094 bytes); the tiles still take the AOI (as its box)."""
    import json
    import math
    from urllib.parse import quote

    from tests.factories import make_org, make_user

    _seed()
    login(make_user(org=make_org(name="Big AOI Org"), role="operator", email="bigaoi@example.test"))
    # A 600-vertex circle around Perth's captures (lon 114–119, lat -32…-31).
    ring = [
        [116.5 + 3 * math.cos(2 * math.pi * i / 600), -31.5 + 2 * math.sin(2 * math.pi * i / 600)]
        for i in range(600)
    ]
    ring.append(ring[0])
    aoi = json.dumps({"type": "Polygon", "coordinates": [ring]})
    tile_urls: list[str] = []
    page.on("request", lambda r: tile_urls.append(r.url) if "/tiles/captures/" in r.url else None)
    page.goto(live_server.url + "/archive/?view=-31.5,116.5,6&aoi=" + quote(aoi))
    expect(page.locator("#results li.result")).to_have_count(3)
    page.wait_for_function("() => geoperaArchive.drawn().footprints === 3")
    assert tile_urls
    assert all("intersects=" in url for url in tile_urls)
    assert max(len(url.split("/", 3)[3]) for url in tile_urls) < 4000
    # Let the last tiles finish before the database is flushed (a tile query in flight deadlocks
    # the flush's TRUNCATE).
    page.wait_for_load_state("networkidle")
