"""Webhook operations (`event_subscriptions.*`, `webhooks.drain`) with the reference's ids and
fields, plus the extensions the reference leaves out: rotating the secret and replaying deliveries.
Org admins only (API keys pass on their scopes, which only an admin can grant); another org's
subscription is a 404."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from rest_framework import serializers

from geopera_web.accounts.models import Scope
from geopera_web.api.fields import JSONSchemaField, PatternField, SettingBoundsMixin
from geopera_web.api.registry import Effect, OpContext, operation

from .models import EventSubscription, WebhookDelivery
from .registry import EVENT_TYPES
from .webhooks import (
    FILTER_KEYS,
    FORBIDDEN_HEADER_PREFIXES,
    FORBIDDEN_HEADERS,
    deliveries_replay,
    subscription_create,
    subscription_delete,
    subscription_get,
    subscription_rotate_secret,
    subscription_test,
    subscription_update,
    webhooks_drain,
)

_ID = {"max_length": 100}


def _any_case(text: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)


_ONE_LINE = "^[^\\u0000\\r\\n]*$"


class WebhookHeadersField(JSONSchemaField):
    """Extra headers, as webhooks._clean checks them: at most 20 one-line strings, names of 1 to 100
    characters that the platform does not set itself."""

    json_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "maxProperties": 20,
        "propertyNames": {
            "minLength": 1,
            "maxLength": 100,
            "pattern": _ONE_LINE,
            "not": {
                "pattern": "^("
                + "|".join(_any_case(h) for h in sorted(FORBIDDEN_HEADERS))
                + ")$|^("
                + "|".join(_any_case(p) for p in FORBIDDEN_HEADER_PREFIXES)
                + ")"
            },
        },
        "additionalProperties": {"type": "string", "maxLength": 1000, "pattern": _ONE_LINE},
    }
    what = "an object of at most 20 one-line headers the platform does not set"


class FilterConfigField(JSONSchemaField):
    json_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            key: {"type": "string", "maxLength": 100, "pattern": "^[^\\u0000]*$"}
            for key in sorted(FILTER_KEYS)
        },
        "additionalProperties": False,
    }
    what = "an object with only " + " and ".join(sorted(FILTER_KEYS))


def endpoint_url_pattern() -> str:
    """What an endpoint URL looks like, as the server reads it: https with a host name (an address
    literal would be checked against private ranges; a name is resolved and checked when
    delivering), an optional port, printable ASCII after. With WEBHOOK_ALLOW_PRIVATE (development,
    tests) http and address literals too."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return "^https?://[A-Za-z0-9._:\\[\\]-]+([/?#][!-~]*)?$"
    return "^https://[A-Za-z][A-Za-z0-9.-]*(:[0-9]{1,4})?([/?#][!-~]*)?$"


def endpoint_url_field(**kwargs: Any) -> PatternField:
    # Made with the serializer (the document is built from an instance too), so it follows the setting.
    return PatternField(
        endpoint_url_pattern(),
        max_length=2000,
        help_text="HTTPS endpoint receiving POSTs (http too when the server's WEBHOOK_ALLOW_PRIVATE "
        "is on); a host name, resolved to a public address when delivering.",
        error_messages={"invalid": "The endpoint is an https:// URL with a host name (and optional port)."},
        **kwargs,
    )


