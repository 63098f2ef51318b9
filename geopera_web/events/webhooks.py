"""Webhook subscriptions and deliveries (services). Events fan out after their transaction commits;
each delivery is attempted by Celery, retried with exponential backoff up to WEBHOOK_MAX_ATTEMPTS,
and an endpoint that fails WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row is disabled (its org's
admins are told). At-least-once: `webhooks_drain` (and the beat) re-drive what a crash left."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from geopera_web.accounts.models import Membership, Organization, Role, User
from geopera_web.errors import InvalidInput, NotFound, parse_uuid

from .models import Event, EventSubscription, WebhookDelivery
from .registry import EVENT_TYPES
from .sender import send, url_problem
from .services import events_locked_unstamped

logger = logging.getLogger(__name__)

FILTER_KEYS = {"workspace_id", "order_type"}
FORBIDDEN_HEADERS = {"host", "content-type", "content-length", "transfer-encoding", "connection"}
FORBIDDEN_HEADER_PREFIXES = ("webhook-", "x-geopera-")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _invalid(field: str, msg: str) -> InvalidInput:
    """A 422 naming the field (the API's HTTPValidationError; the pages show `msg`)."""
    return InvalidInput(msg, status=422, errors=[{"loc": ["body", field], "msg": msg, "type": "value_error"}])


def _clean(
    *,
    event_type: str | None = None,
    endpoint_url: str | None = None,
    filter_config: Any = None,
    headers: Any = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if event_type is not None:
        if event_type != "*" and event_type not in EVENT_TYPES:
            raise _invalid(
                "event_type", f"Unknown event type {event_type!r}; one of: *, {', '.join(EVENT_TYPES)}."
            )
        out["event_type"] = event_type
    if endpoint_url is not None:
        problem = url_problem(endpoint_url) if len(endpoint_url) <= 2000 else "The URL is too long."
        if problem:
            raise _invalid("endpoint_url", problem)
        out["endpoint_url"] = endpoint_url
    if filter_config is not None:
        if not isinstance(filter_config, dict) or set(filter_config) - FILTER_KEYS:
            raise _invalid("filter_config", f"filter_config takes only {', '.join(sorted(FILTER_KEYS))}.")
        if not all(isinstance(v, str) and len(v) <= 100 for v in filter_config.values()):
            raise _invalid("filter_config", "filter_config values are strings.")
        out["filter_config"] = filter_config
    if headers is not None:
        if not isinstance(headers, dict) or len(headers) > 20:
            raise _invalid("headers", "headers is an object of at most 20 strings.")
        for k, v in headers.items():
            if (
                not isinstance(v, str)
                or not k
                or len(k) > 100
                or len(v) > 1000
                or "\n" in k + v
                or "\r" in k + v
            ):
                raise _invalid("headers", "Each header is a one-line string.")
            low = k.lower()
            if low in FORBIDDEN_HEADERS or low.startswith(FORBIDDEN_HEADER_PREFIXES):
                raise _invalid("headers", f"The header {k!r} is set by the platform.")
        out["headers"] = headers
    return out


def subscription_create(
    *,
    org: Organization,
    actor: User | None,
    event_type: str,
    endpoint_url: str,
    filter_config: dict | None = None,
    headers: dict | None = None,
    description: str = "",
) -> EventSubscription:
    fields = _clean(
        event_type=event_type,
        endpoint_url=endpoint_url,
        filter_config=filter_config or {},
        headers=headers or {},
    )
    return EventSubscription.objects.create(
        org=org, created_by=actor, description=(description or "")[:500], secret=new_secret(), **fields
    )


def subscription_get(
    *, org: Organization, subscription_id: object, for_update: bool = False
) -> EventSubscription:
    pk = parse_uuid(subscription_id)
    qs = EventSubscription.objects.filter(org=org, pk=pk) if pk else EventSubscription.objects.none()
    sub = (qs.select_for_update() if for_update else qs).first()
    if sub is None:
        raise NotFound("No such subscription.")
    return sub


@transaction.atomic
def subscription_update(*, org: Organization, subscription_id: object, **changes: Any) -> EventSubscription:
    sub = subscription_get(org=org, subscription_id=subscription_id, for_update=True)
    fields = _clean(
        event_type=changes.get("event_type"),
        endpoint_url=changes.get("endpoint_url"),
        filter_config=changes.get("filter_config"),
        headers=changes.get("headers"),
    )
    if changes.get("description") is not None:
        fields["description"] = str(changes["description"])[:500]
    if changes.get("active") is not None:
        fields["active"] = bool(changes["active"])
        if fields["active"]:
            fields |= {"consecutive_failures": 0, "disabled_reason": ""}
    for k, v in fields.items():
        setattr(sub, k, v)
    sub.save()
    return sub


def subscription_delete(*, org: Organization, subscription_id: object) -> None:
    subscription_get(org=org, subscription_id=subscription_id).delete()


@transaction.atomic
def subscription_rotate_secret(
    *, org: Organization, subscription_id: object, overlap_hours: float = 24.0
) -> tuple[EventSubscription, str]:
    """A new secret signs from now on; the old one also signs for `overlap_hours`."""
    sub = subscription_get(org=org, subscription_id=subscription_id, for_update=True)
    sub.previous_secret = sub.secret
    sub.previous_secret_expires_at = timezone.now() + timedelta(hours=max(0.0, min(overlap_hours, 24 * 30)))
    sub.secret = new_secret()
    sub.save()
    return sub, sub.secret


# --- fan-out ---------------------------------------------------------------------------------------


def _matches(sub: EventSubscription, event: Event) -> bool:
    if sub.event_type not in ("*", event.type):
        return False
    f = sub.filter_config or {}
    if f.get("workspace_id") and str(event.workspace_id or "") != f["workspace_id"]:
        return False
    return not (f.get("order_type") and event.payload.get("orderType") != f["order_type"])


def event_fan_out(event_id: object) -> list[WebhookDelivery]:
    """Create the deliveries of one committed event (once) and queue them after commit."""
    return events_fan_out([event_id])


def events_fan_out(event_ids: Iterable[object]) -> list[WebhookDelivery]:
    """Create the deliveries of committed events (each once) and queue them after commit: the
    events are locked, the subscriptions of their orgs read and the events stamped in one
    statement each, however many events there are."""
    ids = list(event_ids)
    if not ids:
        return []
    with transaction.atomic():
        events = events_locked_unstamped(ids, stamp="fanned_out_at")
        if not events:
            return []
        subs_by_org: dict[Any, list[EventSubscription]] = defaultdict(list)
        for s in EventSubscription.objects.filter(org_id__in={e.org_id for e in events}, active=True):
            subs_by_org[s.org_id].append(s)
        now = timezone.now()
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(subscription=s, event=e, next_attempt_at=now)
                for e in events
                if e.type != "ping"
                for s in subs_by_org[e.org_id]
                if _matches(s, e)
            ]
        )
        Event.objects.filter(pk__in=[e.pk for e in events]).update(fanned_out_at=now)
        _enqueue_after_commit(*[d.pk for d in deliveries])
    return deliveries


