"""catalog.search / catalog.search_stream: every filter, the 4xx paths, paging and price enrichment."""

from __future__ import annotations

import json
import math

import pytest
from pyproj import Geod
from shapely.geometry import shape

from orders.models import Capture

from .conftest import box, make_capture, utc

HOST = "geopera-sim"


def ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.content
    return [f["id"] for f in resp.json()["features"]]


def search(api, **body):
    return api.post("catalog.search", {"host_name": HOST, **body})


@pytest.mark.django_db
def test_search_returns_stac_feature_collection_newest_first(api_operator, scenes):
    resp = search(api_operator)
    assert ids(resp) == ["PAR-E", "TYO-D", "MEL-C", "SYD-B", "SYD-A"]
    body = resp.json()
    assert body["type"] == "FeatureCollection" and body["next"] is None
    feature = body["features"][0]
    assert feature["type"] == "Feature" and feature["collection"] == "pleiades"
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["eo:cloud_cover"] == 12
    assert feature["properties"]["datetime"] == "2025-05-05T10:30:00Z"
    assert feature["bbox"] == pytest.approx([2.2, 48.8, 2.5, 48.95])
    assert feature["assets"]["thumbnail"]["href"].startswith("http://testserver/static/")


@pytest.mark.django_db
def test_search_filters_by_collections_and_ids(api_operator, scenes):
    assert ids(search(api_operator, collections=["pleiades"])) == ["PAR-E", "SYD-A"]
    assert ids(search(api_operator, collections=["spot", "skysat"])) == ["TYO-D", "MEL-C"]
    assert ids(search(api_operator, ids=["SYD-A", "MEL-C", "nope"])) == ["MEL-C", "SYD-A"]


@pytest.mark.django_db
def test_search_filters_by_bbox_and_intersects(api_operator, scenes):
    assert ids(search(api_operator, bbox=[150.9, -34.1, 151.05, -33.95])) == ["SYD-A"]
    assert ids(search(api_operator, bbox=[150, -35, 152, -33])) == ["SYD-B", "SYD-A"]
    poly = {
        "type": "Polygon",
        "coordinates": [[[151.25, -33.85], [151.28, -33.85], [151.28, -33.75], [151.25, -33.85]]],
    }
    assert ids(search(api_operator, intersects=poly)) == ["SYD-B"]
    point = {"type": "Point", "coordinates": [139.7, 35.7]}
    assert ids(search(api_operator, intersects=point)) == ["TYO-D"]


@pytest.mark.django_db
def test_bbox_crossing_the_antimeridian_finds_both_sides(api_operator, products):
    make_capture("FIJI-W", footprint=box(179.5, -17.0, 179.9, -16.6))
    make_capture("FIJI-E", footprint=box(-179.9, -17.0, -179.5, -16.6))
    make_capture("FAR", footprint=box(10, -17.0, 11, -16.6))
    assert sorted(ids(search(api_operator, bbox=[179.0, -18, -179.0, -16]))) == ["FIJI-E", "FIJI-W"]


