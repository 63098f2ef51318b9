"""catalog.search's Items written by PostgreSQL (orders/catalog/stac_sql.py) are the Items the Python
path writes (capture_feature, then the fields extension), field for field, price included."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.catalog.selectors import build_params, capture_feature, catalog_search, catalog_search_items
from orders.catalog.stac_query import apply_fields, parse_fields
from orders.models import Capture, DataProduct
from orders.pricing import credits_for_area, credits_for_area_sql

from .conftest import box, make_capture, utc

pytestmark = pytest.mark.django_db
HOST = "geopera-sim"
BASE = "https://geopera.example"

ARCHIVE_LIST = {
    "include": [
        "geometry",
        "assets.thumbnail.href",
        "assets.overview.href",
        "properties.datetime",
        "properties.eo:cloud_cover",
        "properties.view:off_nadir",
        "properties.gsd",
        "properties.price.product_name",
        "properties.price.area_km2",
        "properties.price.credits",
    ]
}
FIELD_SETS = [
    None,
    {"include": []},
    {"exclude": ["geometry", "properties.gsd", "assets.thumbnail"]},
    ARCHIVE_LIST,
    {"include": ["properties"], "exclude": ["properties.price"]},
    {"include": ["properties.price"], "exclude": ["properties"]},
    {"include": ["bbox", "nothing.here", "properties.price.nope"]},
    {"exclude": ["properties.platform", "properties.extra_note"]},
]


@pytest.fixture
def varied(scenes):
    """The conftest scenes, plus captures that exercise every branch of the Item: no assets, an
    overview only, a time with microseconds, free-form properties (one shadowing a fixed key)."""
    bare = make_capture("BARE", collection="spot", acquired_at=utc(2024, 8, 1, 3, 4))
    Capture.objects.filter(pk=bare.pk).update(thumbnail_url="", quicklook_url="")
    over = make_capture("OVERVIEW", collection="skysat", footprint=box(151.05, -33.95, 151.06, -33.94))
    Capture.objects.filter(pk=over.pk).update(thumbnail_url="", quicklook_url="https://cdn.example/q.jpg")
    micro = make_capture("MICRO", acquired_at=dt.datetime(2025, 5, 5, 1, 2, 3, 456789, tzinfo=dt.UTC))
    Capture.objects.filter(pk=micro.pk).update(
        properties={"sat:orbit_state": "ascending", "gsd": 99, "extra_note": "x", "view:sun_azimuth": 12.5}
    )
    return scenes


def _both(fields_value, **body):
    fields = parse_fields(fields_value)
    params = build_params(body, limit=50, host=HOST)
    sql_page = catalog_search_items(params=params, fields=fields, base_url=BASE)
    py_page = catalog_search(params=build_params(body, limit=50, host=HOST))
    assert sql_page is not None
    py_items = [apply_fields(capture_feature(c, base_url=BASE), fields) for c in py_page.captures]
    return [json.loads(i) for i in sql_page.items], py_items, sql_page, py_page


@pytest.mark.parametrize("fields", FIELD_SETS, ids=[json.dumps(f) for f in FIELD_SETS])
def test_sql_items_equal_the_python_items(varied, fields):
    sql_items, py_items, sql_page, py_page = _both(fields)
    assert len(sql_items) == len(py_items) >= 8
    for mine, theirs in zip(sql_items, py_items, strict=True):
        assert mine == theirs, (mine.get("id"), mine, theirs)
    assert sql_page.number_matched == py_page.number_matched


def test_archive_list_fields_hold_only_what_the_list_shows(varied):
    sql_items, _, _, _ = _both(ARCHIVE_LIST)
    by_id = {i["id"]: i for i in sql_items}
    assert set(by_id["SYD-A"]) == {
        "type",
        "stac_version",
        "id",
        "collection",
        "geometry",
        "assets",
        "properties",
    }
    assert set(by_id["SYD-A"]["properties"]["price"]) == {"product_name", "area_km2", "credits"}
    assert "assets" not in by_id["BARE"]  # nothing under it exists: absent, as the Python path has it
    assert by_id["OVERVIEW"]["assets"] == {"overview": {"href": "https://cdn.example/q.jpg"}}


def test_paging_tokens_and_counts_match_the_python_path(varied):
    sql_items, py_items, sql_page, py_page = _both(None)
    params = build_params({}, limit=3, host=HOST)
    first = catalog_search_items(params=params, fields=None, base_url=BASE)
    seen = [json.loads(i)["id"] for i in first.items]
    token = first.next_token
    while token:
        page = catalog_search_items(
            params=build_params({"next": token}, limit=3, host=HOST), fields=None, base_url=BASE
        )
        seen += [json.loads(i)["id"] for i in page.items]
        assert page.number_matched == first.number_matched == len(py_items)
        token = page.next_token
    assert seen == [i["id"] for i in py_items]


def test_a_path_only_python_answers_takes_the_python_path(varied, api_operator):
    fields = parse_fields({"include": ["properties.sat:orbit_state"]})
    assert (
        catalog_search_items(params=build_params({}, limit=5, host=HOST), fields=fields, base_url=BASE)
        is None
    )
    resp = api_operator.post(
        "catalog.search",
        {"host_name": HOST, "ids": ["MICRO"], "fields": {"include": ["properties.sat:orbit_state"]}},
    )
    assert resp.status_code == 200, resp.content
    [item] = resp.json()["features"]
    assert item["properties"] == {"sat:orbit_state": "ascending"}
    assert set(item) == {"type", "stac_version", "id", "collection", "properties"}


def test_search_operation_answers_fields_and_bad_fields(varied, api_operator):
    resp = api_operator.post("catalog.search", {"host_name": HOST, "limit": 2, "fields": ARCHIVE_LIST})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["numberReturned"] == 2 and body["next"] and body["numberMatched"] == Capture.objects.count()
    assert all(
        set(f["properties"]) <= {"datetime", "eo:cloud_cover", "view:off_nadir", "gsd", "price"}
        for f in body["features"]
    )
    bad = api_operator.post("catalog.search", {"host_name": HOST, "fields": {"only": ["id"]}})
    assert bad.status_code == 400, bad.content
    assert "include" in bad.json()["detail"]


def test_search_operation_runs_four_statements_with_the_exact_count(varied, api_operator):
    """Token (with its membership), the sellable products, the planner's estimate, and one page
    statement that also counts the matches: no separate COUNT."""
    api_operator.post("catalog.search", {"host_name": HOST, "limit": 2})  # warm
    with CaptureQueriesContext(connection) as queries:
        resp = api_operator.post("catalog.search", {"host_name": HOST, "limit": 2})
    assert resp.status_code == 200 and resp.json()["numberMatched"] == Capture.objects.count()
    sqls = [q["sql"] for q in queries.captured_queries]
    assert len(sqls) <= 4, sqls
    assert not any("COUNT(*) AS" in s for s in sqls), sqls
    assert sum("accounts_" in s for s in sqls) == 1, sqls


@pytest.mark.parametrize("area", [0.0, 1e-12, 3.3, 24.999999999, 25.0, 25.000000000004, 123.456789, 1e6 / 7])
def test_credits_sql_equals_credits_for_area(products, area):
    product: DataProduct = products["pleiades"]
    # float repr round-trips exactly through PostgreSQL's float8 input
    sql = credits_for_area_sql(
        rate=str(product.credits_per_km2),
        minimum=f"{float(product.min_area_km2)!r}::float8",
        area=f"{area!r}::float8",
    )
    with connection.cursor() as c:
        c.execute(f"SELECT {sql}")
        (in_sql,) = c.fetchone()
    assert in_sql == credits_for_area(product=product, area_km2=area)


@pytest.mark.parametrize("fields", [None, {"include": ["links"]}, {"exclude": ["links"]}])
def test_sql_items_with_stac_links_equal_the_python_items(varied, fields):
    root = f"{BASE}/stac"
    parsed = parse_fields(fields)
    sql_page = catalog_search_items(
        params=build_params({}, limit=50), fields=parsed, base_url=BASE, stac_root=root
    )
    py_page = catalog_search(params=build_params({}, limit=50))
    theirs = [
        apply_fields(capture_feature(c, base_url=BASE, stac_root=root), parsed) for c in py_page.captures
    ]
    assert [json.loads(i) for i in sql_page.items] == theirs
    assert fields is not None or theirs[0]["links"][0]["rel"] == "self"


def test_stac_search_answers_from_the_sql_items(varied, client):
    resp = client.post(
        "/stac/search",
        {"limit": 2, "fields": {"include": ["properties.gsd"]}},
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["numberReturned"] == 2 and {link["rel"] for link in body["links"]} >= {"root", "self", "next"}
    assert all(set(f) == {"type", "stac_version", "id", "collection", "properties"} for f in body["features"])
    nxt = next(link for link in body["links"] if link["rel"] == "next")
    again = client.post("/stac/search", nxt["body"], content_type="application/json")
    assert again.status_code == 200 and again.json()["numberMatched"] == body["numberMatched"]
