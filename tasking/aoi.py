"""Areas of interest of a tasking request: parse, validate and price them (no writes).

Every feature of a request's FeatureCollection becomes one OrderGroup. A feature is checked for:
GeoJSON shape (Polygon/MultiPolygon, closed rings, numeric WGS 84 coordinates), vertex count and
self-intersection (with the made-valid shape offered as the fix) by `orders.geometry`, the one
validator (this module words its refusals for a tasking request), then geodesic area against the
product's limits. Areas are geodesic (PostGIS geography), never planar degrees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon

from geopera_web.errors import InvalidInput
from orders.geometry import GeometryError, features_of, geodesic_area_km2, geojson_geometry
from orders.models import DataProduct
from orders.pricing import billed_area_km2, credits_for_area

# Below this an AOI is a drawing slip, not a request (the product minimum only sets the billed area).
MIN_AOI_KM2 = 0.01


@dataclass
class AoiCheck:
    """The outcome of checking one feature; `geometry` is set when it can be stored."""

    index: int
    name: str = ""
    geometry: MultiPolygon | None = None
    area_km2: float | None = None
    billed_area_km2: float | None = None
    credits: int | None = None
    vertices: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    suggested_geometry: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def suggested_geometry_json(self) -> str:
        return json.dumps(self.suggested_geometry) if self.suggested_geometry else ""

    @property
    def label(self) -> str:
        return self.name or f"feature {self.index + 1}"


def _err(check: AoiCheck, msg: str, type_: str, **extra: Any) -> None:
    check.errors.append(
        {"loc": ["body", "featureCollection", "features", check.index, "geometry"], "msg": msg, "type": type_}
        | extra
    )


_RING = (
    "feature {n} has an unclosed or too short ring: each ring needs at least 4 positions "
    "and must end where it starts."
)


def billed_credits(*, area_km2: float, product: DataProduct) -> tuple[float, int]:
    """(billed area, credits): the one pricing rule of orders.pricing, for a tasking AOI."""
    return (
        billed_area_km2(product=product, area_km2=area_km2),
        credits_for_area(product=product, area_km2=area_km2),
    )


# A tasking AOI's wording (and error type) for what `orders.geometry` refuses: (type, message).
_AOI_ERRORS: dict[str, tuple[str, str]] = {
    "no_coordinates": ("value_error.ring_not_closed", _RING),
    "empty_polygon": ("value_error.ring_not_closed", _RING),
    "ring_too_short": ("value_error.ring_not_closed", _RING),
    "ring_not_closed": ("value_error.ring_not_closed", _RING),
    "bad_position": (
        "value_error.coordinates",
        "feature {n} has coordinates that are not [longitude, latitude] numbers.",
    ),
    "unreadable": (
        "value_error.coordinates",
        "feature {n} has coordinates that are not [longitude, latitude] numbers.",
    ),
    "out_of_range": (
        "value_error.out_of_range",
        "feature {n} lies outside longitude −180…180 / latitude −90…90: send WGS 84 "
        "[longitude, latitude] (not latitude first, not projected metres).",
    ),
    "too_many_vertices": (
        "value_error.too_many_vertices",
        "feature {n} has {count:,} vertices; at most {limit:,} are accepted. "
        "Simplify the outline (a few metres of tolerance is plenty for tasking).",
    ),
}


def _refuse(check: AoiCheck, exc: GeometryError) -> None:
    n = check.index + 1
    if exc.code == "self_intersection":
        check.suggested_geometry = exc.params.get("suggested")
        _err(
            check,
            f"feature {n} self-intersects ({exc.params.get('reason')}); use the made-valid shape"
            + (" offered in suggestedGeometry" if check.suggested_geometry else "")
            + " or redraw it without crossing edges.",
            "value_error.self_intersection",
            suggestedGeometry=check.suggested_geometry,
        )
        return
    if exc.code == "too_many_vertices":
        check.vertices = exc.params["count"]
    type_, template = _AOI_ERRORS.get(exc.code, ("value_error.geometry", "feature {n}: {what}"))
    _err(check, template.format(n=n, what=exc.what, **exc.params), type_)


def check_feature(feature: Any, index: int, product: DataProduct | None) -> AoiCheck:
    """Check one feature; never raises for bad input (the errors are on the result)."""
    check = AoiCheck(index=index)
    if not isinstance(feature, dict):
        _err(check, f"feature {index + 1} is not a GeoJSON Feature object.", "type_error.feature")
        return check
    props = feature.get("properties") or {}
    if isinstance(props, dict):
        check.name = str(props.get("name") or "")[:200]
    geometry = feature.get("geometry") if feature.get("type") == "Feature" else feature
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        got = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        _err(
            check,
            f"feature {index + 1} has a {got} geometry; tasking needs a Polygon or MultiPolygon area.",
            "value_error.geometry_type",
        )
        return check
    try:
        multi = geojson_geometry(
            geometry, polygonal=True, max_vertices=settings.TASKING_AOI_MAX_VERTICES, repair=False
        )
    except GeometryError as exc:
        _refuse(check, exc)
        return check
    check.vertices = multi.num_coords
    check.geometry = multi
    check.area_km2 = round(geodesic_area_km2(multi), 4)
    if check.area_km2 < MIN_AOI_KM2:
        _err(
            check,
            f"feature {index + 1} covers only {check.area_km2 * 1e6:,.0f} m²; draw an area of at least "
            f"{MIN_AOI_KM2} km².",
            "value_error.area_too_small",
        )
        return check
    if product is not None:
        if product.max_area_km2 and check.area_km2 > product.max_area_km2:
            _err(
                check,
                f"feature {index + 1} covers {check.area_km2:,.1f} km², above the {product.max_area_km2:,.0f} km² "
                f"maximum for {product.name}; split it into smaller areas.",
                "value_error.area_too_large",
            )
            return check
        check.billed_area_km2, check.credits = billed_credits(area_km2=check.area_km2, product=product)
        if product.min_area_km2 and check.area_km2 < product.min_area_km2:
            check.warnings.append(
                f"{check.area_km2:,.1f} km² is below the {product.min_area_km2:,.0f} km² minimum: billed as "
                f"{product.min_area_km2:,.0f} km²."
            )
    return check


def check_features(feature_collection: Any, product: DataProduct | None) -> list[AoiCheck]:
    return [check_feature(f, i, product) for i, f in enumerate(features_of(feature_collection))]


def require_valid(checks: list[AoiCheck]) -> None:
    """422 naming every bad feature (HTTPValidationError shape), or nothing."""
    errors = [e for c in checks for e in c.errors]
    if errors:
        raise InvalidInput(
            "; ".join(e["msg"] for e in errors[:3]),
            status=422,
            errors=errors,
        )
