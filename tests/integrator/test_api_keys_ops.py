"""api_keys.create|list|revoke: org admins only, as people; the secret once; tenancy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from geopera_web.accounts.models import ApiKey
from geopera_web.accounts.services import api_key_create
from tests.conftest import caller_for_key

pytestmark = pytest.mark.django_db


def test_admin_mints_a_key_whose_secret_is_shown_once_and_works(api_admin, org):
    created = api_admin.post(
        "api_keys.create",
        {"name": "Nightly ingest", "permissions": ["orders:read", "catalog:read"], "expires_in_days": 30},
    )
    assert created.status_code == 200, created.content
    body = created.json()
    assert body["key"].startswith("gpra_") and body["prefix"] == body["key"][:12]
    assert body["permissions"] == ["catalog:read", "orders:read"]
    assert dt.datetime.fromisoformat(body["expires_at"]) > timezone.now() + dt.timedelta(days=29)
    key = ApiKey.objects.get(pk=body["id"])
    assert key.org == org and body["key"] not in (key.key_hash, key.display_prefix)

    listed = api_admin.post("api_keys.list", {}).json()["keys"]
    assert [k["id"] for k in listed] == [body["id"]]
    assert "key" not in listed[0] and listed[0]["status"] == "active"
    assert body["key"] not in api_admin.post("api_keys.list", {}).content.decode()

    # The new key authenticates with exactly its scopes.
    from django.test import Client

    with_key = Client().post(
        "/v1/op/orders.list", "{}", content_type="application/json", headers={"X-API-Key": body["key"]}
    )
    assert with_key.status_code == 200


def test_same_rules_as_the_page_name_and_scopes(api_admin):
    # The document declares them (required, minItems 1, the grantable scopes as an enum, name at
    # most 100 characters): each is a 422 naming the field.
    def refused(body, loc, words=""):
        response = api_admin.post("api_keys.create", body)
        assert response.status_code == 422, response.content
        [error] = [e for e in response.json()["detail"] if e["loc"][:3] == loc[:3]]
        assert error["loc"] == loc and words in error["msg"], error

    refused({"name": "x", "permissions": []}, ["body", "permissions"])
    refused({"name": "x"}, ["body", "permissions"])
    refused({"name": "x", "permissions": ["orders:delete"]}, ["body", "permissions", 0], "orders:delete")
    # A key that could mint keys would let a leaked key outlive its revocation.
    refused(
        {"name": "x", "permissions": ["orders:read", "api_keys:write"]},
        ["body", "permissions", 1],
        "api_keys",
    )
    refused({"name": "   ", "permissions": ["orders:read"]}, ["body", "name"])  # DRF trims, then min_length=1
    refused({"name": "x" * 101, "permissions": ["orders:read"]}, ["body", "name"])
    refused({"permissions": ["orders:read"]}, ["body", "name"])
    refused({"name": "x", "permissions": ["orders:read"], "rate_limit": 0}, ["body", "rate_limit"])
    assert not ApiKey.objects.exists()
    ok = api_admin.post("api_keys.create", {"name": "x" * 100, "permissions": ["orders:read"]})
    assert ok.status_code == 200, ok.content


@pytest.mark.parametrize("who", ["api_operator", "api_viewer"])
@pytest.mark.parametrize("op", ["api_keys.create", "api_keys.list", "api_keys.revoke"])
def test_operators_and_viewers_cannot_manage_keys(request, who, op, org):
    key, _ = api_key_create(org=org, name="existing", scopes=["orders:read"])
    caller = request.getfixturevalue(who)
    response = caller.post(op, {"name": "mine", "permissions": ["orders:read"], "key_id": str(key.pk)})
    assert response.status_code == 403
    assert ApiKey.objects.filter(org=org).count() == 1
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_an_api_key_cannot_manage_keys_even_with_every_grantable_scope(org):
    from geopera_web.accounts.models import API_KEY_SCOPES

    caller = caller_for_key(org, scopes=API_KEY_SCOPES)
    for op in ("api_keys.create", "api_keys.list", "api_keys.revoke"):
        response = caller.post(op, {"name": "child", "permissions": ["orders:read"], "key_id": "x"})
        assert response.status_code == 403, op


def test_revoke_stops_the_key_and_is_a_no_op_twice(api_admin, org):
    key, raw = api_key_create(org=org, name="old", scopes=["orders:read"])
    first = api_admin.post("api_keys.revoke", {"key_id": str(key.pk)})
    assert first.status_code == 200 and first.json() == {"ok": True, "id": str(key.pk)}
    again = api_admin.post("api_keys.revoke", {"key_id": str(key.pk)})
    assert again.status_code == 200
    from django.test import Client

    refused = Client().post(
        "/v1/op/orders.list", "{}", content_type="application/json", headers={"X-API-Key": raw}
    )
    assert refused.status_code == 401
    assert api_admin.post("api_keys.list", {}).json()["keys"][0]["status"] == "revoked"


def test_another_orgs_key_is_a_404_and_stays_alive(api_admin, other_org):
    theirs, _ = api_key_create(org=other_org, name="theirs", scopes=["orders:read"])
    response = api_admin.post("api_keys.revoke", {"key_id": str(theirs.pk)})
    assert response.status_code == 404
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None
    assert api_admin.post("api_keys.revoke", {"key_id": "not-a-uuid"}).status_code == 404
    assert api_admin.post("api_keys.list", {}).json()["keys"] == []


def test_an_expired_key_is_refused_with_a_reason(org):
    key, raw = api_key_create(org=org, name="short", scopes=["orders:read"], expires_in_days=1)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    from django.test import Client

    response = Client().post(
        "/v1/op/orders.list", "{}", content_type="application/json", headers={"X-API-Key": raw}
    )
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_keys_own_rate_limit_applies_under_the_servers(org):
    # The server-wide limit (API_RATE_LIMIT) is far above 2/min; the key's own is what bites.
    key, raw = api_key_create(org=org, name="slow", scopes=["orders:read"], rate_limit=2)
    from django.test import Client

    client = Client()
    statuses = [
        client.post(
            "/v1/op/orders.list", "{}", content_type="application/json", headers={"X-API-Key": raw}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_api_keys_list_query_count_does_not_grow_with_keys(api_admin, org, admin_user):
    for i in range(2):
        api_key_create(org=org, name=f"k{i}", scopes=["orders:read"], actor=admin_user)
    api_admin.post("api_keys.list", {})  # the token's last-use write happens once a minute
    with CaptureQueriesContext(connection) as few:
        assert api_admin.post("api_keys.list", {}).status_code == 200
    for i in range(8):
        api_key_create(org=org, name=f"more{i}", scopes=["orders:read"], actor=admin_user)
    with CaptureQueriesContext(connection) as many:
        assert len(api_admin.post("api_keys.list", {}).json()["keys"]) == 10
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_page_mints_keys_with_the_same_options_and_rules(admin_user, operator_user, org):
    from django.test import Client

    page = Client()
    page.force_login(admin_user)
    response = page.post(
        "/settings/api-keys/new",
        {"name": "Page key", "scopes": ["billing:read"], "rate_limit": "30", "expires_in_days": "7"},
    )
    assert response.status_code == 200 and b"gpra_" in response.content
    key = ApiKey.objects.get(org=org, name="Page key")
    assert key.rate_limit == 30 and key.expires_at is not None and key.scopes == ["billing:read"]
    # The page offers no api_keys:* scope either.
    assert b'value="api_keys:write"' not in page.get("/settings/api-keys/").content
    bad = page.post("/settings/api-keys/new", {"name": "x", "scopes": ["api_keys:write"]})
    assert bad.status_code == 400 and not ApiKey.objects.filter(name="x").exists()
    operator = Client()
    operator.force_login(operator_user)
    assert (
        operator.post("/settings/api-keys/new", {"name": "y", "scopes": ["orders:read"]}).status_code == 403
    )
