"""Webhooks end to end: a real receiver on loopback verifies every signature with the
`standardwebhooks` library; a real Celery worker delivers after commit; the receiver is killed
and brought back to exercise retries, then deliveries are replayed."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from geopera_web.events.models import Event, EventSubscription, WebhookDelivery
from geopera_web.events.sender import send
from geopera_web.events.services import event_emit
from geopera_web.events.webhooks import backoff_seconds, delivery_attempt, event_fan_out
from tests.integrator.receiver import Receiver


class Boom(Exception):
    pass


@pytest.fixture(autouse=True)
def _step_by_step(request, settings):
    """Outside the Celery tests, deliveries are attempted only where a test says so (the unit
    tests' eager Celery would otherwise run every retry inline at commit)."""
    if request.node.get_closest_marker("celery") is None:
        settings.WEBHOOK_ENQUEUE = False


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def _subscribe(api, url, event_type="order.status_changed", **extra) -> dict:
    response = api.post(
        "event_subscriptions.create", {"event_type": event_type, "endpoint_url": url, **extra}
    )
    assert response.status_code == 200, response.content
    return response.json()


def _wait_status(delivery_id, statuses, timeout=30.0) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = WebhookDelivery.objects.get(pk=delivery_id)
        if d.status in statuses:
            return d
        time.sleep(0.05)
    return WebhookDelivery.objects.get(pk=delivery_id)


def _emit(org, **data) -> Event:
    with transaction.atomic():
        return event_emit(org=org, type="order.status_changed", data={"toStatus": "active", **data})


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_signed_delivery_retry_after_outage_and_replay(celery_worker, receiver, api_admin, org, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 3600  # the worker does not retry by itself during the test
    sub = _subscribe(api_admin, receiver.url, headers={"X-Team": "ingest"})
    assert sub["secret"].startswith("whsec_")
    receiver.secret = sub["secret"]
    assert "secret" not in api_admin.post("event_subscriptions.get", {"subscription_id": sub["id"]}).json()

    # 1. Delivered by the worker after commit, signed, with the platform's headers.
    event = _emit(org)
    got = receiver.wait_for(1)
    assert len(got) == 1 and got[0].verified
    h = got[0].headers
    assert h["webhook-id"] == str(event.pk) == h["x-geopera-event-id"]
    assert h["x-geopera-event"] == "order.status_changed" and h["x-team"] == "ingest"
    body = json.loads(got[0].body)
    assert body["type"] == "order.status_changed" and body["data"]["toStatus"] == "active"
    first = WebhookDelivery.objects.get(event=event)
    assert h["x-geopera-delivery-id"] == str(first.pk)
    first = _wait_status(first.pk, {"succeeded"})
    assert first.status == "succeeded" and first.attempts == 1 and first.http_status == 200
    assert first.response_excerpt == "ok" and first.response_ms is not None

    # 2. The receiver is down: the attempt fails and a retry is scheduled with backoff.
    port = receiver.port
    receiver.stop()
    second_event = _emit(org, n=2)
    second = WebhookDelivery.objects.get(event=second_event)
    second = _wait_status(second.pk, {"retrying", "failed"})
    assert second.status == "retrying" and second.attempts == 1 and second.http_status is None
    assert second.error and second.next_attempt_at > timezone.now() + timedelta(minutes=30)

    # Not yet due: a drain leaves it alone.
    drained = api_admin.post("webhooks.drain", {}).json()
    assert drained["attempted"] == 0

    # 3. The receiver is back and the backoff has elapsed: the drain delivers it.
    receiver.port = port
    receiver.received.clear()
    receiver.start()
    WebhookDelivery.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    drained = api_admin.post("webhooks.drain", {}).json()
    assert drained == {"fanned_out": 0, "attempted": 1, "succeeded": 1}
    second.refresh_from_db()
    assert second.status == "succeeded" and second.attempts == 2
    assert [r.headers["webhook-id"] for r in receiver.received] == [str(second_event.pk)]
    assert receiver.received[0].verified

    # 4. Replay one delivery: same webhook-id, a new delivery id, delivered by the worker.
    receiver.received.clear()
    replayed = api_admin.post(
        "event_subscriptions.replay", {"subscription_id": sub["id"], "delivery_id": str(first.pk)}
    ).json()["deliveries"]
    assert len(replayed) == 1 and replayed[0]["replay_of"] == str(first.pk)
    got = receiver.wait_for(1)
    assert got[0].verified and got[0].headers["webhook-id"] == str(event.pk)
    assert got[0].headers["x-geopera-delivery-id"] == replayed[0]["id"] != str(first.pk)

    # 5. Replay a time range: both originals (not the replay itself).
    receiver.received.clear()
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    replayed = api_admin.post(
        "event_subscriptions.replay", {"subscription_id": sub["id"], "since": since}
    ).json()
    assert {d["event_id"] for d in replayed["deliveries"]} == {str(event.pk), str(second_event.pk)}
    got = receiver.wait_for(2)
    assert len(got) == 2 and all(r.verified for r in got)

    # The delivery log through the API.
    log = api_admin.post("event_subscriptions.get", {"subscription_id": sub["id"]}).json()["deliveries"]
    assert len(log) == 5 and {d["status"] for d in log} <= {"succeeded", "pending"}


@pytest.mark.django_db(transaction=True)
def test_nothing_is_delivered_for_a_rolled_back_change(receiver, api_admin, org):
    _subscribe(api_admin, receiver.url)
    with pytest.raises(Boom), transaction.atomic():
        event_emit(org=org, type="order.status_changed", data={})
        raise Boom
    assert not WebhookDelivery.objects.exists() and not Event.objects.exists()
    assert receiver.received == []


@pytest.mark.django_db(transaction=True)
def test_test_op_sends_a_real_signed_ping(receiver, api_admin):
    sub = _subscribe(api_admin, receiver.url)
    receiver.secret = sub["secret"]
    result = api_admin.post("event_subscriptions.test", {"subscription_id": sub["id"]}).json()
    assert result["delivered"] is True and result["http_status"] == 200 and result["event_type"] == "ping"
    assert receiver.received[0].verified and receiver.received[0].headers["x-geopera-event"] == "ping"

    receiver.status = 500
    result = api_admin.post("event_subscriptions.test", {"subscription_id": sub["id"]}).json()
    assert result["delivered"] is False and result["http_status"] == 500 and result["status"] == "failed"


@pytest.mark.django_db(transaction=True)
def test_rotation_signs_with_both_secrets_during_the_overlap(receiver, api_admin, org):
    sub = _subscribe(api_admin, receiver.url)
    old = sub["secret"]
    new = api_admin.post("event_subscriptions.rotate_secret", {"subscription_id": sub["id"]}).json()["secret"]
    assert new != old and new.startswith("whsec_")
    api_admin.post("event_subscriptions.test", {"subscription_id": sub["id"]})
    r = receiver.received[0]
    for secret in (old, new):
        Webhook(secret).verify(r.body.decode(), r.headers)  # raises if it does not verify
    assert len(r.headers["webhook-signature"].split(" ")) == 2

    EventSubscription.objects.filter(pk=sub["id"]).update(previous_secret_expires_at=timezone.now())
    receiver.received.clear()
    receiver.secret = old
    api_admin.post("event_subscriptions.test", {"subscription_id": sub["id"]})
    assert receiver.received[0].verified is False  # the overlap is over: only the new secret signs


@pytest.mark.django_db(transaction=True)
def test_repeated_failures_disable_the_endpoint_and_tell_the_admins(
    receiver, api_admin, org, admin_user, mailoutbox, settings
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    settings.WEBHOOK_MAX_ATTEMPTS = 5
    receiver.status = 503
    sub = _subscribe(api_admin, receiver.url)
    event = _emit(org)
    delivery = WebhookDelivery.objects.get(event=event)
    delivery_attempt(delivery.pk)
    assert EventSubscription.objects.get(pk=sub["id"]).active
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    delivery_attempt(delivery.pk)
    s = EventSubscription.objects.get(pk=sub["id"])
    assert not s.active and "2 failed attempts" in s.disabled_reason
    assert len(receiver.received) == 2
    assert [m.to for m in mailoutbox] == [[admin_user.email]] and "disabled" in mailoutbox[0].subject
    # A disabled subscription gets no new deliveries; re-enabling resets the count.
    _emit(org)
    assert WebhookDelivery.objects.filter(subscription_id=sub["id"]).count() == 1
    again = api_admin.post(
        "event_subscriptions.update", {"subscription_id": sub["id"], "active": True}
    ).json()
    assert again["active"] and again["consecutive_failures"] == 0


@pytest.mark.django_db(transaction=True)
def test_retry_limit_then_failed(receiver, api_admin, org, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.status = 500
    _subscribe(api_admin, receiver.url)
    d = WebhookDelivery.objects.get(event=_emit(org))
    delivery_attempt(d.pk)
    WebhookDelivery.objects.filter(pk=d.pk).update(next_attempt_at=timezone.now())
    delivery_attempt(d.pk)
    d.refresh_from_db()
    assert d.status == "failed" and d.attempts == 2 and d.next_attempt_at is None
    assert delivery_attempt(d.pk) is None  # given up: never sent again
    assert len(receiver.received) == 2


def test_backoff_is_exponential_and_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 200
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 5)] == [30, 60, 120, 200, 200]


@pytest.mark.django_db(transaction=True)
def test_filter_config_narrows_by_workspace_and_order_type(receiver, api_admin, org):
    from geopera_web.accounts.models import Workspace

    ws = Workspace.objects.create(org=org, name="Filtered")
    _subscribe(api_admin, receiver.url, filter_config={"workspace_id": str(ws.pk), "order_type": "tasking"})
    _emit(org, workspaceId=str(ws.pk), orderType="archive")
    _emit(org, workspaceId=None, orderType="tasking")
    hit = _emit(org, workspaceId=str(ws.pk), orderType="tasking")
    assert list(WebhookDelivery.objects.values_list("event_id", flat=True)) == [hit.pk]


@pytest.mark.django_db(transaction=True)
def test_drain_fans_out_an_event_a_crash_left_behind(receiver, api_admin, org):
    sub = _subscribe(api_admin, receiver.url)
    receiver.secret = sub["secret"]
    with transaction.atomic():
        e = Event.objects.create(org=org, type="order.status_changed", payload={})  # no consumer ran
    assert api_admin.post("webhooks.drain", {}).json() == {"fanned_out": 1, "attempted": 1, "succeeded": 1}
    assert receiver.received[0].verified and receiver.received[0].headers["webhook-id"] == str(e.pk)
    assert event_fan_out(e.pk) == []  # once


# --- SSRF ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",  # plain http
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "ftp://example.com/x",
        "https://user:pw@example.com/x",
        "javascript:alert(1)",
    ],
)
def test_private_and_non_https_endpoints_are_refused_without_the_setting(api_admin, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = api_admin.post("event_subscriptions.create", {"event_type": "*", "endpoint_url": url})
    assert response.status_code in (400, 422), response.content
    assert not EventSubscription.objects.exists()


def test_sender_checks_the_resolved_address(receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    result = send(f"https://localhost:{receiver.port}/x", body=b"{}", headers={})
    assert not result.ok and "not public" in result.error and result.http_status is None
    assert receiver.received == []  # nothing left the process


def test_sender_follows_no_redirect_and_caps_the_body(receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_RESPONSE_CAP_BYTES = 2048
    receiver.status, receiver.extra_headers = 302, {"Location": "http://169.254.169.254/"}
    result = send(receiver.url, body=b"{}", headers={})
    assert not result.ok and result.http_status == 302 and len(receiver.received) == 1
    receiver.status, receiver.extra_headers, receiver.reply = 200, {}, b"x" * 500_000
    result = send(receiver.url, body=b"{}", headers={})
    assert result.ok and len(result.body_excerpt) == 1000


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_admins_and_only_their_own_org(receiver, api_admin, api_operator, api_other):
    sub = _subscribe(api_admin, receiver.url)
    assert api_operator.post("event_subscriptions.list", {}).status_code == 403
    assert (
        api_operator.post(
            "event_subscriptions.create", {"event_type": "*", "endpoint_url": receiver.url}
        ).status_code
        == 403
    )
    for op in ("get", "update", "delete", "test", "rotate_secret", "replay"):
        body = {"subscription_id": sub["id"]}
        if op == "replay":
            body["since"] = timezone.now().isoformat()
        r = api_other.post(f"event_subscriptions.{op}", body)
        assert r.status_code == 404, (op, r.content)
    assert api_other.post("event_subscriptions.list", {}).json() == {"subscriptions": []}
    assert api_admin.post("event_subscriptions.delete", {"subscription_id": sub["id"]}).json() == {
        "deleted": True
    }
    assert not EventSubscription.objects.exists()


@pytest.mark.django_db
def test_hostile_input_is_a_4xx(api_admin):
    for body in (
        {"event_type": "nope", "endpoint_url": "https://example.com/"},
        {"event_type": "*", "endpoint_url": "https://example.com/", "headers": {"Host": "x"}},
        {"event_type": "*", "endpoint_url": "https://example.com/", "headers": {"webhook-id": "x"}},
        {"event_type": "*", "endpoint_url": "https://example.com/", "filter_config": {"sql": "1"}},
        {"event_type": "*", "endpoint_url": "https://example.com/", "headers": {"A": "b\r\nEvil: 1"}},
    ):
        r = api_admin.post("event_subscriptions.create", body)
        assert 400 <= r.status_code < 500, (body, r.content)
