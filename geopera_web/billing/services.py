"""Every movement of money. Callers never touch Wallet or LedgerEntry rows directly.

Lock order, everywhere: the Charge row first, then the Wallet row (both `select_for_update`), so
two transactions never wait on each other in opposite orders.

The payment gateway is outside our transactions, so no call to it may outlive one that rolls back:
an authorization hold is voided if the transaction that asked for it rolls back (`on_rollback`),
and captures, voids and refunds are sent only once the transaction that records them commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from geopera_web.accounts.models import BillingMode, Organization, User
from geopera_web.audit.services import audit_record
from geopera_web.db import on_rollback
from geopera_web.errors import ApplicationError, Conflict, NotFound, PaymentRequired

from .gateways import get_gateway
from .models import Charge, LedgerEntry, Wallet

logger = logging.getLogger(__name__)


def credits_to_aud(credits: int) -> float:
    """A$ for display and the wire (`totalAud`); money itself is always integer credits."""
    return round(credits / 100, 2)


def wallet_create(*, org: Organization) -> Wallet:
    """The new org's empty wallet (called wherever an org is created; idempotent)."""
    wallet, _ = Wallet.objects.get_or_create(org=org)
    return wallet


def _wallet_for_update(org: Organization) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(org=org)
    return Wallet.objects.select_for_update().get(pk=wallet.pk)


def _low_balance_check(wallet: Wallet, available_delta: int) -> None:
    """`wallet.low_balance` when a movement takes the available credits below the threshold (once
    per crossing, not on every movement below it)."""
    threshold = int(getattr(settings, "WALLET_LOW_BALANCE_CREDITS", 0) or 0)
    before = wallet.available_credits - available_delta
    if threshold <= 0 or available_delta >= 0 or not (before >= threshold > wallet.available_credits):
        return
    from geopera_web.events.services import event_emit

    event_emit(
        org=wallet.org,
        type="wallet.low_balance",
        data={"availableCredits": wallet.available_credits, "thresholdCredits": threshold},
    )


def _ledger(
    *,
    wallet: Wallet,
    kind: str,
    available_delta: int,
    reserved_delta: int = 0,
    charge: Charge | None = None,
    actor: User | None = None,
    memo: str = "",
) -> LedgerEntry:
    """Apply a movement to a wallet the caller holds locked, and record it."""
    wallet.available_credits += available_delta
    wallet.reserved_credits += reserved_delta
    if wallet.available_credits < 0 or wallet.reserved_credits < 0:
        raise ApplicationError("This movement would make the balance negative.", status=409)
    wallet.save(update_fields=["available_credits", "reserved_credits", "updated_at"])
    _low_balance_check(wallet, available_delta)
    entry = LedgerEntry.objects.create(
        org_id=wallet.org_id,
        kind=kind,
        available_delta=available_delta,
        reserved_delta=reserved_delta,
        available_after=wallet.available_credits,
        reserved_after=wallet.reserved_credits,
        charge=charge,
        actor=actor if actor and actor.is_authenticated else None,
        memo=memo[:300],
    )
    # Every money movement is in the audit trail too, in the same transaction (issue 15).
    audit_record(
        action=f"money.{kind}",
        actor=actor,
        org_id=wallet.org_id,
        target=entry,
        before={
            "available": wallet.available_credits - available_delta,
            "reserved": wallet.reserved_credits - reserved_delta,
        },
        after={"available": wallet.available_credits, "reserved": wallet.reserved_credits},
        charge=str(charge.pk) if charge is not None else None,
        memo=memo[:300],
    )
    return entry


@transaction.atomic
def wallet_topup(
    *, org: Organization, credits: int, actor: User | None = None, memo: str = "Top-up"
) -> LedgerEntry:
    if not isinstance(credits, int) or credits <= 0:
        raise ApplicationError("A top-up must be a positive whole number of credits.")
    wallet = _wallet_for_update(org)
    return _ledger(
        wallet=wallet, kind=LedgerEntry.Kind.TOPUP, available_delta=credits, actor=actor, memo=memo
    )


@transaction.atomic
def wallet_adjust(*, org: Organization, credits: int, actor: User | None, memo: str) -> LedgerEntry:
    """A signed correction by support staff (never below zero)."""
    if not memo:
        raise ApplicationError("An adjustment needs a reason.")
    wallet = _wallet_for_update(org)
    if wallet.available_credits + credits < 0:
        raise ApplicationError(
            f"The wallet holds {wallet.available_credits:,} credits; it cannot go negative."
        )
    return _ledger(
        wallet=wallet, kind=LedgerEntry.Kind.ADJUSTMENT, available_delta=credits, actor=actor, memo=memo
    )