def _enqueue_after_commit(*delivery_ids: object, countdown: float = 0) -> None:
    if not settings.WEBHOOK_ENQUEUE or not delivery_ids:  # without: the drain (beat, webhooks.drain)
        return

    def go() -> None:
        from .tasks import deliver_webhook

        for delivery_id in delivery_ids:
            try:
                deliver_webhook.apply_async(args=[str(delivery_id)], countdown=countdown)
            except Exception:  # broker down: the drain (beat) picks it up later
                logger.warning("Could not queue webhook delivery %s", delivery_id)

    transaction.on_commit(go)


def _consumer(events: list[Event]) -> None:
    """The outbox's batch consumer: one look-up of which orgs subscribe at all; the events of the
    others are stamped in one UPDATE, the rest fanned out together."""
    subscribed = set(
        EventSubscription.objects.filter(org_id__in={e.org_id for e in events}, active=True)
        .values_list("org_id", flat=True)
        .distinct()
    )
    idle = [e.pk for e in events if e.org_id not in subscribed]
    if idle:
        Event.objects.filter(pk__in=idle, fanned_out_at__isnull=True).update(fanned_out_at=timezone.now())
    events_fan_out(e.pk for e in events if e.org_id in subscribed)


# --- one attempt -----------------------------------------------------------------------------------


