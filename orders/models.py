"""Catalog captures, data products, and orders (archive and tasking share one Order model).

A tasking order *is* an Order with groups (one per AOI); the tasking app adds sensors, templates,
feasibility studies and quotations around it. Status changes go through `orders.services.order_transition`
only, which checks TRANSITIONS and writes an OrderEvent.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex
from django.db.models.fields.json import KT

from geopera_web.accounts.models import BillingMode, Organization, Workspace


class OrderType(models.TextChoices):
    ARCHIVE = "archive", "Archive"
    TASKING = "tasking", "Tasking"


class DataProduct(models.Model):
    """Something that can be bought, with its price: credits per km² over a minimum billable area.

    Archive products price catalog captures; tasking products price new acquisitions (the tasking
    app links them to sensors and gives them an order-form schema).
    """

    id = models.SlugField(primary_key=True, max_length=80)
    name = models.CharField(max_length=200)
    order_type = models.CharField(max_length=16, choices=OrderType.choices)
    collection = models.CharField(max_length=100, help_text="Catalog collection (STAC) this product sells.")
    host = models.CharField(max_length=100, default="geopera-sim", help_text="Provider that fulfils it.")
    description = models.TextField(blank=True)
    credits_per_km2 = models.PositiveIntegerField()
    min_area_km2 = models.FloatField(default=0, help_text="Smaller areas are billed as this area.")
    max_area_km2 = models.FloatField(null=True, blank=True, help_text="Largest area one group may have.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order_type", "name"]

    def __str__(self) -> str:
        return self.name


class Capture(models.Model):
    """A scene in the archive catalog (STAC-like)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scene_id = models.CharField(max_length=200, help_text="The provider's scene id (the STAC item id).")
    collection = models.CharField(max_length=100)
    host = models.CharField(max_length=100, default="geopera-sim")
    data_product = models.ForeignKey(DataProduct, on_delete=models.PROTECT, related_name="captures")
    footprint = models.MultiPolygonField(srid=4326)
    acquired_at = models.DateTimeField()
    cloud_cover = models.FloatField(help_text="Percent, 0–100.")
    off_nadir = models.FloatField(help_text="Degrees.")
    gsd = models.FloatField(help_text="Ground sample distance, metres.")
    sun_elevation = models.FloatField(null=True, blank=True, help_text="Degrees.")
    platform = models.CharField(max_length=100)
    quicklook_url = models.URLField(max_length=500, blank=True)
    thumbnail_url = models.URLField(max_length=500, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "scene_id"], name="orders_capture_scene_unique"),
        ]
        indexes = [
            models.Index(fields=["-acquired_at", "-id"], name="orders_capture_keyset"),
            models.Index(fields=["collection", "-acquired_at"], name="orders_capture_coll_time"),
            models.Index(fields=["scene_id"], name="orders_capture_scene"),
        ]

    def __str__(self) -> str:
        return f"{self.collection}/{self.scene_id}"


