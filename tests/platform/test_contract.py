"""Every registered operation honours the reference contract, and no operation answers bad
input with a 5xx. These walk the registry, so each new operation is checked as it lands."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from geopera_web.api.registry import all_operations

# Facts of the published contract (operation ids, scopes, success statuses, request field names),
# read off the reference OpenAPI documents (shared/reference/geopera-openapi-orders.json and
# geopera-openapi-integrations.json).
REF_OPS = json.loads((Path(__file__).parent / "reference_contract.json").read_text())


def _ours():
    return [op for op in all_operations() if not op.id.startswith("test.")]


# Operations beyond the reference, in its style (documented in the served OpenAPI document):
# spend policies and approvals (issue 14).
EXTENSION_OPS = {
    "orders.approvals.list",
    "orders.approvals.decide",
    "orders.policies.get",
    "orders.policies.update",
    # How an SDK user discovers a workspaceId: the reference has projects.* writes but no list.
    "projects.list",
    # Webhooks (issue 13): rotating the signing secret with an overlap, replaying deliveries.
    "event_subscriptions.rotate_secret",
    "event_subscriptions.replay",
    # Recurring tasking acquisitions (issue 14, capability 2).
    "orders.tasking.series.get",
    "orders.tasking.series.cancel",
    # Watching a remainder (issue 14, capability 3): watches, their watchers and matches.
    "orders.watches.list",
    "orders.watches.get",
    "orders.watches.create",
    "orders.watches.delete",
    "orders.watches.watch",
    "orders.watches.matches.list",
}


@pytest.mark.parametrize("op", _ours(), ids=lambda op: op.id)
def test_operation_matches_the_reference(op):
    if op.id in EXTENSION_OPS:
        assert op.summary and op.description and op.input is not None and op.output is not None
        return
    assert op.id in REF_OPS, f"{op.id} is not an operation of the reference"
    ref = REF_OPS[op.id]
    assert op.scope == ref["scope"]
    assert str(op.success_status) in ref["success"]
    if ref["fields"]:
        assert op.input is not None, f"{op.id} should validate its input"
        fields = op.input().fields
        assert set(ref["fields"]) <= set(fields), f"{op.id} lacks reference fields"
        for name in ref["required"]:
            assert fields[name].required, f"{op.id}: {name} is required in the reference"


def _junk_bodies(op):
    yield {}
    if op.input is None:
        return
    fields = op.input().fields
    yield {name: str(uuid.uuid4()) for name in fields}  # ids that exist nowhere; strings everywhere
    yield {name: {"nested": [1, None]} for name in fields}  # wrong types everywhere
    yield dict.fromkeys(fields)
    yield dict.fromkeys(fields, 10**23)  # numbers past any database integer
    yield dict.fromkeys(fields, -(10**23))


@pytest.mark.django_db
@pytest.mark.parametrize("op", _ours(), ids=lambda op: op.id)
def test_bad_input_never_gets_a_server_error(op, api_admin):
    for body in _junk_bodies(op):
        response = api_admin.post(op.id, body, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code < 500, (body, response.content[:500])
        if response.status_code >= 400:
            assert response["Content-Type"] in ("application/problem+json", "application/json")
