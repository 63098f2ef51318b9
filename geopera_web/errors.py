"""The one application error type. Services raise it; the API turns it into RFC 7807
problem+json (geopera_web.api.problems) and views into a form error or a flash message.

`status` is the HTTP status the condition maps to; `extra` becomes extension members of the
problem document (e.g. `current_status` on a 409, `client_secret` on a 3-D Secure 402).
"""

from __future__ import annotations

import uuid
from typing import Any


class ApplicationError(Exception):
    status: int = 400
    title: str = "Bad Request"
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        title: str | None = None,
        slug: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        if slug is not None:
            self.slug = slug
        self.extra = extra

    def __str__(self) -> str:
        return self.detail


class NotFound(ApplicationError):
    """Missing and "not yours" are the same answer: tenancy must never confirm existence."""

    status, title, slug = 404, "Not Found", "not-found"


class PermissionDenied(ApplicationError):
    status, title, slug = 403, "Forbidden", "forbidden"


class Conflict(ApplicationError):
    """An illegal state transition or a concurrent change; carries `current_status`."""

    status, title, slug = 409, "Conflict", "conflict"


class PaymentRequired(ApplicationError):
    status, title, slug = 402, "Payment Required", "payment-required"


class Gone(ApplicationError):
    status, title, slug = 410, "Gone", "gone"


class InvalidInput(ApplicationError):
    """Input that is well-formed but wrong (bad geometry, unknown product). `errors` (a list of
    {"loc", "msg", "type"}) makes it a 422 in the HTTPValidationError shape when status is 422."""

    status, title, slug = 400, "Bad Request", "invalid-input"


def parse_uuid(value: object) -> uuid.UUID | None:
    """A UUID from a string or UUID, or None when it is not one (so look-ups answer 404, not 500)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def parse_whole(value: object, *, max_digits: int = 12) -> int | None:
    """A non-negative whole number typed as ASCII digits (at most `max_digits`), or None when it is
    not one. `str.isdigit` alone is not enough: it is True for "²" and other digits `int` refuses,
    and for numbers too long for `int` to read, which made a form field a 500."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > max_digits:
        return None
    return int(value)
