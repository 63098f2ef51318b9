"""One function per kind of order event (the timeline)."""

from __future__ import annotations

from typing import Any

from .models import Order, OrderEvent


def actor_label(actor: Any) -> str:
    """A readable name for whoever acted: a user, an API key principal, or the system."""
    if actor is None:
        return "system"
    label = getattr(actor, "label", None)
    if label:
        return str(label)
    name = getattr(actor, "display_name", None)
    return str(name or actor)


def _user_of(actor: Any):
    if actor is None:
        return None
    user = getattr(actor, "user", None) if not hasattr(actor, "is_authenticated") else actor
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def order_event(
    *,
    order: Order,
    kind: str,
    actor: Any = None,
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor=_user_of(actor),
        actor_label=actor_label(actor)[:200],
        message=message[:500],
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )
