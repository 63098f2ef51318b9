"""The ledger as people read it (issue 16, item 7): a word per movement that does not clash with
satellite "captures" (Held / Charged / Released / Refunded), the order each row concerns (by name,
linked), why a charge moves nothing in "Available", and the same rows as CSV."""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .models import Charge, LedgerEntry

K = LedgerEntry.Kind
S = Charge.Status

# One mapping for both tables: the movement that puts a charge in a status reads as that status's
# word (Charge.Status labels: Held / Charged / Released), so the ledger's "Charged" row and the
# Charges table's "Charged" status are the same word by construction.
STATUS_OF_MOVEMENT: dict[str, str] = {K.RESERVE: S.AUTHORIZED, K.CAPTURE: S.CAPTURED, K.RELEASE: S.RELEASED}
WORDS: dict[str, str] = {
    K.TOPUP: "Top-up",
    **{kind: S(status).label for kind, status in STATUS_OF_MOVEMENT.items()},
    K.REFUND: "Refunded",
    K.ADJUSTMENT: "Adjustment",
}
# Charges are for an order: archive ("order:<id>") or tasking ("tasking:<id>", a quotation's or an
# option's hold).
ORDER_REFERENCE_PREFIXES = ("order:", "tasking:")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
EXPLAIN: dict[str, str] = {
    K.RESERVE: "Set aside from Available until the order is delivered or cancelled.",
    K.CAPTURE: "Taken from the credits already held for this order; Available does not change again.",
    K.RELEASE: "Held credits given back to Available.",
    K.REFUND: "Charged credits given back to Available.",
}


@dataclass(frozen=True)
class LedgerRow:
    entry: LedgerEntry
    word: str
    explain: str
    order_id: str | None
    order_name: str
    # What happened, beside the linked order: the stored memo unless it only repeats the order's
    # name or still carries an id (ids are never shown; the order is linked instead).
    note: str


def _note(memo: str, order_name: str) -> str:
    memo = (memo or "").strip()
    if not memo or _UUID.search(memo):
        return ""
    if order_name:  # "Tasking: <name> (quotation)" beside the linked name reads "Tasking (quotation)"
        memo = memo.replace(f": {order_name}", "").replace(order_name, "").strip(" :·")
    return memo


def _order_id_of(entry: LedgerEntry) -> str | None:
    ref = entry.charge.reference if entry.charge_id and entry.charge else ""
    return _order_id_in(ref)


def _order_id_in(ref: str) -> str | None:
    prefix = next((p for p in ORDER_REFERENCE_PREFIXES if ref.startswith(p)), None)
    if prefix is None:
        return None
    try:
        return str(uuid.UUID(ref.removeprefix(prefix)))
    except ValueError:
        return None


def ledger_rows(entries: Iterable[LedgerEntry], *, org: Any) -> list[LedgerRow]:
    """One query for the names of every order on the page (no N+1)."""
    from orders.models import Order

    entries = list(entries)
    ids = {oid for e in entries if (oid := _order_id_of(e))}
    names = {
        str(pk): name
        for pk, name in Order.objects.filter(org=org, pk__in=ids).values_list("pk", "display_name")
    }
    rows = []
    for e in entries:
        oid = _order_id_of(e)
        if oid not in names:
            oid = None
        name = (names.get(oid) or "") if oid else ""
        rows.append(
            LedgerRow(
                entry=e,
                word=WORDS.get(e.kind, e.get_kind_display()),
                explain=EXPLAIN.get(e.kind, ""),
                order_id=oid,
                order_name=name,
                note=_note(e.memo, name),
            )
        )
    return rows


@dataclass(frozen=True)
class ChargeRow:
    """A charge as the Billing page's Charges table reads it: the order it paid for (linked) and
    its net — charged minus refunded once settled, the hold while held — the same number as the
    order page's Net and the sum of the order's Charged and Refunded rows in the ledger CSV."""

    charge: Charge
    order_id: str | None
    order_name: str
    net_credits: int
    word: str


def charge_rows(charges: Iterable[Charge], *, org: Any) -> list[ChargeRow]:
    """One query for the names of every order the charges paid for (no N+1)."""
    from orders.models import Order

    charges = list(charges)
    ids = {oid for c in charges if (oid := _order_id_in(c.reference))}
    names = {
        str(pk): name
        for pk, name in Order.objects.filter(org=org, pk__in=ids).values_list("pk", "display_name")
    }
    rows = []
    for c in charges:
        oid = _order_id_in(c.reference)
        if oid not in names:
            oid = None
        rows.append(
            ChargeRow(
                charge=c,
                order_id=oid,
                order_name=(names.get(oid) or "") if oid else "",
                net_credits=c.net_credits,
                word=S(c.status).label,
            )
        )
    return rows


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    """Spreadsheets run a cell that starts with = + - @ as a formula: quote text that does."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def ledger_csv_lines(rows: Iterable[LedgerRow]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(
        [
            "when_utc",
            "movement",
            "order_id",
            "order",
            "memo",
            "by",
            "available_delta",
            "reserved_delta",
            "available_after",
            "reserved_after",
        ]
    )
    for r in rows:
        e = r.entry
        yield writer.writerow(
            [
                e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                r.word,
                r.order_id or "",
                _cell(r.order_name),
                _cell(r.note),
                _cell(str(e.actor) if e.actor_id else ""),
                e.available_delta,
                e.reserved_delta,
                e.available_after,
                e.reserved_after,
            ]
        )
