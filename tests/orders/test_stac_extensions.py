"""STAC API extensions: filter (CQL2 text + JSON), query (every operator), sortby, fields,
queryables, numberMatched on every page and `next` tokens bound to their search."""

from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def varied(scenes):
    """The five scenes, with platforms and orbit states that differ."""
    for key, platform, orbit in (
        ("a", "PHR1A", "descending"),
        ("b", "PNEO3", "descending"),
        ("c", "SPOT6", "ascending"),
        ("d", "SKYSAT-C14", "descending"),
        ("e", "PHR1B", "ascending"),
    ):
        capture = scenes[key]
        capture.platform = platform
        capture.properties = {
            "sat:orbit_state": orbit,
            "constellation": "c-" + key,
            "instruments": ["optical"],
        }
        capture.save(update_fields=["platform", "properties"])
    return scenes


def ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.content
    return [f["id"] for f in resp.json()["features"]]


def post(client, body):
    return client.post("/stac/search", body, content_type="application/json")


def test_filter_cql2_text_and_json_get_and_post(client, varied):
    text = "eo:cloud_cover < 20 AND collection IN ('pleiades', 'skysat')"
    assert ids(client.get("/stac/search", {"filter": text})) == ["PAR-E", "TYO-D", "SYD-A"]
    as_json = {
        "op": "and",
        "args": [
            {"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]},
            {"op": "in", "args": [{"property": "collection"}, ["pleiades", "skysat"]]},
        ],
    }
    assert ids(post(client, {"filter": as_json})) == ["PAR-E", "TYO-D", "SYD-A"]
    assert ids(client.get("/stac/search", {"filter": json.dumps(as_json), "filter-lang": "cql2-json"})) == [
        "PAR-E",
        "TYO-D",
        "SYD-A",
    ]
    assert ids(post(client, {"filter": text, "filter-lang": "cql2-text"})) == ["PAR-E", "TYO-D", "SYD-A"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("id LIKE 'SYD-%'", ["SYD-B", "SYD-A"]),
        ("id NOT LIKE 'SYD-_'", ["PAR-E", "TYO-D", "MEL-C"]),
        ("eo:cloud_cover BETWEEN 10 AND 40", ["PAR-E", "SYD-B"]),
        ("datetime >= TIMESTAMP('2025-01-01T00:00:00Z')", ["PAR-E", "TYO-D"]),
        ("datetime < DATE('2024-06-01')", ["SYD-A"]),
        ("\"sat:orbit_state\" = 'ascending'", ["PAR-E", "MEL-C"]),
        ("sat:orbit_state = 'ascending' OR platform = 'PNEO3'", ["PAR-E", "MEL-C", "SYD-B"]),
        ("NOT (eo:cloud_cover > 10)", ["TYO-D", "SYD-A"]),
        ("CASEI(platform) = 'phr1b'", ["PAR-E"]),
        (
            "S_INTERSECTS(geometry, POLYGON((150 -35, 152 -35, 152 -33, 150 -33, 150 -35)))",
            ["SYD-B", "SYD-A"],
        ),
        ("S_WITHIN(geometry, POLYGON((139 35, 140 35, 140 36, 139 36, 139 35)))", ["TYO-D"]),
        ("view:off_nadir > eo:cloud_cover", ["TYO-D", "SYD-A"]),
        ("10 < eo:cloud_cover", ["PAR-E", "MEL-C", "SYD-B"]),
        ("view:sun_azimuth IS NULL AND eo:cloud_cover = 0", ["TYO-D"]),
        ("mission = 'sentinel-2'", []),  # an undeclared property: no item has it
    ],
)
def test_cql2_text_operators(client, varied, text, expected):
    assert ids(client.get("/stac/search", {"filter": text})) == expected


@pytest.mark.parametrize(
    "params, needle",
    [
        ({"filter": "eo:cloud_cover <"}, "not valid CQL2 text"),
        ({"filter": "eo:cloud_cover < 'ten'"}, "compares the number"),
        ({"filter": "collection = 5"}, "compares the string"),
        ({"filter": "gsd + 1 > 2"}, "arithmetic"),
        ({"filter": "T_BEFORE(datetime, TIMESTAMP('2024-01-01T00:00:00Z'))"}, "not valid CQL2"),
        ({"filter": "geometry = 3"}, "geometry"),
        ({"filter": "price = 3; DROP TABLE orders_capture"}, "not valid CQL2"),
        ({"filter": '{"op": "nope", "args": []}', "filter-lang": "cql2-json"}, "cql2-json"),
        ({"filter": "id = 'x'", "filter-lang": "ecql"}, "filter-lang"),
        ({"filter": "id = 'x'", "filter-crs": "EPSG:3857"}, "filter-crs"),
        ({"sortby": "price"}, "sortby"),
        ({"sortby": "view:sun_azimuth"}, "cannot sort"),
        ({"query": json.dumps({"eo:cloud_cover": {"startsWith": "1"}})}, "string properties only"),
        ({"query": json.dumps({"platform": {"lt": "P"}})}, "numbers and date-times"),
        ({"query": json.dumps({"eo:cloud_cover": {"like": 3}})}, "unknown operator"),
        ({"query": json.dumps({"eo:cloud_cover": {"lt": "ten"}})}, "compares the number"),
        ({"foo": "bar"}, "Unsupported query parameter"),
    ],
)
def test_unsupported_or_bad_extension_input_is_a_400_problem_that_says_so(client, varied, params, needle):
    resp = client.get("/stac/search", params)
    assert resp.status_code == 400, resp.content
    assert resp["Content-Type"] == "application/problem+json"
    assert needle in resp.json()["detail"]


