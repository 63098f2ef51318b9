"""Real threads, real transactions: the wallet row lock and the idempotency claim under contention."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from geopera_web.billing.models import Charge, LedgerEntry, Wallet
from orders.cart.pricing import archive_quote
from orders.models import Order
from tests.conftest import caller_for_user
from tests.factories import make_org, make_user
from tests.orders.helpers import place_body

pytestmark = pytest.mark.django_db(transaction=True)


def _run_threads(n: int, fn) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.fixture
def slow_provider(settings):
    settings.SIMULATED_PROVIDER = {"ARCHIVE_DELAY_SECONDS": 3600, "ARCHIVE_FAILURE_RATE": 0.0, "SEED": 7}


def test_concurrent_placements_never_overdraw_the_wallet(sydney_captures, slow_provider):
    price = archive_quote(captures=[{"id": "SYD-A"}]).total_credits
    org = make_org(name="Contended Org", credits=3 * price + price - 1)
    caller = caller_for_user(make_user(org=org, role="operator"), org)

    def place(i: int) -> int:
        client = Client()
        return client.post(
            "/v1/op/orders.archive.place",
            data=place_body("SYD-A"),
            content_type="application/json",
            headers={**caller.headers, "Idempotency-Key": f"k-{i}"},
        ).status_code

    statuses = _run_threads(8, place)
    assert sorted(statuses) == [202] * 3 + [402] * 5
    wallet = Wallet.objects.get(org=org)
    assert wallet.available_credits == price - 1
    assert wallet.reserved_credits == 3 * price
    assert Order.objects.filter(org=org).count() == 3
    assert LedgerEntry.objects.filter(org=org, kind="reserve").count() == 3


def test_concurrent_requests_with_one_key_make_one_order(sydney_captures, slow_provider):
    org = make_org(name="Double Click Org", credits=1_000_000)
    caller = caller_for_user(make_user(org=org, role="operator"), org)

    def place(i: int):
        response = Client().post(
            "/v1/op/orders.archive.place",
            data=place_body("SYD-A", "SYD-B"),
            content_type="application/json",
            headers={**caller.headers, "Idempotency-Key": "one-key"},
        )
        return response.status_code, response.content

    results = _run_threads(6, place)
    assert {s for s, _ in results} <= {202, 409}
    ok = {body for s, body in results if s == 202}
    assert len(ok) == 1  # every success is the same bytes (a replay)
    assert Order.objects.filter(org=org).count() == 1
    assert Charge.objects.filter(org=org).count() == 1
    final = Client().post(
        "/v1/op/orders.archive.place",
        data=place_body("SYD-A", "SYD-B"),
        content_type="application/json",
        headers={**caller.headers, "Idempotency-Key": "one-key"},
    )
    assert final.status_code == 202 and final.content in ok


def test_two_tabs_placing_one_cart_with_two_keys_make_one_order(sydney_captures, slow_provider, monkeypatch):
    """Two tabs, each with the key its panel was rendered with, press Place at the same instant."""
    import time

    from orders.cart import services as cart_services

    org = make_org(name="Two Tabs Org", credits=1_000_000)
    user = make_user(org=org, role="operator")
    setup = Client()
    setup.force_login(user)
    for scene in ("SYD-A", "SYD-B"):
        assert setup.post("/archive/cart/toggle/", {"capture_id": scene}).status_code in (200, 302)
    # Pricing takes a moment, so both placements are under way before either commits.
    real_quote = cart_services.archive_quote

    def slow_quote(**kwargs):
        time.sleep(0.5)
        return real_quote(**kwargs)

    monkeypatch.setattr(cart_services, "archive_quote", slow_quote)

    def place(i: int) -> int:
        tab = Client()
        tab.force_login(user)
        return tab.post("/archive/cart/place/", {"idempotency_key": f"tab-{i}"}).status_code

    statuses = _run_threads(2, place)
    assert Order.objects.filter(org=org).count() == 1, statuses
    assert Charge.objects.filter(org=org).count() == 1
    assert LedgerEntry.objects.filter(org=org, kind="reserve").count() == 1
    assert sorted(statuses) == [302, 400]  # the winner is redirected to its order; the other is told
