"""One function per kind of order event (the timeline)."""

from __future__ import annotations

from geopera_web.actor import ActorLike, actor_of

from .models import Order, OrderEvent


def order_event(
    *,
    order: Order,
    kind: str,
    actor: ActorLike = None,
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> OrderEvent:
    who = actor_of(actor)
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor=who.user,
        actor_label=who.label[:200],
        message=message[:500],
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )
