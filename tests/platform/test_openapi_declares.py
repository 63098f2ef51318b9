"""The served document states the rules the server enforces (issue 12) and the limits it applies
(issue 9), and its links lead from the ids a response carries to the operations that take them.
schemathesis (test_schemathesis.py) checks the server against it; these pin the declarations."""

from __future__ import annotations

import pytest
from django.conf import settings
from jsonschema import Draft202012Validator

from geopera_web.accounts.models import API_KEY_SCOPES
from geopera_web.api.openapi import LINKS
from geopera_web.api.registry import all_operations, get_operation
from geopera_web.events.registry import EVENT_TYPES
from orders.lineage.graph import lineage_kinds

pytestmark = pytest.mark.django_db


@pytest.fixture
def doc(client):
    return client.get("/v1/openapi.json").json()


def _body(doc, op_id):
    body = doc["paths"][f"/v1/op/{op_id}"]["post"]["requestBody"]
    return body, doc["components"]["schemas"][
        body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    ]


def _prop(schema):
    """A property's schema without the `anyOf: [..., null]` of a nullable field."""
    return (
        next((s for s in schema["anyOf"] if s.get("type") != "null"), schema) if "anyOf" in schema else schema
    )


def test_objects_the_server_refuses_extra_members_for_say_so(doc):
    # filter_config takes only its two keys (webhooks._clean); the document says exactly that.
    _, subs = _body(doc, "event_subscriptions.create")
    config = subs["properties"]["filter_config"]
    assert config["additionalProperties"] is False
    assert set(config["properties"]) == {"workspace_id", "order_type"}
    headers = subs["properties"]["headers"]
    assert headers["maxProperties"] == 20 and headers["propertyNames"]["maxLength"] == 100


def test_enums_and_required_fields_the_server_enforces_are_declared(doc):
    _, keys = _body(doc, "api_keys.create")
    assert "permissions" in keys["required"]
    assert keys["properties"]["permissions"]["minItems"] == 1
    assert set(keys["properties"]["permissions"]["items"]["enum"]) == set(API_KEY_SCOPES)
    assert keys["properties"]["name"]["maxLength"] == 100  # the column's length
    _, subs = _body(doc, "event_subscriptions.create")
    assert subs["properties"]["event_type"]["enum"] == ["*", *EVENT_TYPES]
    assert subs["properties"]["endpoint_url"]["pattern"].startswith("^https")
    _, lineage = _body(doc, "provenance.get")
    assert lineage["properties"]["entity_type"]["enum"] == lineage_kinds()
    body, tasking = _body(doc, "orders.tasking.place")
    assert body["required"] is True
    assert {"workspaceId", "dataProduct"} <= set(tasking["required"])


def test_orders_list_sort_pattern_is_the_servers(doc, api_operator):
    _, schema = _body(doc, "orders.list")
    pattern = Draft202012Validator({"type": "string", "pattern": schema["properties"]["sort"]["pattern"]})
    for sort in ("createdAt,desc", "totalCredits", "status,ASC", "displayName,"):
        assert pattern.is_valid(sort), sort
        assert api_operator.post("orders.list", {"sort": sort}).status_code == 200, sort
    for sort in ("created_at,desc", "createdAt,up", " createdAt", "", "createdAt;desc"):
        assert not pattern.is_valid(sort), sort
        assert api_operator.post("orders.list", {"sort": sort}).status_code == 422, sort
    # JSON Schema's `$` is the end of the string (Python's also matches before a final newline).
    assert api_operator.post("orders.list", {"sort": "createdAt,desc\n"}).status_code == 422


def test_a_monthly_budget_needs_a_workspace_in_the_document_too(doc):
    _, schema = _body(doc, "orders.policies.update")
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"approvalThresholdCredits": 5})
    assert validator.is_valid({"monthlyBudgetCredits": None})
    assert validator.is_valid({"workspaceId": "w1", "monthlyBudgetCredits": 10})
    assert not validator.is_valid({"monthlyBudgetCredits": 10})
    assert not validator.is_valid({"workspaceId": "", "monthlyBudgetCredits": 10})
    assert not validator.is_valid({"workspaceId": None, "monthlyBudgetCredits": 10})


def test_archive_geometry_is_typed_geojson_and_the_server_holds_to_it(doc, api_viewer):
    capture = doc["components"]["schemas"]["ArchiveCaptureInput"]
    geometry = Draft202012Validator(_prop(capture["properties"]["geometry"]))
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    assert geometry.is_valid(square)
    assert geometry.is_valid({"type": "MultiPolygon", "coordinates": [square["coordinates"]]})
    bad = [
        [None, None],
        {"type": "Point", "coordinates": [0, 0]},
        {"type": "Polygon", "coordinates": [[[0, "a"]]]},
    ]
    for value in bad:
        assert not geometry.is_valid(value), value
        # Refused before the capture is even looked up (it used to answer 200 "unknown capture").
        response = api_viewer.post("orders.archive.estimate", {"captures": [{"id": "X", "geometry": value}]})
        assert response.status_code == 422, (value, response.content)
        assert response.json()["detail"][0]["loc"][:4] == ["body", "captures", 0, "geometry"]


