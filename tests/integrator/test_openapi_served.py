"""The integrator's operations are in the served OpenAPI document under the reference's ids and
component names, with their designed response schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REFERENCE = Path("/work/shared/reference/geopera-openapi-integrations.json")
MINE = [
    "api_keys.create",
    "api_keys.list",
    "api_keys.revoke",
    "projects.create",
    "projects.update",
    "projects.archive",
    "projects.delete",
    "projects.add_member",
    "projects.update_member",
    "projects.remove_member",
    "billing.credits.balance",
    "billing.credits.transactions",
    "billing.invoices.list",
    "usage.current",
    "orders.tasking.groups.list",
    "provenance.get",
]


@pytest.mark.django_db
def test_served_document_has_every_operation_with_a_response_schema(client):
    doc = client.get("/v1/openapi.json").json()
    for op_id in [*MINE, "projects.list"]:
        post = doc["paths"][f"/v1/op/{op_id}"]["post"]
        assert post["operationId"] == op_id
        schema = post["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema.get("$ref"), op_id
        assert "x-required-scope" in post
    names = set(doc["components"]["schemas"])
    assert {
        "ApiKeyCreateInput",
        "ProjectCreate",
        "TransactionsInput",
        "LineageGetInput",
        "MemberOutput",
    } <= names


@pytest.mark.skipif(not REFERENCE.exists(), reason="the shared reference is not on this machine")
@pytest.mark.django_db
def test_request_schemas_use_the_references_component_names(client):
    ref = json.loads(REFERENCE.read_text())
    doc = client.get("/v1/openapi.json").json()
    for op_id in MINE:
        ref_body = ref["paths"][f"/v1/op/{op_id}"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]
        ours = doc["paths"][f"/v1/op/{op_id}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        ref_name = ref_body["$ref"].rsplit("/", 1)[-1]
        if ref_name != "_Empty":
            assert ours["$ref"].rsplit("/", 1)[-1] == ref_name, op_id


@pytest.mark.django_db
def test_projects_delete_says_why_storage_freed_bytes_is_zero(client):
    """The reference's `storage_freed_bytes` is kept (it is in the contract) and is always 0: the
    served document says why, so an integrator does not take it for an unfinished meter."""
    doc = client.get("/v1/openapi.json").json()
    field = doc["components"]["schemas"]["ProjectDeleteOutput"]["properties"]["storage_freed_bytes"]
    assert field["type"] == "integer"
    assert "never held an order" in field["description"]
