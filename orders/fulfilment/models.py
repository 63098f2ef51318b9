"""What providers (or support staff) handed over for an order: delivery batches and the captures
in them. Coverage and assets are computed from these rows."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models


class DeliveryBatch(models.Model):
    """One hand-over of tasking captures for an order: a provider's delivery (one poll's worth) or
    a support person's manual upload. `ref` is unique per order, so ingesting the same provider
    batch twice (a retried poll) adds nothing."""

    class Source(models.TextChoices):
        PROVIDER = "provider", "Provider"
        MANUAL = "manual", "Recorded by support"

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="delivery_batches")
    ref = models.CharField(max_length=120, help_text="Provider batch id, or manual-<uuid>.")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PROVIDER)
    provider = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["order", "received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "ref"], name="orders_deliverybatch_ref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} ({self.get_source_display()})"


class DeliveredCapture(models.Model):
    """A capture delivered (or whose acquisition failed) for a tasking order's AOI group.

    Only `delivered` captures count towards coverage; `failed` ones stay for the record (a cloudy
    or lost acquisition that the provider re-tasks).
    """

    class Status(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        PROVIDER = "provider", "Provider"
        MANUAL = "manual", "Recorded by support"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="delivered_captures")
    group = models.ForeignKey(
        "orders.OrderGroup", on_delete=models.CASCADE, related_name="delivered_captures"
    )
    batch = models.ForeignKey(
        DeliveryBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="captures"
    )
    scene_id = models.CharField(max_length=200, help_text="The provider's scene id (the STAC item id).")
    footprint = models.MultiPolygonField(srid=4326)
    acquired_at = models.DateTimeField()
    delivered_at = models.DateTimeField()
    cloud_cover = models.FloatField(null=True, blank=True, help_text="Percent, 0–100.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DELIVERED)
    status_reason = models.CharField(max_length=300, blank=True)
    # STAC assets ({"visual": {"href", "type", "roles"}, "analytic": {...}}) and item properties.
    assets = models.JSONField(default=dict, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PROVIDER)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "acquired_at", "scene_id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "scene_id"], name="orders_delivered_scene_unique"),
        ]
        indexes = [
            models.Index(fields=["order", "status"], name="orders_delivered_order_status"),
            models.Index(fields=["group", "-delivered_at"], name="orders_delivered_group_time"),
        ]

    def __str__(self) -> str:
        return f"{self.scene_id} ({self.status})"
