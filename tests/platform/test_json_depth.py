"""Deeply nested JSON (100,000 `[`, objects 50,000 deep) is a 400 problem that names the limit on
every way JSON comes in — never a RecursionError (500)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from geopera_web import jsonbounds
from tests.conftest import caller_for_user

pytestmark = pytest.mark.django_db

DEEP_BODIES = {
    "open-arrays": b"[" * 100_000,
    "closed-arrays": b"[" * 100_000 + b"]" * 100_000,
    "objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "just-over-the-limit": b"[" * 65 + b"]" * 65,
}


def assert_depth_problem(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert "API_MAX_JSON_DEPTH" in detail or "not valid JSON" in detail, detail


@pytest.mark.parametrize("body", list(DEEP_BODIES.values()), ids=list(DEEP_BODIES))
@pytest.mark.parametrize("operation", ["orders.list", "catalog.search", "orders.tasking.feasibility_check"])
def test_deep_json_bodies_are_a_400_problem(operator_user, org, body, operation):
    api = caller_for_user(operator_user, org)
    response = api.post(operation, raw=body)
    assert_depth_problem(response)
    if body.endswith((b"]", b"}")):  # a complete document: the problem says the limit
        assert "64 levels" in response.json()["detail"]


@pytest.mark.parametrize("body", list(DEEP_BODIES.values()), ids=list(DEEP_BODIES))
def test_deep_json_on_the_public_stac_search_is_a_400(body):
    response = Client().post("/stac/search", data=body, content_type="application/json")
    assert_depth_problem(response)


def test_deep_json_in_a_stac_query_parameter_is_a_400():
    deep = "[" * 50_000 + "]" * 50_000
    response = Client().get("/stac/search", {"intersects": deep})
    assert response.status_code == 400
    response = Client().post(
        "/stac/search",
        data=json.dumps({"query": "[" * 20_000 + "]" * 20_000}),
        content_type="application/json",
    )
    assert response.status_code == 400


def test_the_limit_is_a_setting_and_ordinary_documents_pass(operator_user, org, settings):
    settings.API_MAX_JSON_DEPTH = 3
    with pytest.raises(jsonbounds.JSONTooDeep, match="3 levels"):
        jsonbounds.loads('{"a": {"b": [[1]]}, "c": 2}')
    assert jsonbounds.loads('{"a": {"b": 1}}') == {"a": {"b": 1}}
    settings.API_MAX_JSON_DEPTH = 64
    api = caller_for_user(operator_user, org)
    assert api.post("orders.list", {"filter": {}}).status_code == 200


def test_nan_is_still_refused_by_the_bounded_parser(operator_user, org):
    api = caller_for_user(operator_user, org)
    response = api.post("orders.list", raw=b'{"pageSize": NaN}')
    assert response.status_code == 400
    assert "finite" in response.json()["detail"]
