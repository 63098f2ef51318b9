from __future__ import annotations

import math

import pytest
from pyproj import Geod
from shapely.geometry import box as sbox
from shapely.geometry import shape
from shapely.ops import unary_union

from orders.cart.pricing import archive_quote
from tests.factories import make_priced_capture, make_product
from tests.geometry import geojson_box

pytestmark = pytest.mark.django_db
GEOD = Geod(ellps="WGS84")


def geodesic_km2(geom) -> float:
    area, _ = GEOD.geometry_area_perimeter(geom)
    return abs(area) / 1e6


def test_group_area_is_geodesic_area_of_union_so_overlaps_are_billed_once(sydney_captures, product):
    quote = archive_quote(captures=[{"id": "SYD-A"}, {"id": "SYD-B"}])
    assert quote.errors == []
    [group] = quote.groups
    expected = geodesic_km2(
        unary_union([sbox(151.10, -33.95, 151.20, -33.85), sbox(151.15, -33.95, 151.25, -33.85)])
    )
    separate = geodesic_km2(sbox(151.10, -33.95, 151.20, -33.85)) * 2
    assert group.area_km2 == pytest.approx(expected, rel=1e-6)
    assert group.area_km2 < separate * 0.8
    assert group.credits == math.ceil(expected * product.credits_per_km2)
    assert group.capture_ids == ["SYD-A", "SYD-B"]


def test_clipping_bills_footprint_intersection_never_more_than_footprint(sydney_captures, product):
    clip = geojson_box(151.18, -33.90, 151.40, -33.70)  # sticks far out of SYD-A
    quote = archive_quote(captures=[{"id": "SYD-A", "geometry": clip}])
    [group] = quote.groups
    expected = geodesic_km2(sbox(151.10, -33.95, 151.20, -33.85).intersection(shape(clip)))
    assert group.area_km2 == pytest.approx(expected, rel=1e-6)
    assert group.area_km2 < geodesic_km2(sbox(151.10, -33.95, 151.20, -33.85))


def test_minimum_area_is_billed_and_credits_round_up(db):
    tiny = make_product(pid="tiny-product", rate=7, min_area=0.0)
    floor = make_product(pid="floor-product", rate=100, min_area=25.0)
    make_priced_capture(product=tiny, bounds=(151.0, -34.0, 151.01, -33.99), scene_id="TINY")
    make_priced_capture(product=floor, bounds=(151.0, -34.0, 151.01, -33.99), scene_id="FLOOR")
    quote = archive_quote(captures=[{"id": "TINY"}, {"id": "FLOOR"}])
    by_product = {g.data_product.pk: g for g in quote.groups}
    area = geodesic_km2(sbox(151.0, -34.0, 151.01, -33.99))
    assert by_product["tiny-product"].credits == math.ceil(area * 7)
    assert by_product["tiny-product"].credits > area * 7  # rounded up, not to nearest
    assert by_product["floor-product"].billed_area_km2 == 25.0
    assert by_product["floor-product"].credits == 2500
    assert quote.total_credits == by_product["tiny-product"].credits + 2500


def test_split_by_date_prices_each_utc_day_separately(sydney_captures):
    together = archive_quote(captures=[{"id": "SYD-A"}, {"id": "SYD-C"}])
    split = archive_quote(captures=[{"id": "SYD-A"}, {"id": "SYD-C"}], split_by_date=True)
    assert len(together.groups) == 1
    assert [g.acquisition_date.isoformat() for g in split.groups] == ["2026-03-01", "2026-03-02"]
    assert [g.capture_ids for g in split.groups] == [["SYD-A"], ["SYD-C"]]


def test_unpriceable_captures_become_errors_next_to_their_id(sydney_captures, db):
    retired = make_product(pid="retired", active=False)
    make_priced_capture(product=retired, bounds=(150, -34, 150.1, -33.9), scene_id="OLD")
    quote = archive_quote(
        captures=[
            {"id": "NOPE"},
            {"id": "OLD"},
            {"id": "SYD-A", "geometry": geojson_box(0, 0, 1, 1)},
            {"id": "SYD-B", "geometry": {"type": "Point", "coordinates": [151, -33]}},
            {"id": "SYD-C"},
        ]
    )
    codes = {e.capture_id: e.code for e in quote.errors}
    assert codes == {
        "NOPE": "unknown_capture",
        "OLD": "unsupported_product",
        "SYD-A": "geometry_outside_footprint",
        "SYD-B": "invalid_geometry",
    }
    assert [g.capture_ids for g in quote.groups] == [["SYD-C"]]


