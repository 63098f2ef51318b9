"""The audit trail covers every money movement, decision, spend policy change, support-desk action
and change in the Django admin (issue 15): each writes one AuditEvent in the transaction of the
change, with who, which org and what it concerns, and a rolled-back change leaves none."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import transaction
from django.test.utils import CaptureQueriesContext

from geopera_web.admin_policy import AuditedAdmin, ReadOnlyAdmin
from geopera_web.audit.models import AuditEvent
from geopera_web.audit.selectors import AUDIT_FAMILIES
from geopera_web.billing.models import LedgerEntry
from geopera_web.billing.services import charge_authorize
from orders.approvals.models import SpendApproval
from orders.approvals.services import spend_policy_update
from orders.cart.pricing import archive_quote
from tasking.services import feasibility_decide, quotation_decide, sensor_catalog_seed
from tests.factories import (
    make_org,
    make_product,
    make_quotation,
    make_study,
    make_tasking_request,
    place_body,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _every_family_is_known():
    yield
    unknown = {a.split(".", 1)[0] for a in AuditEvent.objects.values_list("action", flat=True)} - set(
        AUDIT_FAMILIES
    )
    assert not unknown, f"audit families missing from AUDIT_FAMILIES: {unknown}"


def test_every_ledger_movement_is_audited_once_with_its_balances(placed_order, org):
    entries = {str(pk): kind for pk, kind in LedgerEntry.objects.filter(org=org).values_list("pk", "kind")}
    audited = AuditEvent.objects.filter(org=org, action__startswith="money.")
    assert sorted(e.target_id for e in audited) == sorted(entries)
    for event in audited:
        assert event.target_type == "billing.ledgerentry"
        assert event.action == f"money.{entries[event.target_id]}"
    reserve = audited.get(action="money.reserve")
    held = placed_order.charge.authorized_credits
    assert reserve.summary["after"]["reserved"] - reserve.summary["before"]["reserved"] == held
    assert reserve.summary["before"]["available"] - reserve.summary["after"]["available"] == held
    assert reserve.summary["details"]["charge"] == str(placed_order.charge.pk)


def test_a_card_hold_is_audited_and_a_rolled_back_one_is_not(settings):
    card = make_org(name="Card Co", billing_mode="card")
    card.payment_method = "pm_card_visa"
    card.save()
    charge = charge_authorize(org=card, credits=1234, reference="ref-1")
    event = AuditEvent.objects.get(org=card, action="money.reserve")
    assert (event.target_type, event.target_id) == ("billing.charge", str(charge.pk))
    assert event.summary["details"]["billing_mode"] == "card" and event.summary["details"]["credits"] == 1234

    with pytest.raises(RuntimeError), transaction.atomic():
        charge_authorize(org=card, credits=99, reference="ref-2")
        raise RuntimeError("something after the hold fails")
    assert AuditEvent.objects.filter(org=card, action__startswith="money.").count() == 1


def test_studies_quotations_and_decisions_are_audited_with_who_decided(
    org, operator_user, admin_user, staff_user
):
    sensor_catalog_seed()
    order = make_tasking_request(org, operator_user)
    study = make_study(order, staff_user)
    upload = AuditEvent.objects.get(action="support.study_upload")
    assert (upload.actor, upload.org, upload.target_id) == (staff_user, org, str(study.pk))
    assert upload.summary["details"]["options"] == study.options.count()

    option = study.options.get(price_credits__isnull=True)
    feasibility_decide(org=org, actor=admin_user, study_id=study.id, option_id=option.id)
    decided = AuditEvent.objects.get(action="decision.feasibility.accepted")
    assert (decided.actor, decided.org, decided.target_id) == (admin_user, org, str(study.pk))
    assert decided.summary["before"] == {"decision": "PENDING"}

    quotation = make_quotation(order, staff_user)
    quoted = AuditEvent.objects.get(action="support.quotation_upload")
    assert quoted.summary["details"]["credits"] == quotation.credits and quoted.actor == staff_user

    quotation_decide(org=org, actor=admin_user, quotation_id=quotation.id, decision="ACCEPTED")
    accepted = AuditEvent.objects.get(action="decision.quotation.accepted")
    assert (accepted.actor, accepted.target_id) == (admin_user, str(quotation.pk))
    # Accepting the quotation reserved its price: that movement is in the trail too.
    assert AuditEvent.objects.filter(org=org, action="money.reserve").count() == 1


def test_policies_approval_requests_and_approvals_are_audited(
    org, admin_user, operator_user, api_operator, api_admin, sydney_captures
):
    price = archive_quote(captures=[{"id": "SYD-A"}]).total_credits
    spend_policy_update(org=org, actor=admin_user, approval_threshold_credits=price - 1)
    policy = AuditEvent.objects.get(action="policy.update")
    assert policy.actor == admin_user and policy.summary["before"]["approval_threshold_credits"] is None
    assert policy.summary["after"]["approval_threshold_credits"] == price - 1

    order_id = api_operator.post("orders.archive.place", place_body("SYD-A")).json()["id"]
    approval = SpendApproval.objects.get(order_id=order_id)
    asked = AuditEvent.objects.get(action="approval.request")
    assert (asked.actor, asked.target_id, asked.summary["details"]["credits"]) == (
        operator_user,
        str(approval.pk),
        price,
    )
    ok = api_admin.post("orders.approvals.decide", {"approval_id": str(approval.pk), "decision": "ACCEPTED"})
    assert ok.status_code == 200, ok.content
    approved = AuditEvent.objects.get(action__startswith="decision.", target_id=str(approval.pk))
    assert approved.action.endswith(".accepted") and approved.actor == admin_user


def test_a_deletion_in_the_django_admin_is_audited(client, django_user_model):
    from orders.catalog.models import DataProduct

    superuser = django_user_model.objects.create_superuser(email="root@example.test", password="x-long-pw-1")
    product = make_product(pid="doomed-product")
    client.force_login(superuser)
    response = client.post(
        "/admin/orders/dataproduct/",
        {"action": "delete_selected", "_selected_action": [str(product.pk)], "post": "yes"},
    )
    assert response.status_code == 302, response.content[:500]
    assert not DataProduct.objects.filter(pk=product.pk).exists()
    event = AuditEvent.objects.get(action="admin.delete")
    assert (event.actor, event.target_id, event.summary["details"]["model"]) == (
        superuser,
        str(product.pk),
        "orders.dataproduct",
    )


# Admins that audit in their own save_model (user.add/change, membership.set) instead.
OWN_AUDIT = {"UserAdmin", "MembershipAdmin"}


def test_every_writable_admin_is_audited():
    unaudited = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not isinstance(model_admin, ReadOnlyAdmin | AuditedAdmin)
        and type(model_admin).__name__ not in OWN_AUDIT
    ]
    assert unaudited == []


def test_activity_filters_by_family_without_scanning_the_trail(client, placed_order, admin_user, org):
    other = make_org(name="Elsewhere", credits=5000)  # its opening top-up is audited for it alone
    assert AuditEvent.objects.filter(org=other).exists()
    client.force_login(admin_user)
    with CaptureQueriesContext(transaction.get_connection()) as queries:
        page = client.get("/settings/activity/", {"action": "money"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "money.reserve" in body and "support." not in body
    assert "Money movements" in body and "Decisions" in body
    # Read as a person reads it: the balance before and after, formatted, not a dict.
    assert f"reserved: 0 → {placed_order.charge.authorized_credits:,}" in body and "{'" not in body
    assert not any("DISTINCT" in q["sql"] for q in queries.captured_queries)
    rows = body.count("<code>money.")
    assert rows == AuditEvent.objects.filter(org=org, action__startswith="money.").count()
