"""Pure archive pricing arithmetic: product rate × billable area, rounded up to whole credits.

No ORM and no geometry here: callers compute the geodesic area in PostGIS
(`ST_Area(geom::geography)`) and pass km². Keep these signatures stable — the cart/estimate code
and the catalog search enrichment both call them.
"""

from __future__ import annotations

import math
from typing import Protocol


class PricedProduct(Protocol):
    credits_per_km2: int
    min_area_km2: float


# Geodesic areas come back from PostGIS as floats with noise in the last bits; without this a
# footprint of exactly 25 km² could be billed 25.000000000004 km² and gain a credit.
_AREA_EPSILON_KM2 = 1e-9


def billed_area_km2(*, product: PricedProduct, area_km2: float) -> float:
    """The area a customer pays for: the real area, but never less than the product's minimum.

    Precondition: `area_km2` is a geodesic area in km² (>= 0).
    """
    if area_km2 < 0 or math.isnan(area_km2):
        raise ValueError("area_km2 must be a non-negative number")
    return max(float(area_km2), float(product.min_area_km2 or 0.0))


def credits_for_area(*, product: PricedProduct, area_km2: float) -> int:
    """Credits for an area: rate × max(area, minimum), rounded UP to a whole credit."""
    raw = product.credits_per_km2 * billed_area_km2(product=product, area_km2=area_km2)
    return max(0, math.ceil(raw - _AREA_EPSILON_KM2 * product.credits_per_km2))


def credits_for_area_sql(*, rate: str, minimum: str, area: str) -> str:
    """`credits_for_area` as a SQL expression over the given columns (a search page prices its
    Items in PostgreSQL): the same IEEE-754 double operations in the same order, so the same
    integer (tests/orders/test_pricing.py compares the two)."""
    return (
        f"greatest(0, ceil(({rate})::float8 * greatest(({area})::float8, coalesce(({minimum})::float8, 0))"
        f" - {_AREA_EPSILON_KM2!r}::float8 * ({rate})::float8))::bigint"
    )


def credits_to_aud_display(credits: int) -> str:
    """A$ for display only (100 credits = A$1); money stays integer credits everywhere else."""
    return f"{credits // 100:,}.{credits % 100:02d}"
