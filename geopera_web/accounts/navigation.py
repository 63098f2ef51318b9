"""Navigation badges contributed by domain apps (the platform imports none of them).

A domain app registers, in its AppConfig.ready():

    register_badge("inbox", lambda request: pending_decision_count(org=request.org),
                   counts=lambda request: pending_decisions_queryset(org=request.org))

`counts`, when given, returns the queryset whose COUNT the badge shows: a page that already runs
one statement can fold every badge into it (`badge_querysets`, then `badges_known`) instead of one
query per badge; a badge not known that way is asked of its provider.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

BadgeProvider = Callable[[HttpRequest], int]
_BADGES: dict[str, BadgeProvider] = {}
_COUNTS: dict[str, Callable[[HttpRequest], Any]] = {}


def register_badge(
    name: str, provider: BadgeProvider, *, counts: Callable[[HttpRequest], Any] | None = None
) -> None:
    _BADGES[name] = provider
    if counts is not None:
        _COUNTS[name] = counts


def badge_querysets(request: HttpRequest) -> dict[str, Any]:
    """The badges that can be counted inside another statement: name → the queryset counted."""
    if getattr(request, "org", None) is None:
        return {}
    return {name: counts(request) for name, counts in _COUNTS.items()}


def badges_known(request: HttpRequest, counts: dict[str, int]) -> None:
    """Badge values this request has counted already (in its own statement): not asked again."""
    request._badges_known = {**getattr(request, "_badges_known", {}), **counts}  # type: ignore[attr-defined]


def badges_for(request: HttpRequest) -> dict[str, int]:
    if getattr(request, "org", None) is None:
        return {}
    known = getattr(request, "_badges_known", {})
    return {name: known[name] if name in known else provider(request) for name, provider in _BADGES.items()}
