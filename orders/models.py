"""Orders (archive and tasking share one Order model), their priced groups and their timeline.

A tasking order *is* an Order with groups (one per AOI); the tasking app adds sensors, templates,
feasibility studies and quotations around it. Status changes go through
`orders.services.order_transition` only, which checks TRANSITIONS and writes an OrderEvent.

The models of the sub-packages (catalog, cart, fulfilment, coverage) are defined there and imported
here: the app label stays `orders` and every table keeps its name.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex

from geopera_web.accounts.models import BillingMode, Organization, Workspace

from .approvals.models import BudgetWarning, SpendApproval, SpendPolicy
from .cart.models import Cart, CartItem
from .catalog.models import Capture, DataProduct, OrderType
from .coverage.models import CoverageSnapshot
from .fulfilment.models import DeliveredCapture, DeliveryBatch
from .watches.models import Watch, WatchAlert, WatchMatch, WatchWatcher

__all__ = [
    "BudgetWarning",
    "SpendApproval",
    "SpendPolicy",
    "Capture",
    "Cart",
    "CartItem",
    "CoverageSnapshot",
    "DataProduct",
    "DeliveredCapture",
    "DeliveryBatch",
    "Watch",
    "WatchAlert",
    "WatchMatch",
    "WatchWatcher",
    "Order",
    "OrderEvent",
    "OrderGroup",
    "OrderType",
]


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
        # PENDING -> PROCESSING: an archive order that waited for a spend approval.
        Status.PENDING: {
            Status.ACTIVE,
            Status.PROCESSING,
            Status.REJECTED,
            Status.CANCELLED,
            Status.EXPIRED,
            Status.FAILED,
        },
        # PROCESSING -> PARTIALLY_FULFILLED: a tasking series whose occurrences ended, some short.
        Status.PROCESSING: {Status.FULFILLED, Status.PARTIALLY_FULFILLED, Status.FAILED, Status.CANCELLED},
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
        APPROVAL_WAITING_RESPONSE = "APPROVAL_WAITING_RESPONSE", "Approval: waiting for an admin"

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
    # A form's one-time key (pages send one per render): two submits of one form, even at the same
    # instant, make one order. Empty when the order was not placed from such a form.
    idempotency_key = models.CharField(max_length=100, blank=True, default="")
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
            models.UniqueConstraint(
                fields=["org", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="orders_order_idempotency_key_unique",
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


class OrderEvent(models.Model):
    """Append-only timeline of an order: who did what, when, from which state to which.

    Rows are written only by the builders in `orders/events.py`, one per Kind."""

    class Kind(models.TextChoices):
        PLACED = "placed", "Order placed"
        PAYMENT_AUTHORIZED = "payment_authorized", "Payment secured"
        STATUS_CHANGED = "status_changed", "Status changed"
        TAGS_CHANGED = "tags_changed", "Tags changed"
        DRAFT_CREATED = "draft_created", "Draft created"
        DRAFT_SAVED = "draft_saved", "Draft saved"
        FEASIBILITY_REFERRED = "feasibility_referred", "Referred to the support desk"
        FEASIBILITY_ACCEPTED = "feasibility_accepted", "Feasibility option accepted"
        FEASIBILITY_REJECTED = "feasibility_rejected", "Feasibility study rejected"
        FEASIBILITY_EXPIRED = "feasibility_expired", "Feasibility study expired"
        QUOTATION_ACCEPTED = "quotation_accepted", "Quotation accepted"
        QUOTATION_REJECTED = "quotation_rejected", "Quotation rejected"
        QUOTATION_EXPIRED = "quotation_expired", "Quotation expired"
        PROVIDER_SUBMITTED = "provider_submitted", "Sent to the provider"
        PROVIDER_PLACED = "provider_placed", "Sent to the provider for acquisition"
        DELIVERY_RECEIVED = "delivery_received", "Delivery received"
        DELIVERY_RECORDED = "delivery_recorded", "Delivery recorded by support"
        COVERAGE_REFUND = "coverage_refund", "Refund for the uncovered remainder"
        CANCEL_SETTLEMENT = "cancel_settlement", "Cancelled: delivered share charged, rest released"
        APPROVAL_REQUESTED = "approval_requested", "Spend approval requested"
        APPROVAL_APPROVED = "approval_approved", "Spend approved"
        APPROVAL_REJECTED = "approval_rejected", "Spend approval rejected"
        APPROVAL_EXPIRED = "approval_expired", "Spend approval expired"
        SERIES_OCCURRENCE_ORDERED = "series_occurrence_ordered", "Series occurrence ordered"
        SERIES_OCCURRENCE_MISSED = "series_occurrence_missed", "Series occurrence missed"
        SERIES_REMAINDER_ROLLED = "series_remainder_rolled", "Remainder rolled into the next occurrence"
        SERIES_CANCELLED = "series_cancelled", "Series cancelled"
        # Anything else worth a line on the timeline; also what rows of a kind this code no longer
        # writes were mapped to (their old kind is kept in data["legacy_kind"]).
        NOTE = "note", "Note"

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, choices=Kind.choices)
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
