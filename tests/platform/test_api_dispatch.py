from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from geopera_web.accounts.models import ApiKey
from tests.conftest import caller_for_key

pytestmark = pytest.mark.django_db


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def test_read_operation_runs_at_both_routes(api_operator, org):
    for route in (False, True):
        response = api_operator.post("test.echo", {"message": "hi", "count": 2}, route=route)
        assert response.status_code == 200, response.content
        assert response.json() == {"message": "hi", "count": 2, "org": str(org.pk)}


def test_get_on_a_read_operation_is_405_problem_too(api_operator):
    # The document declares every operation as a POST; an undeclared method is refused, not served.
    response = api_operator.get("/v1/op/test.echo", message="from-query")
    _problem(response, 405)
    assert response["Allow"] == "POST, OPTIONS"


def test_get_on_spend_operation_is_405_problem(api_operator):
    _problem(api_operator.get("/v1/op/test.spend", credits=5), 405)


def test_unknown_operation_is_404_problem(api_operator):
    body = _problem(api_operator.post("orders.nope"), 404)
    assert "orders.nope" in body["detail"]


def test_unknown_path_under_v1_is_404_problem_not_html():
    response = Client().get("/v1/not/a/thing/at/all/")
    _problem(response, 404)


def test_malformed_json_is_400_problem(api_operator):
    body = _problem(api_operator.post("test.echo", raw=b'{"message": '), 400)
    assert "JSON" in body["detail"]


def test_non_object_body_is_422(api_operator):
    response = api_operator.post("test.echo", raw=b"[1,2]")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_validation_failure_is_422_http_validation_error(api_operator):
    response = api_operator.post("test.echo", {"message": "x" * 80, "count": 0})
    assert response.status_code == 422
    detail = response.json()["detail"]
    locs = {tuple(d["loc"]) for d in detail}
    assert ("body", "message") in locs and ("body", "count") in locs
    assert all(set(d) == {"loc", "msg", "type"} for d in detail)


def test_missing_credentials_are_401_with_challenge():
    response = Client().post("/v1/op/test.echo", data="{}", content_type="application/json")
    _problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_bearer_token_is_401():
    response = Client().post(
        "/v1/op/test.echo",
        data="{}",
        content_type="application/json",
        headers={"Authorization": "Bearer gput_nope"},
    )
    _problem(response, 401)