class CreateSubscriptionInput(serializers.Serializer):
    event_type = serializers.ChoiceField(
        choices=["*", *EVENT_TYPES],
        help_text='An event type, or "*" for every type.',
        error_messages={
            "invalid_choice": "Unknown event type {input}; one of: *, " + ", ".join(EVENT_TYPES) + "."
        },
    )
    endpoint_url = serializers.CharField(max_length=2000, help_text="HTTPS endpoint receiving POSTs.")
    filter_config = FilterConfigField(
        required=False,
        default=dict,
        help_text='Only matching events: {"workspace_id": ..., "order_type": ...}.',
    )
    headers = WebhookHeadersField(
        required=False, default=dict, help_text="Extra headers sent with every delivery."
    )
    description = serializers.CharField(max_length=500, required=False, allow_null=True, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["endpoint_url"] = endpoint_url_field(required=True)


class UpdateSubscriptionInput(serializers.Serializer):
    subscription_id = serializers.CharField(**_ID)
    endpoint_url = serializers.CharField(max_length=2000, required=False, allow_null=True)
    filter_config = FilterConfigField(required=False, allow_null=True)
    headers = WebhookHeadersField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False, allow_null=True)
    description = serializers.CharField(max_length=500, required=False, allow_null=True, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["endpoint_url"] = endpoint_url_field(required=False, allow_null=True)


class SubscriptionRef(serializers.Serializer):
    subscription_id = serializers.CharField(**_ID)


class ListSubscriptionsInput(serializers.Serializer):
    event_type = serializers.CharField(max_length=64, required=False, allow_null=True)
    active = serializers.BooleanField(required=False, allow_null=True)


class DeliveryOutput(serializers.Serializer):
    id = serializers.CharField()
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    http_status = serializers.IntegerField(allow_null=True)
    response_ms = serializers.IntegerField(allow_null=True)
    response_excerpt = serializers.CharField()
    error = serializers.CharField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    replay_of = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class SubscriptionOutput(serializers.Serializer):
    id = serializers.CharField()
    event_type = serializers.CharField()
    endpoint_url = serializers.CharField()
    filter_config = serializers.DictField()
    headers = serializers.DictField()
    description = serializers.CharField()
    active = serializers.BooleanField()
    disabled_reason = serializers.CharField()
    consecutive_failures = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    secret = serializers.CharField(
        required=False, help_text="Only in create and rotate_secret: store it now."
    )
    deliveries = DeliveryOutput(many=True, required=False, help_text="get only: the latest 50 deliveries.")


class ListSubscriptionsOutput(serializers.Serializer):
    subscriptions = SubscriptionOutput(many=True)


class DeleteSubscriptionOutput(serializers.Serializer):
    deleted = serializers.BooleanField(default=True)


class TestSubscriptionOutput(serializers.Serializer):
    status = serializers.CharField()
    delivered = serializers.BooleanField()
    http_status = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    delivery_id = serializers.CharField()


class DrainInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {"limit": {"max_value": "WEBHOOK_DRAIN_MAX_LIMIT"}}

    limit = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Events to fan out and deliveries to attempt, at most {max_value} (WEBHOOK_DRAIN_MAX_LIMIT).",
    )


class DrainOutput(serializers.Serializer):
    fanned_out = serializers.IntegerField()
    attempted = serializers.IntegerField()
    succeeded = serializers.IntegerField()


class RotateSecretInput(serializers.Serializer):
    subscription_id = serializers.CharField(**_ID)
    overlap_hours = serializers.FloatField(required=False, default=24.0, min_value=0, max_value=720)


class ReplayInput(serializers.Serializer):
    """One delivery (`delivery_id`) or every delivery created in [`since`, `until`)."""

    subscription_id = serializers.CharField(**_ID)
    delivery_id = serializers.CharField(required=False, allow_null=True, **_ID)
    since = serializers.DateTimeField(required=False, allow_null=True)
    until = serializers.DateTimeField(required=False, allow_null=True)

    openapi_schema_extra: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"required": ["delivery_id"], "properties": {"delivery_id": {"type": "string"}}},
            {"required": ["since"], "properties": {"since": {"type": "string"}}},
        ]
    }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("delivery_id") is None and attrs.get("since") is None:
            raise serializers.ValidationError(
                {"since": "Give a delivery_id, or a time range starting at since."}
            )
        return attrs


class ReplayOutput(serializers.Serializer):
    deliveries = DeliveryOutput(many=True)


