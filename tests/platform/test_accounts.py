from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from geopera_web.accounts.models import ApiKey, Membership, Organization, User, UserToken, Workspace
from geopera_web.accounts.services import api_key_create, secret_hash
from geopera_web.billing.selectors import wallet_get
from tests.factories import make_org

pytestmark = pytest.mark.django_db


def _call(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_provisioning_commands_create_org_user_key_and_token():
    org_id = _call("create_org", "--name", "Provisioned Pty", "--billing-mode", "credit", "--credits", "5000")
    org = Organization.objects.get(id=org_id)
    assert wallet_get(org=org).available_credits == 5000
    assert Workspace.objects.filter(org=org, is_default=True).count() == 1

    _call(
        "create_user",
        "--org",
        "Provisioned Pty",
        "--email",
        "ops@prov.test",
        "--password",
        "long-enough-pw",
        "--role",
        "admin",
    )
    assert Membership.objects.get(user__email="ops@prov.test").role == "admin"

    raw_key = _call(
        "create_api_key", "--org", org_id, "--scopes", "catalog:read orders:read", "--name", "etl"
    )
    assert raw_key.startswith("gpra_")
    key = ApiKey.objects.get(org=org)
    assert key.key_hash == secret_hash(raw_key) and key.scopes == ["catalog:read", "orders:read"]

    raw_token = _call("create_token", "--email", "ops@prov.test")
    assert raw_token.startswith("gput_")
    assert UserToken.objects.get(token_hash=secret_hash(raw_token)).org == org


def test_provisioning_commands_refuse_bad_input_clearly():
    make_org(name="Exists")
    with pytest.raises(CommandError, match="already exists"):
        _call("create_org", "--name", "Exists")
    with pytest.raises(CommandError, match="No organization"):
        _call("create_user", "--org", "nope", "--email", "a@b.test", "--password", "long-enough-pw")
    with pytest.raises(CommandError, match="Unknown scope"):
        _call("create_api_key", "--org", "Exists", "--scopes", "orders:everything")
    with pytest.raises(CommandError, match="No user"):
        _call("create_token", "--email", "ghost@nowhere.test")


def test_staff_user_without_org_can_be_created():
    _call("create_user", "--email", "desk@geopera.test", "--password", "long-enough-pw", "--staff")
    assert not Membership.objects.filter(user__email="desk@geopera.test").exists()


def test_login_page_and_dashboard(client, operator_user):
    assert client.get("/").status_code == 302
    response = client.post("/login/", {"username": operator_user.email, "password": "correct-horse-battery"})
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert b"Acme Test Org" in page.content and b"100,000" in page.content


def test_bad_login_shows_a_form_error(client, operator_user):
    response = client.post("/login/", {"username": operator_user.email, "password": "wrong"})
    assert response.status_code == 200
    assert b"form-error" in response.content


def test_user_in_two_orgs_switches_the_active_org(client, admin_user, other_org):
    Membership.objects.create(user=admin_user, org=other_org, role="viewer")
    client.force_login(admin_user)
    assert b"Acme Test Org" in client.get("/").content
    client.post("/switch-org/", {"org_id": str(other_org.id), "next": "/billing/"})
    page = client.get("/")
    assert b"Other Test Org" in page.content and b"Viewer" in page.content


def test_switching_to_an_org_you_are_not_in_does_nothing(client, operator_user, other_org):
    client.force_login(operator_user)
    client.post("/switch-org/", {"org_id": str(other_org.id)})
    assert b"Acme Test Org" in client.get("/").content


def test_nav_pages_render_for_members(client, viewer_user):
    client.force_login(viewer_user)
    for path in ("/", "/archive/", "/tasking/", "/inbox/", "/templates/", "/orders/", "/billing/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b'hx-headers=\'{"X-CSRFToken"' in response.content


def test_staff_without_an_org_land_on_the_support_desk(staff_user):
    staff = Client()
    staff.force_login(staff_user)
    response = staff.get("/")
    assert response.status_code == 302 and response["Location"] == "/support/"


def test_support_desk_is_staff_only(client, admin_user, staff_user):
    client.force_login(admin_user)
    assert client.get("/support/").status_code == 404
    staff = Client()
    staff.force_login(staff_user)
    assert staff.get("/support/").status_code == 200
    assert b"Support desk" in staff.get("/support/").content


def test_admin_creates_and_revokes_api_keys_in_the_ui(client, admin_user, org):
    client.force_login(admin_user)
    response = client.post("/settings/api-keys/new", {"name": "Nightly ingest", "scopes": ["catalog:read"]})
    assert response.status_code == 200
    key = ApiKey.objects.get(org=org)
    raw = response.context["new_key"]
    assert raw.startswith("gpra_") and raw.encode() in response.content and key.key_hash == secret_hash(raw)
    revoke = client.post(f"/settings/api-keys/{key.id}/revoke", headers={"HX-Request": "true"})
    assert revoke.status_code == 200 and b"revoked" in revoke.content
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_api_key_form_errors_are_shown(client, admin_user, org):
    client.force_login(admin_user)
    response = client.post("/settings/api-keys/new", {"name": "", "scopes": []})
    assert response.status_code == 400
    assert b"field-error" in response.content and not ApiKey.objects.filter(org=org).exists()


def test_operators_cannot_manage_api_keys(client, operator_user):
    client.force_login(operator_user)
    assert client.get("/settings/api-keys/").status_code == 403


def test_another_orgs_api_key_is_404_and_untouched(client, admin_user, other_org):
    key, _ = api_key_create(org=other_org, name="theirs", scopes=["catalog:read"])
    client.force_login(admin_user)
    assert client.post(f"/settings/api-keys/{key.id}/revoke").status_code == 404
    assert client.post(f"/settings/api-keys/{uuid.uuid4()}/revoke").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_billing_page_shows_movements_to_admins_only(client, admin_user, viewer_user):
    client.force_login(admin_user)
    assert b'data-testid="ledger"' in client.get("/billing/").content
    viewer = Client()
    viewer.force_login(viewer_user)
    assert b'data-testid="ledger"' not in viewer.get("/billing/").content


def test_staff_tops_up_a_wallet_in_the_admin(org):
    _call("create_user", "--email", "desk@geopera.test", "--password", "long-enough-pw", "--staff")
    staff = User.objects.get(email="desk@geopera.test")
    assert not staff.is_superuser
    client = Client()
    client.force_login(staff)
    response = client.post(f"/admin/billing/wallet/{org.pk}/topup/", {"credits": 2500, "memo": "PO 1234"})
    assert response.status_code == 302
    assert wallet_get(org=org).available_credits == 102_500
    assert client.get(f"/admin/billing/wallet/{org.pk}/change/").status_code == 200
    for changelist in ("accounts/organization", "billing/ledgerentry", "orders/order", "orders/capture"):
        assert client.get(f"/admin/{changelist}/").status_code == 200, changelist


def test_every_model_is_in_the_admin(db):
    from django.apps import apps
    from django.contrib import admin

    ours = [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"accounts", "billing", "api", "orders", "tasking"}
    ]
    missing = [m.__name__ for m in ours if m not in admin.site._registry]
    assert not missing, missing


def test_seed_demo_is_idempotent():
    from geopera_web.audit.models import AuditEvent

    _call("seed_demo")
    counts = (
        Organization.objects.count(),
        Membership.objects.count(),
        wallet_get(org=Organization.objects.get(name="Acme Agriculture")).available_credits,
        AuditEvent.objects.count(),
    )
    assert AuditEvent.objects.filter(org__name="Acme Agriculture", summary__details__demo=True).count() == 2
    _call("seed_demo")
    assert (
        Organization.objects.count(),
        Membership.objects.count(),
        wallet_get(org=Organization.objects.get(name="Acme Agriculture")).available_credits,
        AuditEvent.objects.count(),
    ) == counts
    from tasking.demo import DESK_ORGS

    assert counts[0] == 3 + len(DESK_ORGS)  # Acme, Blue Harbour, Kite, and the support desk's customers
