"""The audit trail: privileged actions write an AuditEvent in the transaction of the change (rolled
back with it), with who, org, target, before/after and the request id; rows are append-only and
read-only in the admin (see test_admin_permissions.EXPECTED)."""

from __future__ import annotations

import pytest

from geopera_web.audit.models import AppendOnly, AuditEvent
from tests.factories import make_user
from tests.platform.test_admin_permissions import superuser, support  # noqa: F401 - fixtures


def test_a_top_up_writes_one_audit_event_with_before_after_and_the_request_id(client, support, org):  # noqa: F811
    from geopera_web.billing.models import Wallet

    wallet = Wallet.objects.get(org=org)
    before = wallet.available_credits
    client.force_login(support)
    response = client.post(
        f"/admin/billing/wallet/{wallet.pk}/topup/",
        {"credits": 500, "memo": "goodwill"},
        headers={"X-Request-ID": "req-topup-0001"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="wallet.topup")
    assert (event.actor, event.org, event.target_type, event.target_id, event.request_id) == (
        support,
        org,
        "billing.wallet",
        str(wallet.pk),
        "req-topup-0001",
    )
    assert event.summary["before"]["available"] == before
    assert event.summary["after"]["available"] == before + 500
    assert event.summary["details"]["memo"] == "goodwill" and event.actor_label == support.email


def test_a_refused_adjustment_leaves_no_audit_event(client, support, org):  # noqa: F811
    from geopera_web.billing.models import Wallet

    wallet = Wallet.objects.get(org=org)
    client.force_login(support)
    response = client.post(
        f"/admin/billing/wallet/{wallet.pk}/adjust/",
        {"credits": -(wallet.available_credits + 10**9), "memo": "too much"},
    )
    assert response.status_code == 200  # the form again, with the error
    wallet.refresh_from_db()
    assert not AuditEvent.objects.filter(action__startswith="wallet.").exists()


def test_revoking_a_token_and_setting_a_role_are_audited(client, superuser, org, admin_user):  # noqa: F811
    from geopera_web.accounts.models import Membership
    from geopera_web.accounts.services import user_token_create

    token, _ = user_token_create(user=admin_user, org=org)
    client.force_login(superuser)
    client.post(
        "/admin/accounts/usertoken/", {"action": "revoke_selected", "_selected_action": [str(token.pk)]}
    )
    event = AuditEvent.objects.get(action="usertoken.revoke")
    assert (event.org, event.target_id, event.actor) == (org, str(token.pk), superuser)

    viewer = make_user(org=org, role="viewer", email="role-change@example.test")
    membership = Membership.objects.get(user=viewer, org=org)
    response = client.post(
        f"/admin/accounts/membership/{membership.pk}/change/",
        {"user": str(viewer.pk), "org": str(org.pk), "role": "operator"},
    )
    assert response.status_code == 302, response.content[:2000]
    event = AuditEvent.objects.get(action="membership.set")
    assert (event.org, event.target_id, event.summary["details"]["role"]) == (
        org,
        str(membership.pk),
        "operator",
    )


def test_audit_events_are_append_only(org):
    from geopera_web.audit.services import audit_record

    event = audit_record(action="test.thing", org=org, note="x")
    event.action = "changed"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.thing"
    assert event.actor_label == "system" and event.request_id == ""


def test_api_key_create_and_revoke_and_a_role_change_are_audited_once(org, admin_user):
    from geopera_web.accounts.services import api_key_create, api_key_revoke, membership_set

    key, _ = api_key_create(org=org, name="nightly", scopes=["orders:read"], actor=admin_user)
    api_key_revoke(org=org, key_id=key.pk, actor=admin_user)
    api_key_revoke(org=org, key_id=key.pk, actor=admin_user)  # a no-op: not audited again
    created = AuditEvent.objects.get(action="apikey.create")
    assert (created.org, created.actor, created.target_id) == (org, admin_user, str(key.pk))
    assert created.summary["after"]["scopes"] == ["orders:read"] and "key_hash" not in str(created.summary)
    assert AuditEvent.objects.filter(action="apikey.revoke", target_id=str(key.pk)).count() == 1

    person = make_user(org=org, role="viewer", email="promoted@example.test")
    membership_set(org=org, user=person, role="operator", actor=admin_user)
    membership_set(org=org, user=person, role="operator", actor=admin_user)  # unchanged: no event
    event = AuditEvent.objects.get(action="membership.set")
    assert (event.summary["before"], event.summary["after"]) == ({"role": "viewer"}, {"role": "operator"})


# --- the Activity page (org admins, their org only) ----------------------------------------------


def _events(org, n: int, action: str = "wallet.topup") -> None:
    from geopera_web.audit.services import audit_record

    for i in range(n):
        audit_record(action=action, org=org, credits=i)


def test_activity_shows_the_org_admin_their_own_trail_paged_and_filtered(client, org, other_org, admin_user):
    _events(org, 30)
    _events(org, 2, action="apikey.create")
    _events(other_org, 3, action="apikey.revoke")
    client.force_login(admin_user)
    page = client.get("/settings/activity/")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count("<code>wallet.topup</code>") + body.count("<code>apikey.create</code>") == 25
    assert "apikey.revoke" not in body  # another org's trail
    filtered = client.get("/settings/activity/", {"action": "apikey"}).content.decode()
    assert filtered.count("<code>apikey.create</code>") == 2 and "<code>wallet.topup</code>" not in filtered
    for hostile in ({"page": "9999"}, {"page": "x"}, {"action": "<script>"}):
        assert client.get("/settings/activity/", hostile).status_code == 200


def test_activity_is_for_org_admins_only(client, org, operator_user):
    client.force_login(operator_user)
    assert client.get("/settings/activity/").status_code in (403, 404)


def test_activity_query_count_does_not_grow_with_rows(client, org, admin_user, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(admin_user)
    _events(org, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/settings/activity/").status_code == 200
    person = make_user(org=org, role="viewer", email="many@example.test")
    from geopera_web.audit.services import audit_record

    for _ in range(20):
        audit_record(action="membership.set", actor=person, org=org)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/settings/activity/").status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries)
