"""orders.watches.* over HTTP: viewers read, operators and admins create and delete, any member
watches; another org's watch is a 404; refusals are problem+json; page sizes are a setting; the
served document declares every operation."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from orders.catalog.services import archive_products_ensure, catalog_import
from orders.models import Watch, WatchWatcher
from tests.geometry import geojson_box

pytestmark = pytest.mark.django_db

AREA = geojson_box(151.00, -34.00, 151.20, -33.80)
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def catalog(db):
    archive_products_ensure()


def _create(api, **body):
    return api.post("orders.watches.create", {"name": "Botany", "aoi": AREA, **body})


def test_operators_create_viewers_read_and_join_admins_delete(
    api_operator, api_viewer, api_admin, operator_user
):
    created = _create(api_operator, maxCloudCover=20, collections=["pleiades"], minNewCoveragePercent=10)
    assert created.status_code == 200, created.content
    body = created.json()
    assert body["name"] == "Botany" and body["watching"] is True and body["watcherCount"] == 1
    assert (
        body["aoi"]["type"] == "MultiPolygon" and body["aoiKm2"] > 0 and body["collections"] == ["pleiades"]
    )
    wid = body["id"]

    refused = _create(api_viewer)
    assert refused.status_code == 403 and refused["Content-Type"].startswith(PROBLEM)
    assert Watch.objects.count() == 1

    listed = api_viewer.post("orders.watches.list", {}).json()
    assert (
        listed["total"] == 1 and listed["items"][0]["id"] == wid and listed["items"][0]["watching"] is False
    )
    joined = api_viewer.post("orders.watches.watch", {"watch_id": wid, "watching": True})
    assert (
        joined.status_code == 200 and joined.json()["watching"] is True and joined.json()["watcherCount"] == 2
    )
    got = api_viewer.post("orders.watches.get", {"watch_id": wid}).json()
    assert got["watching"] is True and got["aoi"]["type"] == "MultiPolygon"
    left = api_viewer.post("orders.watches.watch", {"watch_id": wid, "watching": False}).json()
    assert left["watcherCount"] == 1

    assert api_viewer.post("orders.watches.delete", {"watch_id": wid}).status_code == 403
    deleted = api_admin.post("orders.watches.delete", {"watch_id": wid})
    assert deleted.status_code == 200 and deleted.json() == {"id": wid, "deleted": True}
    assert not Watch.objects.exists()


def test_another_orgs_watch_is_a_404_for_every_operation(api_operator, api_other):
    wid = _create(api_operator).json()["id"]
    for op, body in (
        ("orders.watches.get", {"watch_id": wid}),
        ("orders.watches.delete", {"watch_id": wid}),
        ("orders.watches.watch", {"watch_id": wid, "watching": True}),
        ("orders.watches.matches.list", {"watch_id": wid}),
    ):
        response = api_other.post(op, body)
        assert response.status_code == 404, op
        assert response["Content-Type"].startswith(PROBLEM)
    assert api_other.post("orders.watches.list", {}).json()["total"] == 0
    assert Watch.objects.count() == 1 and WatchWatcher.objects.count() == 1
    assert api_operator.post("orders.watches.get", {"watch_id": "not-a-uuid"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"aoi": {"type": "Point", "coordinates": [151, -33]}}, 422),
        ({"aoi": None}, 400),  # neither an area nor an order (the document's anyOf says so too)
        (
            {"aoi": {"type": "Polygon", "coordinates": [[[151, -33], [151, -33], [151, -33], [151, -33]]]}},
            400,
        ),
        ({"maxCloudCover": 150}, 422),
        ({"minNewCoveragePercent": -1}, 422),
        ({"collections": ["no-such-collection"]}, 404),  # named by id: 404, as the reference answers
        ({"orderId": "not-an-order", "aoi": None}, 404),
    ],
)
def test_bad_input_is_a_clear_4xx_problem_and_saves_nothing(api_operator, body, status):
    response = _create(api_operator, **body)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM) or status == 422
    assert response.json().get("detail")
    assert not Watch.objects.exists()


def test_matches_list_pages_what_an_import_matched_and_page_size_is_a_setting(
    api_operator, settings, django_capture_on_commit_callbacks
):
    wid = _create(api_operator).json()["id"]
    features = [
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": f"M-{i}",
            "collection": "pleiades",
            "geometry": geojson_box(151.0 + i * 0.02, -34.0, 151.02 + i * 0.02, -33.9),
            "properties": {
                "datetime": "2026-11-30T00:00:00Z",
                "eo:cloud_cover": 2,
                "gsd": 0.5,
                "view:off_nadir": 5,
            },
        }
        for i in range(3)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        catalog_import(text=json.dumps({"type": "FeatureCollection", "features": features}))
    assert len(mail.outbox) == 1
    page = api_operator.post("orders.watches.matches.list", {"watch_id": wid, "size": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert {i["sceneId"] for i in page["items"]} <= {"M-0", "M-1", "M-2"}
    listed = api_operator.post("orders.watches.list", {}).json()["items"][0]
    assert listed["matchCount"] == 3 and listed["alertCount"] == 1

    settings.WATCHES_PAGE_MAX_SIZE = 2
    too_big = api_operator.post("orders.watches.matches.list", {"watch_id": wid, "size": 3})
    assert too_big.status_code == 422 and "size" in too_big.content.decode()


def test_api_keys_read_but_never_create_or_watch(api_operator, api_key_caller):
    wid = _create(api_operator).json()["id"]
    assert api_key_caller.post("orders.watches.list", {}).json()["items"][0]["watching"] is False
    assert api_key_caller.post("orders.watches.get", {"watch_id": wid}).status_code == 200
    assert _create(api_key_caller).status_code == 403
    assert api_key_caller.post("orders.watches.watch", {"watch_id": wid, "watching": True}).status_code == 403
    assert api_key_caller.post("orders.watches.delete", {"watch_id": wid}).status_code == 403


def test_the_served_document_declares_the_watch_operations(api_viewer, settings):
    doc = api_viewer.get("/v1/openapi.json").json()
    for op in ("list", "get", "create", "delete", "watch", "matches.list"):
        post = doc["paths"][f"/v1/op/orders.watches.{op}"]["post"]
        assert {"404", "413", "429"} <= set(post["responses"]), op
    schemas = json.dumps(doc)
    assert "WATCHES_PAGE_MAX_SIZE" in schemas
