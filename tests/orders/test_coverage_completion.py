"""Recomputation (idempotent, queued on commit) and the completion rules: fulfilled at target,
partially fulfilled at window end with a pro-rata refund (ledger + event), failed when nothing came."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from geopera_web.billing.models import LedgerEntry
from geopera_web.billing.selectors import wallet_get
from orders.coverage.services import coverage_recompute, order_coverage_settle
from orders.models import CoverageSnapshot, Order
from orders.tasks import recompute_coverage
from tests.factories import deliver, make_tasking_order
from tests.on_commit import besides_outbox

pytestmark = pytest.mark.django_db

A = (151.0, -33.0, 151.1, -32.9)
B = (151.3, -33.0, 151.4, -32.9)
PAST = (timezone.now() - timedelta(hours=1)).isoformat()


def test_recompute_twice_writes_one_snapshot_per_group(org):
    order = make_tasking_order(org=org, aois=[A, B])
    deliver(order, order.groups.get(position=0), [(150.9, -33.1, 151.05, -32.8)], ref="b1")
    assert recompute_coverage(str(order.pk)) == 2
    assert recompute_coverage(str(order.pk)) == 0
    assert CoverageSnapshot.objects.filter(order=order).count() == 2
    # A new delivery touching only AOI B changes only B's history.
    deliver(order, order.groups.get(position=1), [(151.2, -33.1, 151.35, -32.8)], ref="b2")
    assert recompute_coverage(str(order.pk)) == 1
    assert CoverageSnapshot.objects.filter(order=order, group__position=1).count() == 2


def test_a_delivery_queues_a_recompute_on_commit(org, django_capture_on_commit_callbacks):
    order = make_tasking_order(org=org, aois=[A])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        deliver(order, order.groups.get(), [(150.9, -33.1, 151.05, -32.8)], ref="b1")
    assert len(besides_outbox(callbacks)) == 1
    snap = CoverageSnapshot.objects.get(order=order)
    assert snap.percent == pytest.approx(50, abs=0.5) and snap.captures_delivered == 1


def test_every_aoi_at_target_fulfils_the_order_and_captures_the_charge(org):
    order = make_tasking_order(org=org, aois=[A, B], params={"coverageTarget": 45})
    deliver(order, order.groups.get(position=0), [(150.9, -33.1, 151.05, -32.8)], ref="b1")
    coverage_recompute(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.ACTIVE  # B has nothing yet
    deliver(order, order.groups.get(position=1), [(151.2, -33.1, 151.5, -32.8)], ref="b2")
    coverage_recompute(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.charge.status == "captured" and order.charge.captured_credits == 20_000
    assert order.events.filter(kind="status_changed", to_status="fulfilled").count() == 1


def test_window_end_below_target_is_partial_with_a_pro_rata_refund(org):
    order = make_tasking_order(org=org, aois=[A, B], credits=[10_000, 7_777], params={"acquisitionEnd": PAST})
    deliver(order, order.groups.get(position=0), [(150.9, -33.1, 151.063, -32.8)], ref="b1")
    deliver(order, order.groups.get(position=1), [(151.2, -33.1, 151.5, -32.8)], ref="b2")
    coverage_recompute(order_id=order.pk)
    available_before = wallet_get(org=org).available_credits
    snaps = {s.group.position: s for s in CoverageSnapshot.objects.filter(order=order)}
    # round-down(credits × remainder share), the share taken to the coverage precision (1e-6)
    expected = math.floor(10_000 * round(snaps[0].remainder_km2 / snaps[0].requested_km2, 6)) + math.floor(
        7_777 * round(snaps[1].remainder_km2 / snaps[1].requested_km2, 6)
    )
    assert 3_000 < expected < 4_000  # ~37% of A remains, none of B

    assert order_coverage_settle(order_id=order.pk) is not None
    order.refresh_from_db()
    order.charge.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_FULFILLED
    assert order.charge.captured_credits == 17_777
    assert order.charge.refunded_credits == expected
    refund = LedgerEntry.objects.get(charge=order.charge, kind=LedgerEntry.Kind.REFUND)
    assert refund.available_delta == expected and "Pro-rata refund" in refund.memo
    assert LedgerEntry.objects.filter(charge=order.charge, kind=LedgerEntry.Kind.CAPTURE).count() == 1
    assert wallet_get(org=org).available_credits == available_before + expected
    event = order.events.get(kind="coverage_refund")
    assert event.data["refundCredits"] == expected
    assert [g["refundCredits"] for g in event.data["groups"]] == [expected, 0]
    # Settling again (the next beat) does nothing: one refund, ever.
    assert order_coverage_settle(order_id=order.pk) is None
    assert LedgerEntry.objects.filter(charge=order.charge, kind=LedgerEntry.Kind.REFUND).count() == 1


def test_pro_rata_refund_splits_what_was_charged_not_the_list_price(org):
    # List prices 30,000 + 10,000, but the org accepted a quotation of 20,000: refunds come out of
    # the 20,000, weighted by each AOI's share of the list price.
    order = make_tasking_order(
        org=org, aois=[A, B], credits=[30_000, 10_000], charged=20_000, params={"acquisitionEnd": PAST}
    )
    deliver(order, order.groups.get(position=1), [(151.2, -33.1, 151.5, -32.8)], ref="b1")  # B fully
    coverage_recompute(order_id=order.pk)
    assert order_coverage_settle(order_id=order.pk) is not None
    order.charge.refresh_from_db()
    assert order.charge.captured_credits == 20_000
    assert order.charge.refunded_credits == 15_000  # all of A's 3/4 share; nothing of B's
    assert [g["credits"] for g in order.events.get(kind="coverage_refund").data["groups"]] == [15_000, 5_000]


def test_window_end_at_target_is_fulfilled_without_refund(org):
    order = make_tasking_order(org=org, aois=[A], params={"acquisitionEnd": PAST})
    deliver(order, order.groups.get(), [(150.9, -33.1, 151.2, -32.8)], ref="b1")
    coverage_recompute(order_id=order.pk)  # fulfils at once: 100% ≥ 95%
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order_coverage_settle(order_id=order.pk) is None
    assert not LedgerEntry.objects.filter(charge=order.charge, kind=LedgerEntry.Kind.REFUND).exists()


def test_window_not_ended_leaves_the_order_active(org):
    order = make_tasking_order(org=org, aois=[A])
    deliver(order, order.groups.get(), [(150.9, -33.1, 151.05, -32.8)], ref="b1")
    coverage_recompute(order_id=order.pk)
    assert order_coverage_settle(order_id=order.pk) is None
    order.refresh_from_db()
    assert order.status == Order.Status.ACTIVE


def test_window_end_with_nothing_delivered_fails_the_order_and_releases_the_charge(org):
    order = make_tasking_order(org=org, aois=[A], params={"acquisitionEnd": PAST})
    available_before = wallet_get(org=org).available_credits
    coverage_recompute(order_id=order.pk)
    order_coverage_settle(order_id=order.pk)
    order.refresh_from_db()
    order.charge.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert order.charge.status == "released"
    assert wallet_get(org=org).available_credits == available_before + 10_000
