"""Feasibility prediction: does a tasking request need a study by support, and which passes does the
constellation make over each AOI? Reads only (orbit prediction is tasking.orbits)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from geopera_web.errors import InvalidInput

from .aoi import AoiCheck
from .models import Feasibility, TaskingProduct

# Limits inside which the platform answers from orbit prediction alone ("automatic"); anything
# stricter goes to the provider's tasking desk (a study by support staff).
AUTO_MAX_AREA_KM2 = 1000.0
AUTO_MIN_WINDOW_DAYS = 7
AUTO_MIN_CLOUD_PERCENT = 10  # asking for less cloud than this needs a climate assessment
AUTO_MIN_OFF_NADIR_DEG = 15  # stricter angles leave too few passes to promise from geometry alone


@dataclass
class FeatureFeasibility:
    index: int
    needs_study: bool
    reasons: list[dict[str, str]] = field(default_factory=list)
    passes: list[Any] = field(default_factory=list)

    def out(self) -> dict[str, Any]:
        return {
            "featureIndex": self.index,
            "needsStudy": self.needs_study,
            "automatic": not self.needs_study,
            "reasons": self.reasons,
            "predictedPasses": len(self.passes),
        }


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value.strip())
    return parsed if parsed is not None and not timezone.is_naive(parsed) else None


def window_of(params: dict[str, Any] | None) -> tuple[datetime | None, datetime | None]:
    params = params or {}
    return _instant(params.get("acquisitionStart")), _instant(params.get("acquisitionEnd"))


def prediction_window_days(params: dict[str, Any] | None) -> float:
    """The days of the window the predictor would search (from now, at most its horizon)."""
    from .orbits import max_window

    start, end = window_of(params)
    if start is None or end is None:
        return 0.0
    start = max(start, timezone.now())
    end = min(end, start + max_window())
    return max((end - start).total_seconds() / 86400, 0.0)


def prediction_work_ensure(
    *, product: TaskingProduct, checks: list[AoiCheck], params: dict[str, Any] | None
) -> None:
    """Pass prediction costs CPU per area and per day of window: refuse (422, saying the limit)
    a request whose valid areas x window days exceed TASKING_PREDICTION_MAX_FEATURE_DAYS, before
    any prediction runs. Sensors without automatic feasibility predict nothing and pass."""
    if product.sensor.feasibility != Feasibility.AUTOMATIC:
        return
    areas = sum(1 for c in checks if c.ok and c.geometry is not None)
    days = prediction_window_days(params)
    limit = settings.TASKING_PREDICTION_MAX_FEATURE_DAYS
    if areas * days > limit:
        raise InvalidInput(
            f"Predicting passes for {areas} area{'s' if areas != 1 else ''} over a {days:.0f}-day window is "
            f"{areas * days:,.0f} area-days; the limit is {limit:,} per request "
            "(TASKING_PREDICTION_MAX_FEATURE_DAYS). Check fewer areas at a time or shorten the "
            "acquisition window.",
            status=422,
            slug="prediction-limit-exceeded",
            limit=limit,
        )


def predict_passes(*, product: TaskingProduct, check: AoiCheck, params: dict[str, Any] | None) -> list[Any]:
    """Predicted passes of the product's satellites over one valid AOI inside the window."""
    from . import orbits  # built on the orbits branch; imported late so a missing TLE set is local

    start, end = window_of(params)
    if check.geometry is None or start is None or end is None or end <= start:
        return []
    params = params or {}
    sensor = product.sensor
    start = max(start, timezone.now())
    end = min(end, start + orbits.max_window())  # the predictor's horizon; TLEs decay beyond it anyway
    if end <= start:
        return []
    angle = float(params.get("incidenceAngle") or sensor.max_off_nadir)
    return list(
        orbits.predict_passes(
            norad_ids=sensor.norad_ids,
            aoi=check.geometry,
            start=start,
            end=end,
            max_off_nadir_deg=min(max(angle, 1.0), 89.0),
            min_sun_elevation_deg=None if sensor.sensor_type == "sar" else 10.0,
        )
    )


def feature_feasibility(
    *, product: TaskingProduct, check: AoiCheck, params: dict[str, Any] | None, with_passes: bool = True
) -> FeatureFeasibility:
    """Why (or why not) one feature needs a feasibility study."""
    sensor = product.sensor
    params = params or {}
    reasons: list[dict[str, str]] = []
    if sensor.feasibility == Feasibility.MANUAL:
        reasons.append(
            {
                "code": "manual_feasibility_sensor",
                "message": f"{sensor.name} is tasked by the provider's desk: support studies every request.",
            }
        )
    if check.area_km2 is not None and check.area_km2 > AUTO_MAX_AREA_KM2:
        reasons.append(
            {
                "code": "area_above_auto_limit",
                "message": f"{check.area_km2:,.0f} km² is above the {AUTO_MAX_AREA_KM2:,.0f} km² that can be "
                "planned automatically.",
            }
        )
    start, end = window_of(params)
    if start and end and (end - start).days < AUTO_MIN_WINDOW_DAYS:
        reasons.append(
            {
                "code": "window_too_short",
                "message": f"A window shorter than {AUTO_MIN_WINDOW_DAYS} days needs the provider to "
                "confirm a slot.",
            }
        )
    cloud = params.get("cloudCoverage")
    if isinstance(cloud, int | float) and cloud < AUTO_MIN_CLOUD_PERCENT and sensor.sensor_type != "sar":
        reasons.append(
            {
                "code": "cloud_beyond_auto_limit",
                "message": f"Maximum cloud cover {cloud}% is stricter than the {AUTO_MIN_CLOUD_PERCENT}% "
                "automatic limit: it needs a climate assessment.",
            }
        )
    angle = params.get("incidenceAngle")
    if isinstance(angle, int | float) and angle < AUTO_MIN_OFF_NADIR_DEG and sensor.sensor_type != "sar":
        reasons.append(
            {
                "code": "off_nadir_beyond_auto_limit",
                "message": f"Off-nadir up to {angle}° is stricter than the {AUTO_MIN_OFF_NADIR_DEG}° "
                "automatic limit.",
            }
        )
    passes: list[Any] = []
    if with_passes and sensor.feasibility == Feasibility.AUTOMATIC and check.geometry is not None:
        passes = predict_passes(product=product, check=check, params=params)
        if not passes and start and end:
            reasons.append(
                {
                    "code": "no_predicted_pass",
                    "message": "No pass of the constellation is predicted over this area within the window "
                    "and angle limits.",
                }
            )
    return FeatureFeasibility(index=check.index, needs_study=bool(reasons), reasons=reasons, passes=passes)


def pass_out(p: Any, feature_index: int) -> dict[str, Any]:
    """A predicted pass on the wire (attribute names follow tasking.orbits.Pass)."""

    def attr(*names: str) -> Any:
        for n in names:
            if hasattr(p, n):
                return getattr(p, n)
        return None

    def iso(v: Any) -> Any:
        return v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v

    return {
        "featureIndex": feature_index,
        "satellite": attr("satellite"),
        "noradId": attr("norad_id"),
        "start": iso(attr("start")),
        "end": iso(attr("end")),
        "peakTime": iso(attr("peak_time")),
        "offNadirDeg": _round(attr("min_off_nadir_deg", "off_nadir_deg", "min_off_nadir")),
        "sunElevationDeg": _round(attr("sun_elevation_deg", "sun_elevation")),
        "ascending": attr("ascending"),
        "tleEpoch": iso(attr("tle_epoch")),
    }


def _round(v: Any) -> Any:
    return round(float(v), 2) if isinstance(v, int | float) else v
