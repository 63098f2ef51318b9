"""scripts/run-cluster.sh, tried: two gunicorn processes on one port, two Celery workers and one beat
against the test database and a broker and a cache redis-server of our own. Under a load of archive
placements (each with its Idempotency-Key, retried by the client on a dropped connection or a 5xx),
one web and one worker are SIGKILLed while fulfilments run; the others carry on and every order is
fulfilled exactly once, with ledger = wallet. SIGTERM (Ctrl-C's trap) then stops every process the script
started."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from geopera_web.billing.models import LedgerEntry
from orders.models import DeliveryBatch, Order
from tests.factories import place_body
from tests.faults.conftest import assert_ledger_matches_wallet
from tests.faults.procs import ROOT, Stack, free_port, make_shop, redis_stack, wait_for

pytestmark = pytest.mark.fault

ORDERS = 8


def _pids(run_dir: Path) -> dict[str, int]:
    path = run_dir / "pids"
    if not path.exists():
        return {}
    return {name: int(pid) for name, pid in (line.split() for line in path.read_text().splitlines())}


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def cluster(fault_tmp, test_db_name):
    with redis_stack(
        fault_tmp,
        test_db_name,
        SIM_ARCHIVE_DELAY_SECONDS="2",
        IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS="2",
        WEB_WORKERS="1",
        DB_CONN_MAX_AGE="0",  # hold no idle connection: the machine's PostgreSQL is shared
        WORKER_CONCURRENCY="2",
    ) as s:
        s.run_dir = fault_tmp / "cluster"
        s.port = free_port()
        s.script = s.spawn(
            "cluster",
            [
                "bash",
                str(ROOT / "scripts" / "run-cluster.sh"),
                "--webs",
                "2",
                "--workers",
                "2",
                "--port",
                str(s.port),
                "--one-port",
                "--run-dir",
                str(s.run_dir),
            ],
        )
        started: dict[str, int] = {}
        try:
            started.update(wait_for(lambda: _pids(s.run_dir), timeout=30, what="the PID file"))
            yield s
        finally:
            # Whatever the test left running: the groups the script started, by their PIDs.
            s.script.kill(signal.SIGTERM)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and any(_group_alive(p) for p in started.values()):
                time.sleep(0.2)
            for pid in started.values():
                if _group_alive(pid):
                    os.killpg(pid, signal.SIGKILL)


def _place_until_accepted(url: str, headers: dict, scene: str, key: str, deadline: float) -> dict:
    """What a client does: the same Idempotency-Key again after a dropped connection, a 5xx or a 409
    (the key's claim still in flight), until the order is accepted."""
    last: object = None
    while time.monotonic() < deadline:
        try:
            answer = httpx.post(
                url + "/v1/op/orders.archive.place",
                json=place_body(scene),
                headers={**headers, "Idempotency-Key": key},
                timeout=20,
            )
            if answer.status_code == 202:
                return answer.json()
            last = (answer.status_code, answer.text[:300])
            # 409: the key's claim is still in flight (its web was killed); a 5xx is a clean
            # problem (e.g. PostgreSQL refusing connections on a crowded machine), never a page
            assert answer.status_code in (409, 429) or answer.status_code >= 500, last
            assert answer.headers["content-type"].startswith("application/problem+json"), last
        except httpx.TransportError as exc:  # the web we reached was killed
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"placement {key} never accepted: {last!r}")


def test_two_webs_two_workers_one_of_each_killed_every_order_once(cluster: Stack, fault_db):
    shop = make_shop(label="Cluster", lon=160.0, lat=-40.0, captures=ORDERS)
    url = f"http://127.0.0.1:{cluster.port}"
    pids = _pids(cluster.run_dir)
    assert sorted(pids) == ["beat", "web0", "web1", "worker0", "worker1"]
    wait_for(lambda: httpx.get(url + "/healthz", timeout=2).status_code == 200, timeout=40, what="the webs")

    keys = [uuid.uuid4().hex for _ in range(ORDERS)]
    placed: dict[str, dict] = {}
    errors: list[BaseException] = []
    deadline = time.monotonic() + 60

    def customer(indexes: range) -> None:
        try:
            for i in indexes:
                placed[keys[i]] = _place_until_accepted(url, shop.headers, shop.scenes[i], keys[i], deadline)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    half = ORDERS // 2
    first = [threading.Thread(target=customer, args=(range(i, half, 2),)) for i in range(2)]
    for t in first:
        t.start()
    # Mid-load: some orders placed and being fulfilled (submitted to the provider), more coming.
    wait_for(
        lambda: Order.objects.filter(org=shop.org).exclude(provider_ref="").count() >= 2,
        timeout=40,
        what="fulfilments running",
    )
    later = [threading.Thread(target=customer, args=(range(half + i, ORDERS, 2),)) for i in range(2)]
    for t in later:
        t.start()
    os.killpg(pids["web0"], signal.SIGKILL)
    os.killpg(pids["worker0"], signal.SIGKILL)
    wait_for(lambda: not _group_alive(pids["web0"]) and not _group_alive(pids["worker0"]), timeout=10)
    for t in first + later:
        t.join(70)
    assert not errors, errors
    assert sorted(placed) == sorted(keys)
    # The survivors: web1 answers on the same port, worker1 (and the beat's pollers) finish the rest.
    assert all(_group_alive(pids[n]) for n in ("web1", "worker1", "beat"))

    order_ids = {p["id"] for p in placed.values()}
    assert len(order_ids) == ORDERS  # one order per key

    def all_fulfilled() -> bool:
        return Order.objects.filter(pk__in=order_ids, status=Order.Status.FULFILLED).count() == ORDERS

    wait_for(all_fulfilled, timeout=45, interval=0.5, what="every order fulfilled by the survivors")
    assert Order.objects.filter(org=shop.org).count() == ORDERS
    for order in Order.objects.filter(pk__in=order_ids).select_related("charge"):
        assert DeliveryBatch.objects.filter(order=order).count() == 1, order.pk
        kinds = sorted(LedgerEntry.objects.filter(charge=order.charge).values_list("kind", flat=True))
        assert kinds == ["capture", "reserve"], (order.pk, kinds)
    assert_ledger_matches_wallet(shop.org)

    # SIGTERM (what Ctrl-C's trap also runs) stops everything it started (and removes its PID
    # file). Not SIGINT: a shell started in the background from a non-interactive one (a CI runner)
    # inherits SIGINT as ignored, and bash cannot trap a signal ignored at entry.
    cluster.script.kill(signal.SIGTERM)
    wait_for(lambda: not cluster.script.alive(), timeout=20, what="the script stopped")
    assert not [n for n, pid in pids.items() if _group_alive(pid)]
    assert not (cluster.run_dir / "pids").exists()
