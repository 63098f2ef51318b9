"""Idempotency for spend operations.

The tuple (org, operation, Idempotency-Key) is claimed atomically, and committed, before any work:
- an identical retry within 24 h replays the stored response byte for byte (the operation ran once);
- the same key with a different body is refused with 409;
- a request whose key is still in flight is refused with 409 (retry when it has finished);
- a refusal (4xx) or a crash stores nothing and frees the key, since nothing happened: a 402 for
  3-D Secure must be retryable with the same key once the customer has completed the challenge.
The operation's own writes and the stored response commit together, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from geopera_web.accounts.models import Organization
from geopera_web.errors import Conflict, InvalidInput

from .models import IdempotencyRecord

REPLAY_HEADER = "Idempotent-Replayed"


def request_fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise InvalidInput(
            "The Idempotency-Key header must be 1 to 255 printable characters (a UUID is ideal)."
        )
    return key


def _claim(*, org: Organization, operation: str, key: str, fingerprint: str) -> IdempotencyRecord:
    """Insert the claim row in its own committed transaction, or explain why it cannot be had."""
    now = timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    org=org,
                    operation=operation,
                    key=key,
                    request_hash=fingerprint,
                    expires_at=now + dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(org=org, operation=operation, key=key).first()
            if existing is None:
                continue  # freed between our insert and our read: try again
            stale_flight = (
                existing.state == IdempotencyRecord.State.IN_FLIGHT
                and (now - existing.created_at).total_seconds()
                > settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS
            )
            if existing.expires_at <= now or stale_flight:
                IdempotencyRecord.objects.filter(pk=existing.pk, state=existing.state).delete()
                continue
            if existing.request_hash != fingerprint:
                raise Conflict(
                    "This Idempotency-Key was already used with a different request body. Use a new key "
                    "for a new request.",
                    slug="idempotency-key-reused",
                ) from None
            if existing.state == IdempotencyRecord.State.IN_FLIGHT:
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed. Retry in a moment to "
                    "get its result.",
                    slug="idempotency-key-in-flight",
                ) from None
            return existing
    raise Conflict("Could not claim the Idempotency-Key; retry.", slug="idempotency-key-in-flight")


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body or b""), status=record.status_code, content_type=record.content_type
    )
    response[REPLAY_HEADER] = "true"
    return response


def run_idempotent(
    *, org: Organization, operation: str, key: str, body: Any, execute: Callable[[], HttpResponse]
) -> HttpResponse:
    """Run `execute` at most once for this (org, operation, key) and remember its response."""
    key = _validate_key(key)
    record = _claim(org=org, operation=operation, key=key, fingerprint=request_fingerprint(body))
    if record.state == IdempotencyRecord.State.COMPLETED:
        return _replay(record)
    try:
        with transaction.atomic():
            response = execute()
            if not 200 <= response.status_code < 300:
                raise _NotStored(response)
            updated = IdempotencyRecord.objects.filter(
                pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT
            ).update(
                state=IdempotencyRecord.State.COMPLETED,
                status_code=response.status_code,
                content_type=response.get("Content-Type", "application/json"),
                response_body=response.content,
            )
            if not updated:  # our claim timed out and was taken over: do not commit a second effect
                raise Conflict(
                    "This request took too long and its Idempotency-Key was re-claimed; retry.",
                    slug="idempotency-key-in-flight",
                )
    except _NotStored as refusal:
        IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT).delete()
        return refusal.response
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT).delete()
        raise
    return response


class _NotStored(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def purge_expired(*, now: dt.datetime | None = None) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
