"""Demo data of the events app: Acme has a webhook subscription whose delivery log shows every
status (delivered, retrying, failed after its retries, pending, and a replay), a second endpoint
that was disabled after repeated failures (so Re-enable has something to do), and its admin has
unread notifications."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from geopera_web.demo import DemoWorld

DEMO_ENDPOINT = "https://hooks.example.com/geopera"
DEMO_DISABLED_ENDPOINT = "https://old-erp.example.com/webhooks/geopera"

# One seeded delivery per status (newest first); a re-run adds the statuses the log lacks.
_LOG: list[dict[str, Any]] = [
    {"status": "pending", "attempts": 0},
    {
        "status": "retrying",
        "attempts": 3,
        "http_status": 503,
        "response_ms": 1200,
        "response_excerpt": "Service Unavailable",
        "error": "HTTP 503",
    },
    {
        "status": "succeeded",
        "attempts": 1,
        "http_status": 200,
        "response_ms": 84,
        "response_excerpt": '{"received":true}',
    },
    {
        "status": "failed",
        "attempts": 8,
        "http_status": 500,
        "response_ms": 312,
        "response_excerpt": '{"error":"internal"}',
        "error": "HTTP 500",
    },
]


def _events(org, n: int) -> list:
    from .models import Event

    events = list(Event.objects.filter(org=org).exclude(type="ping").order_by("-created_at")[:n])
    while len(events) < n:
        events.append(
            Event.objects.create(
                org=org,
                type="order.created",
                payload={"demo": True},
                fanned_out_at=timezone.now(),
                notified_at=timezone.now(),
            )
        )
    return events


def seed_events(world: DemoWorld) -> None:
    from .models import EventSubscription, Notification, WebhookDelivery
    from .notifications import notify_users
    from .webhooks import new_secret

    org, admin = world.orgs["acme"], world.users["acme_admin"]
    sub, _ = EventSubscription.objects.get_or_create(
        org=org,
        endpoint_url=DEMO_ENDPOINT,
        defaults={
            "event_type": "*",
            "description": "Demo receiver (not reachable: its log is seeded)",
            "secret": new_secret(),
            "created_by": admin,
            "headers": {"X-Team": "ingest"},
        },
    )
    have = set(sub.deliveries.values_list("status", flat=True))
    now = timezone.now()
    events = _events(org, len(_LOG))
    made = 0
    for i, fields in enumerate(_LOG):
        if fields["status"] in have:
            continue
        d = WebhookDelivery.objects.create(
            subscription=sub,
            event=events[i],
            last_attempt_at=None if fields["attempts"] == 0 else now - timedelta(minutes=7 * i + 1),
            next_attempt_at={"pending": now, "retrying": now + timedelta(minutes=4)}.get(fields["status"]),
            **fields,
        )
        WebhookDelivery.objects.filter(pk=d.pk).update(created_at=now - timedelta(minutes=7 * i))
        made += 1
    failed = sub.deliveries.filter(status="failed", replay_of__isnull=True).first()
    if failed and not sub.deliveries.filter(replay_of__isnull=False).exists():
        # the failed one, replayed once the receiver was fixed
        WebhookDelivery.objects.create(
            subscription=sub,
            event_id=failed.event_id,
            replay_of=failed,
            status="succeeded",
            attempts=1,
            last_attempt_at=now,
            http_status=200,
            response_ms=97,
            response_excerpt='{"received":true}',
        )
        made += 1
    if made:
        world.log(f"events: {made} webhook deliveries (every status and a replay)")

    old, created = EventSubscription.objects.get_or_create(
        org=org,
        endpoint_url=DEMO_DISABLED_ENDPOINT,
        defaults={
            "event_type": "decision.pending",
            "description": "The old ERP bridge (disabled after repeated failures)",
            "secret": new_secret(),
            "created_by": admin,
            "active": False,
            "consecutive_failures": 20,
            "disabled_reason": "Disabled after 20 failed attempts in a row.",
        },
    )
    if created:
        (event,) = _events(org, 1)
        WebhookDelivery.objects.create(
            subscription=old,
            event=event,
            status="failed",
            attempts=8,
            last_attempt_at=timezone.now() - timedelta(hours=3),
            error="Connection refused.",
        )
        world.log("events: a disabled webhook subscription (Re-enable)")

    if not Notification.objects.filter(user=admin, org=org, read_at__isnull=True).exists():
        notify_users(
            users=[admin.pk],
            org_id=org.pk,
            kind="wallet.low_balance",
            title="Credits are running low",
            body="Top up before the next order.",
            link="/billing/",
        )
        notify_users(
            users=[admin.pk],
            org_id=org.pk,
            kind="decision.pending",
            title="A quotation waits for your decision",
            link="/inbox/",
        )
        world.log("events: unread notifications for the Acme admin")
    # A few preferences, so the form on /notifications/ shows more than the defaults.
    from .models import NotificationPreference
    from .notifications import PreferenceChoice, preferences_set

    operator = world.users["acme_operator"]
    if not NotificationPreference.objects.filter(user__in=[admin, operator]).exists():
        preferences_set(
            user=admin,
            choices={
                "delivery.received": PreferenceChoice(in_app=True, email="immediate"),
                "decision.pending": PreferenceChoice(in_app=True, email="daily"),
                "budget.threshold_reached": PreferenceChoice(in_app=False, email="daily"),
            },
        )
        preferences_set(
            user=operator, choices={"coverage.updated": PreferenceChoice(in_app=True, email="daily")}
        )
        world.log("events: notification preferences for the Acme admin and operator")
