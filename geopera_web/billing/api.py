"""Operations on an org's money, read-only: `billing.credits.balance`,
`billing.credits.transactions` (the ledger) and `billing.invoices.list` (enterprise invoices),
with the reference's ids and fields (shared/reference/geopera-openapi-integrations.json), which
leaves the responses open: their fields are designed here and documented in /v1/openapi.json.

Same rules as the Billing page: every member sees the balance; the movements (ledger) and the
invoices are for org admins (and API keys an admin granted `billing:read`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from geopera_web.accounts.models import Scope
from geopera_web.api.fields import SettingBoundsMixin
from geopera_web.api.registry import Effect, OpContext, operation

from .models import LedgerEntry
from .selectors import invoice_month_total, invoice_months, ledger_list, wallet_get
from .services import credits_to_aud


class _Empty(serializers.Serializer):
    pass


class CreditBalanceOutput(serializers.Serializer):
    """The org's wallet. `available_credits` can be spent now; `reserved_credits` are held for
    orders in progress (captured on delivery or released). 100 credits = A$1. For enterprise orgs
    `invoice_month_credits` is what this UTC month's invoice has accrued (null otherwise)."""

    organization_id = serializers.CharField()
    billing_mode = serializers.CharField(help_text="credit | card | enterprise")
    available_credits = serializers.IntegerField()
    reserved_credits = serializers.IntegerField()
    total_credits = serializers.IntegerField()
    available_aud = serializers.FloatField()
    reserved_aud = serializers.FloatField()
    invoice_month_credits = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class TransactionsInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {
        "limit": {"max_value": "BILLING_PAGE_MAX_LIMIT"},
        "offset": {"max_value": "BILLING_PAGE_MAX_OFFSET"},
    }

    limit = serializers.IntegerField(
        required=False,
        default=50,
        min_value=1,
        help_text="Page size, at most {max_value} (BILLING_PAGE_MAX_LIMIT).",
    )
    offset = serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        help_text="Entries to skip, at most {max_value} (BILLING_PAGE_MAX_OFFSET).",
    )
    reason = serializers.ChoiceField(
        choices=LedgerEntry.Kind.values,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Only entries of this kind: topup, reserve, capture, release, refund, adjustment.",
    )


class CreditTransaction(serializers.Serializer):
    """One ledger entry (immutable). `credits` is the signed change to the available balance,
    `reserved_delta` to the reserved one; `*_after` are the balances after it. `reference` says
    what it is for (`order:<id>`), `order_id` is that order when there is one."""

    id = serializers.CharField()
    created_at = serializers.DateTimeField()
    reason = serializers.CharField()
    reason_label = serializers.CharField()
    credits = serializers.IntegerField()
    reserved_delta = serializers.IntegerField()
    available_after = serializers.IntegerField()
    reserved_after = serializers.IntegerField()
    memo = serializers.CharField()
    charge_id = serializers.CharField(allow_null=True)
    reference = serializers.CharField(allow_null=True)
    order_id = serializers.CharField(allow_null=True)
    actor = serializers.CharField(allow_null=True)


class TransactionsOutput(serializers.Serializer):
    """A page of the ledger, newest first. `next_offset` is null on the last page."""

    transactions = CreditTransaction(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)


class InvoicesInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {"limit": {"max_value": "BILLING_PAGE_MAX_LIMIT"}}

    limit = serializers.IntegerField(
        required=False,
        default=50,
        min_value=1,
        help_text="Months per page, at most {max_value} (BILLING_PAGE_MAX_LIMIT).",
    )


class Invoice(serializers.Serializer):
    """One UTC month of an enterprise org's charges. `status` is `open` for the current month (it
    still accrues) and `closed` for past months. `held_credits` are orders not yet settled,
    `settled_credits` delivered ones net of refunds; `total_credits` is what the invoice bills."""

    id = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    status = serializers.CharField()
    charge_count = serializers.IntegerField()
    held_credits = serializers.IntegerField()
    settled_credits = serializers.IntegerField()
    total_credits = serializers.IntegerField()
    total_aud = serializers.FloatField()


