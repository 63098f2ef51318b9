"""Request ids: returned on every response, carried into the headers of tasks a request enqueues."""

from __future__ import annotations

import logging

from django.test import Client

from geopera_web.ops.request_id import (
    RequestIdFilter,
    _put_request_id_in_task_headers,
    request_id_from,
    request_id_var,
)


def test_every_response_carries_a_request_id_and_a_proxy_id_is_kept():
    client = Client()
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz")["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})["X-Request-ID"] == "lb-1234abcd"
    # A problem answer carries it too.
    assert client.get("/v1/op/no.such.op")["X-Request-ID"]


def test_a_hostile_incoming_id_is_replaced():
    for hostile in ["x", "a" * 65, "id\r\nSet-Cookie: x=1", "<script>alert(1)</script>", "../../etc"]:
        assert request_id_from(hostile) != hostile


def test_the_request_id_goes_into_task_headers_and_log_records():
    token = request_id_var.set("req-abcdef12")
    try:
        headers: dict = {}
        _put_request_id_in_task_headers(headers=headers)
        assert headers == {"request_id": "req-abcdef12"}
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
        assert RequestIdFilter().filter(record) and record.request_id == "req-abcdef12"
    finally:
        request_id_var.reset(token)
    outside: dict = {}
    _put_request_id_in_task_headers(headers=outside)
    assert outside == {}