def test_api_key_works_as_bearer_and_x_api_key_and_records_last_use(org):
    caller = caller_for_key(org, scopes=("catalog:read",))
    raw = caller.headers["X-API-Key"]
    assert caller.post("test.echo", {"message": "a"}).status_code == 200
    bearer = Client().post(
        "/v1/op/test.echo",
        data=json.dumps({"message": "b"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert bearer.status_code == 200
    key = ApiKey.objects.get(org=org)
    assert key.last_used_at is not None
    assert raw not in (key.key_hash, key.display_prefix) and len(key.key_hash) == 64


def test_revoked_api_key_is_401(org):
    caller = caller_for_key(org, scopes=("catalog:read",))
    ApiKey.objects.filter(org=org).update(revoked_at=timezone.now())
    _problem(caller.post("test.echo", {"message": "a"}), 401)


def test_missing_scope_is_403(org):
    caller = caller_for_key(org, scopes=("orders:read",))
    body = _problem(caller.post("test.echo", {"message": "a"}), 403)
    assert body["required_scope"] == "catalog:read"


def test_viewer_cannot_run_write_operations(api_viewer):
    body = _problem(api_viewer.post("test.spend", {"credits": 5}), 403)
    assert "orders:write" in body["detail"]


def test_api_key_may_never_spend_even_with_write_scope(org, api_key_caller):
    from geopera_web.billing.models import Charge

    body = _problem(api_key_caller.post("test.spend", {"credits": 5}), 403)
    assert "API keys cannot" in body["detail"]
    assert not Charge.objects.filter(org=org).exists()


def test_session_calls_need_csrf(client, operator_user):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(operator_user)
    response = csrf_client.post(
        "/v1/op/test.echo", data=json.dumps({"message": "a"}), content_type="application/json"
    )
    _problem(response, 403)
    csrf_client.get("/")  # sets the CSRF cookie
    token = csrf_client.cookies["csrftoken"].value
    ok = csrf_client.post(
        "/v1/op/test.echo",
        data=json.dumps({"message": "a"}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 200


def test_spend_success_status_comes_from_the_registry(api_operator):
    response = api_operator.post("test.spend", {"credits": 10})
    assert response.status_code == 202
    assert response.json()["credits"] == 10


def test_insufficient_credits_is_402_problem(api_operator):
    body = _problem(api_operator.post("test.spend", {"credits": 10_000_000}), 402)
    assert body["available_credits"] == 100_000 and body["required_credits"] == 10_000_000


def test_rate_limit_is_429_with_retry_after(api_operator, settings):
    from geopera_web.api.throttling import PrincipalRateThrottle

    original = PrincipalRateThrottle.THROTTLE_RATES
    PrincipalRateThrottle.THROTTLE_RATES = {"principal": "3/min"}
    try:
        statuses = [api_operator.post("test.echo", {"message": "a"}).status_code for _ in range(4)]
        assert statuses[:3] == [200, 200, 200]
        last = api_operator.post("test.echo", {"message": "a"})
        _problem(last, 429)
        assert int(last["Retry-After"]) > 0
    finally:
        PrincipalRateThrottle.THROTTLE_RATES = original


def _throttle_bytes() -> dict[str, int]:
    """Every rate-limit key the API throttle holds in Redis (this test's cache prefix) and its size."""
    from django.core.cache import cache

    client = cache._cache.get_client()
    prefix = cache.make_key("")
    return {
        key.decode(): client.strlen(key)
        for key in client.scan_iter(match=f"{prefix}*")
        if b"principal" in key
    }


def test_the_api_rate_limit_costs_the_same_whatever_the_count(api_operator, monkeypatch):
    """One small counter per principal and window: its size in Redis does not grow with the
    requests counted (DRF's SimpleRateThrottle kept a list of every request's timestamp)."""
    from geopera_web.api.throttling import PrincipalRateThrottle

    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "1000/day"})
    for _ in range(10):
        assert api_operator.post("test.echo", {"message": "a"}).status_code == 200
    after_10 = _throttle_bytes()
    for _ in range(40):
        assert api_operator.post("test.echo", {"message": "a"}).status_code == 200
    after_50 = _throttle_bytes()
    assert len(after_10) == 1 and after_10 == after_50
    assert max(after_50.values()) <= 8


def test_the_api_rate_limit_retry_after_is_the_windows_rest(api_operator, monkeypatch):
    from geopera_web.api.throttling import PrincipalRateThrottle

    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "2/hour"})
    assert [api_operator.post("test.echo", {"message": "a"}).status_code for _ in range(2)] == [200, 200]
    limited = api_operator.post("test.echo", {"message": "a"})
    body = _problem(limited, 429)
    assert body["type"].endswith("rate-limited")
    assert 1 <= int(limited["Retry-After"]) <= 3600


def test_openapi_document_lists_registered_operations_with_both_routes():
    response = Client().get("/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    op = doc["paths"]["/v1/op/test.echo"]["post"]
    assert op["operationId"] == "test.echo" and op["x-required-scope"] == "catalog:read"
    assert "/v1/test/echo" in doc["paths"]
    schema = doc["components"]["schemas"]["TestEchoInput"]
    assert schema["required"] == ["message"] and schema["properties"]["message"]["maxLength"] == 50
    spend = doc["paths"]["/v1/op/test.spend"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in spend["parameters"])
    assert "202" in spend["responses"] and "402" in spend["responses"]


def test_docs_page_renders_swagger_from_vendored_files():
    response = Client().get("/v1/docs")
    assert response.status_code == 200
    assert b"/static/vendor/swagger-ui/swagger-ui-bundle.js" in response.content
    assert b"cdn" not in response.content.lower()


@pytest.mark.parametrize(
    "body, loc, words",
    [
        ({"message": 5}, ["body", "message"], "Must be a string, not a number."),
        ({"message": "hi", "count": "2"}, ["body", "count"], "Must be an integer, not a string."),
        ({"message": "hi", "count": True}, ["body", "count"], "Must be an integer, not a boolean."),
        ({"message": ["hi"]}, ["body", "message"], "Must be a string, not an array."),
        ({"message": "hi", "count": 2.5}, ["body", "count"], "Must be an integer, not a number."),
    ],
)
def test_json_types_are_the_documents_not_coerced(api_operator, body, loc, words):
    # DRF would turn 5 into "5" and "2" into 2; the document says string and integer, so the API does.
    response = api_operator.post("test.echo", body)
    assert response.status_code == 422, response.content
    assert {"loc": loc, "msg": words, "type": response.json()["detail"][0]["type"]} in response.json()[
        "detail"
    ]


def test_an_integral_float_is_an_integer_as_json_schema_says(api_operator):
    # JSON Schema's integer is any number with no fractional part: 63.0 is 63, at every depth the
    # serializer reads it (here the top level; the spend path too).
    response = api_operator.post("test.echo", {"message": "hi", "count": 63.0})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 63
    assert isinstance(response.json()["count"], int)
    response = api_operator.post("test.spend", {"credits": 7.0}, headers={"Idempotency-Key": "float-7"})
    assert response.status_code == 202, response.content
    assert response.json()["credits"] == 7