def delivery_to_wire(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(d.pk),
        "event_id": str(d.event_id),
        "event_type": d.event.type,
        "status": d.status,
        "attempts": d.attempts,
        "http_status": d.http_status,
        "response_ms": d.response_ms,
        "response_excerpt": d.response_excerpt,
        "error": d.error,
        "next_attempt_at": d.next_attempt_at,
        "last_attempt_at": d.last_attempt_at,
        "replay_of": str(d.replay_of_id) if d.replay_of_id else None,
        "created_at": d.created_at,
    }


def subscription_to_wire(
    sub: EventSubscription, *, secret: str | None = None, deliveries: bool = False
) -> dict:
    wire: dict[str, Any] = {
        "id": str(sub.pk),
        "event_type": sub.event_type,
        "endpoint_url": sub.endpoint_url,
        "filter_config": sub.filter_config,
        "headers": sub.headers,
        "description": sub.description,
        "active": sub.active,
        "disabled_reason": sub.disabled_reason,
        "consecutive_failures": sub.consecutive_failures,
        "created_at": sub.created_at,
    }
    if secret is not None:
        wire["secret"] = secret
    if deliveries:
        wire["deliveries"] = [
            delivery_to_wire(d) for d in sub.deliveries.select_related("event").order_by("-created_at")[:50]
        ]
    return wire


def _admin(ctx: OpContext) -> None:
    ctx.require_role("admin", action="manage webhooks", api_keys=True)


