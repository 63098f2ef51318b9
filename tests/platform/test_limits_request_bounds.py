"""Request bounds that were module constants are settings read when a request is handled: moving the
setting moves the limit, the refusal says the limit, and the served document states the value in force."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


def _schema(client, op_id: str) -> dict:
    doc = client.get("/v1/openapi.json").json()
    ref = doc["paths"][f"/v1/op/{op_id}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return doc["components"]["schemas"][ref["$ref"].split("/")[-1]]


def _prop(schema: dict) -> dict:
    if "anyOf" in schema:
        return next(s for s in schema["anyOf"] if s.get("type") != "null")
    return schema


def test_approval_policy_credits_follow_credits_max(settings, client, api_admin):
    for field in ("approvalThresholdCredits", "monthlyBudgetCredits"):
        assert _prop(_schema(client, "orders.policies.update")["properties"][field])["maximum"] == 10**12
    assert api_admin.post("orders.policies.update", {"approvalThresholdCredits": 5_000}).status_code == 200
    settings.CREDITS_MAX = 1_000
    refused = api_admin.post("orders.policies.update", {"approvalThresholdCredits": 5_000})
    assert refused.status_code == 422, refused.content
    assert "1,000" in json.dumps(refused.json()) or "1000" in json.dumps(refused.json())
    assert refused.json()["detail"][0]["loc"] == ["body", "approvalThresholdCredits"]
    schema = _schema(client, "orders.policies.update")
    assert _prop(schema["properties"]["monthlyBudgetCredits"])["maximum"] == 1_000
    assert "CREDITS_MAX" in _prop(schema["properties"]["monthlyBudgetCredits"])["description"]
