"""Areas in km², formatted one way everywhere: thousands separators and a fixed number of
decimals ("12,345.6"). `{{ value|area }}` (1 decimal), `{{ value|area:2 }}`, `{{ value|area:0 }}`;
a negative count shows decimals only when the value is not whole (`area:"-1"`: 25 → "25",
2.5 → "2.5"), as floatformat does. A template builtin (no `{% load %}`). The pages' scripts
format the same way with `geopera.formatArea` (static/js/app.js)."""

from __future__ import annotations

import math

from django import template

register = template.Library()


def format_area(value: float | int | str | None, digits: int | str = 1) -> str:
    """12345.67 -> "12,345.7"; None or a non-number -> "—"."""
    try:
        number = float(value)  # type: ignore[arg-type]
        places = int(digits)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(number):
        return "—"
    if places < 0:
        places = 0 if number == round(number) else -places
    return f"{number:,.{places}f}"


@register.filter(name="area")
def area(value: float | int | str | None, digits: int | str = 1) -> str:
    return format_area(value, digits)