@transaction.atomic
def charge_authorize(
    *,
    org: Organization,
    credits: int,
    reference: str,
    actor: User | None = None,
    description: str = "",
    idempotency_ref: str = "",
) -> Charge:
    """Secure `credits` for a purchase according to the org's billing mode.

    credit: reserve from the wallet under a row lock (402 when the balance is short);
    card: an authorization hold at the gateway (402 when declined, absent, or 3-D Secure is needed:
    the 402 then carries `client_secret`; retry with the same `idempotency_ref` after the challenge);
    enterprise: accrues to the month's invoice.
    """
    if credits < 0:
        raise ApplicationError("A charge cannot be negative.")
    charge = Charge(
        org=org,
        billing_mode=org.billing_mode,
        authorized_credits=credits,
        reference=reference,
        description=description[:300],
        created_by=actor if actor and actor.is_authenticated else None,
    )
    if org.billing_mode == BillingMode.CREDIT:
        wallet = _wallet_for_update(org)
        if wallet.available_credits < credits:
            raise PaymentRequired(
                f"Insufficient credits: this costs {credits:,} credits and the wallet has "
                f"{wallet.available_credits:,} available ({credits - wallet.available_credits:,} short). "
                "An org admin can ask support for a top-up; then try again.",
                slug="insufficient-credits",
                required_credits=credits,
                available_credits=wallet.available_credits,
            )
        charge.save()
        _ledger(
            wallet=wallet,
            kind=LedgerEntry.Kind.RESERVE,
            available_delta=-credits,
            reserved_delta=credits,
            charge=charge,
            actor=actor,
            memo=description,  # the order is linked from the charge; no ids in the text
        )
    elif org.billing_mode == BillingMode.CARD:
        if not org.payment_method:
            raise PaymentRequired(
                "No card on file: attach a payment method, then retry.", slug="no-payment-method"
            )
        result = get_gateway().authorize(
            payment_method=org.payment_method, credits=credits, reference=idempotency_ref or reference
        )
        if result.status == "declined":
            raise PaymentRequired(result.message or "The card was declined.", slug="card-declined")
        if result.status == "requires_action":
            raise PaymentRequired(
                result.message + " Complete the challenge, then retry with the same Idempotency-Key.",
                slug="authentication-required",
                client_secret=result.client_secret,
            )
        # The hold exists at the bank now; if anything after this point rolls the Charge row
        # back (a bad field, a failing later step), the hold must go with it.
        gateway_ref = result.gateway_ref
        on_rollback(
            lambda: get_gateway().void(gateway_ref=gateway_ref), description=f"card hold {gateway_ref}"
        )
        charge.gateway_ref = gateway_ref
        charge.save()
        _audit_outside_wallet(charge, LedgerEntry.Kind.RESERVE, credits, actor, description or reference)
    else:
        charge.save()
        _audit_outside_wallet(charge, LedgerEntry.Kind.RESERVE, credits, actor, description or reference)
    return charge


def _audit_outside_wallet(charge: Charge, what: str, credits: int, actor: User | None, memo: str) -> None:
    """Card and enterprise money moves outside the wallet (no ledger row): its audit event."""
    audit_record(
        action=f"money.{what}",
        actor=actor,
        org_id=charge.org_id,
        target=charge,
        billing_mode=charge.billing_mode,
        credits=credits,
        reference=charge.reference,
        memo=memo[:300],
    )


def _gateway_after_commit(call: Callable[[], object], *, what: str) -> None:
    """Send a capture/void/refund to the gateway once the transaction recording it has committed.
    A gateway failure then is logged (the money row is already right; the call is retried by hand)."""

    def send() -> None:
        try:
            call()
        except Exception:  # logged with its traceback for the payments desk
            logger.exception("Payment gateway call failed after commit: %s", what)

    # Not lost with a COMMIT whose answer was: our backend asks the server whether it landed and
    # sends it then (geopera_web.db.postgis).
    send.settle_in_doubt = True  # type: ignore[attr-defined]
    send.description = f"gateway {what}"  # type: ignore[attr-defined]
    transaction.on_commit(send)


def charge_get_for_update(*, charge_id: object) -> Charge:
    charge = Charge.objects.select_for_update().filter(pk=charge_id).first()
    if charge is None:
        raise NotFound("Charge not found.")
    return charge


def _transition(charge: Charge, to: str) -> None:
    if to not in Charge.TRANSITIONS[charge.status]:
        raise Conflict(f"The charge is {charge.status}; it cannot become {to}.", current_status=charge.status)
    charge.status = to


