"""Money: integer credits (100 credits = A$1), one wallet per org, an append-only ledger.

A Charge is one purchase's money, whatever the org's billing mode:
- credit: credits move from the wallet's available balance to reserved (authorize), then out
  (capture) or back (release); a refund after capture puts credits back;
- card: an authorization hold at the payment gateway, captured on delivery or voided;
- enterprise: the amount accrues to the month's invoice (captured) or is taken off it (released).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from geopera_web.accounts.models import BillingMode, Organization


class Wallet(models.Model):
    org = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="wallet", primary_key=True
    )
    available_credits = models.BigIntegerField(default=0)
    reserved_credits = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("move_credits", "Can top up or adjust a wallet (through its audited views)")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(available_credits__gte=0), name="billing_wallet_available_nonneg"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved_credits__gte=0), name="billing_wallet_reserved_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"Wallet of {self.org}: {self.available_credits} available, {self.reserved_credits} reserved"


class LedgerEntry(models.Model):
    """One movement of credits. Never updated, never deleted: corrections are new entries."""

    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        RESERVE = "reserve", "Reservation"
        CAPTURE = "capture", "Capture"
        RELEASE = "release", "Release"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Signed changes to the wallet's two balances, and the balances after this entry.
    available_delta = models.BigIntegerField()
    reserved_delta = models.BigIntegerField(default=0)
    available_after = models.BigIntegerField()
    reserved_after = models.BigIntegerField()
    charge = models.ForeignKey(
        "Charge", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    memo = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["org", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.available_delta:+d} ({self.org})"

    def save(self, *args, **kwargs) -> None:  # type: ignore[override]
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Ledger entries are immutable; record a new entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise ValueError("Ledger entries are immutable.")


class Charge(models.Model):
    class Status(models.TextChoices):
        # The words people read, on the Charges table, the order page and (for the movement that
        # puts a charge in each status) the ledger: billing/ledger_rows.py reads them from here.
        AUTHORIZED = "authorized", "Held"
        CAPTURED = "captured", "Charged"
        RELEASED = "released", "Released"

    TRANSITIONS: dict[str, set[str]] = {
        Status.AUTHORIZED: {Status.CAPTURED, Status.RELEASED},
        Status.CAPTURED: set(),
        Status.RELEASED: set(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="charges")
    billing_mode = models.CharField(max_length=16, choices=BillingMode.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AUTHORIZED)
    authorized_credits = models.BigIntegerField()
    captured_credits = models.BigIntegerField(default=0)
    refunded_credits = models.BigIntegerField(default=0)
    # What the money is for, e.g. "order:<uuid>"; shown on the billing page.
    reference = models.CharField(max_length=100, db_index=True)
    description = models.CharField(max_length=300, blank=True)
    gateway_ref = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(authorized_credits__gte=0), name="billing_charge_authorized_nonneg"
            ),
            models.CheckConstraint(
                condition=models.Q(captured_credits__lte=models.F("authorized_credits")),
                name="billing_charge_capture_within_authorized",
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_credits__lte=models.F("captured_credits")),
                name="billing_charge_refund_within_captured",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.billing_mode} charge {self.authorized_credits} cr ({self.status}) for {self.reference}"

    @property
    def net_credits(self) -> int:
        """What the org pays in the end for this charge."""
        if self.status == self.Status.AUTHORIZED:
            return self.authorized_credits
        return self.captured_credits - self.refunded_credits
