"""Catalog search work is bounded by settings: the stream's default and maximum item count, the page
size, and the lengths of `ids` / `collections` (catalog.search, catalog.search_stream, /stac/search).
Above a limit: 422 (API) / 400 (STAC) naming the setting; the served OpenAPI states the limits."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

HOST = "geopera-sim"
pytestmark = pytest.mark.django_db


def stream_lines(resp) -> list[dict]:
    assert resp.status_code == 200, resp.content
    return [json.loads(line) for line in b"".join(resp.streaming_content).decode().splitlines()]


def test_the_stream_stops_at_its_default_item_count(api_operator, scenes, settings):
    settings.CATALOG_STREAM_DEFAULT_ITEMS = 3
    assert len(stream_lines(api_operator.post("catalog.search_stream", {"host_name": HOST}))) == 3
    assert (
        len(stream_lines(api_operator.post("catalog.search_stream", {"host_name": HOST, "limit": None}))) == 3
    )
    assert len(stream_lines(api_operator.post("catalog.search_stream", {"host_name": HOST, "limit": 4}))) == 4


def test_a_stream_limit_above_the_maximum_is_a_422(api_operator, scenes):
    resp = api_operator.post(
        "catalog.search_stream", {"host_name": HOST, "limit": settings.CATALOG_STREAM_MAX_ITEMS + 1}
    )
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"][-1] == "limit"


@pytest.mark.parametrize("op", ["catalog.search", "catalog.search_stream"])
@pytest.mark.parametrize(
    ("field", "count"),
    [
        ("ids", settings.CATALOG_SEARCH_MAX_IDS + 1),
        ("collections", settings.CATALOG_SEARCH_MAX_COLLECTIONS + 1),
    ],
)
def test_too_many_ids_or_collections_is_a_422(api_operator, scenes, op, field, count):
    resp = api_operator.post(op, {"host_name": HOST, field: [f"X-{i}" for i in range(count)]})
    assert resp.status_code == 422, resp.content[:300]
    assert resp.json()["detail"][0]["loc"][-1] == field


def test_an_oversized_id_is_a_422(api_operator, scenes):
    resp = api_operator.post("catalog.search", {"host_name": HOST, "ids": ["x" * 20_000]})
    assert resp.status_code == 422


@pytest.mark.parametrize(
    ("field", "count", "setting"),
    [
        ("ids", settings.CATALOG_SEARCH_MAX_IDS + 1, "CATALOG_SEARCH_MAX_IDS"),
        ("collections", settings.CATALOG_SEARCH_MAX_COLLECTIONS + 1, "CATALOG_SEARCH_MAX_COLLECTIONS"),
    ],
)
def test_stac_search_caps_ids_and_collections(scenes, field, count, setting):
    body = {field: [f"X-{i}" for i in range(count)]}
    resp = Client().post("/stac/search", data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 400
    assert setting in resp.json()["detail"]
    get = Client().get("/stac/search", {field: ",".join(body[field])})
    assert get.status_code == 400 and setting in get.json()["detail"]


def test_the_openapi_document_states_the_catalog_limits(api_operator):
    doc = Client().get("/v1/openapi.json")
    assert doc.status_code == 200
    schemas = doc.json()["components"]["schemas"]
    text = json.dumps(schemas)
    assert f'"maximum": {settings.CATALOG_SEARCH_MAX_LIMIT}' in text
    assert f'"maximum": {settings.CATALOG_STREAM_MAX_ITEMS}' in text
    assert f'"maxItems": {settings.CATALOG_SEARCH_MAX_IDS}' in text
    assert f'"maxItems": {settings.CATALOG_SEARCH_MAX_COLLECTIONS}' in text