class InvoicesOutput(serializers.Serializer):
    """`invoices` is empty for an org that was never billed by invoice (credit or card mode)."""

    billing_mode = serializers.CharField()
    invoices = Invoice(many=True)


@operation(
    "billing.credits.balance",
    scope=Scope.BILLING_READ,
    effect=Effect.READ,
    input=_Empty,
    output=CreditBalanceOutput,
    summary="The org's current credit balance.",
)
def credits_balance_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Available and reserved credits of the caller's organization (every member may read it)."""
    wallet = wallet_get(org=ctx.org)
    enterprise = ctx.org.billing_mode == "enterprise"
    return {
        "organization_id": str(ctx.org.pk),
        "billing_mode": ctx.org.billing_mode,
        "available_credits": wallet.available_credits,
        "reserved_credits": wallet.reserved_credits,
        "total_credits": wallet.available_credits + wallet.reserved_credits,
        "available_aud": credits_to_aud(wallet.available_credits),
        "reserved_aud": credits_to_aud(wallet.reserved_credits),
        "invoice_month_credits": invoice_month_total(org=ctx.org) if enterprise else None,
        "updated_at": wallet.updated_at,
    }


def transaction_to_wire(entry: LedgerEntry) -> dict[str, Any]:
    reference = entry.charge.reference if entry.charge else None
    return {
        "id": str(entry.pk),
        "created_at": entry.created_at,
        "reason": entry.kind,
        "reason_label": entry.get_kind_display(),
        "credits": entry.available_delta,
        "reserved_delta": entry.reserved_delta,
        "available_after": entry.available_after,
        "reserved_after": entry.reserved_after,
        "memo": entry.memo,
        "charge_id": str(entry.charge_id) if entry.charge_id else None,
        "reference": reference,
        "order_id": reference.removeprefix("order:")
        if reference and reference.startswith("order:")
        else None,
        "actor": entry.actor.email if entry.actor else None,
    }


@operation(
    "billing.credits.transactions",
    scope=Scope.BILLING_READ,
    effect=Effect.READ,
    input=TransactionsInput,
    output=TransactionsOutput,
    summary="The org's credit ledger (paged, optionally filtered by reason).",
)
def credits_transactions_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins (and API keys with billing:read), as on the Billing page. Newest first; page
    with `limit` (1–200) and `offset`; `reason` keeps one kind of entry."""
    ctx.require_role("admin", action="read the ledger", api_keys=True)
    qs = ledger_list(org=ctx.org, kind=data.get("reason") or None)
    limit, offset = data["limit"], data["offset"]
    total = qs.count()
    rows = list(qs[offset : offset + limit])
    return {
        "transactions": [transaction_to_wire(e) for e in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if offset + limit < total else None,
    }


def _month_end(start: dt.date) -> dt.date:
    nxt = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


@operation(
    "billing.invoices.list",
    scope=Scope.BILLING_READ,
    effect=Effect.READ,
    input=InvoicesInput,
    output=InvoicesOutput,
    summary="The org's enterprise invoices (grouped from settled orders).",
)
def invoices_list_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins (and API keys with billing:read). One invoice per UTC month that had enterprise
    charges, newest first (at most `limit`)."""
    ctx.require_role("admin", action="read invoices", api_keys=True)
    this_month = timezone.now().date().replace(day=1)
    invoices = []
    for row in invoice_months(org=ctx.org, limit=data["limit"]):
        start = row["month"].date()
        invoices.append(
            {
                "id": f"INV-{start:%Y%m}-{str(ctx.org.pk)[:8].upper()}",
                "period_start": start,
                "period_end": _month_end(start),
                "status": "open" if start >= this_month else "closed",
                "charge_count": row["charge_count"],
                "held_credits": row["held_credits"] or 0,
                "settled_credits": row["settled_credits"] or 0,
                "total_credits": row["total_credits"],
                "total_aud": credits_to_aud(row["total_credits"]),
            }
        )
    return {"billing_mode": ctx.org.billing_mode, "invoices": invoices}
