"""billing.credits.balance / billing.credits.transactions / billing.invoices.list: the wallet and
ledger selectors behind the Billing page, its rules (movements for admins), tenancy, paging."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from geopera_web.billing.services import charge_authorize, charge_capture, charge_refund, wallet_topup
from tests.conftest import caller_for_key, caller_for_user
from tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db


def test_every_member_reads_the_balance_of_their_own_org(api_viewer, api_other, org):
    charge_authorize(org=org, credits=2_500, reference="order:x")
    mine = api_viewer.post("billing.credits.balance", {})
    assert mine.status_code == 200
    assert mine.json() | {"updated_at": None} == {
        "organization_id": str(org.pk),
        "billing_mode": "credit",
        "available_credits": 97_500,
        "reserved_credits": 2_500,
        "total_credits": 100_000,
        "available_aud": 975.0,
        "reserved_aud": 25.0,
        "invoice_month_credits": None,
        "updated_at": None,
    }
    theirs = api_other.post("billing.credits.balance", {}).json()
    assert theirs["organization_id"] != str(org.pk) and theirs["reserved_credits"] == 0


def test_ledger_pages_newest_first_and_filters_by_reason(api_admin, org, admin_user):
    for credits in (100, 200, 300):
        wallet_topup(org=org, credits=credits, actor=admin_user, memo=f"top {credits}")
    charge = charge_authorize(org=org, credits=1_000, reference="order:11111111-1111-1111-1111-111111111111")
    charge_capture(charge_id=charge.pk, credits=600)  # capture + release of the rest

    page = api_admin.post("billing.credits.transactions", {"limit": 2}).json()
    assert page["total"] == 7  # opening balance, 3 top-ups, reserve, capture, release
    assert [t["reason"] for t in page["transactions"]] == ["release", "capture"]
    assert page["next_offset"] == 2
    assert page["transactions"][0]["order_id"] == "11111111-1111-1111-1111-111111111111"
    assert page["transactions"][0]["credits"] == 400 and page["transactions"][0]["reserved_delta"] == -400

    last = api_admin.post("billing.credits.transactions", {"limit": 2, "offset": 6}).json()
    assert last["next_offset"] is None and last["transactions"][-1]["memo"] == "Opening balance"

    topups = api_admin.post("billing.credits.transactions", {"reason": "topup"}).json()
    assert topups["total"] == 4 and {t["reason"] for t in topups["transactions"]} == {"topup"}
    assert topups["transactions"][0]["actor"] == admin_user.email


def test_ledger_refuses_bad_paging_and_unknown_reasons_with_422(api_admin):
    assert api_admin.post("billing.credits.transactions", {"reason": "gift"}).status_code == 422
    assert api_admin.post("billing.credits.transactions", {"limit": 0}).status_code == 422
    assert api_admin.post("billing.credits.transactions", {"limit": 201}).status_code == 422
    assert api_admin.post("billing.credits.transactions", {"offset": -1}).status_code == 422


@pytest.mark.parametrize("who", ["api_operator", "api_viewer"])
@pytest.mark.parametrize("op", ["billing.credits.transactions", "billing.invoices.list"])
def test_movements_and_invoices_are_for_admins_as_on_the_billing_page(request, who, op):
    assert request.getfixturevalue(who).post(op, {}).status_code == 403


def test_an_api_key_reads_money_only_with_billing_read(org):
    with_scope = caller_for_key(org, scopes=["billing:read"])
    assert with_scope.post("billing.credits.transactions", {}).status_code == 200
    assert with_scope.post("billing.credits.balance", {}).status_code == 200
    without = caller_for_key(org, scopes=["orders:read"])
    refused = without.post("billing.credits.balance", {})
    assert refused.status_code == 403 and refused.json()["required_scope"] == "billing:read"


def test_the_ledger_never_shows_another_orgs_entries(api_other, org):
    wallet_topup(org=org, credits=5, memo="secret top-up")
    body = api_other.post("billing.credits.transactions", {"limit": 200}).json()
    assert all(t["memo"] != "secret top-up" for t in body["transactions"])


def test_enterprise_invoices_group_charges_by_month():
    ent = make_org(name="Enterprise Co", billing_mode="enterprise")
    admin = make_user(org=ent, role="admin")
    held = charge_authorize(org=ent, credits=700, reference="order:a")
    settled = charge_authorize(org=ent, credits=1_000, reference="order:b")
    charge_capture(charge_id=settled.pk)
    charge_refund(charge_id=settled.pk, credits=100)
    released = charge_authorize(org=ent, credits=50, reference="order:c")
    from geopera_web.billing.services import charge_release

    charge_release(charge_id=released.pk)
    assert held.status == "authorized"

    caller = caller_for_user(admin, ent)
    body = caller.post("billing.invoices.list", {}).json()
    assert body["billing_mode"] == "enterprise" and len(body["invoices"]) == 1
    invoice = body["invoices"][0]
    assert invoice["status"] == "open" and invoice["charge_count"] == 3
    assert (invoice["held_credits"], invoice["settled_credits"], invoice["total_credits"]) == (
        700,
        900,
        1_600,
    )
    balance = caller.post("billing.credits.balance", {}).json()
    assert balance["invoice_month_credits"] == 1_600  # the same figure as the invoice


def test_a_credit_org_has_no_invoices(api_admin):
    assert api_admin.post("billing.invoices.list", {}).json() == {"billing_mode": "credit", "invoices": []}


def test_ledger_query_count_does_not_grow_with_entries(api_admin, org, admin_user):
    api_admin.post("billing.credits.transactions", {})
    with CaptureQueriesContext(connection) as few:
        api_admin.post("billing.credits.transactions", {})
    for i in range(10):
        charge = charge_authorize(org=org, credits=10 + i, reference=f"order:{i}", actor=admin_user)
        charge_capture(charge_id=charge.pk)
    with CaptureQueriesContext(connection) as many:
        assert len(api_admin.post("billing.credits.transactions", {}).json()["transactions"]) == 21
    assert len(many.captured_queries) == len(few.captured_queries)


def test_invoices_query_count_does_not_grow_with_months_or_charges():
    import datetime as dt

    from geopera_web.billing.models import Charge

    ent = make_org(name="Enterprise Months", billing_mode="enterprise")
    caller = caller_for_user(make_user(org=ent, role="admin"), ent)
    charge_authorize(org=ent, credits=10, reference="order:first")
    caller.post("billing.invoices.list", {})
    with CaptureQueriesContext(connection) as one:
        caller.post("billing.invoices.list", {})
    for months_ago in range(1, 6):
        c = charge_authorize(org=ent, credits=100 * months_ago, reference=f"order:m{months_ago}")
        Charge.objects.filter(pk=c.pk).update(created_at=c.created_at - dt.timedelta(days=31 * months_ago))
    with CaptureQueriesContext(connection) as six:
        invoices = caller.post("billing.invoices.list", {}).json()["invoices"]
    assert len(invoices) == 6 and [i["status"] for i in invoices].count("open") == 1
    assert invoices == sorted(invoices, key=lambda i: i["period_start"], reverse=True)
    assert len(six.captured_queries) == len(one.captured_queries)
    assert len(caller.post("billing.invoices.list", {"limit": 2}).json()["invoices"]) == 2