def test_self_intersecting_clip_is_repaired_not_refused(sydney_captures):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[151.10, -33.95], [151.20, -33.85], [151.20, -33.95], [151.10, -33.85], [151.10, -33.95]]
        ],
    }
    quote = archive_quote(captures=[{"id": "SYD-A", "geometry": bowtie}])
    assert quote.errors == []
    assert quote.groups[0].area_km2 == pytest.approx(
        geodesic_km2(sbox(151.10, -33.95, 151.20, -33.85)) / 2, rel=1e-3
    )


def test_estimate_runs_in_constant_queries(product, django_assert_max_num_queries):
    ids = [
        make_priced_capture(product=product, bounds=(151 + i * 0.01, -34, 151.02 + i * 0.01, -33.98)).scene_id
        for i in range(40)
    ]
    with django_assert_max_num_queries(2):
        small = archive_quote(captures=[{"id": i} for i in ids[:2]])
    with django_assert_max_num_queries(2) as queries:
        big = archive_quote(
            captures=[{"id": i, "geometry": geojson_box(150, -35, 152, -33)} for i in ids], split_by_date=True
        )
    assert small.groups and big.groups and not big.errors
    # The footprints never travel to Python: the lookup reads ids, dates and products only.
    lookup = queries.captured_queries[0]["sql"]
    assert "orders_capture" in lookup and "footprint" not in lookup


def _capture_statements(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "orders_capture" in q["sql"]]


def test_estimate_request_prices_in_two_statements_with_clip_and_split(product, api_operator):
    """The whole request: authentication's fixed cost, then the pricing work in at most two
    statements (the capture lookup and the group union), whatever the cart's size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ids = [
        make_priced_capture(product=product, bounds=(151 + i * 0.01, -34, 151.03 + i * 0.01, -33.97)).scene_id
        for i in range(25)
    ]
    clip = geojson_box(150, -35, 152, -33)
    with CaptureQueriesContext(connection) as queries:
        response = api_operator.post(
            "orders.archive.estimate",
            {"captures": [{"id": i, "geometry": clip} for i in ids], "splitByDate": True},
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert not body["errors"] and sum(len(g["captures"]) for g in body["groups"]) == 25
    assert len(_capture_statements(queries)) <= 2
    pricing = [q for q in queries.captured_queries if "orders_" in q["sql"]]
    assert len(pricing) <= 2, [q["sql"][:80] for q in pricing]


def test_estimate_same_invalid_geometry_is_refused_for_every_capture(sydney_captures, api_operator):
    """Each distinct geometry is schema-checked once per request; a repeated bad one is still
    reported at every position that holds it."""
    bad = {"type": "Polygon", "coordinates": [[[151.1, -33.9], [151.2, -33.9]]]}  # ring of 2 positions
    response = api_operator.post(
        "orders.archive.estimate",
        {"captures": [{"id": "SYD-A", "geometry": bad}, {"id": "SYD-B"}, {"id": "SYD-A", "geometry": bad}]},
    )
    assert response.status_code == 422, response.content
    locs = [d["loc"] for d in response.json()["detail"]]
    assert ["body", "captures", 0, "geometry"] in locs
    assert ["body", "captures", 2, "geometry"] in locs
    assert not any(loc[:3] == ["body", "captures", 1] for loc in locs)


def test_estimate_reads_captures_as_the_serializer_does(sydney_captures, api_operator):
    """A cart of clean items is read without a serializer per item; an item the fast path does not
    take (an id with surrounding spaces, which the serializer trims) is priced the same."""
    clean = api_operator.post("orders.archive.estimate", {"captures": [{"id": "SYD-A"}, {"id": "SYD-B"}]})
    spaced = api_operator.post(
        "orders.archive.estimate", {"captures": [{"id": " SYD-A "}, {"id": "SYD-B", "geometry": None}]}
    )
    assert clean.status_code == spaced.status_code == 200, spaced.content
    assert clean.json() == spaced.json()
    assert clean.json()["groups"][0]["captures"] == ["SYD-A", "SYD-B"]
    blank = api_operator.post("orders.archive.estimate", {"captures": [{"id": ""}]})
    assert blank.status_code == 422
    assert ["body", "captures", 0, "id"] in [d["loc"] for d in blank.json()["detail"]]
