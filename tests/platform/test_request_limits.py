"""Bounded requests: body limits before parsing (413/411), per-user and per-IP rate limits (429)
that say the limit, failing open when the cache is down."""

from __future__ import annotations

import json
import socket
import time

import pytest
from django.test import Client

from tests.conftest import caller_for_user

pytestmark = pytest.mark.django_db


def test_a_20_mb_json_body_is_a_413_problem_that_states_the_limit(operator_user, org, settings):
    api = caller_for_user(operator_user, org)
    body = json.dumps({"filler": "x" * 20_000_000})
    started = time.monotonic()
    response = api.post("orders.list", raw=body.encode())
    assert time.monotonic() - started < 5
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["limit"] == settings.API_MAX_BODY_BYTES
    assert "API_MAX_BODY_BYTES" in problem["detail"] and "20,000,0" in problem["detail"]


def test_the_limit_applies_to_resource_routes_and_stac_too(operator_user, org, settings):
    settings.API_MAX_BODY_BYTES = 1000
    api = caller_for_user(operator_user, org)
    assert api.post("orders.list", raw=b"{" + b" " * 2000 + b"}", route=True).status_code == 413
    stac = Client().post("/stac/search", data=b"{" + b" " * 2000 + b"}", content_type="application/json")
    assert stac.status_code == 413
    # Under the limit, the request is handled as usual.
    assert api.post("orders.list", {}).status_code == 200


def test_a_chunked_api_body_is_refused_with_411(operator_user, org):
    api = caller_for_user(operator_user, org)
    response = api.client.post(
        "/v1/op/orders.list",
        data=b"{}",
        content_type="application/json",
        headers={**api.headers},
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]


def test_page_uploads_over_the_page_limit_are_a_413_page(client, operator_user, settings):
    settings.PAGE_MAX_BODY_BYTES = 10_000
    client.force_login(operator_user)
    response = client.post("/tasking/new/aoi-check/", {"featureCollection": "x" * 20_000})
    assert response.status_code == 413
    assert "PAGE_MAX_BODY_BYTES" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_413_without_reading_the_body(live_server):
    """Announce 20 MB and send 1 KB: a server that waited for the body would hang."""
    host, port = live_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/op/orders.list HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 20000000\r\nConnection: close\r\n\r\n" + b"{" + b" " * 1024
        )
        sock.settimeout(10)
        head = sock.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 413")


# --- rate limits -----------------------------------------------------------------------------------


def test_stac_search_is_limited_per_client_ip(settings):
    settings.STAC_SEARCH_RATE_LIMIT = "3/min"
    client = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(3):
        assert client.get("/stac/search").status_code == 200
    limited = client.get("/stac/search")
    assert limited.status_code == 429
    assert limited["Content-Type"] == "application/problem+json"
    assert int(limited["Retry-After"]) >= 1
    problem = limited.json()
    assert (
        problem["limit"] == 3
        and "3 per minute" in problem["detail"]
        and "STAC_SEARCH_RATE_LIMIT" in problem["detail"]
    )
    # Another address is not affected; nor can a client pick its own via X-Forwarded-For.
    assert Client(REMOTE_ADDR="198.51.100.21").get("/stac/search").status_code == 200
    assert client.get("/stac/search", HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429


def test_stac_item_reads_are_limited_per_ip(settings):
    settings.STAC_ITEMS_RATE_LIMIT = "2/min"
    client = Client(REMOTE_ADDR="198.51.100.30")
    codes = [client.get("/stac/collections/none/items").status_code for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429


def test_aoi_check_is_limited_per_user_with_a_toast(settings, operator_user, admin_user):
    settings.AOI_CHECK_RATE_LIMIT = "2/min"
    c = Client()
    c.force_login(operator_user)
    hx = {"HX-Request": "true"}
    for _ in range(2):
        assert c.post("/tasking/new/aoi-check/", {}, headers=hx).status_code != 429
    limited = c.post("/tasking/new/aoi-check/", {}, headers=hx)
    assert limited.status_code == 429
    assert limited["HX-Retarget"] == "#toasts"
    assert "2 per minute per user" in limited.content.decode()
    # Per user: a colleague on the same address still gets answers.
    other = Client()
    other.force_login(admin_user)
    assert other.post("/tasking/new/aoi-check/", {}, headers=hx).status_code != 429


def test_rate_limits_fail_open_with_a_warning_when_the_cache_is_down(settings, caplog):
    settings.STAC_SEARCH_RATE_LIMIT = "1/min"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    client = Client(REMOTE_ADDR="198.51.100.40")
    with caplog.at_level("WARNING", logger="geopera.degraded"):
        assert [client.get("/stac/search").status_code for _ in range(3)] == [200, 200, 200]
    assert "rate limit orders:stac_search without the cache" in caplog.text