@pytest.mark.django_db
def test_bbox_and_intersects_together_is_400_problem(api_operator, scenes):
    resp = search(api_operator, bbox=[0, 0, 1, 1], intersects={"type": "Point", "coordinates": [0.5, 0.5]})
    assert resp.status_code == 400
    assert resp["Content-Type"] == "application/problem+json"
    assert "not both" in resp.json()["detail"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-06-15T00:00:00Z", ["SYD-B"]),
        ("2024-06-01T00:00:00Z/2024-12-31T23:59:59Z", ["MEL-C", "SYD-B"]),
        ("2025-01-01T00:00:00Z/..", ["PAR-E", "TYO-D"]),
        ("../2024-02-01T00:00:00+00:00", ["SYD-A"]),
        ("/2024-02-01T00:00:00Z", ["SYD-A"]),
    ],
)
@pytest.mark.django_db
def test_datetime_instant_range_and_open_ends(api_operator, scenes, value, expected):
    assert ids(search(api_operator, datetime=value)) == expected


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2024-01-01",
        "2024-01-01T00:00:00",
        "2024-13-01T00:00:00Z",
        "../..",
        "2025-01-01T00:00:00Z/2024-01-01T00:00:00Z",
        "a/b/c",
    ],
)
@pytest.mark.django_db
def test_invalid_datetime_is_400(api_operator, scenes, value):
    resp = search(api_operator, datetime=value)
    assert resp.status_code == 400, value
    assert resp["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"eo:cloud_cover": {"lte": 12}}, ["PAR-E", "TYO-D", "SYD-A"]),
        ({"eo:cloud_cover": {"lt": 12}}, ["TYO-D", "SYD-A"]),
        ({"eo:cloud_cover": {"gt": 35}}, ["MEL-C"]),
        ({"eo:cloud_cover": {"gte": 35}}, ["MEL-C", "SYD-B"]),
        ({"eo:cloud_cover": {"eq": 0}}, ["TYO-D"]),
        ({"eo:cloud_cover": {"GTE": 10, "LTE": 40}}, ["PAR-E", "SYD-B"]),
        ({"cloudCoverage": {"LT": 1}}, ["TYO-D"]),
        ({"view:off_nadir": {"gte": 15}}, ["TYO-D", "SYD-B"]),
        ({"gsd": {"lte": 0.5}}, ["PAR-E", "SYD-B", "SYD-A"]),
        ({"gsd": {"gt": 0.5}, "view:off_nadir": {"lt": 10}}, ["MEL-C"]),
    ],
)
@pytest.mark.django_db
def test_query_property_filters(api_operator, scenes, query, expected):
    assert ids(search(api_operator, query=query)) == expected


@pytest.mark.parametrize(
    "query",
    [{"platform": {"eq": 1}}, {"gsd": {"between": 1}}, {"gsd": {"lt": "small"}}, {"gsd": 3}],
)
@pytest.mark.django_db
def test_bad_query_is_400(api_operator, scenes, query):
    assert search(api_operator, query=query).status_code == 400


@pytest.mark.parametrize("limit", [0, -1, 501, "ten"])
@pytest.mark.django_db
def test_limit_outside_1_to_500_is_422(api_operator, scenes, limit):
    resp = search(api_operator, limit=limit)
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "limit"]


@pytest.mark.django_db
def test_host_name_is_required_and_must_be_known(api_operator, scenes):
    resp = api_operator.post("catalog.search", {})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "host_name"]
    resp = api_operator.post("catalog.search", {"host_name": "elsewhere"})
    assert resp.status_code == 404
    assert HOST in resp.json()["detail"]


@pytest.mark.django_db
def test_bad_next_token_is_400(api_operator, scenes):
    assert search(api_operator, next="garbage!").status_code == 400


@pytest.mark.django_db
def test_search_needs_catalog_read_scope(org, scenes):
    from tests.conftest import caller_for_key

    assert search(caller_for_key(org, scopes=("orders:read",))).status_code == 403
    assert search(caller_for_key(org, scopes=("catalog:read",))).status_code == 200


