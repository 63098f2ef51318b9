"""catalog.search at catalog scale, checked with EXPLAIN on a seeded table (plans, not timings):
the page's ids are chosen without serialising a single geometry, an area search reads the GiST
index, and only the page's rows are turned into GeoJSON."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from orders.catalog.data import generate_scenes
from orders.catalog.selectors import build_params, catalog_page_queryset, catalog_search
from orders.catalog.services import archive_products_ensure, captures_bulk_load

pytestmark = pytest.mark.django_db
GIST = "orders_capture_footprint_7c09e099_id"


@pytest.fixture
def seeded():
    archive_products_ensure()
    captures_bulk_load(rows=generate_scenes(count=20_000, seed=3, end_date=date(2026, 6, 30)))
    with connection.cursor() as c:
        c.execute("ANALYZE orders_capture")


def plan_of(qs) -> str:
    return qs.explain(verbose=True)


@pytest.mark.parametrize(
    "bbox",
    [
        [151.1, -33.95, 151.3, -33.75],  # a suburb (z12)
        [150.5, -34.3, 151.6, -33.4],  # a city (z9)
        [148.0, -36.0, 153.0, -31.0],  # a region (z6)
    ],
)
def test_an_area_search_reads_the_gist_index(seeded, bbox):
    params = build_params(
        {"bbox": bbox, "query": {"eo:cloud_cover": {"lt": 30}}}, limit=101, host="geopera-sim"
    )
    plan = plan_of(catalog_page_queryset(params, limit=101))
    assert GIST in plan, plan


def test_geojson_is_computed_for_the_page_rows_only(seeded):
    params = build_params({"bbox": [148.0, -36.0, 153.0, -31.0]}, limit=20, host="geopera-sim")
    plan = plan_of(catalog_page_queryset(params, limit=21))
    # The step that sorts the matches and keeps the page (the Limit) reads only the id and the
    # sort key; ST_AsGeoJSON is evaluated above it, over the page's rows alone.
    below_limit = plan[plan.index("->  Limit") :]
    assert "st_asgeojson" in plan and "st_asgeojson" not in below_limit, plan
    assert "Output: u0.id, u0.acquired_at" in below_limit, plan


def test_the_two_step_page_returns_what_the_one_step_query_did(seeded):
    from orders.catalog.selectors import catalog_queryset

    params = build_params(
        {"bbox": [150.5, -34.3, 151.6, -33.4], "query": {"eo:cloud_cover": {"lt": 50}}},
        limit=30,
        host="geopera-sim",
    )
    expected = [c.scene_id for c in catalog_queryset(params)[:30]]
    page = catalog_search(params=params)
    assert [c.scene_id for c in page.captures] == expected and len(expected) == 30
    # and the next page continues exactly where this one stopped
    nxt = build_params(
        {
            "bbox": [150.5, -34.3, 151.6, -33.4],
            "query": {"eo:cloud_cover": {"lt": 50}},
            "next": page.next_token,
        },
        limit=30,
        host="geopera-sim",
    )
    expected2 = [c.scene_id for c in catalog_queryset(params)[30:60]]
    assert [c.scene_id for c in catalog_search(params=nxt).captures] == expected2
