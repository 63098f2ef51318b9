from __future__ import annotations

import pytest

from geopera_web.billing.gateways import TestGateway
from geopera_web.billing.models import Charge, LedgerEntry
from geopera_web.billing.selectors import invoice_month_total, ledger_list, wallet_get
from geopera_web.billing.services import (
    charge_authorize,
    charge_capture,
    charge_refund,
    charge_release,
    credits_to_aud,
    wallet_adjust,
    wallet_topup,
)
from geopera_web.errors import ApplicationError, Conflict, PaymentRequired
from tests.concurrency import run_concurrently
from tests.factories import make_org

pytestmark = pytest.mark.django_db


def _balances(org):
    w = wallet_get(org=org)
    return w.available_credits, w.reserved_credits


def test_reserve_capture_refund_moves_credits_and_records_every_step(org):
    charge = charge_authorize(org=org, credits=30_000, reference="order:1")
    assert _balances(org) == (70_000, 30_000)
    charge_capture(charge_id=charge.id, credits=25_000)
    assert _balances(org) == (75_000, 0)  # the unused 5,000 went back
    charge_refund(charge_id=charge.id, credits=10_000, memo="pro-rata")
    assert _balances(org) == (85_000, 0)
    kinds = list(ledger_list(org=org).order_by("id").values_list("kind", "available_delta", "reserved_delta"))
    assert kinds == [
        ("topup", 100_000, 0),
        ("reserve", -30_000, 30_000),
        ("capture", 0, -25_000),
        ("release", 5_000, -5_000),
        ("refund", 10_000, 0),
    ]
    last = ledger_list(org=org).first()
    assert (last.available_after, last.reserved_after) == (85_000, 0)


def test_release_returns_the_whole_reservation_once(org):
    charge = charge_authorize(org=org, credits=1_000, reference="order:2")
    charge_release(charge_id=charge.id)
    charge_release(charge_id=charge.id)  # a retried task must not release twice
    assert _balances(org) == (100_000, 0)
    assert LedgerEntry.objects.filter(org=org, kind="release").count() == 1


def test_capture_after_release_is_a_conflict(org):
    charge = charge_authorize(org=org, credits=1_000, reference="order:3")
    charge_release(charge_id=charge.id)
    with pytest.raises(Conflict) as info:
        charge_capture(charge_id=charge.id)
    assert info.value.extra["current_status"] == "released"


def test_refund_beyond_captured_is_refused(org):
    charge = charge_authorize(org=org, credits=1_000, reference="order:4")
    charge_capture(charge_id=charge.id)
    with pytest.raises(ApplicationError):
        charge_refund(charge_id=charge.id, credits=1_001)
    assert _balances(org) == (99_000, 0)


def test_insufficient_credits_is_402_and_moves_nothing(org):
    with pytest.raises(PaymentRequired) as info:
        charge_authorize(org=org, credits=100_001, reference="order:5")
    assert info.value.status == 402
    assert _balances(org) == (100_000, 0)
    assert not Charge.objects.filter(org=org).exists()


def test_adjustment_never_goes_negative_and_topup_must_be_positive(org):
    with pytest.raises(ApplicationError):
        wallet_adjust(org=org, credits=-100_001, actor=None, memo="oops")
    with pytest.raises(ApplicationError):
        wallet_topup(org=org, credits=0)
    wallet_adjust(org=org, credits=-1, actor=None, memo="correction")
    assert _balances(org) == (99_999, 0)


def test_ledger_entries_are_immutable(org):
    entry = ledger_list(org=org).first()
    entry.memo = "changed"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_card_mode_holds_at_the_gateway_and_declines_are_402():
    org = make_org(billing_mode="card")
    with pytest.raises(PaymentRequired) as info:
        charge_authorize(org=org, credits=500, reference="order:c0")
    assert info.value.slug == "no-payment-method"
    org.payment_method = TestGateway.DECLINED
    with pytest.raises(PaymentRequired) as info:
        charge_authorize(org=org, credits=500, reference="order:c1")
    assert info.value.slug == "card-declined"
    org.payment_method = "pm_card_visa"
    charge = charge_authorize(org=org, credits=500, reference="order:c2")
    assert charge.gateway_ref.startswith("hold_") and charge.billing_mode == "card"
    assert _balances(org) == (0, 0)  # no wallet movement for card holds


def test_three_d_secure_needs_the_challenge_then_the_same_reference_succeeds():
    org = make_org(billing_mode="card")
    org.payment_method = TestGateway.THREE_DS
    with pytest.raises(PaymentRequired) as info:
        charge_authorize(org=org, credits=700, reference="order:3ds", idempotency_ref="idem-1")
    secret = info.value.extra["client_secret"]
    with pytest.raises(PaymentRequired) as again:
        charge_authorize(org=org, credits=700, reference="order:3ds", idempotency_ref="idem-1")
    assert again.value.extra["client_secret"] == secret  # same pending challenge
    assert TestGateway.complete_challenge(secret)
    charge = charge_authorize(org=org, credits=700, reference="order:3ds", idempotency_ref="idem-1")
    assert charge.status == Charge.Status.AUTHORIZED


def test_enterprise_accrues_to_the_month_invoice():
    org = make_org(billing_mode="enterprise")
    a = charge_authorize(org=org, credits=1_200, reference="order:e1")
    b = charge_authorize(org=org, credits=800, reference="order:e2")
    charge_capture(charge_id=a.id)
    charge_release(charge_id=b.id)
    charge_refund(charge_id=a.id, credits=200)
    assert invoice_month_total(org=org) == 1_000
    assert _balances(org) == (0, 0)


def test_aud_is_derived_from_integer_credits():
    assert credits_to_aud(4200) == 42.0
    assert credits_to_aud(1) == 0.01


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_overdraw():
    org = make_org(name="Concurrent Org", credits=10_000)
    results = run_concurrently(lambda: charge_authorize(org=org, credits=1_000, reference="race"), threads=12)
    assert sum(isinstance(r, Charge) for r in results) == 10
    assert sum(isinstance(r, PaymentRequired) for r in results) == 2
    assert _balances(org) == (0, 10_000)
    assert Charge.objects.filter(org=org).count() == 10
    assert LedgerEntry.objects.filter(org=org, kind="reserve").count() == 10