def test_post_body_with_unknown_members_or_null_fields_is_400(client, varied):
    assert post(client, {"limit": 1, "unknown": 1}).status_code == 400
    assert post(client, {"fields": None}).status_code == 400
    assert post(client, {"sortby": "-datetime"}).status_code == 400


def test_query_extension_every_operator_with_strings_and_numbers(client, varied):
    def q(query):
        return ids(client.get("/stac/search", {"query": json.dumps(query)}))

    assert q({"eo:cloud_cover": {"eq": 0}}) == ["TYO-D"]
    assert q({"eo:cloud_cover": {"neq": 0, "lte": 12}}) == ["PAR-E", "SYD-A"]
    assert q({"eo:cloud_cover": {"gt": "30"}}) == ["MEL-C", "SYD-B"]  # numeric strings (CLI shorthand)
    assert q({"eo:cloud_cover": {"gte": 35, "lt": 60}}) == ["SYD-B"]
    assert q({"platform": {"startsWith": "PHR"}}) == ["PAR-E", "SYD-A"]
    assert q({"platform": {"endsWith": "C14"}}) == ["TYO-D"]
    assert q({"platform": {"contains": "NEO"}}) == ["SYD-B"]
    assert q({"platform": {"in": ["SPOT6", "PNEO3"]}}) == ["MEL-C", "SYD-B"]
    assert q({"sat:orbit_state": {"eq": "ascending"}}) == ["PAR-E", "MEL-C"]
    assert q({"constellation": {"neq": "c-a"}, "eo:cloud_cover": {"lt": 13}}) == ["PAR-E", "TYO-D"]
    assert q({"instruments": {"in": ["optical", "sar"]}}) == ["PAR-E", "TYO-D", "MEL-C", "SYD-B", "SYD-A"]
    assert q({"datetime": {"lt": "2024-06-01T00:00:00Z"}}) == ["SYD-A"]
    assert q({"cloudCoverage": {"LT": 1, "GT": None}}) == ["TYO-D"]  # the reference's CloudQuery


def test_sortby_get_and_post_and_paging_keeps_the_order(client, varied):
    assert ids(client.get("/stac/search", {"sortby": "+properties.eo:cloud_cover"})) == [
        "TYO-D",
        "SYD-A",
        "PAR-E",
        "SYD-B",
        "MEL-C",
    ]
    body = {
        "sortby": [{"field": "collection", "direction": "asc"}, {"field": "datetime", "direction": "desc"}]
    }
    expected = ["PAR-E", "SYD-A", "SYD-B", "TYO-D", "MEL-C"]
    assert ids(post(client, body)) == expected
    seen, page = [], post(client, {**body, "limit": 2}).json()
    while True:
        seen += [f["id"] for f in page["features"]]
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        page = post(client, nxt[0]["body"]).json()
    assert seen == expected


def test_fields_include_and_exclude(client, varied):
    only = client.get("/stac/search", {"fields": "properties.eo:cloud_cover", "limit": 1}).json()["features"][
        0
    ]
    assert set(only) == {"type", "stac_version", "id", "collection", "properties"}
    assert only["properties"] == {"eo:cloud_cover": 12.0}
    no_geom = post(client, {"fields": {"exclude": ["geometry", "properties.price"]}, "limit": 1}).json()
    item = no_geom["features"][0]
    assert (
        "geometry" not in item
        and "price" not in item["properties"]
        and "eo:cloud_cover" in item["properties"]
    )
    default = client.get("/stac/search", {"fields": "", "limit": 1}).json()["features"][0]
    assert set(default) == {"type", "stac_version", "id", "geometry", "bbox", "links", "assets", "properties"}
    assert set(default["properties"]) == {"datetime"}


