"""Reading a wallet never writes: every org gets its wallet where it is created (org_create, the
admin, seed_demo), and billing migration 0004 gives one to older orgs that have none. Pages and the
API read balances without an INSERT, even for an org whose wallet is missing."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from geopera_web.accounts.models import Organization
from geopera_web.billing.models import Wallet
from geopera_web.billing.selectors import wallet_get
from geopera_web.billing.services import wallet_topup
from tests.factories import make_org

pytestmark = pytest.mark.django_db

migration = importlib.import_module("geopera_web.billing.migrations.0004_every_org_has_a_wallet")


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_org_create_gives_every_org_its_wallet_even_without_credits():
    org = make_org(name="Empty Wallet Org", credits=0)
    wallet = Wallet.objects.get(org=org)
    assert (wallet.available_credits, wallet.reserved_credits) == (0, 0)


def test_wallet_get_is_a_read_even_for_an_org_without_a_wallet():
    org = make_org(name="Walletless Org", credits=0)
    Wallet.objects.filter(org=org).delete()
    with CaptureQueriesContext(connection) as queries:
        wallet = wallet_get(org=org)
    assert _writes(queries) == []
    assert (wallet.available_credits, wallet.reserved_credits) == (0, 0)
    assert not Wallet.objects.filter(org=org).exists()
    # The first movement creates it, under its lock, with the right balance.
    wallet_topup(org=org, credits=500)
    assert wallet_get(org=org).available_credits == 500


def test_pages_and_the_api_read_balances_without_writing(api_operator, operator_user, org):
    Wallet.objects.filter(org=org).delete()
    client = Client()
    client.force_login(operator_user)
    client.get("/")  # the session's first request may write its own row
    with CaptureQueriesContext(connection) as queries:
        for path in ("/", "/billing/", "/archive/cart/"):
            assert client.get(path).status_code == 200, path
    assert [q for q in _writes(queries) if "billing_wallet" in q] == []
    with CaptureQueriesContext(connection) as queries:
        resp = Client().post(
            "/v1/op/billing.credits.balance",
            data="{}",
            content_type="application/json",
            headers=api_operator.headers,
        )
    assert resp.status_code == 200 and resp.json()["available_credits"] == 0, resp.content
    assert [q for q in _writes(queries) if "billing_wallet" in q] == []
    assert not Wallet.objects.filter(org=org).exists()


@pytest.fixture
def superuser(db):
    from geopera_web.accounts.models import User

    return User.objects.create_superuser(email="root@wallet.example", password="x-long-password-1")


def test_an_org_added_in_the_admin_has_its_wallet(superuser):
    client = Client()
    client.force_login(superuser)
    resp = client.post(
        "/admin/accounts/organization/add/",
        {
            "name": "Admin Made Org",
            "billing_mode": "credit",
            "workspaces-TOTAL_FORMS": "0",
            "workspaces-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert resp.status_code == 302, resp.content[:2000]
    assert Wallet.objects.filter(org__name="Admin Made Org").exists()


def test_the_migration_gives_orgs_without_a_wallet_an_empty_one_and_leaves_the_rest():
    funded = make_org(name="Funded Org", credits=1_234)
    bare = [make_org(name=f"Bare Org {i}", credits=0) for i in range(3)]
    Wallet.objects.filter(org__in=bare).delete()
    migration.wallets_for_orgs_without_one(django_apps, None)
    migration.wallets_for_orgs_without_one(django_apps, None)  # idempotent
    assert Organization.objects.filter(wallet__isnull=True).count() == 0
    for org in bare:
        wallet = Wallet.objects.get(org=org)
        assert (wallet.available_credits, wallet.reserved_credits) == (0, 0)
    assert Wallet.objects.get(org=funded).available_credits == 1_234
