"""Support staff record a delivery by hand (STAC Item or GeoJSON footprint): good files land and
update coverage, bad files get a clear form error and store nothing; only staff reach the page."""

from __future__ import annotations

import html
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from orders.coverage.services import coverage_recompute
from orders.models import CoverageSnapshot, DeliveredCapture

from .coverage_helpers import make_tasking_order

pytestmark = pytest.mark.django_db
AOI = (151.0, -33.0, 151.1, -32.9)


def box_coords(x0, y0, x1, y1):
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


STAC_ITEM = {
    "type": "Feature",
    "stac_version": "1.0.0",
    "id": "PNEO4_202611201234_PAN",
    "geometry": {"type": "Polygon", "coordinates": box_coords(150.95, -33.05, 151.05, -32.85)},
    "bbox": [150.95, -33.05, 151.05, -32.85],
    "properties": {"datetime": "2026-11-20T00:12:34Z", "eo:cloud_cover": 3.5, "platform": "pneo-4"},
    "assets": {"visual": {"href": "https://provider.example/PNEO4/visual.tif", "type": "image/tiff"}},
    "links": [],
}


@pytest.fixture
def staff_client(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def order(org):
    return make_tasking_order(org=org, aois=[AOI], names=["Pokolbin"])


def upload(client, order, payload, name="item.json", **extra):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    url = reverse("orders:support_delivery_new", kwargs={"order_id": order.pk})
    return client.post(
        url,
        {
            "group": str(order.groups.get().pk),
            "file": SimpleUploadedFile(name, raw, "application/json"),
            **extra,
        },
    )


def test_staff_uploads_a_stac_item_and_coverage_follows(
    staff_client, order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff_client, order, STAC_ITEM)
    assert response.status_code == 302
    capture = DeliveredCapture.objects.get(order=order)
    assert capture.scene_id == "PNEO4_202611201234_PAN"
    assert capture.source == "manual" and capture.cloud_cover == 3.5
    assert capture.acquired_at.isoformat().startswith("2026-11-20T00:12:34")
    assert capture.assets["visual"]["href"].endswith("visual.tif")
    snap = CoverageSnapshot.objects.get(order=order)
    assert snap.percent == pytest.approx(50, abs=0.5)
    assert order.events.filter(kind="delivery_recorded").exists()
    page = staff_client.get(response["Location"])
    assert b"PNEO4_202611201234_PAN" in page.content and b"Recorded PNEO4" in page.content


def test_staff_uploads_a_bare_geojson_polygon(staff_client, order):
    geometry = {"type": "Polygon", "coordinates": box_coords(151.0, -33.0, 151.1, -32.9)}
    response = upload(
        staff_client, order, geometry, name="footprint.geojson", note="from the provider's email"
    )
    assert response.status_code == 302
    capture = DeliveredCapture.objects.get(order=order)
    assert capture.scene_id.startswith("manual-") and capture.properties["geopera:upload_kind"] == "geojson"
    coverage_recompute(order_id=order.pk)
    assert CoverageSnapshot.objects.get(order=order).percent == pytest.approx(100)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json at all", "not JSON"),
        ({"hello": "world"}, "not GeoJSON"),
        ({"type": "Point", "coordinates": [151, -33]}, "must be a Polygon or MultiPolygon"),
        (
            {"type": "Polygon", "coordinates": [[[151, -33], [151.1, -33], [151.1, -32.9], [151, -32.9]]]},
            "not closed",
        ),
        ({"type": "Polygon", "coordinates": box_coords(-33.0, 151.0, -32.9, 151.1)}, "longitude first"),
        ({"type": "Polygon", "coordinates": box_coords(10, 10, 11, 11)}, "does not overlap AOI"),
        ({**STAC_ITEM, "assets": {}}, "has no assets"),
        ({**STAC_ITEM, "properties": {"datetime": "yesterday"}}, "not an ISO 8601"),
        ({"type": "FeatureCollection", "features": []}, "one capture's footprint at a time"),
    ],
)
def test_bad_files_get_a_clear_form_error_and_store_nothing(staff_client, order, payload, message):
    response = upload(staff_client, order, payload)
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert b'data-testid="form-error"' in response.content
    assert not DeliveredCapture.objects.filter(order=order).exists()


