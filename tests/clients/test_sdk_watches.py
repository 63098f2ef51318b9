"""Watches from the official `geopera` SDK: the reference has no orders.watches.* operations, so
an SDK user reaches them as plain POSTs through the SDK's own authenticated httpx client (the
same Bearer token, base URL and problem+json errors as every generated call)."""

from __future__ import annotations

import pytest
from geopera import AuthenticatedClient

from geopera_web.accounts.services import user_token_create
from orders.catalog.services import archive_products_ensure
from tests.factories import make_org, make_user
from tests.geometry import geojson_box

pytestmark = pytest.mark.django_db(transaction=True)


def _client(live_server, org, role):
    user = make_user(org=org, role=role)
    _, token = user_token_create(user=user, org=org)
    return AuthenticatedClient(base_url=live_server.url, token=token, raise_on_unexpected_status=True)


def test_sdk_client_creates_lists_watches_and_deletes_a_watch(live_server):
    archive_products_ensure()
    org = make_org(name="SDK Watch Org", credits=0)
    operator = _client(live_server, org, "operator").get_httpx_client()
    viewer = _client(live_server, org, "viewer").get_httpx_client()

    created = operator.post(
        "/v1/op/orders.watches.create",
        json={"name": "Botany", "aoi": geojson_box(151.0, -34.0, 151.2, -33.8), "maxCloudCover": 15},
    )
    assert created.status_code == 200, created.text
    wid = created.json()["id"]
    refused = viewer.post("/v1/orders/watches/create", json={"aoi": geojson_box(151.0, -34.0, 151.1, -33.9)})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert refused.json()["status"] == 403 and refused.json()["detail"]

    joined = viewer.post("/v1/orders/watches/watch", json={"watch_id": wid, "watching": True}).json()
    assert joined["watching"] is True and joined["watcherCount"] == 2
    listed = viewer.post("/v1/op/orders.watches.list", json={}).json()
    assert [w["id"] for w in listed["items"]] == [wid] and listed["items"][0]["maxCloudCover"] == 15
    assert viewer.post("/v1/op/orders.watches.matches.list", json={"watch_id": wid}).json()["total"] == 0

    assert operator.post("/v1/op/orders.watches.delete", json={"watch_id": wid}).json()["deleted"] is True
    gone = operator.post("/v1/op/orders.watches.get", json={"watch_id": wid})
    assert gone.status_code == 404 and gone.json()["title"] == "Not Found"
