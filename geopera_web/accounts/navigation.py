"""Navigation badges contributed by domain apps (the platform imports none of them).

A domain app registers, in its AppConfig.ready():

    register_badge("inbox", lambda request: pending_decision_count(org=request.org))
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

BadgeProvider = Callable[[HttpRequest], int]
_BADGES: dict[str, BadgeProvider] = {}


def register_badge(name: str, provider: BadgeProvider) -> None:
    _BADGES[name] = provider


def badges_for(request: HttpRequest) -> dict[str, int]:
    if getattr(request, "org", None) is None:
        return {}
    return {name: provider(request) for name, provider in _BADGES.items()}
