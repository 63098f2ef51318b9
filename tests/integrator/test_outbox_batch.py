"""The outbox's fan-out costs a constant number of queries per committed batch, not per event:
consumers receive the batch; subscriptions are looked up once for the batch's orgs, events of orgs
without subscribers are stamped in one UPDATE, and notification recipients and preferences are
resolved once."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from geopera_web.events.models import (
    Event,
    EventSubscription,
    Notification,
    NotificationPreference,
    OrderWatcher,
    WebhookDelivery,
)
from geopera_web.events.services import events_emit_many, register_consumer
from geopera_web.events.webhooks import subscription_create


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.WEBHOOK_ENQUEUE = False


@pytest.fixture
def scene(org, other_org, admin_user, operator_user, other_admin):
    subscription_create(org=org, actor=admin_user, event_type="*", endpoint_url="https://hooks.example/a")
    subscription_create(
        org=org, actor=admin_user, event_type="delivery.received", endpoint_url="https://hooks.example/b"
    )
    # The operator wants delivery e-mails, not in-app lines.
    NotificationPreference.objects.create(
        user=operator_user, event_type="delivery.received", in_app=False, email=True
    )
    # The admin reads pending decisions in the app and in the daily digest.
    NotificationPreference.objects.create(
        user=admin_user, event_type="decision.pending", email=True, digest=True
    )
    return org, other_org, operator_user


def _batch(org, other_org, creator, n: int) -> list[tuple]:
    items = []
    for i in range(n):
        order = str(uuid.uuid4())
        items += [
            (org, "decision.pending", {"orderId": order, "displayName": f"Order {i}"}),
            (org, "delivery.received", {"orderId": order, "createdBy": creator.pk, "displayName": f"O{i}"}),
            (org, "order.created", {"orderId": order}),
            (other_org, "decision.pending", {"orderId": str(uuid.uuid4())}),  # no subscriber there
        ]
    return items


def _deliver_counted(items, django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        events_emit_many(items)
    outbox = [c for c in callbacks if getattr(c, "is_outbox_delivery", False)]
    assert len(outbox) == 1  # one batch, one delivery to the consumers
    with CaptureQueriesContext(connection) as queries:
        outbox[0]()
    return len(queries)


@pytest.mark.django_db
def test_fan_out_query_count_does_not_grow_with_the_batch(scene, django_capture_on_commit_callbacks):
    org, other_org, creator = scene
    small = _deliver_counted(_batch(org, other_org, creator, 2), django_capture_on_commit_callbacks)
    large = _deliver_counted(_batch(org, other_org, creator, 12), django_capture_on_commit_callbacks)
    assert large == small


@pytest.mark.django_db
def test_watchers_cost_no_query_per_event_or_order(scene, viewer_user, django_capture_on_commit_callbacks):
    org, other_org, creator = scene

    def watched_batch(n: int) -> list[tuple]:
        items = []
        for i in range(n):
            oid = uuid.uuid4()
            OrderWatcher.objects.create(org=org, order_id=oid, user=viewer_user)
            OrderWatcher.objects.create(org=org, order_id=oid, user=creator)  # the creator watching too
            data = {"orderId": str(oid), "createdBy": creator.pk, "displayName": f"O{i}"}
            items += [
                (org, t, data) for t in ("delivery.received", "coverage.updated", "order.status_changed")
            ]
        return items

    small = _deliver_counted(watched_batch(2), django_capture_on_commit_callbacks)
    large = _deliver_counted(watched_batch(12), django_capture_on_commit_callbacks)
    assert large == small
    assert Notification.objects.filter(user=viewer_user).count() == 14 * 3
    # The creator once per event: deliveries by e-mail (their preference), the rest in the app.
    assert Notification.objects.filter(user=creator).count() == 14 * 2


@pytest.mark.django_db
def test_a_batch_fans_out_and_notifies_like_single_events(
    scene, admin_user, other_admin, mailoutbox, django_capture_on_commit_callbacks
):
    org, other_org, creator = scene
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events = events_emit_many(_batch(org, other_org, creator, 3))
    assert not Event.objects.filter(pk__in=[e.pk for e in events], fanned_out_at__isnull=True).exists()
    # "*" gets all 9 of org's events, the delivery.received subscription its 3; none for other_org.
    assert WebhookDelivery.objects.filter(event__org=org).count() == 9 + 3
    assert not WebhookDelivery.objects.filter(event__org=other_org).exists()
    # Pending decisions reach each org's admins; deliveries the creator, by e-mail only.
    assert (
        Notification.objects.filter(user=admin_user, kind="decision.pending", dismissed_at=None).count() == 3
    )
    assert Notification.objects.filter(user=admin_user, digest_pending=True).count() == 3
    assert Notification.objects.filter(user=other_admin, kind="decision.pending").count() == 3
    assert not Notification.objects.filter(user=creator).exists()
    assert sorted(m.to[0] for m in mailoutbox) == [creator.email] * 3


@pytest.mark.django_db
def test_a_consumer_failing_on_one_event_still_hears_the_rest(org, django_capture_on_commit_callbacks):
    heard: list[str] = []

    def picky(event: Event) -> None:
        if event.payload.get("bad"):
            raise RuntimeError("bad event")
        heard.append(event.payload["n"])

    register_consumer("test-picky", picky)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            events_emit_many(
                [(org, "ping", {"n": "1"}), (org, "ping", {"bad": True}), (org, "ping", {"n": "3"})]
            )
    finally:
        register_consumer("test-picky", lambda e: None)
    assert heard == ["1", "3"]
    assert EventSubscription.objects.count() == 0
