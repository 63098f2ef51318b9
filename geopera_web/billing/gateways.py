"""Payment-gateway adapter for card-billed orgs, and the built-in test gateway.

The test gateway answers by payment-method token, as card processors' test modes do:
- `pm_card_visa` (or any token not below): the hold is authorized;
- `pm_card_declined`: declined (402);
- `pm_card_threeds`: 3-D Secure is required (402 carrying `client_secret`) until the challenge for
  that idempotency reference is completed; a retry with the same reference is then authorized.

Like a real processor it remembers every hold it granted (held, captured, voided), per payment
method, so tests and the demo can ask whether a hold was left on a card (`live_holds`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class AuthorizationResult:
    status: str  # "authorized" | "declined" | "requires_action"
    gateway_ref: str = ""
    client_secret: str = ""
    message: str = ""


class PaymentGateway(Protocol):
    def authorize(self, *, payment_method: str, credits: int, reference: str) -> AuthorizationResult: ...
    def capture(self, *, gateway_ref: str, credits: int) -> None: ...
    def void(self, *, gateway_ref: str) -> None: ...
    def refund(self, *, gateway_ref: str, credits: int) -> None: ...


class TestGateway:
    DECLINED = "pm_card_declined"
    THREE_DS = "pm_card_threeds"

    # Challenges live in the cache (Redis), not the database: they model the bank's state, which a
    # rolled-back 402 transaction of ours must not erase.
    CHALLENGE_TTL = 24 * 3600

    def authorize(self, *, payment_method: str, credits: int, reference: str) -> AuthorizationResult:
        if payment_method == self.DECLINED:
            return AuthorizationResult("declined", message="The card was declined by the issuer.")
        if payment_method == self.THREE_DS:
            key = f"testgw:3ds:ref:{reference}"
            challenge = cache.get(key)
            if challenge is None or challenge["credits"] != credits:
                challenge = {"client_secret": "seti_" + secrets.token_urlsafe(18), "credits": credits}
                cache.set(key, challenge, self.CHALLENGE_TTL)
                cache.set(f"testgw:3ds:secret:{challenge['client_secret']}", key, self.CHALLENGE_TTL)
            if not challenge.get("completed"):
                return AuthorizationResult(
                    "requires_action",
                    client_secret=challenge["client_secret"],
                    message="The bank requires 3-D Secure authentication for this payment.",
                )
        gateway_ref = "hold_" + secrets.token_hex(8)
        cache.set(
            self._hold_key(gateway_ref),
            {"payment_method": payment_method, "credits": credits, "state": "held", "captured": 0},
            self.HOLD_TTL,
        )
        self._count(payment_method, +1)
        return AuthorizationResult("authorized", gateway_ref=gateway_ref)

    # Holds live in the cache too (the bank's state, beyond our transactions).
    HOLD_TTL = 7 * 24 * 3600  # card networks expire an uncaptured authorization after about a week

    @staticmethod
    def _hold_key(gateway_ref: str) -> str:
        return f"testgw:hold:{gateway_ref}"

    @staticmethod
    def _count(payment_method: str, delta: int) -> None:
        key = f"testgw:live:{payment_method}"
        cache.add(key, 0, TestGateway.HOLD_TTL)
        cache.incr(key, delta)

    def _close(self, gateway_ref: str, state: str, credits: int = 0) -> None:
        hold = cache.get(self._hold_key(gateway_ref))
        if hold is None or hold["state"] != "held":
            return  # unknown, or already captured/voided: a repeated call changes nothing
        hold.update(state=state, captured=credits)
        cache.set(self._hold_key(gateway_ref), hold, self.HOLD_TTL)
        self._count(hold["payment_method"], -1)

    def capture(self, *, gateway_ref: str, credits: int) -> None:
        self._close(gateway_ref, "captured", credits)

    def void(self, *, gateway_ref: str) -> None:
        self._close(gateway_ref, "voided")

    def refund(self, *, gateway_ref: str, credits: int) -> None:
        hold = cache.get(self._hold_key(gateway_ref))
        if hold is not None:
            hold["refunded"] = hold.get("refunded", 0) + credits
            cache.set(self._hold_key(gateway_ref), hold, self.HOLD_TTL)

    @staticmethod
    def live_holds(payment_method: str) -> int:
        """How many authorization holds on this payment method are neither captured nor voided."""
        return int(cache.get(f"testgw:live:{payment_method}") or 0)

    @staticmethod
    def hold(gateway_ref: str) -> dict | None:
        """The test gateway's record of one hold (state, credits, captured, refunded)."""
        return cache.get(TestGateway._hold_key(gateway_ref))

    @staticmethod
    def complete_challenge(client_secret: str) -> bool:
        """What the bank's page does when the customer passes the challenge (demo and tests)."""
        key = cache.get(f"testgw:3ds:secret:{client_secret}")
        challenge = cache.get(key) if key else None
        if challenge is None:
            return False
        challenge["completed"] = True
        cache.set(key, challenge, TestGateway.CHALLENGE_TTL)
        return True


@lru_cache(maxsize=1)
def get_gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()
