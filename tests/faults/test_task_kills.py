"""Workers SIGKILLed in the middle of the tasks that move orders and events on — one set of real
processes: a broker and a cache redis-server of our own and a Celery worker; no web and no beat (the
test sends each task itself, so nothing but the broker's redelivery of the unacknowledged message
recovers it).

As in test_process_kills.py, "the worst moment" is a row lock the test holds in its own database
connection: the task blocks on it inside its transaction (after some of its writes), the worker is
killed there, the lock is released, a new worker starts and gets the message back after the
visibility timeout. State is built in this process (tasks run inline here)."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from unittest import mock

import pytest
from celery import Celery
from django.utils import timezone

from geopera_web.billing.models import LedgerEntry
from geopera_web.events.models import Event, WebhookDelivery
from orders.models import CoverageSnapshot, Order, OrderEvent, OrderGroup
from tasking.models import FeasibilityStudy
from tests.factories import deliver, make_study, make_tasking_order, make_tasking_request, make_user
from tests.faults.conftest import assert_ledger_matches_wallet
from tests.faults.procs import Stack, blocked_backends, make_shop, redis_stack, row_locked, wait_for
from tests.geometry import box

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def stack(fault_tmp, test_db_name) -> Iterator[Stack]:
    with redis_stack(fault_tmp, test_db_name, WEBHOOK_ALLOW_PRIVATE="true") as s:
        s.worker_proc = s.worker()
        s.client = Celery("faults-client", broker=s.env["CELERY_BROKER_URL"])
        s.client.conf.broker_transport_options = {"visibility_timeout": 6}
        yield s


@pytest.fixture
def shop(fault_db):
    return make_shop(label="Task", lon=140.0, lat=-20.0, captures=0)


def _send(stack: Stack, task: str, *args: str) -> None:
    stack.client.send_task(task, args=list(args), queue=stack.env["CELERY_QUEUE"])


def _kill_blocked_worker_then_restart(stack: Stack, model: type, pk: object, task: str, *args: str) -> None:
    """Send `task`, wait until the worker blocks on the row (model, pk) the test locks, SIGKILL the
    worker (parent and pool), release the lock and start a new worker."""
    with row_locked(model, pk) as lock:
        _send(stack, task, *args)
        wait_for(lambda: blocked_backends(lock), timeout=30, what=f"{task} blocked mid-task")
        stack.worker_proc.kill()
        wait_for(lambda: not stack.worker_proc.alive(), timeout=10, what="the worker dead")
    stack.worker_proc = stack.worker()


def test_a_worker_killed_mid_coverage_recompute_fulfils_the_order_once(stack, shop):
    aoi = box(140.0, -20.0, 140.1, -19.9)
    order = make_tasking_order(org=shop.org, aois=[aoi])
    group = order.groups.get()
    # The delivery is stored and its recompute left for the worker (the test sends it below).
    with mock.patch("orders.fulfilment.services.enqueue"):
        deliver(order, group, [aoi], ref="full-cover")
    assert not CoverageSnapshot.objects.filter(order=order).exists()

    _kill_blocked_worker_then_restart(
        stack, Order, order.pk, "orders.tasks.recompute_coverage", str(order.pk)
    )
    wait_for(
        lambda: Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED,
        timeout=45,
        what="fulfilled by the new worker",
    )
    assert CoverageSnapshot.objects.filter(order=order).count() == 1
    assert Event.objects.filter(order_id=order.pk, type="coverage.updated").count() == 1
    kinds = sorted(LedgerEntry.objects.filter(charge=order.charge).values_list("kind", flat=True))
    assert kinds == ["capture", "reserve"], kinds
    assert_ledger_matches_wallet(shop.org)


def test_a_worker_killed_mid_expiry_expires_the_decision_and_order_once(stack, shop):
    staff = make_user(org=None, role=None, email=f"staff-{shop.org.pk}@support.example", staff=True)
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    order = make_tasking_request(shop.org, shop.user)
    study = make_study(order, staff)
    FeasibilityStudy.objects.filter(pk=study.pk).update(deadline=timezone.now() - timedelta(minutes=1))

    before = list(Event.objects.filter(order_id=order.pk).values_list("pk", flat=True))
    # The expiry marks the study expired, then blocks on the order row (to expire the order).
    _kill_blocked_worker_then_restart(stack, Order, order.pk, "tasking.tasks.expire_stale_decisions")
    wait_for(
        lambda: Order.objects.get(pk=order.pk).status == Order.Status.EXPIRED,
        timeout=45,
        what="expired by the new worker",
    )
    study.refresh_from_db()
    assert study.decision == FeasibilityStudy.Decision.EXPIRED
    assert order.events.filter(message__startswith="No decision").count() == 1
    expired_events = Event.objects.filter(order_id=order.pk).exclude(pk__in=before)
    types = sorted(expired_events.values_list("type", flat=True))
    assert types == ["decision.decided", "order.status_changed"], types  # each once
    from geopera_web.events.models import Notification

    per_event = Notification.objects.filter(event__in=expired_events).values_list("event_id", "user_id")
    assert len(list(per_event)) == len(set(per_event))  # nobody notified twice of one event
    assert_ledger_matches_wallet(shop.org)


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        _Receiver.received.append(self.headers.get("webhook-id", ""))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_worker_killed_mid_webhook_fan_out_delivers_once(stack, shop):
    from geopera_web.events.webhooks import subscription_create

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        subscription_create(
            org=shop.org,
            actor=None,
            event_type="*",
            endpoint_url=f"http://127.0.0.1:{server.server_address[1]}/hook",
        )
        # An event committed whose fan-out never ran (its process died after the commit).
        event = Event.objects.create(org=shop.org, type="order.fulfilled", payload={"orderType": "archive"})

        _kill_blocked_worker_then_restart(stack, Event, event.pk, "geopera_web.events.tasks.drain_webhooks")
        wait_for(
            lambda: WebhookDelivery.objects.filter(event=event, status="succeeded").exists(),
            timeout=45,
            what="delivered by the new worker",
        )
        assert WebhookDelivery.objects.filter(event=event).count() == 1
        wait_for(lambda: str(event.pk) in _Receiver.received, timeout=10, what="received")
        assert _Receiver.received.count(str(event.pk)) == 1
    finally:
        server.shutdown()
        server.server_close()


def _unnotified_events(shop, n: int = 2) -> list[Event]:
    """Events committed whose in-process fan-out never ran (the process died after the commit),
    old enough for the sweep."""
    events = []
    for i in range(n):
        events.append(
            Event.objects.create(org=shop.org, type="wallet.low_balance", payload={"availableCredits": i})
        )
        Event.objects.filter(pk=events[-1].pk).update(
            created_at=timezone.now() - timedelta(minutes=2 - i / 60)
        )
    return events


def _notified(events: list[Event]) -> bool:
    return not Event.objects.filter(pk__in=[e.pk for e in events], notified_at__isnull=True).exists()


def _lines(events: list[Event]) -> list[tuple]:
    from geopera_web.events.models import Notification

    return sorted(Notification.objects.filter(event__in=events).values_list("event_id", "user_id"))


def test_a_worker_killed_mid_notification_fan_out_notifies_each_recipient_once(stack, shop):
    admins = [
        make_user(org=shop.org, role="admin", email=f"a{i}-{shop.org.pk}@notify.example") for i in range(2)
    ]
    events = _unnotified_events(shop)
    # What the beat sends: the sweep finds the events and queues their fan-out, which locks the
    # first event and blocks on the second (the test holds it): the worker is killed there.
    _kill_blocked_worker_then_restart(stack, Event, events[1].pk, "geopera_web.ops.tasks.run_sweeps")
    assert _lines(events) == []  # the killed attempt left nothing
    wait_for(lambda: _notified(events), timeout=45, what="notified by the new worker")
    assert _lines(events) == sorted((e.pk, a.pk) for e in events for a in admins)  # each once


def test_a_worker_killed_while_committing_notifications_adds_none_on_redelivery(stack, shop):
    from geopera_web.accounts.models import User

    admins = [
        make_user(org=shop.org, role="admin", email=f"c{i}-{shop.org.pk}@notify.example") for i in range(2)
    ]
    events = _unnotified_events(shop)
    # The fan-out wrote the lines and the marker and sent COMMIT; the lines' (deferred) foreign-key
    # check blocks on the admin's row the test holds: the worker dies there, the commit then
    # lands, but the message was never acknowledged — the new worker gets it again.
    _kill_blocked_worker_then_restart(stack, User, admins[1].pk, "geopera_web.ops.tasks.run_sweeps")
    wait_for(lambda: _notified(events), timeout=30, what="the killed attempt's commit")
    expected = sorted((e.pk, a.pk) for e in events for a in admins)
    assert _lines(events) == expected
    redelivered = re.compile(r"notify_events\[[0-9a-f-]+\] succeeded in [0-9.]+s: 0\b")
    wait_for(
        lambda: redelivered.search(stack.worker_proc.text()),
        timeout=45,
        what="the redelivered fan-out run by the new worker (and writing nothing)",
    )
    assert _lines(events) == expected  # still each once


# --- tasking delivery sync and window-end settlement (the beat's `poll_tasking_deliveries`) -------


def _iso(t) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _simulated_tasking_order(shop, *, lon: float, coverage: float, window_ended: bool) -> Order:
    """An ACTIVE tasking order of the simulated provider whose 3 passes are all available now
    (pinned delivery times), covering `coverage` of its AOI; its acquisition window ended or not."""
    now = timezone.now()
    end = now - timedelta(minutes=5) if window_ended else now + timedelta(days=30)
    return make_tasking_order(
        org=shop.org,
        aois=[box(lon, -20.0, lon + 0.3, -19.7)],
        params={"acquisitionStart": _iso(now - timedelta(days=2)), "acquisitionEnd": _iso(end)},
        metadata={
            "simulation": {
                "seed": 5,
                "batches": 3,
                "coverage": [coverage],
                "schedule": [_iso(now - timedelta(hours=h)) for h in (3, 2, 1)],
            }
        },
    )


def _plan_refs(order: Order) -> list[str]:
    from orders.fulfilment.simulator import SimulatedProvider, activated_at

    return [b.ref for b in SimulatedProvider().plan(order=order, start=activated_at(order))]


def _assert_delivered_once(order: Order) -> None:
    from orders.models import DeliveredCapture, DeliveryBatch

    refs = sorted(DeliveryBatch.objects.filter(order=order).values_list("ref", flat=True))
    assert refs == sorted(_plan_refs(order)), refs  # every pass once
    scenes = list(DeliveredCapture.objects.filter(order=order).values_list("scene_id", flat=True))
    assert scenes and len(scenes) == len(set(scenes))  # no capture delivered twice


def test_a_worker_killed_mid_tasking_delivery_sync_delivers_each_pass_once(stack, shop):
    order = _simulated_tasking_order(shop, lon=141.0, coverage=1.0, window_ended=False)
    group = order.groups.get()
    # The sync stores the first pass and sends COMMIT; its captures' (deferred) foreign-key check
    # blocks on the AOI row the test holds: the worker dies there. That pass's commit lands, the
    # other passes and the coverage recompute its commit would have queued never ran.
    _kill_blocked_worker_then_restart(stack, OrderGroup, group.pk, "orders.tasks.poll_tasking_deliveries")
    wait_for(
        lambda: Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED,
        timeout=45,
        what="fulfilled by the new worker (redelivered sync: the rest of the passes, coverage)",
    )
    _assert_delivered_once(order)
    kinds = sorted(LedgerEntry.objects.filter(charge=order.charge).values_list("kind", flat=True))
    assert kinds == ["capture", "reserve"], kinds  # captured once
    assert_ledger_matches_wallet(shop.org)


def test_a_worker_killed_mid_settlement_settles_pro_rata_once(stack, shop):
    from geopera_web.billing.models import Wallet

    order = _simulated_tasking_order(shop, lon=142.0, coverage=0.5, window_ended=True)
    # The sync stores every pass and recomputes coverage, then the window-end rule locks the order
    # and its charge and blocks on the wallet (the test holds it) to capture: the worker dies there.
    wallet = Wallet.objects.get(org=shop.org)
    _kill_blocked_worker_then_restart(stack, Wallet, wallet.pk, "orders.tasks.poll_tasking_deliveries")
    order.refresh_from_db()
    assert order.status == Order.Status.ACTIVE  # the killed settlement moved nothing
    assert not LedgerEntry.objects.filter(charge=order.charge).exclude(kind="reserve").exists()
    wait_for(
        lambda: Order.objects.get(pk=order.pk).status == Order.Status.PARTIALLY_FULFILLED,
        timeout=45,
        what="settled by the new worker",
    )
    _assert_delivered_once(order)
    entries = LedgerEntry.objects.filter(charge=order.charge)
    kinds = sorted(entries.values_list("kind", flat=True))
    assert kinds == ["capture", "refund", "reserve"], kinds  # captured once, refunded once
    refund = entries.get(kind="refund")
    assert 0 < refund.available_delta < order.total_credits
    refunds = OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.COVERAGE_REFUND)
    assert [e.data["refundCredits"] for e in refunds] == [refund.available_delta]
    assert_ledger_matches_wallet(shop.org)
