"""Demo data of the events app: Acme has a webhook subscription with a delivery log (some
delivered, one retrying) and its admin has unread notifications."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from geopera_web.demo import DemoWorld

DEMO_ENDPOINT = "https://hooks.example.com/geopera"


def seed_events(world: DemoWorld) -> None:
    from .models import Event, EventSubscription, Notification, WebhookDelivery
    from .notifications import notify_users
    from .webhooks import new_secret

    org, admin = world.orgs["acme"], world.users["acme_admin"]
    sub, created = EventSubscription.objects.get_or_create(
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
    if not sub.deliveries.exists():
        events = list(Event.objects.filter(org=org).exclude(type="ping").order_by("-created_at")[:5])
        if not events:
            events = [
                Event.objects.create(
                    org=org,
                    type="order.created",
                    payload={"demo": True},
                    fanned_out_at=timezone.now(),
                    notified_at=timezone.now(),
                )
            ]
        now = timezone.now()
        for i, e in enumerate(events):
            ok = i > 0
            WebhookDelivery.objects.create(
                subscription=sub,
                event=e,
                status=WebhookDelivery.Status.SUCCEEDED if ok else WebhookDelivery.Status.RETRYING,
                attempts=1 if ok else 3,
                last_attempt_at=now - timedelta(minutes=5 * i),
                next_attempt_at=None if ok else now + timedelta(minutes=2),
                http_status=200 if ok else 503,
                response_ms=80 + 17 * i if ok else 1200,
                response_excerpt='{"received":true}' if ok else "Service Unavailable",
                error="" if ok else "HTTP 503",
            )
        world.log(f"events: webhook subscription with {len(events)} deliveries")
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
