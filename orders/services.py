"""Every write to orders. Status changes go through `order_transition` and nothing else."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from geopera_web.errors import Conflict

from .events import order_event
from .models import Order


@transaction.atomic
def order_transition(
    *,
    order: Order,
    to: str,
    actor: Any = None,
    sub_status: str | None = None,
    message: str = "",
    data: dict | None = None,
) -> Order:
    """Move an order to `to` (and optionally a sub-status), per Order.TRANSITIONS, with an event.

    Locks the order row; an illegal move is a 409 carrying the current status. A change of
    sub-status alone (to == current status) is allowed and recorded.
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if to != locked.status and to not in Order.TRANSITIONS[locked.status]:
        raise Conflict(
            f"The order is {locked.status}; it cannot become {to}.",
            current_status=locked.status,
            current_sub_status=locked.sub_status,
        )
    from_status, from_sub = locked.status, locked.sub_status
    locked.status = to
    if sub_status is not None:
        locked.sub_status = sub_status
    if (from_status, from_sub) == (locked.status, locked.sub_status):
        return locked
    locked.save(update_fields=["status", "sub_status", "updated_at"])
    order_event(
        order=locked,
        kind="status_changed",
        actor=actor,
        message=message,
        from_status=from_status + (f"/{from_sub}" if from_sub else ""),
        to_status=locked.status + (f"/{locked.sub_status}" if locked.sub_status else ""),
        data=data,
    )
    order.status, order.sub_status = locked.status, locked.sub_status
    return locked
