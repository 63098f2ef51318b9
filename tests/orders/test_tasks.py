from __future__ import annotations

import pytest

from geopera_web.billing.models import Charge, LedgerEntry, Wallet
from orders.fulfilment.providers import SimulatedProvider
from orders.models import Order
from orders.tasks import fulfil_archive_order, poll_provider_orders

pytestmark = pytest.mark.django_db


def test_fulfilment_captures_payment_and_running_it_twice_is_harmless(placed_order, org):
    fulfil_archive_order.delay(str(placed_order.pk))
    fulfil_archive_order.delay(str(placed_order.pk))
    placed_order.refresh_from_db()
    assert placed_order.status == "fulfilled"
    assert placed_order.provider_ref.startswith("sim-")
    assert set(placed_order.metadata["deliveries"]) == {"SYD-A", "SYD-B"}
    assert Charge.objects.get(pk=placed_order.charge_id).status == Charge.Status.CAPTURED
    assert LedgerEntry.objects.filter(org=org, kind="capture").count() == 1
    wallet = Wallet.objects.get(org=org)
    assert wallet.reserved_credits == 0
    assert wallet.available_credits == 100_000 - placed_order.total_credits
    kinds = list(placed_order.events.values_list("kind", "to_status"))
    assert kinds.count(("status_changed", "fulfilled")) == 1
    assert ("provider_submitted", "") in kinds


def test_failed_fulfilment_releases_reservation(placed_order, org, settings):
    settings.SIMULATED_PROVIDER = {**settings.SIMULATED_PROVIDER, "ARCHIVE_FAILURE_RATE": 1.0}
    fulfil_archive_order.delay(str(placed_order.pk))
    fulfil_archive_order.delay(str(placed_order.pk))
    placed_order.refresh_from_db()
    assert placed_order.status == "failed"
    assert Charge.objects.get(pk=placed_order.charge_id).status == Charge.Status.RELEASED
    assert Wallet.objects.get(org=org).available_credits == 100_000
    assert LedgerEntry.objects.filter(org=org, kind="release").count() == 1


def test_provider_delay_keeps_order_processing_until_due(placed_order, settings):
    settings.SIMULATED_PROVIDER = {**settings.SIMULATED_PROVIDER, "ARCHIVE_DELAY_SECONDS": 3600}
    assert poll_provider_orders() == 1
    placed_order.refresh_from_db()
    assert placed_order.status == "processing" and placed_order.provider_ref
    settings.SIMULATED_PROVIDER = {**settings.SIMULATED_PROVIDER, "ARCHIVE_DELAY_SECONDS": 0}
    poll_provider_orders()
    placed_order.refresh_from_db()
    assert placed_order.status == "fulfilled"
    assert poll_provider_orders() == 0


def test_cancelled_order_is_not_fulfilled_later(placed_order, api_operator):
    api_operator.post("orders.cancel", {"order_id": str(placed_order.pk)})
    fulfil_archive_order.delay(str(placed_order.pk))
    placed_order.refresh_from_db()
    assert placed_order.status == "cancelled"
    assert Charge.objects.get(pk=placed_order.charge_id).status == Charge.Status.RELEASED


def test_simulated_outcome_is_deterministic_per_order_and_seed(placed_order, settings):
    settings.SIMULATED_PROVIDER = {"ARCHIVE_DELAY_SECONDS": 0, "ARCHIVE_FAILURE_RATE": 0.5, "SEED": 1}
    provider = SimulatedProvider()
    first = [provider.will_fail(placed_order) for _ in range(5)]
    assert len(set(first)) == 1
    fates = set()
    for seed in range(40):
        settings.SIMULATED_PROVIDER = {"ARCHIVE_DELAY_SECONDS": 0, "ARCHIVE_FAILURE_RATE": 0.5, "SEED": seed}
        fates.add(provider.will_fail(placed_order))
    assert fates == {True, False}


def test_fulfil_task_for_unknown_order_is_a_no_op(db):
    import uuid

    assert fulfil_archive_order.delay(str(uuid.uuid4())).get() == "missing"
    assert not Order.objects.exists()
