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


# --- the limits are read per request: override_settings / the environment move them ------------------


def test_catalog_limits_move_with_the_settings(api_operator, scenes, settings):
    settings.CATALOG_SEARCH_MAX_LIMIT = 2
    settings.CATALOG_SEARCH_MAX_IDS = 2
    settings.CATALOG_STREAM_MAX_ITEMS = 3
    assert api_operator.post("catalog.search", {"host_name": HOST, "limit": 3}).status_code == 422
    assert api_operator.post("catalog.search", {"host_name": HOST, "limit": 2}).status_code == 200
    too_many = api_operator.post("catalog.search", {"host_name": HOST, "ids": ["a", "b", "c"]})
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"][-1] == "ids"
    assert api_operator.post("catalog.search", {"host_name": HOST, "ids": ["a", "b"]}).status_code == 200
    assert api_operator.post("catalog.search_stream", {"host_name": HOST, "limit": 4}).status_code == 422
    stac = Client().get("/stac/search", {"ids": "a,b,c"})
    assert stac.status_code == 400 and "CATALOG_SEARCH_MAX_IDS" in stac.json()["detail"]
    text = json.dumps(Client().get("/v1/openapi.json").json()["components"]["schemas"])
    assert (
        '"maximum": 2,' in text and '"maxItems": 2,' in text and "at most 3 (CATALOG_STREAM_MAX_ITEMS" in text
    )


def test_geometry_limits_move_with_the_settings(api_operator, settings):
    from geopera_web.errors import InvalidInput
    from orders.geometry import GeometryError, features_of, geojson_geometry

    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    settings.GEOMETRY_MAX_VERTICES = 4
    with pytest.raises(GeometryError, match="the limit is 4"):
        geojson_geometry(square)
    settings.GEOMETRY_MAX_VERTICES = 5
    assert geojson_geometry(square).num_coords == 5
    feature = {"type": "Feature", "geometry": square, "properties": {}}
    settings.GEOMETRY_MAX_FEATURES = 1
    with pytest.raises(InvalidInput, match="at most 1"):
        features_of({"type": "FeatureCollection", "features": [feature, feature]})
    settings.GEOMETRY_MAX_VERTICES = 4
    resp = api_operator.post("catalog.search", {"host_name": HOST, "intersects": square})
    assert resp.status_code in (400, 422) and "limit is 4" in resp.content.decode()


def test_token_lifetime_limit_moves_with_the_setting(settings):
    from geopera_web.accounts.forms import UserTokenForm

    settings.USER_TOKEN_MAX_TTL_DAYS = 10
    assert not UserTokenForm({"name": "cli", "days": "11"}).is_valid()
    assert UserTokenForm({"name": "cli", "days": "10"}).is_valid()
    settings.USER_TOKEN_MAX_TTL_DAYS = 11
    assert UserTokenForm({"name": "cli", "days": "11"}).is_valid()
