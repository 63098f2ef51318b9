"""Liveness/readiness, one beat, cache down and broker down — one set of real processes:
two redis-servers of our own (broker, cache), gunicorn, a Celery worker and beats."""

from __future__ import annotations

import signal
import time
import uuid

import httpx
import pytest

from geopera_web.accounts.models import Workspace
from orders.models import Order, OrderEvent
from tasking.models import FeasibilityStudy
from tests.factories import AUTO_PRODUCT, place_body
from tests.faults.conftest import assert_ledger_matches_wallet
from tests.faults.procs import Stack, make_shop, redis_stack, wait_for
from tests.tasking.flow_helpers import fc, params, square

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def stack(fault_tmp, test_db_name):
    with redis_stack(fault_tmp, test_db_name) as s:
        s.worker_proc = s.worker()
        s.beat_proc = s.beat()
        s.web_proc, s.web_url = s.web()
        yield s


@pytest.fixture
def shop(fault_db):
    """An org with credits, an operator's bearer token and three priced captures."""
    from tasking.services import sensor_catalog_seed

    shop = make_shop(label="Fault", lon=151.0, lat=-34.0, captures=3)
    sensor_catalog_seed()
    return shop.org, shop.user, shop.headers, shop.scenes


def _ready(stack: Stack) -> httpx.Response:
    return httpx.get(stack.web_url + "/readyz", timeout=10)


def _place(stack: Stack, headers: dict, scene: str) -> httpx.Response:
    return httpx.post(
        stack.web_url + "/v1/op/orders.archive.place",
        json=place_body(scene),
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )


def test_healthz_is_liveness_only_and_readyz_checks_every_part(stack):
    health = httpx.get(stack.web_url + "/healthz", timeout=5)
    assert (health.status_code, health.text) == (200, "ok\n")  # no versions, no database
    ready = wait_for(lambda: _ready(stack).status_code == 200 and _ready(stack), timeout=40, what="ready")
    assert ready.json() == {
        "status": "ok",
        "failed": [],
        "checks": {"database": "ok", "cache": "ok", "broker": "ok", "worker": "ok", "beat": "ok"},
    }


def test_a_second_beat_stays_idle_and_takes_over_when_the_first_dies(stack):
    first = stack.beat_proc
    second = stack.beat()
    wait_for(lambda: "another celery beat holds the beat lock" in second.text(), timeout=30, what="idle beat")
    sent_before = first.text().count("Sending due task")
    wait_for(
        lambda: first.text().count("Sending due task") >= sent_before + 2, timeout=15, what="first sends"
    )
    assert second.text().count("Sending due task") == 0, "an idle beat sent periodic tasks"

    first.kill(signal.SIGKILL)
    wait_for(lambda: "Sending due task" in second.text(), timeout=15, what="second beat takes over")
    assert "acquired" in second.text()
    stack.beat_proc = second
    wait_for(lambda: _ready(stack).status_code == 200, timeout=15, what="ready with the new beat")


def test_cache_down_degrades_and_broker_down_loses_nothing(stack, shop):
    org, _, headers, scenes = shop
    # --- the cache Redis dies: reads, pages and spends keep working; /readyz names the cache.
    stack.cache_redis.stop()
    listed = httpx.post(stack.web_url + "/v1/op/orders.list", json={}, headers=headers, timeout=10)
    assert listed.status_code == 200, listed.text
    placed = _place(stack, headers, scenes[0])
    assert placed.status_code == 202, placed.text
    page = httpx.get(stack.web_url + "/login/", timeout=10)
    assert page.status_code == 200
    down = _ready(stack)
    assert down.status_code == 503 and down.json()["failed"] == ["cache"], down.text
    stack.cache_redis, _ = stack.redis(stack.cache_port)
    wait_for(lambda: _ready(stack).status_code == 200, timeout=15, what="ready after cache back")

    # --- the broker Redis dies: a placement is a clean 202 or 503, never a 500; the worker survives.
    stack.broker_redis.stop()
    during = _place(stack, headers, scenes[1])
    assert during.status_code in (202, 503), during.text
    if during.status_code == 503:
        assert during.headers["content-type"].startswith("application/problem+json")
    # A tasking request for an automatic-feasibility sensor: its study task cannot be queued now.
    tasking = httpx.post(
        stack.web_url + "/v1/op/orders.tasking.place",
        json={
            "dataProduct": AUTO_PRODUCT,
            "workspaceId": str(Workspace.objects.filter(org=org).first().pk),
            "featureCollection": fc(square()),
            "params": params(),
        },
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )
    assert tasking.status_code == 202, tasking.text
    assert "broker" in _ready(stack).json()["failed"]
    stack.broker_redis, _ = stack.redis(stack.broker_port)
    assert stack.worker_proc.alive(), stack.worker_proc.text()[-3000:]
    after = _place(stack, headers, scenes[2])
    assert after.status_code == 202, after.text

    # Everything placed reaches its final state without anyone touching it, once.
    def all_fulfilled():
        states = list(Order.objects.filter(org=org, order_type="archive").values_list("status", flat=True))
        return states and all(s == "fulfilled" for s in states) and states

    wait_for(all_fulfilled, timeout=60, what="orders fulfilled after the broker came back")
    assert Order.objects.filter(org=org, order_type="archive").count() == (
        3 if during.status_code == 202 else 2
    )
    assert stack.worker_proc.alive(), "the worker exited when the broker went away"
    wait_for(lambda: _ready(stack).status_code == 200, timeout=20, what="ready after broker back")
    assert_ledger_matches_wallet(org)
    # The lost study task is re-driven by the beat's sweep: the request gets its study (or is
    # referred to support when no pass fits) exactly once.
    auto = Order.objects.get(pk=tasking.json()["id"])

    def studied():
        studies = FeasibilityStudy.objects.filter(order=auto).count()
        referred = auto.events.filter(kind=OrderEvent.Kind.FEASIBILITY_REFERRED).count()
        return (studies, referred) if studies + referred else None

    assert wait_for(studied, timeout=30, what="the automatic study re-driven") in ((1, 0), (0, 1))
    time.sleep(3)  # a further sweep (every 2 s) must not redo it
    assert studied() in ((1, 0), (0, 1))
