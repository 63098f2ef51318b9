from __future__ import annotations

import uuid

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
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["org", "-created_at"], name="events_org_created")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
