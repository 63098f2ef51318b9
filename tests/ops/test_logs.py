"""Log format (LOG_FORMAT) and the one access line per request."""

from __future__ import annotations

import json
import logging

import pytest
import structlog
from django.test import Client

from geopera_web.ops.logs import logging_config
from geopera_web.ops.request_id import RequestIdFilter, request_id_var


def _json_formatter() -> logging.Formatter:
    cfg = logging_config(log_format="json", level="INFO")["formatters"]["json"]
    return structlog.stdlib.ProcessorFormatter(
        processors=cfg["processors"], foreign_pre_chain=cfg["foreign_pre_chain"]
    )


def test_json_format_is_one_object_per_line_with_the_request_id_and_extras():
    token = request_id_var.set("req-0123abcd")
    try:
        record = logging.LogRecord("geopera.x", logging.WARNING, __file__, 1, "paid %s", (42,), None)
        record.org_id = "o-1"
        RequestIdFilter().filter(record)
        line = _json_formatter().format(record)
    finally:
        request_id_var.reset(token)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["event"] == "paid 42" and parsed["level"] == "warning" and parsed["logger"] == "geopera.x"
    assert parsed["request_id"] == "req-0123abcd" and parsed["org_id"] == "o-1" and parsed["time"]


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(log_format="xml", level="INFO")


def _access(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "geopera.request"]


def test_one_access_line_per_request_with_route_status_org_and_principal(caplog, org, admin_user):
    from geopera_web.accounts.services import api_key_create

    _, raw = api_key_create(org=org, name="logs", scopes=["orders:read"], actor=admin_user)
    client = Client()
    with caplog.at_level(logging.INFO, logger="geopera.request"):
        response = client.post(
            "/v1/op/orders.list", {}, content_type="application/json", headers={"X-API-Key": raw}
        )
        anonymous = client.get("/healthz")
    assert response.status_code == 200, response.content
    first, second = _access(caplog)
    assert (first.method, first.route, first.status, first.org_id, first.principal) == (
        "POST",
        "/v1/op/<str:op_id>",
        200,
        str(org.pk),
        "api_key",
    )
    assert first.duration_ms >= 0
    assert (second.route, second.status, second.org_id, second.principal) == (
        "/healthz",
        200,
        None,
        "anonymous",
    )
    assert anonymous["X-Request-ID"]
