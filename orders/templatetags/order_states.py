"""`{% order_state order %}`: the one way a page shows an order's status (see `orders/states.py`)."""

from __future__ import annotations

from typing import Any

from django import template

from orders.states import OrderState, lifecycle_step, order_state

register = template.Library()


def state_of(order: Any) -> OrderState:
    state = getattr(order, "state", None)
    return state if isinstance(state, OrderState) else order_state(order)


@register.inclusion_tag("orders/_state.html")
def order_state_badge(order: Any, detail: bool = True) -> dict[str, Any]:
    """The badge (and, with `detail`, the line under it: what to do, by when)."""
    return {"state": state_of(order), "detail": detail, "order": order}


@register.simple_tag
def order_state_of(order: Any) -> OrderState:
    """`{% order_state_of o as st %}` to branch on a state (`st.needs_customer`, `st.waits_on`)."""
    return state_of(order)


@register.inclusion_tag("orders/_step.html")
def lifecycle_step_badge(value: str) -> dict[str, Any]:
    """`{% lifecycle_step_badge e.to_status %}`: a timeline's status change in words."""
    label, tone = lifecycle_step(value)
    return {"label": label, "tone": tone, "raw": value}
