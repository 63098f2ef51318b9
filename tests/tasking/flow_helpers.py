"""Builders for the tasking-flow tests: AOIs, params, and orders at each stage of the flow."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.utils import timezone

MANUAL_PRODUCT = "worldview-legion-tasking"  # manual feasibility, 100–2000 km², 4200 cr/km²
AUTO_PRODUCT = "pleiades-tasking"  # automatic feasibility


def square(lon: float = 151.0, lat: float = -33.5, km: float = 12.0) -> dict[str, Any]:
    """A closed lon/lat square of roughly `km` × `km`."""
    dlat = km / 111.32 / 2
    dlon = km / (111.32 * math.cos(math.radians(lat))) / 2
    ring = [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
        [lon - dlon, lat - dlat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def bowtie(lon: float = 151.0, lat: float = -33.5, d: float = 0.1) -> dict[str, Any]:
    ring = [
        [lon - d, lat - d],
        [lon + d, lat + d],
        [lon + d, lat - d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def fc(*geometries: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": g, "properties": {"name": f"AOI {i + 1}"}}
            for i, g in enumerate(geometries)
        ],
    }


def iso(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def params(**overrides: Any) -> dict[str, Any]:
    now = timezone.now().replace(microsecond=0)
    return {
        "displayName": "Port survey",
        "acquisitionStart": iso(now + timedelta(days=1)),
        "acquisitionEnd": iso(now + timedelta(days=31)),
        "cloudCoverage": 20,
        "incidenceAngle": 25,
        **overrides,
    }


def place(org, actor, *, product: str = MANUAL_PRODUCT, geometries=None, **kw):
    from tasking.services import tasking_order_place

    return tasking_order_place(
        org=org,
        actor=actor,
        data_product_id=product,
        params=params(),
        feature_collection=fc(*(geometries or [square()])),
        **kw,
    )


def option(price: int | None = None, **overrides: Any) -> dict[str, Any]:
    now = timezone.now()
    return {
        "description": "Option " + ("priced" if price is not None else "to quote"),
        "window_start": now + timedelta(days=2),
        "window_end": now + timedelta(days=20),
        "expected_captures": 2,
        "expected_revisits": 6,
        "max_off_nadir": 25.0,
        "price_credits": price,
        "valid_until": now + timedelta(days=3),
        **overrides,
    }


def upload_study(order, staff, *, options=None, deadline=None):
    from tasking.services import study_upload

    return study_upload(
        actor=staff,
        order_id=order.id,
        options=options if options is not None else [option(None), option(50_000)],
        deadline=deadline or timezone.now() + timedelta(days=3),
        notes="Two ways to get it.",
    )


def upload_quote(order, staff, *, credits: int = 40_000, valid_until=None):
    from tasking.services import quotation_upload

    return quotation_upload(
        actor=staff,
        order_id=order.id,
        credits=credits,
        valid_until=valid_until or timezone.now() + timedelta(days=4),
    )
