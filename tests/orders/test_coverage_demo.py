"""The coverage demo seeder: idempotent, valid charges, the promised shapes of coverage."""

from __future__ import annotations

import pytest

from geopera_web.billing.models import LedgerEntry
from geopera_web.demo import DemoWorld, seeders
from orders.demo import COVERAGE_DEMO, seed_coverage
from orders.models import CoverageSnapshot, DeliveredCapture, Order
from tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db


def test_coverage_demo_is_registered_idempotent_and_shows_partial_full_and_refunded_orders():
    assert any(name == "coverage" and order == 60 for order, name, _ in seeders())
    acme = make_org(name="Acme Demo", credits=100_000)
    world = DemoWorld(
        orgs={"acme": acme}, users={"acme_admin": make_user(org=acme, role="admin")}, log=lambda _: None
    )
    seed_coverage(world)
    counts = (Order.objects.count(), DeliveredCapture.objects.count(), CoverageSnapshot.objects.count())
    seed_coverage(world)
    assert (
        Order.objects.count(),
        DeliveredCapture.objects.count(),
        CoverageSnapshot.objects.count(),
    ) == counts
    assert counts[0] == len(COVERAGE_DEMO)

    orders = {o.metadata["demo"]: o for o in Order.objects.filter(org=acme)}
    statuses = {k: o.status for k, o in orders.items()}
    assert statuses == {
        "coverage-vintage": "active",
        "coverage-botany": "active",
        "coverage-barossa": "fulfilled",
        "coverage-downs": "partially_fulfilled",
        "coverage-mudgee": "cancelled",
        "coverage-transect": "active",
    }
    # The transect has more deliveries than the order page lists at once: the demo shows paging.
    from django.conf import settings

    assert orders["coverage-transect"].delivered_captures.count() > settings.ORDER_PAGE_MAX_ROWS
    for order in orders.values():
        assert order.charge is not None and order.charge.org_id == acme.pk
        assert (
            order.charge.authorized_credits
            == order.total_credits
            == sum(g.credits for g in order.groups.all())
        )
    vintage = {g.name: g.coverage_snapshots.latest() for g in orders["coverage-vintage"].groups.all()}
    assert vintage["Hunter Valley vineyards (Pokolbin)"].percent > 99.9
    assert 50 < vintage["Murrumbidgee Irrigation Area (Griffith)"].percent < 75
    # History over several days, not one moment.
    times = CoverageSnapshot.objects.filter(order=orders["coverage-vintage"]).values_list(
        "computed_at", flat=True
    )
    assert (max(times) - min(times)).days >= 3
    downs = orders["coverage-downs"]
    refund = downs.events.get(kind="coverage_refund").data["refundCredits"]
    assert refund > 0
    assert LedgerEntry.objects.get(charge=downs.charge, kind="refund").available_delta == refund
    # Cancelled part-way: the delivered share of Mudgee charged, Rylstone (nothing) released.
    mudgee = orders["coverage-mudgee"]
    settlement = mudgee.events.get(kind="cancel_settlement").data
    assert 0 < settlement["chargedCredits"] < mudgee.total_credits
    assert [g["chargeCredits"] > 0 for g in settlement["groups"]] == [True, False]
    assert mudgee.charge.status == "captured"
    assert mudgee.charge.captured_credits == settlement["chargedCredits"]
