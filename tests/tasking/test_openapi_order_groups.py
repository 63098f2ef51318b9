"""Responses validate against the OpenAPI document the server serves: tasking orders (whose groups
once lacked dataProductName and had creditsPerKm2: null) through orders.get and orders.list."""

from __future__ import annotations

import jsonschema
import pytest
from django.test import Client

from tests.tasking.test_place import place_body

pytestmark = pytest.mark.django_db


def _validator(name: str) -> jsonschema.Draft202012Validator:
    doc = Client().get("/v1/openapi.json").json()
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_tasking_orders_validate_against_the_served_order_schema(api_operator, org):
    placed = api_operator.post("orders.place", place_body(org))
    assert placed.status_code == 200, placed.content
    order_id = placed.json()["id"]
    got = api_operator.post("orders.get", {"order_id": order_id}).json()
    errors = [e.message for e in _validator("OrderOutput").iter_errors(got)]
    assert errors == []
    group = got["groups"][0]
    assert group["dataProductName"] and isinstance(group["creditsPerKm2"], int)
    listed = api_operator.post("orders.list", {}).json()
    assert [e.message for e in _validator("OrdersListOutput").iter_errors(listed)] == []


def test_allow_advertises_only_the_documented_method(api_operator):
    doc = Client().get("/v1/openapi.json").json()
    assert set(doc["paths"]["/v1/op/orders.list"]) == {"post"}
    wrong = Client().put("/v1/op/orders.list")
    assert wrong.status_code in (401, 405)
    assert wrong["Allow"] == "POST, OPTIONS"
    ok = api_operator.post("orders.list", {})
    assert ok["Allow"] == "POST, OPTIONS"


def test_a_body_is_declared_required_exactly_where_a_missing_one_is_refused(api_operator):
    doc = Client().get("/v1/openapi.json").json()
    paths = doc["paths"]
    assert paths["/v1/op/orders.get"]["post"]["requestBody"]["required"] is True
    assert paths["/v1/op/orders.list"]["post"]["requestBody"]["required"] is False
    client, headers = api_operator.client, api_operator.headers
    assert (
        client.post("/v1/op/orders.get", content_type="application/json", headers=headers).status_code == 422
    )  # no body at all
    assert (
        client.post("/v1/op/orders.list", content_type="application/json", headers=headers).status_code == 200
    )
