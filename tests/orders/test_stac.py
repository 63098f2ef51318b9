"""The STAC API at /stac/: landing, conformance, collections, items, search (GET/POST) and paging."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from .conftest import make_capture, utc


@pytest.fixture
def client() -> Client:
    return Client()  # anonymous: the catalog is public


@pytest.mark.django_db
def test_landing_page_advertises_conformance_and_links(client, scenes):
    body = client.get("/stac/").json()
    assert "https://api.stacspec.org/v1.0.0/core" in body["conformsTo"]
    assert "https://api.stacspec.org/v1.0.0/item-search" in body["conformsTo"]
    rels = {(link["rel"], link.get("method")): link for link in body["links"]}
    assert rels[("search", "GET")]["type"] == "application/geo+json"
    assert rels[("search", "POST")]["href"] == "http://testserver/stac/search"
    assert rels[("conformance", None)]["href"] == "http://testserver/stac/conformance"
    assert rels[("data", None)]["href"] == "http://testserver/stac/collections"
    assert client.get("/stac/conformance").json()["conformsTo"] == body["conformsTo"]


@pytest.mark.django_db
def test_collections_and_collection(client, scenes):
    body = client.get("/stac/collections").json()
    ids = {c["id"] for c in body["collections"]}
    assert {"pleiades", "pleiades-neo", "spot", "skysat", "worldview-legion", "sentinel-2-l2a"} <= ids
    one = client.get("/stac/collections/pleiades").json()
    assert one["type"] == "Collection" and one["license"] == "proprietary"
    assert one["extent"]["temporal"]["interval"] == [["2024-01-10T00:00:00Z", "2025-05-05T10:30:00Z"]]
    missing = client.get("/stac/collections/nope")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_items_pages_with_next_links_and_item_endpoint(client, products):
    for i in range(7):
        make_capture(f"IT-{i}", acquired_at=utc(2024, 3, 1 + i))
    seen, url = [], "/stac/collections/pleiades/items?limit=3"
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        nxt = [link for link in body["links"] if link["rel"] == "next"]
        url = nxt[0]["href"].replace("http://testserver", "") if nxt else None
    assert seen == [f"IT-{i}" for i in range(6, -1, -1)]
    item = client.get("/stac/collections/pleiades/items/IT-3").json()
    assert item["id"] == "IT-3" and item["collection"] == "pleiades"
    assert {link["rel"] for link in item["links"]} >= {"self", "collection", "root", "parent"}
    assert client.get("/stac/collections/spot/items/IT-3").status_code == 404


@pytest.mark.django_db
def test_search_get_and_post_with_filters(client, scenes):
    get = client.get(
        "/stac/search",
        {
            "bbox": "150,-35,152,-33",
            "datetime": "2024-01-01T00:00:00Z/..",
            "query": json.dumps({"eo:cloud_cover": {"lt": 10}}),
        },
    )
    assert [f["id"] for f in get.json()["features"]] == ["SYD-A"]
    post = client.post(
        "/stac/search",
        {
            "collections": ["pleiades", "skysat"],
            "intersects": {"type": "Point", "coordinates": [139.7, 35.7]},
        },
        content_type="application/json",
    )
    assert [f["id"] for f in post.json()["features"]] == ["TYO-D"]
    assert post["Content-Type"] == "application/geo+json"


@pytest.mark.django_db
def test_post_search_next_link_carries_the_body(client, products):
    for i in range(5):
        make_capture(f"PS-{i}", acquired_at=utc(2024, 4, 1 + i))
    body = client.post(
        "/stac/search", {"limit": 2, "collections": ["pleiades"]}, content_type="application/json"
    ).json()
    nxt = next(link for link in body["links"] if link["rel"] == "next")
    assert nxt["method"] == "POST" and nxt["body"]["collections"] == ["pleiades"] and nxt["body"]["token"]
    page2 = client.post("/stac/search", nxt["body"], content_type="application/json").json()
    assert [f["id"] for f in page2["features"]] == ["PS-2", "PS-1"]


@pytest.mark.parametrize(
    "params, status",
    [
        ({"limit": "1000000"}, 200),
        ({"limit": "-1"}, 400),
        ({"limit": "0"}, 400),
        ({"limit": "x"}, 400),
        ({"bbox": "0,0,1,1", "intersects": '{"type":"Point","coordinates":[0,0]}'}, 400),
        ({"datetime": "2024-01-01"}, 400),
        ({"datetime": "37-01-01T12:00:27.87Z"}, 400),
        ({"bbox": "1,2,3"}, 400),
        ({"intersects": "{oops"}, 400),
    ],
)
@pytest.mark.django_db
def test_search_limits_clamp_and_bad_input_is_problem_400(client, scenes, params, status):
    resp = client.get("/stac/search", params)
    assert resp.status_code == status
    if status == 400:
        assert resp["Content-Type"] == "application/problem+json"
    else:
        assert resp.json()["context"]["limit"] == 500


@pytest.mark.django_db
def test_post_search_bad_bodies_are_400(client, scenes):
    both = {"bbox": [0, 0, 1, 1], "intersects": {"type": "Point", "coordinates": [0, 0]}}
    assert client.post("/stac/search", both, content_type="application/json").status_code == 400
    assert client.post("/stac/search", "nope", content_type="application/json").status_code == 400
    assert client.post("/stac/search", {"limit": -1}, content_type="application/json").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_pystac_client_searches_and_pages_the_live_server(live_server, products):
    from pystac_client import Client as StacClient

    for i in range(9):
        make_capture(f"LIVE-{i}", acquired_at=utc(2024, 7, 1 + i), cloud=float(i * 10))
    make_capture("LIVE-FAR", acquired_at=utc(2024, 7, 5), cloud=0).footprint  # noqa: B018
    from orders.models import Capture

    far = Capture.objects.get(scene_id="LIVE-FAR")
    from .conftest import box

    far.footprint = box(10, 10, 11, 11)
    far.save(update_fields=["footprint"])
    api = StacClient.open(f"{live_server.url}/stac/")
    assert {c.id for c in api.get_collections()} >= {"pleiades", "spot"}
    search = api.search(
        bbox=[150, -35, 152, -33],
        datetime="2024-07-01/2024-07-31",
        query={"eo:cloud_cover": {"lt": 55}},
        max_items=100,
        limit=2,
    )
    items = list(search.items())
    assert [i.id for i in items] == [f"LIVE-{i}" for i in range(5, -1, -1)]
    assert items[0].properties["price"]["credits"] > 0
    pages = list(search.pages())
    assert len(pages) == 3
    # Close keep-alive connections so the live server's request threads (and their database
    # connections) end before the test database is dropped.
    api._stac_io.session.close()


@pytest.mark.django_db
def test_search_accepts_geometry_collections_and_refuses_csv_bbox_in_post(client, scenes):
    gc = {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [139.7, 35.7]},
            {"type": "Point", "coordinates": [2.3, 48.9]},
        ],
    }
    post = client.post("/stac/search", {"intersects": gc}, content_type="application/json")
    assert [f["id"] for f in post.json()["features"]] == ["PAR-E", "TYO-D"]
    get = client.get("/stac/search", {"intersects": json.dumps(gc)})
    assert get.status_code == 200 and len(get.json()["features"]) == 2
    csv = client.post("/stac/search", {"bbox": "100.0, 0.0, 105.0, 1.0"}, content_type="application/json")
    assert csv.status_code == 400 and csv["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_unknown_paths_and_methods_are_problems(client, products):
    missing = client.get("/stac/nope")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"
    wrong = client.delete("/stac/search")
    assert wrong.status_code == 405 and wrong["Content-Type"] == "application/problem+json"
    assert wrong["Allow"] == "GET, POST"
    assert client.post("/stac/collections", {}).status_code == 405
