"""The integrator's operations walked through the official `geopera` SDK (user token: Bearer)
and `geopera-cli` (API key: X-API-Key) against a live server: API keys, workspaces, money."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from geopera import AuthenticatedClient
from geopera.api.operations import (
    api_keys_create,
    api_keys_list,
    api_keys_revoke,
    billing_credits_balance,
    billing_credits_transactions,
    billing_invoices_list,
    orders_tasking_groups_list,
    projects_add_member,
    projects_archive,
    projects_create,
    projects_delete,
    projects_remove_member,
    projects_update,
    projects_update_member,
    provenance_get,
    usage_current,
)
from geopera.models import (
    AddMemberInput,
    ApiKeyCreateInput,
    ApiKeyListInput,
    ApiKeyRevokeInput,
    Empty,
    InvoicesInput,
    LineageGetInput,
    ProjectArchiveInput,
    ProjectCreate,
    ProjectDeleteInput,
    ProjectUpdateInput,
    RemoveMemberInput,
    TaskingGroupsInput,
    TransactionsInput,
    UpdateMemberInput,
    UsageCurrentInput,
)

from geopera_web.accounts.services import api_key_create, user_token_create
from orders.fulfilment.models import DeliveredCapture
from tests.factories import deliver, make_org, make_tasking_order, make_user
from tests.geometry import square_degrees

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sdk_org(live_server):
    return make_org(name="SDK Integrator Org", credits=40_000)


def _client(live_server, org, role="admin"):
    user = make_user(org=org, role=role)
    _, token = user_token_create(user=user, org=org)
    return user, AuthenticatedClient(base_url=live_server.url, token=token, raise_on_unexpected_status=True)


def test_sdk_manages_api_keys(live_server, sdk_org):
    _, client = _client(live_server, sdk_org)
    created = api_keys_create.sync(
        client=client, body=ApiKeyCreateInput(name="From the SDK", permissions=["orders:read"], rate_limit=60)
    )
    assert created.key.startswith("gpra_") and created.permissions == ["orders:read"]

    listed = api_keys_list.sync_detailed(client=client, body=ApiKeyListInput())
    keys = json.loads(listed.content)["keys"]
    assert [k["id"] for k in keys] == [created.id] and "key" not in keys[0]

    # The minted key works as an API key (X-API-Key), then stops once revoked.
    call = {"json": {}, "headers": {"X-API-Key": created.key}}
    assert httpx.post(f"{live_server.url}/v1/op/orders.list", **call).status_code == 200
    revoked = api_keys_revoke.sync(client=client, body=ApiKeyRevokeInput(key_id=created.id))
    assert revoked.ok is True and revoked.id == created.id
    assert httpx.post(f"{live_server.url}/v1/op/orders.list", **call).status_code == 401

    _, operator = _client(live_server, sdk_org, role="operator")
    refused = api_keys_list.sync_detailed(client=operator, body=ApiKeyListInput())
    assert refused.status_code == 403 and refused.parsed.status == 403


def test_sdk_manages_workspaces_and_finds_their_ids(live_server, sdk_org):
    admin, client = _client(live_server, sdk_org)
    teammate = make_user(org=sdk_org, role="operator")
    project = projects_create.sync(client=client, body=ProjectCreate(name="Coastal survey"))
    assert project.organization_id == str(sdk_org.pk) and project.name == "Coastal survey"

    # The reference has no list: projects.list (an extension) is a plain POST the SDK's httpx
    # client makes; its ids are the workspaceId that orders take.
    listed = client.get_httpx_client().post("/v1/op/projects.list", json={}).json()["projects"]
    assert project.id in [p["id"] for p in listed]

    updated = projects_update.sync(
        client=client, body=ProjectUpdateInput(project_id=project.id, description="WA")
    )
    assert updated.description == "WA"
    member = projects_add_member.sync(
        client=client, body=AddMemberInput(project_id=project.id, user_id=str(teammate.pk), role="viewer")
    )
    assert member.additional_properties["role"] == "viewer"
    member = projects_update_member.sync(
        client=client, body=UpdateMemberInput(project_id=project.id, user_id=str(teammate.pk), role="admin")
    )
    assert member.additional_properties["role"] == "admin"
    removed = projects_remove_member.sync(
        client=client, body=RemoveMemberInput(project_id=project.id, user_id=str(teammate.pk))
    )
    assert removed.ok is True
    archived = projects_archive.sync(client=client, body=ProjectArchiveInput(project_id=project.id))
    assert archived.is_archived is True
    deleted = projects_delete.sync(client=client, body=ProjectDeleteInput(project_id=project.id))
    assert deleted.deleted is True and deleted.project_id == project.id
    missing = projects_delete.sync_detailed(client=client, body=ProjectDeleteInput(project_id=project.id))
    assert missing.status_code == 404 and missing.parsed.title == "Not Found"


def test_sdk_reads_balance_ledger_and_invoices(live_server, sdk_org):
    _, client = _client(live_server, sdk_org)
    balance = billing_credits_balance.sync_detailed(client=client, body=Empty())
    assert balance.status_code == 200 and json.loads(balance.content)["available_credits"] == 40_000
    ledger = billing_credits_transactions.sync_detailed(
        client=client, body=TransactionsInput(limit=10, reason="topup")
    )
    assert [t["credits"] for t in json.loads(ledger.content)["transactions"]] == [40_000]
    bad = billing_credits_transactions.sync_detailed(client=client, body=TransactionsInput(reason="gift"))
    assert bad.status_code == 422 and bad.parsed.detail[0].loc[-1] == "reason"
    invoices = billing_invoices_list.sync_detailed(client=client, body=InvoicesInput())
    assert json.loads(invoices.content) == {"billing_mode": "credit", "invoices": []}


def test_cli_with_an_api_key_reads_money_and_creates_a_workspace(live_server, sdk_org, tmp_path):
    _, key = api_key_create(org=sdk_org, name="cli", scopes=["billing:read", "projects:write", "orders:read"])
    env = {
        **os.environ,
        "GEOPERA_API_URL": live_server.url,
        "GEOPERA_API_TOKEN": key,
        "HOME": str(tmp_path),
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    cli = Path(sys.executable).with_name("geopera")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(cli), *args], env=env, capture_output=True, text=True, timeout=60)

    balance = run("billing", "credits", "balance")
    assert balance.returncode == 0, balance.stderr
    assert "40000" in balance.stdout.replace(",", "").replace("_", "")
    created = run("projects", "create", "--name", "From the CLI")
    assert created.returncode == 0, (created.stdout, created.stderr)
    assert "From the CLI" in created.stdout
    # API keys never manage keys, whatever they hold.
    refused = run("api-keys", "list")
    assert refused.returncode != 0
    assert "403" in refused.stdout + refused.stderr or "API keys cannot" in refused.stdout + refused.stderr


def test_sdk_walks_lineage_groups_and_usage(live_server, sdk_org):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    order = make_tasking_order(org=sdk_org, aois=[square_degrees(151.0, -33.5, 0.05)])
    deliver(order, order.groups.get(), [square_degrees(151.0, -33.5, 0.03)], ref="sdk-batch")
    capture = DeliveredCapture.objects.get(order=order)
    _, client = _client(live_server, sdk_org)

    down = provenance_get.sync(
        client=client, body=LineageGetInput(entity_type="order", entity_id=str(order.pk), direction="down")
    )
    assert down.root.additional_properties == {"entity_type": "order", "entity_id": str(order.pk)}
    assert {n.entity_type for n in down.nodes} == {"order", "group", "delivery", "item"}
    up = provenance_get.sync(
        client=client, body=LineageGetInput(entity_type="item", entity_id=str(capture.pk))
    )
    assert {(n.entity_type, n.entity_id) for n in up.nodes} >= {
        ("order", str(order.pk)),
        ("project", str(order.workspace_id)),
    }
    assert all(e.relation for e in up.edges)

    groups = orders_tasking_groups_list.sync_detailed(
        client=client, body=TaskingGroupsInput(order_id=str(order.pk))
    )
    assert groups.status_code == 200 and json.loads(groups.content)["groups"][0]["captures_delivered"] == 1

    usage = usage_current.sync_detailed(
        client=client, body=UsageCurrentInput(organization_id=str(sdk_org.pk))
    )
    assert json.loads(usage.content)["deliveries"]["captures_delivered"] == 1
    other = usage_current.sync_detailed(client=client, body=UsageCurrentInput(organization_id=str(order.pk)))
    assert other.status_code == 404 and other.parsed.status == 404
