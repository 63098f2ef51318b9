"""User tokens expire, record their last use cheaply, and their owner lists, creates and revokes them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from geopera_web.accounts.models import UserToken
from geopera_web.accounts.services import user_token_create
from tests.conftest import ApiCaller

pytestmark = pytest.mark.django_db


def _api(raw: str) -> ApiCaller:
    return ApiCaller(Client(), {"Authorization": f"Bearer {raw}"})


def test_new_tokens_expire_after_the_configured_days(settings, operator_user, org):
    settings.USER_TOKEN_TTL_DAYS = 30
    token, _ = user_token_create(user=operator_user, org=org)
    assert abs(token.expires_at - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)


def test_an_expired_token_is_a_clear_401_problem(operator_user, org):
    token, raw = user_token_create(user=operator_user, org=org)
    UserToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = _api(raw).post("orders.list", {})
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert "expired" in response.json()["detail"] and "/settings/tokens/" in response.json()["detail"]


def test_a_token_from_before_expiry_existed_expires_ttl_days_after_creation(settings, operator_user, org):
    token, raw = user_token_create(user=operator_user, org=org)
    UserToken.objects.filter(pk=token.pk).update(
        expires_at=None, created_at=timezone.now() - dt.timedelta(days=settings.USER_TOKEN_TTL_DAYS + 1)
    )
    assert _api(raw).post("orders.list", {}).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(operator_user, org):
    token, raw = user_token_create(user=operator_user, org=org)
    api = _api(raw)
    assert api.post("orders.list", {}).status_code == 200
    first = UserToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        assert api.post("orders.list", {}).status_code == 200
    assert not [
        q for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "usertoken" in q["sql"]
    ]
    assert UserToken.objects.get(pk=token.pk).last_used_at == first


def test_token_ttl_is_bounded(settings, operator_user, org):
    from geopera_web.errors import ApplicationError

    with pytest.raises(ApplicationError):
        user_token_create(user=operator_user, org=org, ttl_days=settings.USER_TOKEN_MAX_TTL_DAYS + 1)


def test_owner_creates_a_token_sees_it_once_and_it_works(client, operator_user, org):
    client.force_login(operator_user)
    page = client.post("/settings/tokens/new", {"name": "my laptop", "days": 7})
    assert page.status_code == 200
    html = page.content.decode()
    raw = re.search(r'id="new-token-value">(gput_[^<]+)<', html).group(1)
    assert "my laptop" in html
    assert _api(raw).post("orders.list", {}).status_code == 200
    # Shown once: the list page never shows the secret again.
    assert raw not in client.get("/settings/tokens/").content.decode()
    token = UserToken.objects.get(user=operator_user)
    assert token.expires_at.date() == (timezone.now() + dt.timedelta(days=7)).date()


def test_owner_revokes_with_htmx_and_the_token_stops_working(client, operator_user, org):
    token, raw = user_token_create(user=operator_user, org=org, name="ci")
    client.force_login(operator_user)
    assert "ci" in client.get("/settings/tokens/").content.decode()
    row = client.post(f"/settings/tokens/{token.pk}/revoke", headers={"HX-Request": "true"})
    assert row.status_code == 200
    assert f'id="token-{token.pk}"' in row.content.decode() and "revoked" in row.content.decode()
    assert "<html" not in row.content.decode()
    assert _api(raw).post("orders.list", {}).status_code == 401


def test_nobody_revokes_or_sees_another_users_token(client, operator_user, admin_user, org):
    token, raw = user_token_create(user=admin_user, org=org, name="admins-secret-job")
    client.force_login(operator_user)
    assert "admins-secret-job" not in client.get("/settings/tokens/").content.decode()
    assert client.post(f"/settings/tokens/{token.pk}/revoke").status_code == 404
    assert _api(raw).post("orders.list", {}).status_code == 200


def test_tokens_page_needs_login(client):
    response = client.get("/settings/tokens/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_token_acts_with_its_users_current_role_and_stops_when_they_leave(operator_user, org):
    """The token and its user's membership are read in one statement on every request: a role
    change takes effect on the next request, and leaving the org ends the token's access."""
    from geopera_web.accounts.models import Membership

    _, raw = user_token_create(user=operator_user, org=org)
    api = _api(raw)
    with CaptureQueriesContext(connection) as queries:
        assert api.post("orders.list", {}).status_code == 200
    assert sum("accounts_membership" in q["sql"] for q in queries.captured_queries) == 1
    Membership.objects.filter(user=operator_user, org=org).update(role="viewer")
    assert api.post("orders.archive.place", {"captures": [{"id": "X"}]}).status_code == 403
    Membership.objects.filter(user=operator_user, org=org).delete()
    response = api.post("orders.list", {})
    assert response.status_code == 401
    assert "no longer a member" in response.json()["detail"]
