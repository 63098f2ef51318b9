"""Processes killed at the worst moment — one set of real processes: a broker and a cache
redis-server of our own, gunicorn and Celery workers, and no beat (so nothing below is recovered by
the periodic pollers or sweeps: what recovers it is the broker's redelivery, the task's own retry or
the client's retry).

"The worst moment" is made deterministic without any hook in the code: the test holds a row lock
(on the order, or on the wallet) in its own database connection, waits until the process under
test is blocked on it inside its transaction, then kills that process (or its database connection)
and releases the lock."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid

import httpx
import psycopg
import pytest

from geopera_web.billing.models import LedgerEntry, Wallet
from orders.models import DeliveryBatch, Order, OrderEvent
from tests.factories import make_priced_capture, make_product, place_body
from tests.faults.conftest import assert_ledger_matches_wallet
from tests.faults.procs import Stack, blocked_backends, conninfo, make_shop, redis_stack, row_locked, wait_for

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def stack(fault_tmp, test_db_name):
    # The simulated provider answers "not yet" for 3 s, so a fulfilment is a submit, then a
    # retry that stores the delivery and captures the money: the test blocks that retry.
    with redis_stack(
        fault_tmp,
        test_db_name,
        SIM_ARCHIVE_DELAY_SECONDS="3",
        IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS="2",
        LOG_FORMAT="json",
    ) as s:
        s.worker_proc = s.worker()
        s.web_proc, s.web_url = s.web()
        yield s


@pytest.fixture
def shop(fault_db):
    shop = make_shop(label="Kill", lon=150.0, lat=-30.0)
    return shop.org, shop.headers, shop.scenes


def _place(stack: Stack, headers: dict, scene: str, key: str | None = None) -> httpx.Response:
    return httpx.post(
        stack.web_url + "/v1/op/orders.archive.place",
        json=place_body(scene),
        headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
        timeout=60,
    )


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            parsed = json.loads(line)
            if isinstance(parsed, dict):
                lines.append(parsed)
    return lines


def _submitted(order_id: str) -> Order | None:
    order = Order.objects.get(pk=order_id)
    return order if order.provider_ref else None


def _fulfilled(order_id: str) -> Order | None:
    order = Order.objects.get(pk=order_id)
    return order if order.status == Order.Status.FULFILLED else None


def _assert_fulfilled_once(org, order_id: str) -> None:
    assert DeliveryBatch.objects.filter(order_id=order_id).count() == 1
    events = OrderEvent.objects.filter(order_id=order_id)
    assert events.filter(kind=OrderEvent.Kind.DELIVERY_RECEIVED).count() == 1
    assert events.filter(kind=OrderEvent.Kind.PROVIDER_SUBMITTED).count() == 1
    charge = Order.objects.get(pk=order_id).charge
    kinds = sorted(LedgerEntry.objects.filter(charge=charge).values_list("kind", flat=True))
    assert kinds == ["capture", "reserve"], kinds
    assert_ledger_matches_wallet(org)


def test_a_worker_sigkilled_mid_fulfilment_is_redelivered_and_fulfils_once(stack, shop):
    org, headers, scenes = shop
    placed = _place(stack, headers, scenes[0])
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["id"]
    wait_for(lambda: _submitted(order_id), timeout=30, what="submitted to the provider")

    with row_locked(Order, order_id) as lock:
        # The retry (due ~4 s after the submission) reads the provider's delivery and blocks
        # before storing it: kill the whole worker (parent and pool) there.
        wait_for(lambda: blocked_backends(lock), timeout=30, what="the worker blocked mid-task")
        stack.worker_proc.kill()
        wait_for(lambda: not stack.worker_proc.alive(), timeout=10, what="the worker dead")
    # Nothing of the killed attempt is stored, and nothing runs it any more.
    assert DeliveryBatch.objects.filter(order_id=order_id).count() == 0
    assert Order.objects.get(pk=order_id).status == Order.Status.PROCESSING

    # A new worker gets the unacknowledged message back (after the visibility timeout) and
    # finishes the order exactly once.
    stack.worker_proc = stack.worker()
    wait_for(lambda: _fulfilled(order_id), timeout=45, what="fulfilled by the new worker")
    _assert_fulfilled_once(org, order_id)


def test_a_database_connection_killed_mid_task_is_retried_and_fulfils_once(stack, shop):
    org, headers, scenes = shop
    placed = _place(stack, headers, scenes[1])
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["id"]
    wait_for(lambda: _submitted(order_id), timeout=45, what="submitted to the provider")

    with row_locked(Order, order_id) as lock:
        victims = wait_for(lambda: blocked_backends(lock), timeout=30, what="the worker blocked mid-task")
        with psycopg.connect(conninfo(), autocommit=True) as admin:
            for pid in victims:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The task fails on its dead connection, retries on a new one and completes; the worker lives.
    wait_for(lambda: _fulfilled(order_id), timeout=45, what="fulfilled after the connection died")
    assert stack.worker_proc.alive(), stack.worker_proc.text()[-3000:]
    _assert_fulfilled_once(org, order_id)

    # JSON logs: the web's access line of the placement, and the worker's lines of the tasks it
    # enqueued (the retries too), carry the request id returned to the client.
    rid = placed.headers["X-Request-ID"]
    access = [
        line
        for line in json_lines(stack.web_proc.text())
        if line.get("logger") == "geopera.request" and line.get("request_id") == rid
    ]
    assert len(access) == 1, stack.web_proc.text()[-3000:]
    assert {k: access[0][k] for k in ("method", "route", "status", "org_id", "principal")} == {
        "method": "POST",
        "route": "/v1/op/<str:op_id>",
        "status": 202,
        "org_id": str(org.pk),
        "principal": "user_token",
    }
    assert isinstance(access[0]["duration_ms"], float) and access[0]["level"] == "info"
    task_lines = [line for line in json_lines(stack.worker_proc.text()) if line.get("request_id") == rid]
    assert any(
        "fulfil_archive_order" in line["event"] and "succeeded" in line["event"] for line in task_lines
    ), stack.worker_proc.text()[-3000:]


def test_a_web_process_killed_mid_spend_then_the_same_key_charges_once(stack, shop):
    org, headers, _ = shop
    product = make_product(rate=100, min_area=1.0)
    scene = make_priced_capture(product=product, bounds=(149.0, -28.0, 149.05, -27.95)).scene_id
    key = uuid.uuid4().hex
    wallet = Wallet.objects.get(org=org)
    before = (wallet.available_credits, wallet.reserved_credits)
    answers: list[object] = []

    def spend() -> None:
        try:
            answers.append(_place(stack, headers, scene, key))
        except httpx.HTTPError as exc:  # the server died under the request
            answers.append(exc)

    with row_locked(Wallet, wallet.pk) as lock:
        client = threading.Thread(target=spend, daemon=True)
        client.start()
        wait_for(lambda: blocked_backends(lock), timeout=30, what="the spend blocked on the wallet")
        stack.web_proc.kill()
        client.join(30)
    assert answers and isinstance(answers[0], httpx.HTTPError), answers
    # The killed spend's transaction rolled back: no order, no money moved.
    assert not Order.objects.filter(org=org).exclude(status__in=["fulfilled", "processing"]).exists()
    wallet.refresh_from_db()
    assert (wallet.available_credits, wallet.reserved_credits) == before

    stack.web_proc, stack.web_url = stack.web()

    def retried() -> httpx.Response | None:
        answer = _place(stack, headers, scene, key)
        return answer if answer.status_code == 202 else None  # 409 while the stale claim is young

    first = wait_for(retried, timeout=30, interval=0.5, what="the retry takes the stale claim over")
    again = _place(stack, headers, scene, key)
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    order = Order.objects.get(pk=first.json()["id"])
    assert LedgerEntry.objects.filter(charge=order.charge, kind="reserve").count() == 1
    assert Order.objects.filter(org=org, groups__captures__scene_id=scene).distinct().count() == 1
    assert_ledger_matches_wallet(org)
