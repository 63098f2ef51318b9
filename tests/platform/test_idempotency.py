from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from geopera_web.api.idempotency import purge_expired
from geopera_web.api.models import IdempotencyRecord
from geopera_web.billing.models import Charge
from geopera_web.billing.selectors import wallet_get
from tests.concurrency import run_concurrently
from tests.conftest import caller_for_user
from tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db


def test_identical_retry_replays_the_first_response_byte_for_byte(api_operator, org):
    first = api_operator.post("test.spend", {"credits": 250}, headers={"Idempotency-Key": "k-1"})
    second = api_operator.post("test.spend", {"credits": 250}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 202
    assert first.content == second.content
    assert second["Idempotent-Replayed"] == "true"
    assert Charge.objects.filter(org=org).count() == 1
    assert wallet_get(org=org).reserved_credits == 250


def test_both_routes_share_one_claim(api_operator, org):
    a = api_operator.post("test.spend", {"credits": 5}, headers={"Idempotency-Key": "shared"})
    b = api_operator.post("test.spend", {"credits": 5}, headers={"Idempotency-Key": "shared"}, route=True)
    assert a.content == b.content
    assert Charge.objects.filter(org=org).count() == 1


def test_same_key_with_different_body_is_409(api_operator, org):
    api_operator.post("test.spend", {"credits": 5}, headers={"Idempotency-Key": "k-2"})
    response = api_operator.post("test.spend", {"credits": 6}, headers={"Idempotency-Key": "k-2"})
    assert response.status_code == 409
    assert response.json()["type"].endswith("idempotency-key-reused")
    assert Charge.objects.filter(org=org).count() == 1


def test_key_still_in_flight_is_409(api_operator, org):
    from geopera_web.api.idempotency import request_fingerprint

    IdempotencyRecord.objects.create(
        org=org,
        operation="test.spend",
        key="k-3",
        request_hash=request_fingerprint({"credits": 5}),
        expires_at=timezone.now() + dt.timedelta(hours=24),
    )
    response = api_operator.post("test.spend", {"credits": 5}, headers={"Idempotency-Key": "k-3"})
    assert response.status_code == 409
    assert response.json()["type"].endswith("idempotency-key-in-flight")
    assert not Charge.objects.filter(org=org).exists()


def test_stale_in_flight_claim_is_taken_over(api_operator, org, settings):
    from geopera_web.api.idempotency import request_fingerprint

    record = IdempotencyRecord.objects.create(
        org=org,
        operation="test.spend",
        key="k-stale",
        request_hash=request_fingerprint({"credits": 5}),
        expires_at=timezone.now() + dt.timedelta(hours=24),
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    response = api_operator.post("test.spend", {"credits": 5}, headers={"Idempotency-Key": "k-stale"})
    assert response.status_code == 202
    assert Charge.objects.filter(org=org).count() == 1


def test_refusal_is_not_stored_so_the_same_key_works_after_fixing_the_cause(api_operator, org):
    from geopera_web.billing.services import wallet_topup

    short = api_operator.post("test.spend", {"credits": 150_000}, headers={"Idempotency-Key": "k-4"})
    assert short.status_code == 402
    assert not IdempotencyRecord.objects.filter(key="k-4").exists()
    wallet_topup(org=org, credits=100_000)
    ok = api_operator.post("test.spend", {"credits": 150_000}, headers={"Idempotency-Key": "k-4"})
    assert ok.status_code == 202
    assert wallet_get(org=org).available_credits == 50_000


def test_claims_are_independent_across_orgs_and_operations(api_operator, org, other_org):
    other = caller_for_user(make_user(org=other_org, role="operator"), other_org)
    a = api_operator.post("test.spend", {"credits": 5}, headers={"Idempotency-Key": "same"})
    b = other.post("test.spend", {"credits": 5}, headers={"Idempotency-Key": "same"})
    assert a.status_code == b.status_code == 202
    assert a.json()["chargeId"] != b.json()["chargeId"]
    assert Charge.objects.filter(org=org).count() == 1 and Charge.objects.filter(org=other_org).count() == 1


def test_expired_claims_are_purged_and_the_key_can_be_used_again(api_operator, org):
    api_operator.post("test.spend", {"credits": 5}, headers={"Idempotency-Key": "old"})
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert purge_expired() == 1
    again = api_operator.post("test.spend", {"credits": 5}, headers={"Idempotency-Key": "old"})
    assert again.status_code == 202 and "Idempotent-Replayed" not in again
    assert Charge.objects.filter(org=org).count() == 2


def test_invalid_key_is_400(api_operator):
    response = api_operator.post("test.spend", {"credits": 5}, headers={"Idempotency-Key": "x" * 300})
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_produce_one_effect():
    org = make_org(name="Race Org", credits=10_000)
    caller = caller_for_user(make_user(org=org, role="operator"), org)
    results = run_concurrently(
        lambda: caller.post("test.spend", {"credits": 1000}, headers={"Idempotency-Key": "race"}), threads=8
    )
    assert Charge.objects.filter(org=org).count() == 1
    assert wallet_get(org=org).available_credits == 9_000
    assert {r.status_code for r in results} <= {202, 409}
    successes = {r.content for r in results if r.status_code == 202}
    assert len(successes) == 1  # every success is the same (replayed) response