def test_limits_are_stated_where_they_apply(doc):
    text = str(doc)
    for name in (
        "API_MAX_BODY_BYTES",
        "API_MAX_JSON_DEPTH",
        "API_RATE_LIMIT",
        "GEOMETRY_MAX_VERTICES",
        "GEOMETRY_MAX_FEATURES",
        "TASKING_PREDICTION_MAX_FEATURE_DAYS",
        "CATALOG_SEARCH_MAX_LIMIT",
        "CATALOG_STREAM_DEFAULT_ITEMS",
        "CATALOG_STREAM_MAX_ITEMS",
        "CATALOG_SEARCH_MAX_IDS",
        "CATALOG_SEARCH_MAX_COLLECTIONS",
    ):
        assert f"`{name}`" in text or f"({name}" in text, name
    assert f"{settings.API_MAX_BODY_BYTES:,} bytes" in doc["info"]["description"]
    for op in all_operations():
        responses = doc["paths"][f"/v1/op/{op.id}"]["post"]["responses"]
        assert "API_MAX_BODY_BYTES" in responses["413"]["description"], op.id
        assert "Retry-After" in responses["429"]["description"], op.id
    _, search = _body(doc, "catalog.search")
    assert _prop(search["properties"]["ids"])["maxItems"] == settings.CATALOG_SEARCH_MAX_IDS
    assert _prop(search["properties"]["collections"])["maxItems"] == settings.CATALOG_SEARCH_MAX_COLLECTIONS
    assert search["properties"]["limit"]["maximum"] == settings.CATALOG_SEARCH_MAX_LIMIT
    _, stream = _body(doc, "catalog.search_stream")
    assert _prop(stream["properties"]["limit"])["maximum"] == settings.CATALOG_STREAM_MAX_ITEMS
    _, check = _body(doc, "orders.tasking.feasibility_check")
    assert "TASKING_PREDICTION_MAX_FEATURE_DAYS" in check["properties"]["featureCollection"]["description"]


def test_links_lead_from_a_responses_ids_to_the_operations_that_take_them(doc):
    assert len(LINKS) >= 15
    for source, links in LINKS.items():
        op = get_operation(source)
        assert op is not None and op.output is not None, source
        declared = doc["paths"][f"/v1/op/{source}"]["post"]["responses"][str(op.success_status)]["links"]
        assert len(declared) == len(links), source
        out_fields = set(op.output().fields)
        for target, body in links:
            target_op = get_operation(target)
            assert target_op is not None, target
            assert set(body) <= set(target_op.input().fields), (source, target)
            for pointer in body.values():
                assert pointer.split("/")[1] in out_fields, (source, pointer)
            link = declared[target.replace(".", "_")]
            assert link["operationId"] == target
            assert all(v.startswith("$response.body#/") for v in link["requestBody"].values())


def test_webhook_rules_are_the_documents(api_admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    ok = {"event_type": "*", "endpoint_url": "https://hooks.example.com/in"}

    def refused(body, field):
        response = api_admin.post("event_subscriptions.create", {**ok, **body})
        assert response.status_code == 422, response.content
        assert response.json()["detail"][0]["loc"][:2] == ["body", field], response.content

    refused({"event_type": "order.exploded"}, "event_type")
    refused({"endpoint_url": "not a url"}, "endpoint_url")
    refused({"endpoint_url": "http://hooks.example.com/in"}, "endpoint_url")  # https unless the setting
    refused({"headers": {"X-Ok": "a\nb"}}, "headers")
    refused({"headers": {"Webhook-Id": "mine"}}, "headers")
    refused({"headers": {"": "x"}}, "headers")
    refused({"filter_config": {"colour": "red"}}, "filter_config")
    created = api_admin.post("event_subscriptions.create", {**ok, "headers": {"X-Team": "geo"}})
    assert created.status_code == 200, created.content
    replay = api_admin.post("event_subscriptions.replay", {"subscription_id": created.json()["id"]})
    assert replay.status_code == 422, replay.content
    assert replay.json()["detail"][0]["loc"] == ["body", "since"]


def test_comma_separated_filters_are_declared_patterns(api_operator):
    assert api_operator.post("orders.list", {"status": "pending,active"}).status_code == 200
    for body in ({"status": "pending,exploded"}, {"type": "both"}, {"orderIds": "not-a-uuid"}):
        response = api_operator.post("orders.list", body)
        assert response.status_code == 422, (body, response.content)
    assert (
        api_operator.post("orders.tasking.decisions.pending", {"kinds": "approval,bogus"}).status_code == 422
    )


def test_a_geometry_whose_type_is_not_a_string_is_a_422_not_a_500(api_viewer):
    # schemathesis sent {"type": {...}}: orders.geometry looked it up in a set (TypeError, a 500).
    for geometry in ({"type": {"a": 1}, "coordinates": []}, {"type": ["Polygon"]}):
        response = api_viewer.post(
            "orders.archive.estimate", {"captures": [{"id": "X", "geometry": geometry}]}
        )
        assert response.status_code == 422, response.content
        assert "type" in response.json()["detail"][0]["msg"]