def test_queryables_for_the_search_and_per_collection(client, varied):
    root = client.get("/stac/queryables")
    assert root["Content-Type"] == "application/schema+json"
    doc = root.json()
    assert doc["$id"] == "http://testserver/stac/queryables" and doc["type"] == "object"
    assert {"eo:cloud_cover", "datetime", "geometry", "platform", "sat:orbit_state"} <= set(doc["properties"])
    one = client.get("/stac/collections/pleiades/queryables").json()
    assert one["properties"]["collection"]["const"] == "pleiades"
    assert client.get("/stac/collections/nope/queryables").status_code == 404
    landing = client.get("/stac/").json()
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in landing["conformsTo"]
    assert "https://api.stacspec.org/v1.0.0/item-search#sort" in landing["conformsTo"]
    assert any(link["rel"].endswith("/queryables") for link in landing["links"])


def test_number_matched_is_on_every_page_and_the_token_is_bound_to_its_search(client, varied):
    first = client.get("/stac/search", {"limit": 2, "filter": "eo:cloud_cover < 50"}).json()
    assert first["numberMatched"] == 4 and first["context"]["matched"] == 4
    assert first["context"]["matched_estimated"] is False
    token = next(link for link in first["links"] if link["rel"] == "next")["href"].split("token=")[1]
    from urllib.parse import unquote

    token = unquote(token)
    second = client.get("/stac/search", {"limit": 2, "filter": "eo:cloud_cover < 50", "token": token}).json()
    assert second["numberMatched"] == 4 and len(second["features"]) == 2
    assert {f["id"] for f in first["features"]}.isdisjoint(f["id"] for f in second["features"])
    other = client.get("/stac/search", {"limit": 2, "filter": "eo:cloud_cover < 60", "token": token})
    assert other.status_code == 400 and "different search" in other.json()["detail"]
    forged = client.get(
        "/stac/search", {"limit": 2, "filter": "eo:cloud_cover < 50", "token": token[:-3] + "abc"}
    )
    assert forged.status_code == 400 and "not a token this server issued" in forged.json()["detail"]


def test_items_endpoint_takes_filter_sortby_and_fields(client, varied):
    resp = client.get(
        "/stac/collections/pleiades/items",
        {"filter": "eo:cloud_cover > 5", "sortby": "-eo:cloud_cover", "fields": "id"},
    )
    assert ids(resp) == ["PAR-E"]
    assert client.get("/stac/collections/pleiades/items", {"ids": "x"}).status_code == 400


def test_large_matches_report_a_flagged_planner_estimate(client, varied, settings):
    settings.CATALOG_EXACT_COUNT_MAX = 0
    body = client.get("/stac/search", {"limit": 1}).json()
    assert body["context"]["matched_estimated"] is True
    assert isinstance(body["numberMatched"], int) and body["numberMatched"] >= 1


def test_collection_extent_follows_imports_and_declares_what_it_uses(
    client, products, django_capture_on_commit_callbacks
):
    from orders.catalog.services import catalog_import

    empty = client.get("/stac/collections/spot").json()
    assert empty["extent"]["spatial"]["bbox"] == [[-180.0, -90.0, 180.0, 90.0]]
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "SPOT6-IMPORTED",
        "collection": "spot",
        "geometry": {"type": "Polygon", "coordinates": [[[10, 20], [11, 20], [11, 21], [10, 21], [10, 20]]]},
        "properties": {
            "datetime": "2024-05-01T10:00:00Z",
            "eo:cloud_cover": 3,
            "platform": "SPOT6",
            "gsd": 1.5,
            "view:off_nadir": 5,
        },
        "assets": {},
        "links": [],
    }
    with django_capture_on_commit_callbacks(execute=True):
        report = catalog_import(text=json.dumps(item))
    assert report.created == 1
    doc = client.get("/stac/collections/spot").json()
    assert doc["extent"]["spatial"]["bbox"] == [[10.0, 20.0, 11.0, 21.0]]
    assert doc["extent"]["temporal"]["interval"] == [["2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"]]
    assert "https://stac-extensions.github.io/sat/v1.0.0/schema.json" in doc["stac_extensions"]
    assert any(link["rel"] == "license" for link in doc["links"])
    feature = client.get("/stac/collections/spot/items/SPOT6-IMPORTED").json()
    assert "https://stac-extensions.github.io/sat/v1.0.0/schema.json" in feature["stac_extensions"]


def test_service_desc_is_valid_openapi(client, products):
    from openapi_spec_validator import validate

    doc = client.get("/stac/api").json()
    validate(doc)  # raises on unresolved path parameters and other errors
    assert doc["paths"]["/collections/{collectionId}/items/{featureId}"]["get"]["parameters"][1]["name"] == (
        "featureId"
    )
