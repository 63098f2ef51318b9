"""Every model registered with the Django admin, walked as support staff and as a superuser, against
one explicit table. A model registered later without a decision here fails this test."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from geopera_web.accounts.services import support_group_ensure
from geopera_web.admin_policy import SUPPORT_GROUP
from tests.factories import make_user

pytestmark = pytest.mark.django_db

# label: (support staff, superuser) — v=view a=add c=change d=delete
EXPECTED: dict[str, tuple[str, str]] = {
    # superuser-only: people, memberships, credentials, permissions
    "accounts.user": ("", "vacd"),
    "accounts.membership": ("", "vacd"),
    # Workspace members are people's access: superusers only (org admins manage them via projects.*).
    "accounts.workspacemember": ("", "vacd"),
    "auth.group": ("", "vacd"),
    # credentials: never added/edited/deleted in the admin, only revoked (superuser action)
    "accounts.apikey": ("", "v"),
    "accounts.usertoken": ("", "v"),
    "accounts.organization": ("v", "vacd"),
    "accounts.workspace": ("v", "vacd"),
    # read-only for everyone: every change goes through a service
    "orders.order": ("v", "v"),
    "orders.ordergroup": ("v", "v"),
    "orders.orderevent": ("v", "v"),
    "orders.coveragesnapshot": ("v", "v"),
    "orders.deliverybatch": ("v", "v"),
    "orders.cart": ("", "v"),
    "orders.cartitem": ("", "v"),
    "orders.spendpolicy": ("", "v"),
    "orders.spendapproval": ("", "v"),
    "orders.budgetwarning": ("", "v"),
    "orders.watch": ("", "v"),
    "orders.watchalert": ("", "v"),
    "orders.watchmatch": ("", "v"),
    "orders.watchwatcher": ("", "v"),
    "billing.wallet": ("v", "v"),
    "billing.ledgerentry": ("v", "v"),
    "billing.charge": ("v", "v"),
    "api.idempotencyrecord": ("", "v"),
    "tasking.feasibilitystudy": ("v", "v"),
    "tasking.feasibilityoption": ("v", "v"),
    "tasking.quotation": ("v", "v"),
    "tasking.supportclaim": ("v", "v"),
    "tasking.taskingseries": ("v", "v"),
    "tasking.seriesoccurrence": ("v", "v"),
    "tasking.taskingtemplate": ("", "v"),
    "axes.accessattempt": ("v", "v"),
    "axes.accesslog": ("v", "v"),
    "axes.accessfailurelog": ("v", "v"),
    "audit.auditevent": ("v", "v"),
    # integrations: read-only (the Webhooks page and the API change them); secrets never shown
    "events.event": ("v", "v"),
    "events.eventsubscription": ("v", "v"),
    "events.webhookdelivery": ("v", "v"),
    "events.notification": ("v", "v"),
    # what the support desk keeps current
    "tasking.sensor": ("vac", "vacd"),
    "tasking.taskingproduct": ("vacd", "vacd"),
    "orders.dataproduct": ("vac", "vacd"),
    "orders.capture": ("v", "vacd"),
    "orders.deliveredcapture": ("vac", "vac"),
}


def _perms(model_admin, request) -> str:
    out = ""
    out += "v" if model_admin.has_view_permission(request) else ""
    out += "a" if model_admin.has_add_permission(request) else ""
    out += "c" if model_admin.has_change_permission(request) else ""
    out += "d" if model_admin.has_delete_permission(request) else ""
    return out


def _inline_perms(inline, request, obj) -> str:
    out = ""
    out += "v" if inline.has_view_permission(request, obj) else ""
    out += "a" if inline.has_add_permission(request, obj) else ""
    out += "c" if inline.has_change_permission(request, obj) else ""
    out += "d" if inline.has_delete_permission(request, obj) else ""
    return out


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.fixture
def support(db):
    user = make_user(org=None, role=None, email="desk@geopera.example", staff=True)
    user.groups.add(support_group_ensure())
    return user


@pytest.fixture
def superuser(db):
    from geopera_web.accounts.models import User

    return User.objects.create_superuser(email="root@geopera.example", password="x-long-password-1")


def test_every_registered_admin_model_has_a_decision():
    registered = {m._meta.label_lower for m in admin.site._registry}
    assert registered - set(EXPECTED) == set(), "decide staff/superuser rights for these models"
    assert set(EXPECTED) - registered == set()


@pytest.mark.parametrize("who", ["support", "superuser"])
def test_admin_rights_per_model_match_the_table(who, request):
    user = request.getfixturevalue(who)
    req = _request(user)
    column = 0 if who == "support" else 1
    got = {m._meta.label_lower: _perms(ma, req) for m, ma in admin.site._registry.items()}
    want = {label: rights[column] for label, rights in EXPECTED.items()}
    assert got == want


@pytest.mark.parametrize("who", ["support", "superuser"])
def test_inlines_never_reach_further_than_their_models_row(who, request):
    user = request.getfixturevalue(who)
    req = _request(user)
    column = 0 if who == "support" else 1
    for model_admin in admin.site._registry.values():
        for inline_class in model_admin.inlines:
            inline = inline_class(model_admin.model, admin.site)
            allowed = set(EXPECTED[inline.model._meta.label_lower][column])
            got = set(_inline_perms(inline, req, None))
            assert got <= allowed, f"{type(model_admin).__name__}.{inline_class.__name__}: {got} > {allowed}"


def test_a_staff_user_with_extra_permissions_still_cannot_reach_superuser_models(support):
    """Even if someone grants a staff user every permission by hand, people and credentials stay
    superuser-only and money rows stay read-only."""
    from django.contrib.auth.models import Permission

    support.user_permissions.add(*Permission.objects.all())
    support = type(support).objects.get(pk=support.pk)  # drop the permission cache
    req = _request(support)
    for label in (
        "accounts.user",
        "accounts.membership",
        "accounts.workspacemember",
        "auth.group",
        "accounts.apikey",
        "accounts.usertoken",
    ):
        model_admin = next(ma for m, ma in admin.site._registry.items() if m._meta.label_lower == label)
        assert _perms(model_admin, req) == "", label
    for label in ("orders.order", "billing.charge", "billing.ledgerentry", "api.idempotencyrecord"):
        model_admin = next(ma for m, ma in admin.site._registry.items() if m._meta.label_lower == label)
        assert _perms(model_admin, req) == "v", label


def test_support_group_is_reset_to_exactly_the_policy(support):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.get(name=SUPPORT_GROUP)
    group.permissions.add(Permission.objects.get(codename="change_user"))
    support_group_ensure()
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert "change_user" not in codenames
    assert not {c for c in codenames if c.endswith(("_membership", "_apikey", "_usertoken", "_permission"))}
    assert {"move_credits", "unlock_accessattempt", "add_deliveredcapture"} <= codenames


# --- the same rules over HTTP ---------------------------------------------------------------------


def test_support_cannot_open_or_post_the_user_form(client, support, superuser):
    client.force_login(support)
    assert client.get(f"/admin/accounts/user/{support.pk}/change/").status_code == 403
    response = client.post(
        f"/admin/accounts/user/{support.pk}/change/",
        {"email": support.email, "is_superuser": "on", "is_staff": "on", "is_active": "on"},
    )
    assert response.status_code == 403
    support.refresh_from_db()
    assert not support.is_superuser


def test_superuser_user_form_has_privilege_fields_staff_never_see_them(client, superuser):
    client.force_login(superuser)
    page = client.get(f"/admin/accounts/user/{superuser.pk}/change/").content.decode()
    assert 'name="is_superuser"' in page
    from geopera_web.accounts.admin import UserAdmin

    staff = make_user(org=None, role=None, email="x@geopera.example", staff=True)
    fields = [
        f
        for _, opts in UserAdmin(type(staff), admin.site).get_fieldsets(_request(staff), staff)
        for f in opts["fields"]
    ]
    assert not {"is_superuser", "groups", "user_permissions"} & set(fields)


def test_nobody_can_unrevoke_or_edit_an_api_key_in_the_admin(client, superuser, org):
    from geopera_web.accounts.services import api_key_create, api_key_revoke

    key, _ = api_key_create(org=org, name="ci", scopes=["orders:read"])
    api_key_revoke(org=org, key_id=key.pk)
    client.force_login(superuser)
    response = client.post(
        f"/admin/accounts/apikey/{key.pk}/change/",
        {
            "name": "ci",
            "org": str(org.pk),
            "scopes": '["orders:write"]',
            "revoked_at_0": "",
            "revoked_at_1": "",
        },
    )
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is not None and key.scopes == ["orders:read"]


def test_superuser_revokes_a_token_with_the_admin_action(client, superuser, org, admin_user, caplog):
    from geopera_web.accounts.services import user_token_create

    token, _ = user_token_create(user=admin_user, org=org)
    client.force_login(superuser)
    with caplog.at_level("WARNING", logger="geopera.audit"):
        client.post(
            "/admin/accounts/usertoken/", {"action": "revoke_selected", "_selected_action": [str(token.pk)]}
        )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "usertoken.revoke" in caplog.text


def test_support_cannot_write_an_order_or_charge(client, support, org):
    from geopera_web.billing.services import charge_authorize

    charge = charge_authorize(org=org, credits=100, reference="t", actor=None, idempotency_ref="x1")
    client.force_login(support)
    response = client.post(f"/admin/billing/charge/{charge.pk}/change/", {"status": "captured"})
    assert response.status_code == 403
    assert client.post(f"/admin/billing/charge/{charge.pk}/delete/", {"post": "yes"}).status_code == 403


def test_support_tops_up_through_the_audited_view_and_nobody_else_can(client, support, org, caplog):
    from geopera_web.billing.models import Wallet

    wallet = Wallet.objects.get(org=org)
    before = wallet.available_credits
    client.force_login(support)
    with caplog.at_level("WARNING", logger="geopera.audit"):
        response = client.post(
            f"/admin/billing/wallet/{wallet.pk}/topup/", {"credits": 500, "memo": "goodwill"}
        )
    assert response.status_code == 302
    wallet.refresh_from_db()
    assert wallet.available_credits == before + 500
    assert "wallet.topup" in caplog.text and "goodwill" in caplog.text

    plain_staff = make_user(org=None, role=None, email="nogroup@geopera.example", staff=True)
    client.force_login(plain_staff)
    assert client.post(
        f"/admin/billing/wallet/{wallet.pk}/topup/", {"credits": 5, "memo": "x"}
    ).status_code in (
        302,
        403,
    )
    wallet.refresh_from_db()
    assert wallet.available_credits == before + 500


@pytest.mark.parametrize("who", ["support", "superuser"])
def test_a_webhook_subscription_in_the_admin_never_shows_its_secrets_or_header_values(
    who, request, client, org
):
    from geopera_web.events.webhooks import subscription_create, subscription_rotate_secret

    sub = subscription_create(
        org=org,
        actor=None,
        event_type="*",
        endpoint_url="https://hooks.example/in",
        headers={"Authorization": "Bearer endpoint-credential-123"},
    )
    old = sub.secret
    sub, new = subscription_rotate_secret(org=org, subscription_id=sub.pk)
    client.force_login(request.getfixturevalue(who))
    listing = client.get("/admin/events/eventsubscription/")
    page = client.get(f"/admin/events/eventsubscription/{sub.pk}/change/")
    assert listing.status_code == page.status_code == 200
    for body in (listing.content.decode(), page.content.decode()):
        assert old not in body and new not in body
        assert "endpoint-credential-123" not in body
    assert "Authorization" in page.content.decode()  # the header's name is shown
    for model in ("event", "webhookdelivery", "notification"):
        assert client.get(f"/admin/events/{model}/").status_code == 200
    assert client.post(f"/admin/events/eventsubscription/{sub.pk}/change/", {"active": ""}).status_code == 403