@operation(
    "event_subscriptions.create",
    scope=Scope.EVENT_SUBSCRIPTIONS_WRITE,
    effect=Effect.COMPUTE,
    input=CreateSubscriptionInput,
    output=SubscriptionOutput,
    summary="Subscribe an HTTPS endpoint to an event type (the signing secret is returned once).",
)
def event_subscriptions_create_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Deliveries are signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    `webhook-signature` with the `whsec_` secret) and carry `X-Geopera-Event`, `X-Geopera-Event-ID`
    and `X-Geopera-Delivery-ID`. `filter_config` narrows by `workspace_id` and/or `order_type`."""
    _admin(ctx)
    sub = subscription_create(
        org=ctx.org,
        actor=ctx.user,
        event_type=data["event_type"],
        endpoint_url=data["endpoint_url"],
        filter_config=data.get("filter_config"),
        headers=data.get("headers"),
        description=data.get("description") or "",
    )
    return subscription_to_wire(sub, secret=sub.secret)


@operation(
    "event_subscriptions.update",
    scope=Scope.EVENT_SUBSCRIPTIONS_WRITE,
    effect=Effect.COMPUTE,
    input=UpdateSubscriptionInput,
    output=SubscriptionOutput,
    summary="Change a subscription's endpoint, filter, headers, description or active flag.",
)
def event_subscriptions_update_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """`active: true` re-enables a subscription disabled after repeated failures."""
    _admin(ctx)
    sub = subscription_update(org=ctx.org, **data)
    return subscription_to_wire(sub)


@operation(
    "event_subscriptions.delete",
    scope=Scope.EVENT_SUBSCRIPTIONS_WRITE,
    effect=Effect.COMPUTE,
    input=SubscriptionRef,
    output=DeleteSubscriptionOutput,
    summary="Delete a subscription (and its delivery log).",
)
def event_subscriptions_delete_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    _admin(ctx)
    subscription_delete(org=ctx.org, subscription_id=data["subscription_id"])
    return {"deleted": True}


@operation(
    "event_subscriptions.get",
    scope=Scope.EVENT_SUBSCRIPTIONS_READ,
    effect=Effect.READ,
    input=SubscriptionRef,
    output=SubscriptionOutput,
    summary="One subscription with its latest deliveries (the delivery log).",
)
def event_subscriptions_get_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    _admin(ctx)
    return subscription_to_wire(
        subscription_get(org=ctx.org, subscription_id=data["subscription_id"]), deliveries=True
    )


@operation(
    "event_subscriptions.list",
    scope=Scope.EVENT_SUBSCRIPTIONS_READ,
    effect=Effect.READ,
    input=ListSubscriptionsInput,
    output=ListSubscriptionsOutput,
    summary="The organization's subscriptions, newest first.",
)
def event_subscriptions_list_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    _admin(ctx)
    qs = EventSubscription.objects.filter(org=ctx.org)
    if data.get("event_type"):
        qs = qs.filter(event_type=data["event_type"])
    if data.get("active") is not None:
        qs = qs.filter(active=data["active"])
    return {"subscriptions": [subscription_to_wire(s) for s in qs]}


@operation(
    "event_subscriptions.test",
    scope=Scope.EVENT_SUBSCRIPTIONS_WRITE,
    effect=Effect.COMPUTE,
    input=SubscriptionRef,
    output=TestSubscriptionOutput,
    summary="Send a real signed `ping` event to the endpoint now and return the delivery result.",
)
def event_subscriptions_test_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    _admin(ctx)
    d = subscription_test(org=ctx.org, subscription_id=data["subscription_id"])
    return {
        "status": d.status,
        "delivered": d.status == WebhookDelivery.Status.SUCCEEDED,
        "http_status": d.http_status,
        "error": d.error or None,
        "event_id": str(d.event_id),
        "event_type": "ping",
        "delivery_id": str(d.pk),
    }


@operation(
    "webhooks.drain",
    scope=Scope.ADMIN_WRITE,
    effect=Effect.COMPUTE,
    input=DrainInput,
    output=DrainOutput,
    summary="Deliver the organization's due webhook deliveries now (and fan out events not yet fanned out).",
)
def webhooks_drain_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """What the beat does every WEBHOOK_DRAIN_SECONDS, for this org, in this request."""
    _admin(ctx)
    return webhooks_drain(org=ctx.org, limit=data.get("limit") or 500)


@operation(
    "event_subscriptions.rotate_secret",
    scope=Scope.EVENT_SUBSCRIPTIONS_WRITE,
    effect=Effect.COMPUTE,
    input=RotateSecretInput,
    output=SubscriptionOutput,
    summary="Replace the signing secret; the old one keeps signing for `overlap_hours` (returned once).",
    description="During the overlap `webhook-signature` carries two space-separated signatures (new, old).",
)
def event_subscriptions_rotate_secret_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    _admin(ctx)
    sub, secret = subscription_rotate_secret(
        org=ctx.org, subscription_id=data["subscription_id"], overlap_hours=data.get("overlap_hours", 24.0)
    )
    return subscription_to_wire(sub, secret=secret)


@operation(
    "event_subscriptions.replay",
    scope=Scope.EVENT_SUBSCRIPTIONS_WRITE,
    effect=Effect.COMPUTE,
    input=ReplayInput,
    output=ReplayOutput,
    summary="Deliver again one delivery (`delivery_id`) or every delivery created in [since, until).",
    description="Replays keep the event's `webhook-id` (receivers deduplicate on it) and get a new "
    "`X-Geopera-Delivery-ID`.",
)
def event_subscriptions_replay_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    _admin(ctx)
    copies = deliveries_replay(
        org=ctx.org,
        subscription_id=data["subscription_id"],
        delivery_id=data.get("delivery_id"),
        since=data.get("since"),
        until=data.get("until"),
    )
    rows = WebhookDelivery.objects.select_related("event").filter(pk__in=[c.pk for c in copies])
    return {"deliveries": [delivery_to_wire(d) for d in rows]}


# --- notifications -------------------------------------------------------------------------------


class NotificationRef(serializers.Serializer):
    notification_id = serializers.CharField(**_ID)


class NotificationsListInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {
        "limit": {"max_value": "NOTIFICATIONS_PAGE_MAX_LIMIT"},
        "offset": {"max_value": "NOTIFICATIONS_PAGE_MAX_OFFSET"},
    }

    unread_only = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(
        required=False,
        default=50,
        min_value=1,
        help_text="At most {max_value} (NOTIFICATIONS_PAGE_MAX_LIMIT).",
    )
    offset = serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        help_text="At most {max_value} (NOTIFICATIONS_PAGE_MAX_OFFSET).",
    )


class NotificationOutput(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField(help_text="The event type that caused it (e.g. decision.pending).")
    title = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField()
    event_id = serializers.CharField(allow_null=True)
    read = serializers.BooleanField()
    read_at = serializers.DateTimeField(allow_null=True)
    dismissed = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class NotificationsListOutput(serializers.Serializer):
    notifications = NotificationOutput(many=True)
    total = serializers.IntegerField()
    unread = serializers.IntegerField()


class UnreadCountOutput(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkAllReadOutput(serializers.Serializer):
    marked_count = serializers.IntegerField(default=0)


class _Empty(serializers.Serializer):
    pass


def notification_to_wire(n: Any) -> dict[str, Any]:
    return {
        "id": str(n.pk),
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "link": n.link,
        "event_id": str(n.event_id) if n.event_id else None,
        "read": n.read_at is not None,
        "read_at": n.read_at,
        "dismissed": n.dismissed_at is not None,
        "created_at": n.created_at,
    }


@operation(
    "notifications.list",
    scope=Scope.NOTIFICATIONS_READ,
    effect=Effect.READ,
    input=NotificationsListInput,
    output=NotificationsListOutput,
    user_only=True,
    summary="The caller's notifications in this organization, newest first (dismissed ones left out).",
)
def notifications_list_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    from .notifications import feed, unread_count

    qs = feed(user=ctx.user, org=ctx.org, unread_only=data.get("unread_only", False))
    offset, limit = data.get("offset", 0), data.get("limit", 50)
    return {
        "notifications": [notification_to_wire(n) for n in qs[offset : offset + limit]],
        "total": qs.count(),
        "unread": unread_count(user=ctx.user, org=ctx.org),
    }


@operation(
    "notifications.unread_count",
    scope=Scope.NOTIFICATIONS_READ,
    effect=Effect.READ,
    input=_Empty,
    output=UnreadCountOutput,
    user_only=True,
    summary="How many of the caller's notifications are unread (the bell's number).",
)
def notifications_unread_count_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    from .notifications import unread_count

    return {"unread": unread_count(user=ctx.user, org=ctx.org)}


@operation(
    "notifications.mark_read",
    scope=Scope.NOTIFICATIONS_WRITE,
    effect=Effect.COMPUTE,
    input=NotificationRef,
    output=NotificationOutput,
    user_only=True,
    summary="Mark one notification read (someone else's is a 404).",
)
def notifications_mark_read_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    from .notifications import mark_read

    return notification_to_wire(
        mark_read(user=ctx.user, org=ctx.org, notification_id=data["notification_id"])
    )


@operation(
    "notifications.dismiss",
    scope=Scope.NOTIFICATIONS_WRITE,
    effect=Effect.COMPUTE,
    input=NotificationRef,
    output=NotificationOutput,
    user_only=True,
    summary="Remove one notification from the feed (it is also marked read).",
)
def notifications_dismiss_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    from .notifications import dismiss

    return notification_to_wire(dismiss(user=ctx.user, org=ctx.org, notification_id=data["notification_id"]))


@operation(
    "notifications.mark_all_read",
    scope=Scope.NOTIFICATIONS_WRITE,
    effect=Effect.COMPUTE,
    input=_Empty,
    output=MarkAllReadOutput,
    user_only=True,
    summary="Mark every unread notification of the caller in this organization read.",
)
def notifications_mark_all_read_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    from .notifications import mark_all_read

    return {"marked_count": mark_all_read(user=ctx.user, org=ctx.org)}