def test_the_same_scene_twice_is_refused(staff_client, order):
    assert upload(staff_client, order, STAC_ITEM).status_code == 302
    response = upload(staff_client, order, STAC_ITEM)
    assert response.status_code == 400 and "already recorded" in response.content.decode()
    assert DeliveredCapture.objects.filter(order=order).count() == 1


def test_the_page_is_staff_only(order, admin_user):
    client = Client()
    client.force_login(admin_user)
    url = reverse("orders:support_delivery_new", kwargs={"order_id": order.pk})
    assert client.get(url).status_code == 404
    assert upload(client, order, STAC_ITEM).status_code == 404
    assert not DeliveredCapture.objects.exists()


def test_staff_record_a_delivery_in_the_admin_and_bad_files_are_form_errors(staff_client, staff_user, order):
    from geopera_web.accounts.services import support_group_ensure

    staff_user.groups.add(support_group_ensure())  # what user_create gives every staff member
    url = reverse("admin:orders_deliveredcapture_add")
    group = order.groups.get()

    def post(payload):
        raw = json.dumps(payload).encode()
        return staff_client.post(
            url,
            {
                "order": str(order.pk),
                "group": str(group.pk),
                "upload": SimpleUploadedFile("i.json", raw),
                "note": "",
            },
        )

    bad = post({"type": "Point", "coordinates": [151, -33]})
    assert bad.status_code == 200 and "must be a Polygon or MultiPolygon" in bad.content.decode()
    assert not DeliveredCapture.objects.exists()
    good = post(STAC_ITEM)
    assert good.status_code == 302, good.content.decode()[:2000]
    capture = DeliveredCapture.objects.get(order=order)
    assert capture.scene_id == STAC_ITEM["id"] and capture.source == "manual"
    assert capture.created_by is not None and capture.created_by.is_staff


@pytest.mark.parametrize("status", ["cancelled", "partially_fulfilled", "fulfilled", "failed", "pending"])
def test_an_order_that_is_not_acquiring_takes_no_delivery(staff_client, org, status):
    """A cancelled or settled order's charge is final: a delivery recorded after it would change its
    coverage without changing its money (issue 9). Page, admin and service all refuse."""
    from django.utils import timezone

    from geopera_web.errors import Conflict
    from orders.fulfilment.delivery import BatchData, CaptureData
    from orders.fulfilment.services import delivery_batch_record, manual_delivery_record
    from orders.models import Order

    order = make_tasking_order(org=org, aois=[AOI], names=["Pokolbin"])
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    page = staff_client.get(reverse("orders:support_delivery_new", kwargs={"order_id": order.pk}))
    assert page.status_code == 200
    assert 'data-testid="not-deliverable"' in page.content.decode()
    assert 'data-testid="manual-delivery-form"' not in page.content.decode()
    response = upload(staff_client, order, STAC_ITEM)
    assert response.status_code == 409
    assert 'data-testid="not-deliverable"' in response.content.decode()
    with pytest.raises(Conflict) as refused:
        manual_delivery_record(
            order=order, group_id=order.groups.get().pk, upload=json.dumps(STAC_ITEM).encode(), actor=None
        )
    assert refused.value.extra["current_status"] == status
    group = order.groups.get()
    batch = BatchData(
        ref="late",
        available_at=timezone.now(),
        captures=(
            CaptureData(
                group_id=group.pk,
                scene_id="LATE-1",
                footprint=group.geometry,
                acquired_at=timezone.now(),
                cloud_cover=1.0,
            ),
        ),
    )
    with pytest.raises(Conflict):
        delivery_batch_record(order=order, batch=batch, provider="test")
    assert not DeliveredCapture.objects.filter(order=order).exists()


def test_the_admin_refuses_a_delivery_for_a_cancelled_order(staff_client, staff_user, org):
    from geopera_web.accounts.services import support_group_ensure
    from orders.models import Order

    staff_user.groups.add(support_group_ensure())
    order = make_tasking_order(org=org, aois=[AOI])
    Order.objects.filter(pk=order.pk).update(status="cancelled")
    response = staff_client.post(
        reverse("admin:orders_deliveredcapture_add"),
        {
            "order": str(order.pk),
            "group": str(order.groups.get().pk),
            "upload": SimpleUploadedFile("i.json", json.dumps(STAC_ITEM).encode()),
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "deliveries are recorded only while it is active" in html.unescape(response.content.decode())
    assert not DeliveredCapture.objects.exists()