def _body(event: Event) -> str:
    return json.dumps(
        {
            "id": str(event.pk),
            "type": event.type,
            "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
            "data": event.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )


def _signature(sub: EventSubscription, msg_id: str, when: datetime, body: str) -> str:
    sigs = [Webhook(sub.secret).sign(msg_id, when, body)]
    if sub.previous_secret and sub.previous_secret_expires_at and sub.previous_secret_expires_at > when:
        sigs.append(Webhook(sub.previous_secret).sign(msg_id, when, body))
    return " ".join(sigs)


def backoff_seconds(attempts: int) -> float:
    base = float(settings.WEBHOOK_RETRY_BASE_SECONDS)
    return min(base * (2 ** max(attempts - 1, 0)), float(settings.WEBHOOK_RETRY_MAX_SECONDS))


def delivery_attempt(delivery_id: object) -> WebhookDelivery | None:
    """Send one delivery now (skipping one that succeeded, gave up, or is not due)."""
    with transaction.atomic():
        d = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("subscription", "event")
            .filter(
                pk=delivery_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
            )
            .first()
        )
        if d is None:
            return None
        sub = d.subscription
        if not sub.active:
            d.status, d.error, d.next_attempt_at = (
                WebhookDelivery.Status.FAILED,
                "Subscription disabled.",
                None,
            )
            d.save()
            return d
        body = _body(d.event)
        now = timezone.now()
        msg_id = str(d.event_id)
        headers = {
            **{str(k): str(v) for k, v in (sub.headers or {}).items()},
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": _signature(sub, msg_id, now, body),
            "X-Geopera-Event": d.event.type,
            "X-Geopera-Event-ID": msg_id,
            "X-Geopera-Delivery-ID": str(d.pk),
            "User-Agent": "geopera-webhooks/1",
        }
        result = send(sub.endpoint_url, body=body.encode(), headers=headers)
        d.attempts += 1
        d.last_attempt_at = timezone.now()
        d.http_status, d.response_ms = result.http_status, result.response_ms
        d.response_excerpt, d.error = result.body_excerpt[:1000], result.error[:500]
        if result.ok:
            d.status, d.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, None
            sub.consecutive_failures = 0
        else:
            sub.consecutive_failures += 1
            if d.attempts >= int(settings.WEBHOOK_MAX_ATTEMPTS):
                d.status, d.next_attempt_at = WebhookDelivery.Status.FAILED, None
            else:
                wait = backoff_seconds(d.attempts)
                d.status, d.next_attempt_at = (
                    WebhookDelivery.Status.RETRYING,
                    d.last_attempt_at + timedelta(seconds=wait),
                )
                _enqueue_after_commit(d.pk, countdown=wait)
            if sub.active and sub.consecutive_failures >= int(settings.WEBHOOK_DISABLE_AFTER_FAILURES):
                _disable(sub)
        d.save()
        sub.save(update_fields=["consecutive_failures", "active", "disabled_reason", "updated_at"])
    return d


