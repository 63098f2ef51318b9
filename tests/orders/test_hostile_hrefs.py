"""Asset hrefs are stored only when they are absolute http(s) URLs, whoever delivers them: a
provider's javascript:/data:/relative href is dropped with a recorded reason (and never rendered),
a manual upload carrying one is a form error that stores nothing, a catalog import drops it."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from geopera_web.safe_urls import stored_href_problem
from orders.catalog.services import catalog_import
from orders.fulfilment.adapters import BatchData
from orders.fulfilment.services import fulfilment_sync
from orders.fulfilment.simulator import SimulatedProvider
from orders.models import Capture, DeliveredCapture
from tests.factories import make_tasking_order
from tests.geometry import box_coords

HOSTILE = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://files.example/visual.tif",
    "/relative/visual.tif",
    "visual.tif",
    "//evil.example/visual.tif",
    "http://",
    "https://[::1/visual.tif",
    "https://provider.example/a b.tif",
    "https://provider.example/" + "x" * 2100,
    "",
    None,
    42,
]
AOI = (151.0, -33.0, 151.1, -32.9)


@pytest.mark.parametrize("href", HOSTILE)
def test_only_absolute_http_urls_may_be_stored(href):
    assert stored_href_problem(href)


@pytest.mark.parametrize(
    "href", ["https://provider.example/PNEO4/visual.tif", "HTTP://provider.example:8080/a.tif?sig=x%20y"]
)
def test_absolute_http_urls_are_stored(href):
    assert stored_href_problem(href) is None


class HostileProvider(SimulatedProvider):
    """The simulator, with every delivered capture's visual asset swapped for a hostile href."""

    def fetch_deliveries(self, *, order, now):
        return [
            BatchData(
                ref=b.ref,
                available_at=b.available_at,
                captures=tuple(
                    dataclasses.replace(
                        c,
                        assets={
                            **c.assets,
                            "visual": {"href": "javascript:alert(document.cookie)", "roles": ["visual"]},
                            "thumbnail": {"href": "data:image/svg+xml,<svg onload=alert(1)>"},
                        },
                    )
                    if c.assets
                    else c
                    for c in b.captures
                ),
            )
            for b in super().fetch_deliveries(order=order, now=now)
        ]


@pytest.mark.django_db
def test_a_hostile_provider_delivery_is_stored_without_its_bad_hrefs_and_never_rendered(
    org, admin_user, api_admin
):
    order = make_tasking_order(org=org, aois=[AOI], names=["Pokolbin"], metadata={"simulation": {"seed": 3}})
    result = fulfilment_sync(
        order_id=order.pk, adapter=HostileProvider(), now=timezone.now() + timedelta(days=60)
    )
    assert result.new_batches >= 1
    delivered = list(DeliveredCapture.objects.filter(order=order, status="delivered"))
    assert delivered
    for capture in delivered:
        hrefs = [a["href"] for a in capture.assets.values()]
        assert hrefs and all(h.startswith("https://") for h in hrefs)
        refused = capture.properties["geopera:refused_assets"]
        assert set(refused) == {"visual", "thumbnail"} and "javascript:" in refused["visual"]
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert delivered[0].scene_id in page
    assert "javascript:" not in page and "data:image" not in page
    items = api_admin.post("orders.list_assets", {"order_id": str(order.pk)}).json()["features"]
    hrefs = [a["href"] for item in items for a in item["assets"].values()]
    assert hrefs and all(h.startswith("https://") for h in hrefs)


STAC_ITEM = {
    "type": "Feature",
    "stac_version": "1.0.0",
    "id": "PNEO4_HOSTILE",
    "geometry": {"type": "Polygon", "coordinates": box_coords(150.95, -33.05, 151.05, -32.85)},
    "properties": {"datetime": "2026-11-20T00:12:34Z", "eo:cloud_cover": 3.5},
    "assets": {"visual": {"href": "javascript:alert(1)", "type": "image/tiff"}},
    "links": [],
}


@pytest.fixture
def staff_client(staff_user) -> Client:
    c = Client()
    c.force_login(staff_user)
    return c


@pytest.mark.parametrize("href", ["javascript:alert(1)", "data:text/html,x", "/visual.tif", "visual.tif"])
@pytest.mark.django_db
def test_a_manual_delivery_with_a_bad_href_is_a_form_error_that_stores_nothing(staff_client, org, href):
    order = make_tasking_order(org=org, aois=[AOI], names=["Pokolbin"])
    item = {**STAC_ITEM, "assets": {"visual": {"href": href}}}
    url = reverse("orders:support_delivery_new", kwargs={"order_id": order.pk})
    response = staff_client.post(
        url,
        {
            "group": str(order.groups.get().pk),
            "file": SimpleUploadedFile("item.json", json.dumps(item).encode(), "application/json"),
        },
    )
    assert response.status_code == 400
    assert "only absolute http(s) hrefs are accepted" in response.content.decode()
    assert not DeliveredCapture.objects.filter(order=order).exists()


@pytest.mark.django_db
def test_a_manual_delivery_for_an_archive_order_refuses_a_bad_href(staff_client, placed_order):
    group = placed_order.groups.first()
    item = {**STAC_ITEM, "geometry": json.loads(group.geometry.geojson)}
    url = reverse("orders:support_delivery_new", kwargs={"order_id": placed_order.pk})
    response = staff_client.post(
        url,
        {"group": str(group.pk), "file": SimpleUploadedFile("item.json", json.dumps(item).encode())},
    )
    assert response.status_code == 400 and "javascript:" in response.content.decode()
    assert not DeliveredCapture.objects.filter(order=placed_order).exists()


@pytest.mark.django_db
def test_a_catalog_import_drops_bad_quicklook_hrefs_and_says_why(products):
    item = {
        **STAC_ITEM,
        "id": "IMPORTED-1",
        "collection": "pleiades-neo",
        "properties": {**STAC_ITEM["properties"], "gsd": 0.3, "view:off_nadir": 10},
        "assets": {
            "overview": {"href": "javascript:alert(1)"},
            "thumbnail": {"href": "https://cdn.example/thumb.png"},
        },
    }
    report = catalog_import(text=json.dumps(item))
    assert report.accepted == 1, report.rejected
    capture = Capture.objects.get(scene_id="IMPORTED-1")
    assert capture.quicklook_url == "" and capture.thumbnail_url == "https://cdn.example/thumb.png"
    assert "javascript:" in capture.properties["geopera:refused_assets"]["overview"]
