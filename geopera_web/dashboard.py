"""Dashboard panels contributed by domain apps (the platform imports none of them).

A domain app registers, in its AppConfig.ready():

    register_panel(order=10, template="orders/_dashboard_panel.html", context=lambda request: {...})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]


_PANELS: list[Panel] = []


def register_panel(*, order: int, template: str, context: Callable[[HttpRequest], dict[str, Any]]) -> None:
    if not any(p.template == template for p in _PANELS):
        _PANELS.append(Panel(order, template, context))


def dashboard_panels(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"template": p.template, **p.context(request)} for p in sorted(_PANELS, key=lambda p: p.order)]


# Panels of the Billing page, the same way (e.g. the spend policies' budget burn-down).
_BILLING_PANELS: list[Panel] = []


def register_billing_panel(
    *, order: int, template: str, context: Callable[[HttpRequest], dict[str, Any]]
) -> None:
    if not any(p.template == template for p in _BILLING_PANELS):
        _BILLING_PANELS.append(Panel(order, template, context))


def billing_panels(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"template": p.template, **p.context(request)} for p in sorted(_BILLING_PANELS, key=lambda p: p.order)
    ]
