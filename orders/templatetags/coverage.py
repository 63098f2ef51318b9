"""Template helpers for coverage figures on other pages (orders list, order detail)."""

from __future__ import annotations

import math
from typing import Any

from django import template

register = template.Library()


@register.filter
def coverage_for(summary: dict | None, order_id: Any) -> float | None:
    """`{{ coverage|coverage_for:order.pk }}` with the dict of selectors.coverage_summary_for_orders."""
    if not summary:
        return None
    return summary.get(order_id, summary.get(str(order_id)))


@register.filter
def pct(value: float | None, digits: int = 0) -> str:
    """62.44 -> "62%"; 99.96 shows as "99.9%" (pct:1) rather than a misleading 100%."""
    if value is None:
        return "—"
    if value >= 100 - 1e-6:  # float noise of a full cover
        return "100%"
    step = 10**digits
    if value >= 100 - 1 / step:  # never round a remainder away
        return f"{math.floor(value * step) / step:.{digits}f}%"
    return f"{value:.{digits}f}%"
