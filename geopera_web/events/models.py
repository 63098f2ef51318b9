from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from geopera_web.accounts.models import Organization


class Event(models.Model):
    """One thing that happened, written in the same transaction as the change it reports (the
    outbox): webhooks and notifications are driven from these rows, so none is lost or invented."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(default=dict)
    # Filters of subscriptions and routing of notifications read these (copied from the payload).
    workspace_id = models.UUIDField(null=True, blank=True)
    order_id = models.UUIDField(null=True, blank=True)
    # At most one event per key (e.g. one "decision.expiring" per decision).
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # Set once webhook deliveries exist for every matching subscription (webhooks.drain finishes
    # what a crash between commit and fan-out left undone).
    fanned_out_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set in the same transaction as the event's notification rows (notifications.events_notify;
    # the sweep notifies committed events a crash left without it).
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["org", "-created_at"], name="events_org_created"),
            # The notification sweep's look-up: only the (few) events not yet notified.
            models.Index(
                fields=["created_at"], name="events_unnotified", condition=models.Q(notified_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class EventSubscription(models.Model):
    """An org's HTTPS endpoint subscribed to one event type (or "*"), signed per Standard Webhooks."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="event_subscriptions")
    event_type = models.CharField(max_length=64)
    endpoint_url = models.URLField(max_length=2000)
    # {"workspace_id": "...", "order_type": "tasking"}: only events that match every key.
    filter_config = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    description = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100)
    # After a rotation the old secret also signs until this instant (receivers switch over).
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["org", "event_type"], name="events_sub_org_type")]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.endpoint_url}"


class WebhookDelivery(models.Model):
    """One event to one subscription: every attempt updates it (the delivery log)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed (retries exhausted)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(EventSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="events_delivery_sub"),
            models.Index(fields=["status", "next_attempt_at"], name="events_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.id} ({self.status})"


class Notification(models.Model):
    """One line of a person's in-app feed (fed by events, routed by role)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=1000, blank=True)
    link = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    # Waiting for the next e-mail digest (a preference with digest=True)...
    digest_pending = models.BooleanField(default=False)
    # ...then gathered into the digest that mails it (`digests_send`).
    digest = models.ForeignKey(
        "NotificationDigest", null=True, blank=True, on_delete=models.SET_NULL, related_name="lines"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "org", "-created_at"], name="events_notif_feed"),
            # The daily digest run finds who has lines waiting without reading every notification.
            models.Index(
                fields=["user"], condition=models.Q(digest_pending=True), name="events_notif_digest_due"
            ),
        ]
        constraints = [
            # One line per person per event: a redelivered or racing fan-out cannot notify twice.
            models.UniqueConstraint(
                fields=["event", "user"], name="events_notif_once", condition=models.Q(event__isnull=False)
            )
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """A person's channels for one event type (no row: in-app only). E-mail is off, immediate
    (`email`) or gathered into the daily digest (`email` and `digest`); `preference_set` writes it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=64)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=False)
    # E-mail gathered into one daily message instead of one per event.
    digest = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event_type"], name="events_pref_unique"),
            # A digest is a way of sending e-mail: without e-mail it would mean nothing.
            models.CheckConstraint(
                condition=models.Q(digest=False) | models.Q(email=True), name="events_pref_digest_is_email"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event_type}"

    @property
    def email_mode(self) -> str:
        return "daily" if self.email and self.digest else "immediate" if self.email else "off"


class NotificationDigest(models.Model):
    """One person's digest e-mail of one day: at most one per (user, day), so a second run of the
    daily task (or two beats) sends nothing more. Lines are attached in one transaction, the mail
    goes out after that commit, and `sent_at` records it (an unsent digest is retried next run)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    line_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="events_digest_once_a_day")]
        indexes = [
            models.Index(
                fields=["user"], condition=models.Q(sent_at__isnull=True), name="events_digest_unsent"
            )
        ]

    def __str__(self) -> str:
        return f"digest {self.user_id} {self.day}"


class OrderWatcher(models.Model):
    """A person who hears of an order's status changes, deliveries and coverage as its creator does.
    Keyed by the order's id like `Event` (the platform imports no domain app); the orders app checks
    the order is the caller's org's before writing one (`orders.services.order_watch_set`)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    order_id = models.UUIDField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order_id", "user"], name="events_watcher_once")]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.order_id}"
