"""The coverage page in Chromium after a simulated partial delivery: covered and remainder layers
on the map, the table's figures, the footprints toggle, and a row click zooming to its AOI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.coverage.services import coverage_recompute
from orders.fulfilment.services import tasking_deliveries_sync
from tests.factories import make_org, make_tasking_order, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HUNTER = "POLYGON((151.05 -32.86, 151.38 -32.88, 151.42 -32.70, 151.30 -32.60, 151.10 -32.64, 151.05 -32.86))"
GRIFFITH = (
    "POLYGON((145.90 -34.45, 146.35 -34.47, 146.40 -34.18, 146.15 -34.10, 145.92 -34.16, 145.90 -34.45))"
)


def test_coverage_page_after_a_simulated_partial_delivery(live_server, page, login):
    org = make_org(name="Browser Coverage Org", credits=5_000_000)
    user = make_user(org=org, role="viewer", email="cov-browser@example.test")
    order = make_tasking_order(
        org=org,
        aois=[HUNTER, GRIFFITH],
        names=["Hunter Valley", "Griffith"],
        metadata={"simulation": {"seed": 2027, "coverage": [1.0, 0.6], "key": "browser"}},
    )
    tasking_deliveries_sync(order_id=order.pk, now=timezone.now() + timedelta(days=1))
    coverage_recompute(order_id=order.pk)
    figures = {g.name: g.coverage_snapshots.latest() for g in order.groups.all()}
    assert figures["Griffith"].percent < 90  # a partial delivery

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(user)
    page.goto(f"{live_server.url}/orders/{order.pk}/coverage/")
    page.wait_for_function("window.coverageMap && document.querySelectorAll('#coverage-map path').length > 0")

    layers = page.evaluate(
        """() => { const c = window.coverageMap; return {
            covered: c.map.hasLayer(c.covered) && c.covered.getLayers().length,
            remainder: c.map.hasLayer(c.remainder) && c.remainder.getLayers().length,
            footprints: c.map.hasLayer(c.footprints), nFootprints: c.footprints.getLayers().length,
            hatch: !!document.querySelector('#coverage-map svg pattern#cov-hatch'),
            hatched: document.querySelectorAll('#coverage-map path[fill="url(#cov-hatch)"]').length }; }"""
    )
    assert layers["covered"] == 2 and layers["remainder"] >= 1
    assert layers["hatch"] and layers["hatched"] >= 1  # the remainder is drawn hatched
    assert layers["footprints"] is False and layers["nFootprints"] > 2

    rows = page.locator("[data-testid=coverage-row]")
    assert rows.count() == 2
    griffith = rows.filter(has_text="Griffith")
    pct = griffith.locator("[data-testid=covered-pct]").inner_text()
    assert pct == f"{figures['Griffith'].percent:.1f}%"
    assert (
        griffith.locator("[data-testid=remainder-km2]").inner_text()
        == f"{figures['Griffith'].remainder_km2:,.2f}"
    )
    assert griffith.locator("[data-testid=search-archive]").get_attribute("href").startswith("/archive/?aoi=")
    assert page.locator("[data-testid=coverage-chart] polyline.series").count() == 1

    page.check("[data-testid=toggle-footprints]")
    assert page.evaluate("window.coverageMap.map.hasLayer(window.coverageMap.footprints)")
    page.uncheck("[data-testid=toggle-footprints]")
    assert not page.evaluate("window.coverageMap.map.hasLayer(window.coverageMap.footprints)")

    before = page.evaluate("window.coverageMap.map.getZoom()")
    griffith.locator("td").first.click()
    page.wait_for_function(
        f"document.getElementById('coverage-map').dataset.zoomedTo === '{figures['Griffith'].group_id}'"
    )
    assert "is-selected" in griffith.get_attribute("class")
    # Leaflet animates the zoom and updates getZoom() on the next animation frame.
    page.wait_for_function(f"window.coverageMap.map.getZoom() > {before}")
    center = page.evaluate(
        "(() => { const c = window.coverageMap.map.getCenter(); return [c.lng, c.lat]; })()"
    )
    assert 145.9 < center[0] < 146.4 and -34.47 < center[1] < -34.10
    assert errors == []


def test_an_aoi_name_is_shown_as_text_never_run(live_server, page, login):
    # AOI names come from people and uploaded files, and support staff see every org's: a name
    # with markup must show as text on the map labels, not execute.
    org = make_org(name="Browser XSS Org", credits=5_000_000)
    user = make_user(org=org, role="viewer", email="xss-browser@example.test")
    name = '<img src=x onerror="window.__xss = 1">'
    order = make_tasking_order(org=org, aois=[HUNTER], names=[name])
    coverage_recompute(order_id=order.pk)
    login(user)
    page.goto(f"{live_server.url}/orders/{order.pk}/coverage/")
    label = page.locator(".aoi-label").first
    label.wait_for()
    assert name in label.inner_text()
    assert page.evaluate("window.__xss") is None