@pytest.mark.django_db
def test_paging_is_complete_and_stable_when_rows_arrive_between_pages(api_operator, products):
    # 23 captures, three pairs sharing an acquisition time (the id breaks the tie).
    for i in range(23):
        make_capture(f"P-{i:02d}", acquired_at=utc(2024, 1, 1 + i // 2 * 2 % 28, 0, 0))
    expected = [c.scene_id for c in Capture.objects.order_by("-acquired_at", "-id")]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        body = {"limit": 5, **({"next": token} if token else {})}
        resp = search(api_operator, **body)
        page = resp.json()
        seen += [f["id"] for f in page["features"]]
        pages += 1
        if pages == 2:
            # Newer and older rows inserted mid-way: the older one must still be reached, once.
            make_capture("NEW-NEWEST", acquired_at=utc(2030, 1, 1))
            make_capture("NEW-OLDEST", acquired_at=utc(2000, 1, 1))
        token = page["next"]
        if not token:
            break
    assert len(seen) == len(set(seen)), "a capture was returned twice"
    assert seen[: len(expected)] == expected
    assert seen[len(expected) :] == ["NEW-OLDEST"]
    assert pages == 5


@pytest.mark.django_db
def test_price_matches_an_independent_geodesic_area(api_operator, products):
    # A slanted strip near Perth, well above the minimum; and a tiny scene billed at the minimum.
    from django.contrib.gis.geos import MultiPolygon, Polygon

    ring = ((115.80, -31.90), (115.95, -31.93), (115.90, -32.35), (115.75, -32.32), (115.80, -31.90))
    make_capture("PER-BIG", collection="pleiades-neo", footprint=MultiPolygon(Polygon(ring), srid=4326))
    make_capture("PER-SMALL", collection="pleiades", footprint=box(115.8, -31.95, 115.82, -31.93))
    features = {f["id"]: f for f in search(api_operator).json()["features"]}
    geod = Geod(ellps="WGS84")
    area = abs(geod.geometry_area_perimeter(shape(features["PER-BIG"]["geometry"]))[0]) / 1e6
    price = features["PER-BIG"]["properties"]["price"]
    assert price["credits_per_km2"] == products["pleiades-neo"].credits_per_km2 == 2000
    assert price["area_km2"] == pytest.approx(area, rel=1e-4)
    assert price["credits"] == math.ceil(2000 * price["area_km2"]) or abs(price["credits"] - 2000 * area) < 2
    assert price["credits"] >= 2000 * area - 1
    assert price["aud"] == pytest.approx(price["credits"] / 100)
    small = features["PER-SMALL"]["properties"]["price"]
    small_area = abs(geod.geometry_area_perimeter(shape(features["PER-SMALL"]["geometry"]))[0]) / 1e6
    assert small_area < 25
    assert small["billed_area_km2"] == 25 and small["credits"] == 25 * 1000


@pytest.mark.django_db
def test_search_runs_a_constant_number_of_queries(api_operator, products, django_assert_max_num_queries):
    for i in range(30):
        make_capture(
            f"Q-{i}", collection=["pleiades", "spot", "skysat"][i % 3], acquired_at=utc(2024, 2, 1 + i % 27)
        )
    search(api_operator, limit=5)  # warm the auth path's caches
    with django_assert_max_num_queries(8) as small:
        search(api_operator, limit=3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        search(api_operator, limit=30)


@pytest.mark.django_db
def test_stream_returns_ndjson_items_for_every_match(api_operator, scenes):
    resp = api_operator.post(
        "catalog.search_stream", {"host_name": HOST, "query": {"eo:cloud_cover": {"lt": 50}}}
    )
    assert resp.status_code == 200
    assert resp["Content-Type"] == "application/x-ndjson"
    lines = b"".join(resp.streaming_content).decode().splitlines()
    items = [json.loads(line) for line in lines]
    assert [i["id"] for i in items] == ["PAR-E", "TYO-D", "SYD-B", "SYD-A"]
    assert all(i["properties"]["price"]["credits"] > 0 for i in items)


@pytest.mark.django_db
def test_stream_rejects_bbox_with_intersects_and_honours_limit(api_operator, scenes):
    bad = api_operator.post(
        "catalog.search_stream",
        {"host_name": HOST, "bbox": [0, 0, 1, 1], "intersects": {"type": "Point", "coordinates": [0, 0]}},
    )
    assert bad.status_code == 400
    resp = api_operator.post("catalog.search_stream", {"host_name": HOST, "limit": 2})
    assert len(b"".join(resp.streaming_content).decode().splitlines()) == 2


@pytest.mark.django_db
def test_number_matched_on_every_page(api_operator, scenes):
    assert search(api_operator).json()["numberMatched"] == 5
    first = search(api_operator, limit=2).json()
    assert first["numberMatched"] == 5 and first["context"]["matched"] == 5
    second = search(api_operator, limit=2, next=first["next"]).json()
    assert second["numberMatched"] == 5 and len(second["features"]) == 2
