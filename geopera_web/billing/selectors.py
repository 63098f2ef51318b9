"""Reads for money, always scoped to one org."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from geopera_web.accounts.models import Organization

from .models import Charge, LedgerEntry, Wallet


def wallet_get(*, org: Organization) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(org=org)
    return wallet


def request_wallet(request: Any) -> Wallet:
    """The request's active org's wallet, read once per request (the layout and a page share it)."""
    wallet = getattr(request, "_active_wallet", None)
    if wallet is None:
        wallet = request._active_wallet = wallet_get(org=request.org)
    return wallet


def ledger_list(*, org: Organization) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(org=org).select_related("actor", "charge")


def charge_list(*, org: Organization) -> QuerySet[Charge]:
    return Charge.objects.filter(org=org).select_related("created_by")


def invoice_month_total(*, org: Organization, month: dt.date | None = None) -> int:
    """Credits accrued on an enterprise org's invoice for the month (net of releases and refunds)."""
    month = month or timezone.now().date()
    start = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
    end = dt.datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=dt.UTC)
    charges = Charge.objects.filter(
        org=org, billing_mode="enterprise", created_at__gte=start, created_at__lt=end
    )
    held = charges.filter(status=Charge.Status.AUTHORIZED).aggregate(s=Sum("authorized_credits"))["s"] or 0
    done = charges.filter(status=Charge.Status.CAPTURED).aggregate(
        c=Sum("captured_credits"), r=Sum("refunded_credits")
    )
    return held + (done["c"] or 0) - (done["r"] or 0)
