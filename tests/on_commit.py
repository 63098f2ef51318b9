"""What a change queued for after its commit, apart from the outbox's event delivery (which every
recorded change queues, see geopera_web/events/services.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def besides_outbox(callbacks: Iterable[Callable]) -> list[Callable]:
    return [c for c in callbacks if not getattr(c, "is_outbox_delivery", False)]