@transaction.atomic
def charge_capture(
    *,
    charge_id: object,
    credits: int | None = None,
    actor: User | None = None,
    memo: str = "",
    rest_memo: str = "",
) -> Charge:
    """Take the money (all of it, or `credits` of it; the rest goes back, under `rest_memo`).
    Memos are read beside the order's linked name on Billing: they carry no ids."""
    charge = charge_get_for_update(charge_id=charge_id)
    if charge.status == Charge.Status.CAPTURED:
        return charge  # a retried task must not capture twice
    amount = charge.authorized_credits if credits is None else credits
    if not 0 <= amount <= charge.authorized_credits:
        raise ApplicationError("Capture must be between 0 and the authorized amount.")
    _transition(charge, Charge.Status.CAPTURED)
    charge.captured_credits = amount
    charge.save(update_fields=["status", "captured_credits", "updated_at"])
    if charge.billing_mode == BillingMode.CREDIT:
        wallet = _wallet_for_update(charge.org)
        _ledger(
            wallet=wallet,
            kind=LedgerEntry.Kind.CAPTURE,
            available_delta=0,
            reserved_delta=-amount,
            charge=charge,
            actor=actor,
            memo=memo or charge.description,
        )
        if amount < charge.authorized_credits:
            rest = charge.authorized_credits - amount
            _ledger(
                wallet=wallet,
                kind=LedgerEntry.Kind.RELEASE,
                available_delta=rest,
                reserved_delta=-rest,
                charge=charge,
                actor=actor,
                memo=rest_memo or "Unused part of the reservation",
            )
    else:
        _audit_outside_wallet(charge, LedgerEntry.Kind.CAPTURE, amount, actor, memo)
        if charge.billing_mode == BillingMode.CARD:
            ref = charge.gateway_ref
            _gateway_after_commit(
                lambda: get_gateway().capture(gateway_ref=ref, credits=amount),
                what=f"capture {amount} of {ref}",
            )
    return charge


@transaction.atomic
def charge_release(*, charge_id: object, actor: User | None = None, memo: str = "") -> Charge:
    """Give the held money back (credit: release the reservation; card: void; enterprise: drop)."""
    charge = charge_get_for_update(charge_id=charge_id)
    if charge.status == Charge.Status.RELEASED:
        return charge
    _transition(charge, Charge.Status.RELEASED)
    charge.save(update_fields=["status", "updated_at"])
    if charge.billing_mode == BillingMode.CREDIT:
        wallet = _wallet_for_update(charge.org)
        _ledger(
            wallet=wallet,
            kind=LedgerEntry.Kind.RELEASE,
            available_delta=charge.authorized_credits,
            reserved_delta=-charge.authorized_credits,
            charge=charge,
            actor=actor,
            memo=memo or charge.description,
        )
    else:
        _audit_outside_wallet(charge, LedgerEntry.Kind.RELEASE, charge.authorized_credits, actor, memo)
        if charge.billing_mode == BillingMode.CARD:
            ref = charge.gateway_ref
            _gateway_after_commit(lambda: get_gateway().void(gateway_ref=ref), what=f"void {ref}")
    return charge


@transaction.atomic
def charge_refund(*, charge_id: object, credits: int, actor: User | None = None, memo: str = "") -> Charge:
    """Give back part or all of a captured charge (e.g. a pro-rata refund for an uncovered AOI)."""
    charge = charge_get_for_update(charge_id=charge_id)
    if charge.status != Charge.Status.CAPTURED:
        raise Conflict(
            f"Only a captured charge can be refunded; this one is {charge.status}.",
            current_status=charge.status,
        )
    if credits <= 0 or charge.refunded_credits + credits > charge.captured_credits:
        raise ApplicationError(
            f"A refund must be between 1 and {charge.captured_credits - charge.refunded_credits:,} credits."
        )
    charge.refunded_credits += credits
    charge.save(update_fields=["refunded_credits", "updated_at"])
    if charge.billing_mode == BillingMode.CREDIT:
        wallet = _wallet_for_update(charge.org)
        _ledger(
            wallet=wallet,
            kind=LedgerEntry.Kind.REFUND,
            available_delta=credits,
            charge=charge,
            actor=actor,
            memo=memo or "Refund",
        )
    else:
        _audit_outside_wallet(charge, LedgerEntry.Kind.REFUND, credits, actor, memo)
        if charge.billing_mode == BillingMode.CARD:
            ref = charge.gateway_ref
            _gateway_after_commit(
                lambda: get_gateway().refund(gateway_ref=ref, credits=credits),
                what=f"refund {credits} of {ref}",
            )
    return charge
