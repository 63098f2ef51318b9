"""What the tasking app contributes to the platform: its demo seeders (in `tasking/demo.py`) and the
inbox badge in the navigation."""

from __future__ import annotations

from typing import Any

from geopera_web.accounts.navigation import register_badge
from geopera_web.demo import register_seeder

from .demo import (
    seed_support_desk,
    seed_tasking_config,
    seed_tasking_flow,
    seed_tasking_series,
    seed_tasking_series_per_occurrence,
)

register_seeder(order=30, name="tasking-config", seeder=seed_tasking_config)
register_seeder(order=50, name="tasking-flow", seeder=seed_tasking_flow)
register_seeder(order=55, name="support-desk", seeder=seed_support_desk)
register_seeder(order=58, name="tasking-series", seeder=seed_tasking_series)
register_seeder(order=59, name="tasking-series-per-occurrence", seeder=seed_tasking_series_per_occurrence)


def _inbox_count(request: Any) -> int:
    from .views.inbox import request_pending_count

    return request_pending_count(request)


def _inbox_counted(request: Any) -> Any:
    from orders.inbox import decisions_pending_queryset

    return decisions_pending_queryset(org=request.org)


register_badge("inbox", _inbox_count, counts=_inbox_counted)
