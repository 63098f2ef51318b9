"""Periodic work of the outbox: `decision.expiring` for every pending decision whose deadline is
within DECISION_EXPIRING_LEAD_HOURS (one event per decision, ever: a dedupe key)."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone


def decisions_expiring_emit(*, now: datetime | None = None) -> int:
    from orders.approvals.models import SpendApproval
    from tasking.models import FeasibilityStudy, Quotation

    from .order_bridge import order_payload
    from .services import event_emit

    now = now or timezone.now()
    horizon = now + timedelta(hours=float(settings.DECISION_EXPIRING_LEAD_HOURS))
    sources = [
        (
            "feasibility",
            FeasibilityStudy.objects.filter(decision="PENDING", deadline__gt=now, deadline__lte=horizon),
            "deadline",
        ),
        (
            "quotation",
            Quotation.objects.filter(decision="PENDING", valid_until__gt=now, valid_until__lte=horizon),
            "valid_until",
        ),
        (
            "approval",
            SpendApproval.objects.filter(decision="PENDING", expires_at__gt=now, expires_at__lte=horizon),
            "expires_at",
        ),
    ]
    emitted = 0
    for kind, qs, field in sources:
        for obj in qs.select_related("org", "order")[:500]:
            data = order_payload(obj.order) | {
                "decisionKind": kind,
                "decisionId": str(obj.pk),
                "deadline": getattr(obj, field).isoformat(),
            }
            with transaction.atomic():
                if event_emit(
                    org=obj.org, type="decision.expiring", data=data, dedupe_key=f"expiring:{kind}:{obj.pk}"
                ):
                    emitted += 1
    return emitted


@shared_task(acks_late=True, ignore_result=True)
def emit_expiring_decisions() -> int:
    return decisions_expiring_emit()


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: str) -> None:
    from .webhooks import delivery_attempt

    delivery_attempt(delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def drain_webhooks() -> dict[str, int]:
    from .webhooks import webhooks_drain

    return webhooks_drain()


@shared_task(acks_late=True, ignore_result=True)
def notify_events(event_ids: list[str]) -> int:
    """The notifications of committed events not yet notified (queued by the sweep)."""
    from .notifications import events_notify

    return len(events_notify(event_ids))


@shared_task(acks_late=True, ignore_result=True)
def send_notification_digests() -> int:
    from .notifications import digests_send

    return digests_send()