def _disable(sub: EventSubscription) -> None:
    sub.active = False
    sub.disabled_reason = f"Disabled after {sub.consecutive_failures} failed attempts in a row."[:300]
    recipients = [
        e
        for e in Membership.objects.filter(
            org_id=sub.org_id, role=Role.ADMIN, user__is_active=True
        ).values_list("user__email", flat=True)
        if e
    ]
    admins = list(Membership.objects.filter(org_id=sub.org_id, role=Role.ADMIN, user__is_active=True))
    try:
        from .notifications import notify_users

        notify_users(
            users=[m.user_id for m in admins],
            org_id=sub.org_id,
            kind="webhook.disabled",
            title="A webhook endpoint was disabled",
            body=f"{sub.endpoint_url} failed {sub.consecutive_failures} times in a row; re-enable it in Settings → Webhooks.",
            link="/settings/webhooks/",
        )
    except ImportError:
        pass

    def mail() -> None:
        if recipients:
            try:
                send_mail(
                    subject="[geopera] A webhook endpoint was disabled",
                    message=f"{sub.endpoint_url} ({sub.event_type}) failed {sub.consecutive_failures} times "
                    "in a row and no longer receives events. Fix it, then re-enable it under Settings → Webhooks.",
                    from_email=None,
                    recipient_list=recipients,
                )
            except Exception:
                logger.exception("Could not mail the webhook-disabled notice")

    transaction.on_commit(mail)


# --- test, replay, drain ---------------------------------------------------------------------------


def subscription_test(*, org: Organization, subscription_id: object) -> WebhookDelivery:
    """A real signed `ping` event, delivered now (one attempt, in this request)."""
    from .services import event_emit

    with transaction.atomic():
        sub = subscription_get(org=org, subscription_id=subscription_id)
        event = event_emit(
            org=org, type="ping", data={"subscriptionId": str(sub.pk), "message": "Test event"}
        )
        assert event is not None
        Event.objects.filter(pk=event.pk).update(fanned_out_at=timezone.now())
        d = WebhookDelivery.objects.create(subscription=sub, event=event, next_attempt_at=timezone.now())
    result = delivery_attempt(d.pk) or d
    if result.status == WebhookDelivery.Status.RETRYING:  # a test is tried once
        WebhookDelivery.objects.filter(pk=d.pk).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=None
        )
        result.refresh_from_db()
    return result


def deliveries_replay(
    *,
    org: Organization,
    subscription_id: object,
    delivery_id: object | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[WebhookDelivery]:
    """New deliveries (new X-Geopera-Delivery-ID, same webhook-id) of one delivery or of every
    delivery of the subscription created in [since, until)."""
    sub = subscription_get(org=org, subscription_id=subscription_id)
    qs = WebhookDelivery.objects.filter(subscription=sub, replay_of__isnull=True)
    if delivery_id is not None:
        pk = parse_uuid(delivery_id)
        originals = list(qs.filter(pk=pk)) if pk else []
        if not originals:
            raise NotFound("No such delivery.")
    else:
        if since is None:
            raise _invalid("since", "Give a delivery or a time range.")
        qs = qs.filter(created_at__gte=since)
        if until is not None:
            qs = qs.filter(created_at__lt=until)
        originals = list(qs.order_by("created_at")[:1000])
    now = timezone.now()
    with transaction.atomic():
        copies = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(subscription=sub, event_id=o.event_id, replay_of=o, next_attempt_at=now)
                for o in originals
            ]
        )
        _enqueue_after_commit(*[c.pk for c in copies])
    return copies


def webhooks_drain(*, org: Organization | None = None, limit: int = 500) -> dict[str, int]:
    """Fan out events a crash left undone and attempt every due delivery now (of `org`, or all)."""
    events = Event.objects.filter(fanned_out_at__isnull=True).exclude(type="ping")
    if org is not None:
        events = events.filter(org=org)
    fanned = len(events_fan_out(list(events.order_by("created_at").values_list("pk", flat=True)[:limit])))
    due = WebhookDelivery.objects.filter(
        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
        next_attempt_at__lte=timezone.now(),
    )
    if org is not None:
        due = due.filter(subscription__org=org)
    attempted = succeeded = 0
    for did in list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]):
        d = delivery_attempt(did)
        if d is not None:
            attempted += 1
            succeeded += d.status == WebhookDelivery.Status.SUCCEEDED
    return {"fanned_out": fanned, "attempted": attempted, "succeeded": succeeded}
