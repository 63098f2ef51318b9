"""CORS, compression and conditional GET on the API (the STAC side is in tests/orders/test_stac_http.py)."""

from __future__ import annotations

import gzip
import json

import brotli
import pytest
from django.test import Client

from geopera_web.http.compression import accepted_encoding

pytestmark = pytest.mark.django_db


def test_accept_encoding_prefers_brotli_and_honours_refusals():
    assert accepted_encoding("gzip, deflate, br") == "br"
    assert accepted_encoding("gzip") == "gzip"
    assert accepted_encoding("br;q=0, gzip;q=0.5") == "gzip"
    assert accepted_encoding("gzip;q=1.0, br;q=0.2") == "gzip"
    assert accepted_encoding("identity") is None
    assert accepted_encoding("*;q=0") is None
    assert accepted_encoding("") is None
    assert accepted_encoding("br;q=nonsense, gzip") == "gzip"


def test_openapi_document_is_gzipped_or_brotli_compressed_and_decodes_to_the_same_json():
    plain = Client().get("/v1/openapi.json")
    assert plain.status_code == 200 and "Content-Encoding" not in plain
    assert "Accept-Encoding" in plain["Vary"]
    doc = json.loads(plain.content)
    gz = Client().get("/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert gz["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(gz.content)) == doc
    assert int(gz["Content-Length"]) == len(gz.content) < len(plain.content) / 5
    br = Client().get("/v1/openapi.json", headers={"Accept-Encoding": "gzip, br"})
    assert br["Content-Encoding"] == "br"
    assert json.loads(brotli.decompress(br.content)) == doc


def test_openapi_document_has_an_etag_and_answers_304_also_for_the_compressed_variant():
    first = Client().get("/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    etag = first["ETag"]
    assert etag.startswith('W/"')  # the compressed bytes are a different representation
    assert "no-cache" in first["Cache-Control"]
    again = Client().get("/v1/openapi.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    changed = Client().get("/v1/openapi.json", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


def test_html_pages_of_a_signed_in_user_are_never_compressed(client, admin_user):
    # BREACH: a page with the CSRF token and the user's data must not be compressed.
    client.force_login(admin_user)
    page = client.get("/", headers={"Accept-Encoding": "gzip, br"})
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert "Content-Encoding" not in page
    assert b"csrf" in page.content.lower()


def test_api_operations_compress_their_json(api_operator):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    resp = api_operator.client.post(
        "/v1/op/orders.tasking.sensors",
        data="{}",
        content_type="application/json",
        headers={**api_operator.headers, "Accept-Encoding": "gzip"},
    )
    assert resp.status_code == 200 and resp["Content-Encoding"] == "gzip"
    assert "sensors" in json.loads(gzip.decompress(resp.content))


def test_small_problem_documents_are_sent_as_they_are():
    resp = Client().post(
        "/v1/op/orders.list", data="{}", content_type="application/json", headers={"Accept-Encoding": "gzip"}
    )
    assert resp.status_code == 401 and "Content-Encoding" not in resp
    assert resp.json()["status"] == 401


def test_v1_answers_cors_only_for_configured_origins(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    denied = Client().post(
        "/v1/op/orders.list",
        data="{}",
        content_type="application/json",
        headers={"Origin": "https://evil.example"},
    )
    assert "Access-Control-Allow-Origin" not in denied
    allowed = Client().post(
        "/v1/op/orders.list",
        data="{}",
        content_type="application/json",
        headers={"Origin": "https://app.example.com"},
    )
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Credentials" not in allowed  # never with cookies
    preflight = Client().options(
        "/v1/op/orders.list",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "https://app.example.com"
    allowed_headers = {h.strip() for h in preflight["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "x-api-key"} <= allowed_headers
    assert "DELETE" not in preflight["Access-Control-Allow-Methods"]


def test_pages_never_answer_cors(client):
    resp = client.get("/login/", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp


def test_unknown_api_paths_are_problem_json_even_with_debug_pages(settings):
    settings.DEBUG = True  # Django would render its technical 404 page
    for path in ("/stac/nothing/here", "/v1/UPPER/case"):
        resp = Client().get(path)
        assert resp.status_code == 404, path
        assert resp["Content-Type"] == "application/problem+json", path
        assert resp.json()["status"] == 404


def test_wrong_method_on_the_openapi_document_is_a_problem_with_allow():
    resp = Client().post("/v1/openapi.json")
    assert resp.status_code == 405 and resp["Content-Type"] == "application/problem+json"
    assert "GET" in resp["Allow"]
