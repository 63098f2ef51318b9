"""The STAC API over HTTP: CORS for every origin, compression, conditional GET."""

from __future__ import annotations

import gzip
import json

import brotli
import pytest
from django.test import Client

from .conftest import make_capture, utc

pytestmark = pytest.mark.django_db


def test_stac_is_readable_from_any_origin_without_credentials(scenes):
    resp = Client().get("/stac/search", headers={"Origin": "https://stac-browser.example"})
    assert resp.status_code == 200
    assert resp["Access-Control-Allow-Origin"] == "https://stac-browser.example"
    assert "Access-Control-Allow-Credentials" not in resp
    assert "origin" in resp["Vary"].lower()


def test_preflight_for_a_json_search_is_answered(scenes):
    resp = Client().options(
        "/stac/search",
        headers={
            "Origin": "https://radiantearth.github.io",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert resp.status_code == 200
    assert resp["Access-Control-Allow-Origin"] == "https://radiantearth.github.io"
    assert "POST" in resp["Access-Control-Allow-Methods"]
    assert "content-type" in resp["Access-Control-Allow-Headers"]


def test_a_search_page_is_compressed(products):
    for i in range(60):
        make_capture(f"GZ-{i:03d}", acquired_at=utc(2024, 1, 1 + i % 28, i % 24))
    plain = Client().get("/stac/search?limit=60")
    gz = Client().get("/stac/search?limit=60", headers={"Accept-Encoding": "gzip"})
    br = Client().get("/stac/search?limit=60", headers={"Accept-Encoding": "br"})
    assert gz["Content-Encoding"] == "gzip" and br["Content-Encoding"] == "br"
    assert gz["Content-Type"] == "application/geo+json"
    assert (
        json.loads(gzip.decompress(gz.content)) == plain.json() == json.loads(brotli.decompress(br.content))
    )
    assert len(gz.content) < len(plain.content) / 4


def test_collections_collection_items_and_item_answer_304_to_their_etag(scenes):
    for path in (
        "/stac/",
        "/stac/collections",
        "/stac/collections/pleiades",
        "/stac/collections/pleiades/items",
        f"/stac/collections/pleiades/items/{scenes['a'].scene_id}",
        "/stac/api",
    ):
        first = Client().get(path)
        assert first.status_code == 200, path
        assert "no-cache" in first["Cache-Control"] and "public" in first["Cache-Control"]
        again = Client().get(path, headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304 and again.content == b"", path


def test_an_import_changes_the_collection_etag(scenes):
    first = Client().get("/stac/collections/pleiades")
    make_capture("NEWER", acquired_at=utc(2026, 1, 1))
    again = Client().get("/stac/collections/pleiades", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert again.json()["extent"]["temporal"]["interval"][0][1] == "2026-01-01T00:00:00Z"


def test_the_ndjson_stream_is_compressed_chunk_by_chunk(api_operator, scenes):
    resp = api_operator.client.post(
        "/v1/op/catalog.search_stream",
        data=json.dumps({"host_name": "geopera-sim"}),
        content_type="application/json",
        headers={**api_operator.headers, "Accept-Encoding": "gzip"},
    )
    assert resp.status_code == 200 and resp.streaming
    assert resp["Content-Encoding"] == "gzip" and not resp.has_header("Content-Length")
    chunks = list(resp.streaming_content)
    assert len(chunks) > 1  # flushed as it goes, not buffered to the end
    lines = gzip.decompress(b"".join(chunks)).decode().splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(c.scene_id for c in scenes.values())


def test_a_wildcard_accept_encoding_gets_gzip_not_brotli(products):
    # python-requests without brotli installed sends "*" (stac-api-validator does) and cannot read br.
    for i in range(30):
        make_capture(f"WC-{i:03d}", acquired_at=utc(2024, 2, 1 + i % 28, i % 24))
    resp = Client().get("/stac/search?limit=30", headers={"Accept-Encoding": "*"})
    assert resp["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(resp.content))["numberReturned"] == 30
