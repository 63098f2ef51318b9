"""Every event type the platform emits: the outbox, webhooks and notifications accept only these.

A new type is one line here (and the change point that calls `event_emit`)."""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "order.created": "An order was placed.",
    "order.status_changed": "An order moved to another status.",
    "decision.pending": "A feasibility study, a quotation or a spend approval waits for the org.",
    "decision.decided": "A pending decision was accepted, rejected or expired.",
    "decision.expiring": "A pending decision reaches its deadline soon (DECISION_EXPIRING_LEAD_HOURS).",
    "delivery.received": "Imagery for an order was delivered.",
    "coverage.updated": "An order's area coverage changed after a delivery.",
    "wallet.low_balance": "The org's available credits fell below WALLET_LOW_BALANCE_CREDITS.",
    # Emitted by the spend-policy seam (orders/approvals/notify.py).
    "approval.requested": "A spend approval was requested.",
    "approval.accepted": "A spend approval was approved.",
    "approval.rejected": "A spend approval was rejected.",
    "approval.expired": "A spend approval expired.",
    "budget.threshold_reached": "A workspace reached 80 % or 100 % of its budget.",
    # Emitted by saved-search watches (orders/watches/services.py).
    "watch.matched": "A saved-search watch found new captures.",
    # Sent only by event_subscriptions.test.
    "ping": "A test event (event_subscriptions.test).",
}


def is_event_type(value: str) -> bool:
    return value in EVENT_TYPES
