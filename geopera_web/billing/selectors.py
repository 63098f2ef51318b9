"""Reads for money, always scoped to one org."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, Count, F, QuerySet, Sum, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from geopera_web.accounts.models import Organization

from .models import Charge, LedgerEntry, Wallet


def wallet_get(*, org: Organization) -> Wallet:
    """The org's wallet — a read, never a write: every org gets its wallet when it is created
    (`wallet_create`; billing migration 0004 gave one to older orgs). Should one still be missing,
    the answer is an unsaved empty wallet (no credit ever moved), and the first movement creates it
    under its row lock (`services._wallet_for_update`)."""
    wallet = Wallet.objects.filter(org=org).first()
    return wallet if wallet is not None else Wallet(org=org)


def request_wallet(request: Any) -> Wallet:
    """The request's active org's wallet, read once per request (the layout and a page share it)."""
    wallet = getattr(request, "_active_wallet", None)
    if wallet is None:
        wallet = request._active_wallet = wallet_get(org=request.org)
    return wallet


def ledger_list(
    *, org: Organization, kind: str | None = None, order_id: object | None = None
) -> QuerySet[LedgerEntry]:
    """The org's ledger, newest first; `kind` (topup, reserve, capture, release, refund,
    adjustment) narrows it, and so does `order_id` (the movements of that order's charges)."""
    qs = LedgerEntry.objects.filter(org=org).select_related("actor", "charge")
    if order_id is not None:
        qs = qs.filter(charge__reference__in=[f"order:{order_id}", f"tasking:{order_id}"])
    return qs.filter(kind=kind) if kind else qs


def charge_list(*, org: Organization) -> QuerySet[Charge]:
    return Charge.objects.filter(org=org).select_related("created_by")


# What one enterprise charge puts on its month's invoice: a hold counts in full until it settles;
# a captured charge counts net of refunds; a released one counts nothing.
_HELD = Case(When(status=Charge.Status.AUTHORIZED, then=F("authorized_credits")), default=0)
_SETTLED = Case(
    When(status=Charge.Status.CAPTURED, then=F("captured_credits") - F("refunded_credits")), default=0
)


def _month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
    end = dt.datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def invoice_month_total(*, org: Organization, month: dt.date | None = None) -> int:
    """Credits accrued on an enterprise org's invoice for the month (net of releases and refunds)."""
    start, end = _month_bounds(month or timezone.now().date())
    totals = Charge.objects.filter(
        org=org, billing_mode="enterprise", created_at__gte=start, created_at__lt=end
    ).aggregate(held=Sum(_HELD), settled=Sum(_SETTLED))
    return (totals["held"] or 0) + (totals["settled"] or 0)


def charges_net_since(*, org: Organization, since: dt.datetime) -> dict[str, int]:
    """The org's charges made since `since`, any billing mode, by the invoice rule: `held`
    (authorized, not settled), `settled` (captured net of refunds) and `committed` (both)."""
    totals = Charge.objects.filter(org=org, created_at__gte=since).aggregate(
        held=Sum(_HELD), settled=Sum(_SETTLED), count=Count("id")
    )
    held, settled = totals["held"] or 0, totals["settled"] or 0
    return {"held": held, "settled": settled, "committed": held + settled, "charges": totals["count"]}


def invoice_months(*, org: Organization, limit: int = 50) -> list[dict]:
    """The org's monthly enterprise invoices (UTC months), newest first, from its enterprise
    charges in one grouped query: `month`, `held_credits` (not yet settled), `settled_credits`,
    `total_credits`, `charge_count`. Months with no enterprise charge have no invoice."""
    rows = (
        Charge.objects.filter(org=org, billing_mode="enterprise")
        .annotate(month=TruncMonth("created_at", tzinfo=dt.UTC))
        .values("month")
        .annotate(held_credits=Sum(_HELD), settled_credits=Sum(_SETTLED), charge_count=Count("id"))
        .order_by("-month")[:limit]
    )
    return [
        {**row, "total_credits": (row["held_credits"] or 0) + (row["settled_credits"] or 0)} for row in rows
    ]
