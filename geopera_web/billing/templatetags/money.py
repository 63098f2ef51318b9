"""Money display: credits stay integers; A$ is derived (100 credits = A$1)."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def aud(credits: int | None) -> str:
    """12345 -> "A$123.45"."""
    value = Decimal(int(credits or 0)) / 100
    sign = "-" if value < 0 else ""
    return f"{sign}A${abs(value):,.2f}"


@register.filter
def credits(value: int | None) -> str:
    """12345 -> "12,345 cr"."""
    return f"{int(value or 0):,} cr"


@register.filter
def ledger_word(entry: object) -> str:
    """A ledger entry's movement in the ledger's words (Held, Charged, Released, Refunded, ...)."""
    from ..ledger_rows import WORDS

    kind = getattr(entry, "kind", "")
    return WORDS.get(kind, str(kind))


@register.filter
def sub(value: int | None, other: int | None) -> int:
    """`{{ a|sub:b }}`: a − b for integer credits."""
    return int(value or 0) - int(other or 0)


@register.filter
def floordiv(value: int | None, other: int | None) -> int:
    """`{{ a|floordiv:n }}`: whole credits of a split n ways (0 for n = 0)."""
    return int(value or 0) // int(other) if other else 0