class Order(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING = "pending", "Awaiting decisions"
        PROCESSING = "processing", "Processing"
        ACTIVE = "active", "Active (acquiring)"
        FULFILLED = "fulfilled", "Fulfilled"
        PARTIALLY_FULFILLED = "partially_fulfilled", "Partially fulfilled"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"

    TRANSITIONS: dict[str, set[str]] = {
        Status.DRAFT: {Status.PENDING, Status.CANCELLED},
        Status.PENDING: {Status.ACTIVE, Status.REJECTED, Status.CANCELLED, Status.EXPIRED, Status.FAILED},
        Status.PROCESSING: {Status.FULFILLED, Status.FAILED, Status.CANCELLED},
        Status.ACTIVE: {Status.FULFILLED, Status.PARTIALLY_FULFILLED, Status.FAILED, Status.CANCELLED},
        Status.FULFILLED: set(),
        Status.PARTIALLY_FULFILLED: set(),
        Status.FAILED: set(),
        Status.CANCELLED: set(),
        Status.REJECTED: set(),
        Status.EXPIRED: set(),
    }
    TERMINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)

    class SubStatus(models.TextChoices):
        """Where a tasking order stands inside PENDING/ACTIVE (UP42's names)."""

        NONE = "", "—"
        FEASIBILITY_WAITING_UPLOAD = "FEASIBILITY_WAITING_UPLOAD", "Feasibility: waiting for the study"
        FEASIBILITY_WAITING_RESPONSE = (
            "FEASIBILITY_WAITING_RESPONSE",
            "Feasibility: waiting for your decision",
        )
        QUOTATION_WAITING_UPLOAD = "QUOTATION_WAITING_UPLOAD", "Quotation: waiting for the quote"
        QUOTATION_WAITING_RESPONSE = "QUOTATION_WAITING_RESPONSE", "Quotation: waiting for your decision"
        QUOTATION_ACCEPTED = "QUOTATION_ACCEPTED", "Quotation accepted"
        QUOTATION_REJECTED = "QUOTATION_REJECTED", "Quotation rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="orders")
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="orders")
    order_type = models.CharField(max_length=16, choices=OrderType.choices)
    status = models.CharField(max_length=24, choices=Status.choices)
    sub_status = models.CharField(max_length=40, choices=SubStatus.choices, blank=True, default="")
    display_name = models.CharField(max_length=200, blank=True)
    # Tasking orders buy one product; archive orders may span several (see their groups).
    data_product = models.ForeignKey(
        DataProduct, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    params = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    license_type = models.CharField(max_length=40, blank=True)
    split_by_date = models.BooleanField(default=False)
    billing_mode = models.CharField(max_length=16, choices=BillingMode.choices)
    total_credits = models.BigIntegerField(default=0)
    charge = models.ForeignKey(
        "billing.Charge", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Provider-side reference once placed with the fulfilling provider.
    provider_ref = models.CharField(max_length=200, blank=True)
    # Free provenance, e.g. {"template_id": ..., "template_name": ...} for tasking orders.
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["org", "-created_at"], name="orders_order_org_created"),
            models.Index(fields=["org", "status"], name="orders_order_org_status"),
            GinIndex(fields=["tags"], name="orders_order_tags_gin"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_credits__gte=0), name="orders_order_total_nonneg"
            ),
            # A form's one-time key (pages send one per render): two submits of one form, even at the
            # same instant, can make only one order.
            models.UniqueConstraint(
                models.F("org"),
                KT("metadata__idempotency_key"),
                condition=models.Q(metadata__has_key="idempotency_key"),
                name="orders_order_page_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or f"{self.get_order_type_display()} order {str(self.id)[:8]}"

    @property
    def total_aud(self) -> float:
        return round(self.total_credits / 100, 2)

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class OrderGroup(models.Model):
    """A priced part of an order: an AOI for tasking, a product (and date) for archive."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="groups")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=200, blank=True)
    data_product = models.ForeignKey(
        DataProduct, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Archive: the union of the billed capture geometries. Tasking: the requested AOI.
    geometry = models.MultiPolygonField(srid=4326)
    area_km2 = models.FloatField(help_text="Geodesic area of `geometry`.")
    billed_area_km2 = models.FloatField(help_text="max(area, product minimum).")
    credits = models.BigIntegerField(default=0)
    acquisition_date = models.DateField(null=True, blank=True, help_text="Set when split by date.")
    captures = models.ManyToManyField(Capture, blank=True, related_name="order_groups")
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gte=0), name="orders_group_credits_nonneg")
        ]

    def __str__(self) -> str:
        return self.name or f"Group {self.position + 1}"


class DeliveryBatch(models.Model):
    """One hand-over of tasking captures for an order: a provider's delivery (one poll's worth) or
    a support person's manual upload. `ref` is unique per order, so ingesting the same provider
    batch twice (a retried poll) adds nothing."""

    class Source(models.TextChoices):
        PROVIDER = "provider", "Provider"
        MANUAL = "manual", "Recorded by support"

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="delivery_batches")
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
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="delivered_captures")
    group = models.ForeignKey(OrderGroup, on_delete=models.CASCADE, related_name="delivered_captures")
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


class CoverageSnapshot(models.Model):
    """Covered vs remainder of one AOI group at one moment (a history: one row per change).

    `fingerprint` identifies the inputs (the AOI and every contributing footprint): a recompute
    whose fingerprint equals the latest snapshot's writes nothing. Empty geometries are NULL.
    """

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="coverage_snapshots")
    group = models.ForeignKey(OrderGroup, on_delete=models.CASCADE, related_name="coverage_snapshots")
    computed_at = models.DateTimeField()
    covered = models.MultiPolygonField(srid=4326, null=True, blank=True)
    remainder = models.MultiPolygonField(srid=4326, null=True, blank=True)
    requested_km2 = models.FloatField()
    covered_km2 = models.FloatField()
    remainder_km2 = models.FloatField()
    percent = models.FloatField(help_text="Covered share of the AOI, 0–100.")
    captures_delivered = models.PositiveIntegerField(default=0)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64)

    class Meta:
        ordering = ["group", "-computed_at", "-id"]
        get_latest_by = "computed_at"
        indexes = [
            models.Index(fields=["group", "-computed_at", "-id"], name="orders_coverage_group_latest"),
            models.Index(fields=["order", "computed_at"], name="orders_coverage_order_time"),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.percent:.1f}% at {self.computed_at:%Y-%m-%d %H:%M}"

    @property
    def remainder_percent(self) -> float:
        return 100.0 * self.remainder_km2 / self.requested_km2 if self.requested_km2 else 0.0


class OrderEvent(models.Model):
    """Append-only timeline of an order: who did what, when, from which state to which."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    from_status = models.CharField(max_length=40, blank=True)
    to_status = models.CharField(max_length=40, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "Alice Nguyen", "API key Nightly ingest", "system", "support: Sam Support"
    actor_label = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}→{self.to_status}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[override]
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Order events are append-only.")
        super().save(*args, **kwargs)


class Cart(models.Model):
    """A person's archive cart inside one org: survives reloads and sign-outs (it is a row, not a
    session). `aoi` is the area last drawn or uploaded on the archive map; items clipped to the AOI
    keep a copy of it, so a later AOI change never silently re-prices an item that was not clipped."""

    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    split_by_date = models.BooleanField(default=False)
    aoi = models.MultiPolygonField(srid=4326, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="orders_cart_org_user_unique")]

    def __str__(self) -> str:
        return f"Cart of {self.user} in {self.org}"


class CartItem(models.Model):
    """One capture in a cart. With `clip_geometry`, the billed geometry is footprint ∩ that AOI."""

    id = models.BigAutoField(primary_key=True)
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    capture = models.ForeignKey(Capture, on_delete=models.CASCADE, related_name="+")
    clip_geometry = models.MultiPolygonField(srid=4326, null=True, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "capture"], name="orders_cartitem_capture_unique")
        ]

    def __str__(self) -> str:
        return f"{self.capture} in {self.cart}"

    @property
    def is_clipped(self) -> bool:
        return self.clip_geometry is not None
