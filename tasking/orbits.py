"""Pass prediction: when can a satellite image an area of interest (AOI) inside a time window?

``predict_passes`` propagates each satellite's TLE (see ``tasking.tle_store``) with SGP4 and
reports every pass during which some point of the AOI is within ``max_off_nadir_deg`` of the
satellite's nadir — i.e. the satellite could roll its sensor onto the AOI.

Method and precision (good enough for planning; a provider's feasibility study is authoritative):

* SGP4 (``sgp4`` package, vectorised ``sgp4_array``) gives positions in TEME. We rotate TEME to
  Earth-fixed with the IAU-82 GMST angle and ignore polar motion and UT1-UTC: that costs tens of
  metres, far below the TLE's own error (~1 km at epoch, growing by a few km per day).
* Geometry is on the WGS84 ellipsoid. Off-nadir is the angle at the satellite between the
  geodetic nadir (the ellipsoid normal under it) and the line of sight to an AOI point; the point
  must also be above the local horizon.
* "The AOI" is its nearest point: 0° while the sub-satellite point is inside the polygon,
  otherwise the smallest off-nadir over its boundary densified to ≤ ~2 km spacing (capped at
  ``TASKING_ORBIT_MAX_AOI_POINTS`` points (a setting); the nearest point of a polygon from outside lies on its boundary).
  Point-in-polygon runs in longitude/latitude; an AOI crossing the antimeridian may be split into
  a MultiPolygon (the GeoJSON convention) or written with longitudes past ±180.
* Scan, in three stages so a week for several satellites stays well under a second:
  (1) a prefilter every ``PREFILTER_SECONDS`` keeps the times when the ground track is within
  reach of the AOI's bounding cap plus the ground covered between two samples (so it cannot drop
  a pass); (2) those candidate windows are sampled every ``step_seconds``, and around every local
  minimum of the off-nadir angle that stayed above the limit, every ``FINE_STEP_SECONDS`` — so a
  pass shorter than the step is still found unless it is shorter than ~1 s; (3) the edges and the
  peak of each accessible run are refined on sub-grids to ``EDGE_TOLERANCE_SECONDS``.
* Sun elevation: the Astronomical Almanac's low-precision solar position (±0.01° from 1950 to
  2050), geometric (no refraction), at the AOI's centroid at the pass's peak time.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from sgp4.api import Satrec, jday

from geopera_web.errors import InvalidInput, NotFound

from .tle_store import TLE, tle_for

logger = logging.getLogger(__name__)

# WGS84
WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563
WGS84_B_KM = WGS84_A_KM * (1 - WGS84_F)
WGS84_E2 = WGS84_F * (2 - WGS84_F)

PREFILTER_SECONDS = 60.0
FINE_STEP_SECONDS = 1.0
REFINE_SAMPLES = 20
EDGE_TOLERANCE_SECONDS = 0.05
AOI_SPACING_DEG = 0.02  # ~2 km: keeps the nearest-boundary-point error well under 0.1° off-nadir


def max_window() -> timedelta:
    """The predictor's horizon (TASKING_WINDOW_MAX_DAYS, read per call): TLEs decay beyond it."""
    return timedelta(days=settings.TASKING_WINDOW_MAX_DAYS)


# Fastest ground-track speed of a LEO satellite (km/s, generous) for the scan margin.
MAX_GROUND_SPEED_KM_S = 8.0


@dataclass(frozen=True)
class Pass:
    """One opportunity to image the AOI: the interval during which it is within the off-nadir limit."""

    norad_id: int
    satellite: str
    start: datetime  # UTC, first instant the AOI is accessible (clipped to the window)
    end: datetime  # UTC, last instant the AOI is accessible (clipped to the window)
    peak_time: datetime  # UTC, closest approach (smallest off-nadir); mid-overflight when 0°
    min_off_nadir_deg: float
    sun_elevation_deg: float  # at the AOI centroid at peak_time; negative = night
    ascending: bool  # satellite moving north at peak_time
    tle_epoch: datetime  # epoch of the TLE the prediction came from (accuracy decays from it)


# --- public API ----------------------------------------------------------------------------------


def predict_passes(
    *,
    norad_ids: Sequence[int],
    aoi: Any,
    start: datetime,
    end: datetime,
    max_off_nadir_deg: float,
    min_sun_elevation_deg: float | None = None,
    step_seconds: float = 10,
) -> list[Pass]:
    """Predicted passes of the given satellites over ``aoi`` between ``start`` and ``end``.

    Preconditions: ``aoi`` is a Polygon or MultiPolygon in SRID 4326 (a GEOSGeometry, a shapely
    geometry, or a GeoJSON dict); ``start``/``end`` are timezone-aware with ``start < end`` and at
    most ``max_window()`` apart; ``0 < max_off_nadir_deg < 90``. NORAD ids we hold no TLE for are
    skipped with a warning (an empty ``norad_ids`` — a manual-feasibility sensor — gives ``[]``).
    ``min_sun_elevation_deg`` drops passes whose sun elevation at peak is below it (optical
    sensors); ``None`` keeps night passes (radar). ``step_seconds`` is the access-scan step near
    the AOI (see the module docstring; results barely depend on it, speed does a little).
    Sorted by start time, then NORAD id.

    Raises InvalidInput when a precondition does not hold.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("The window's start and end must be timezone-aware.")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if not start < end:
        raise InvalidInput("The window must end after it starts.")
    if end - start > max_window():
        raise InvalidInput(
            f"The window may be at most {settings.TASKING_WINDOW_MAX_DAYS} days long (TASKING_WINDOW_MAX_DAYS)."
        )
    if not 0 < max_off_nadir_deg < 90:
        raise InvalidInput("max_off_nadir_deg must be between 0 and 90.")
    if not 0.5 <= step_seconds <= 120:  # bounded: a tiny step is an easy way to burn CPU
        raise InvalidInput("step_seconds must be between 0.5 and 120.")

    target = _Aoi.from_geometry(aoi)
    passes: list[Pass] = []
    for norad_id in dict.fromkeys(norad_ids):  # de-duplicated, order kept
        try:
            tle = tle_for(int(norad_id))
        except NotFound:
            logger.warning("no TLE for NORAD %s; skipping it in pass prediction", norad_id)
            continue
        passes.extend(
            _passes_for(
                tle=tle,
                target=target,
                start=start,
                end=end,
                max_off_nadir_rad=math.radians(max_off_nadir_deg),
                step_seconds=float(step_seconds),
            )
        )
    if min_sun_elevation_deg is not None:
        passes = [p for p in passes if p.sun_elevation_deg >= min_sun_elevation_deg]
    passes.sort(key=lambda p: (p.start, p.norad_id))
    return passes


def sun_elevation_deg(*, when: datetime, lat: float, lon: float) -> float:
    """Geometric elevation of the Sun's centre (degrees) seen from ``lat``/``lon`` at ``when``."""
    jd, fr = _jday(when.astimezone(UTC))
    return float(_sun_elevation(np.array([jd + fr]), math.radians(lat), math.radians(lon))[0])


def teme_to_ecef(r_teme: np.ndarray, jd_ut1: np.ndarray) -> np.ndarray:
    """Rotate TEME positions (…, 3) to Earth-fixed by GMST (IAU-82), ignoring polar motion."""
    theta = _gmst(jd_ut1)
    c, s = np.cos(theta), np.sin(theta)
    x, y, z = r_teme[..., 0], r_teme[..., 1], r_teme[..., 2]
    return np.stack([c * x + s * y, -s * x + c * y, z], axis=-1)


def geodetic_to_ecef(lat_rad: np.ndarray, lon_rad: np.ndarray, h_km: float = 0.0) -> np.ndarray:
    """WGS84 geodetic latitude/longitude (radians) and height to Earth-fixed km (…, 3)."""
    sin_lat = np.sin(lat_rad)
    n = WGS84_A_KM / np.sqrt(1 - WGS84_E2 * sin_lat**2)
    return np.stack(
        [
            (n + h_km) * np.cos(lat_rad) * np.cos(lon_rad),
            (n + h_km) * np.cos(lat_rad) * np.sin(lon_rad),
            (n * (1 - WGS84_E2) + h_km) * sin_lat,
        ],
        axis=-1,
    )


def ecef_to_geodetic(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Earth-fixed km (…, 3) to WGS84 (lat rad, lon rad, height km); Bowring, < 1 m in LEO."""
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    p = np.hypot(x, y)
    ep2 = WGS84_E2 / (1 - WGS84_E2)
    theta = np.arctan2(z * WGS84_A_KM, p * WGS84_B_KM)
    lat = np.arctan2(
        z + ep2 * WGS84_B_KM * np.sin(theta) ** 3, p - WGS84_E2 * WGS84_A_KM * np.cos(theta) ** 3
    )
    lon = np.arctan2(y, x)
    n = WGS84_A_KM / np.sqrt(1 - WGS84_E2 * np.sin(lat) ** 2)
    h = p / np.cos(lat) - n
    return lat, lon, h


def satellite_state(tle: TLE, when: Sequence[datetime]) -> tuple[np.ndarray, np.ndarray]:
    """Earth-fixed positions (N, 3) km and TEME velocities (N, 3) km/s at the given UTC times."""
    jd = np.empty(len(when))
    fr = np.empty(len(when))
    for i, moment in enumerate(when):
        jd[i], fr[i] = _jday(moment.astimezone(UTC))
    sat = Satrec.twoline2rv(tle.line1, tle.line2)
    err, r, v = sat.sgp4_array(jd, fr)
    if np.any(err):
        raise ValueError(f"SGP4 failed for NORAD {tle.norad_id} (error {int(err.max())})")
    return teme_to_ecef(r, jd + fr), v


# --- internals -----------------------------------------------------------------------------------


def _jday(moment: datetime) -> tuple[float, float]:
    return jday(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second + moment.microsecond / 1e6,
    )


def _gmst(jd_ut1: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal time (radians), IAU-82, as SGP4's TEME frame expects."""
    t = (jd_ut1 - 2451545.0) / 36525.0
    seconds = 67310.54841 + (876600.0 * 3600.0 + 8640184.812866) * t + 0.093104 * t**2 - 6.2e-6 * t**3
    return np.radians(np.mod(seconds, 86400.0) / 240.0)


def _sun_elevation(jd: np.ndarray, lat_rad: float, lon_rad: float) -> np.ndarray:
    """Astronomical Almanac low-precision Sun position → elevation (degrees), vectorised over jd."""
    n = jd - 2451545.0
    mean_lon = np.radians(np.mod(280.460 + 0.9856474 * n, 360.0))
    anomaly = np.radians(np.mod(357.528 + 0.9856003 * n, 360.0))
    ecl_lon = mean_lon + np.radians(1.915 * np.sin(anomaly) + 0.020 * np.sin(2 * anomaly))
    obliquity = np.radians(23.439 - 0.0000004 * n)
    right_ascension = np.arctan2(np.cos(obliquity) * np.sin(ecl_lon), np.cos(ecl_lon))
    declination = np.arcsin(np.sin(obliquity) * np.sin(ecl_lon))
    gmst = np.radians(np.mod(280.46061837 + 360.98564736629 * n, 360.0))
    hour_angle = gmst + lon_rad - right_ascension
    sin_el = np.sin(lat_rad) * np.sin(declination) + np.cos(lat_rad) * np.cos(declination) * np.cos(
        hour_angle
    )
    return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))


def _geometry_dict(aoi: Any) -> dict:
    if isinstance(aoi, dict):
        return aoi
    srid = getattr(aoi, "srid", None)
    if srid not in (None, 4326):
        raise InvalidInput(f"The AOI must be in SRID 4326, not {srid}.")
    if hasattr(aoi, "__geo_interface__"):  # shapely
        return aoi.__geo_interface__
    if hasattr(aoi, "json"):  # GEOSGeometry
        return json.loads(aoi.json)
    raise InvalidInput("The AOI must be a Polygon or MultiPolygon geometry.")


@dataclass(frozen=True)
class _Aoi:
    """The AOI prepared for vectorised geometry."""

    rings: list[list[np.ndarray]]  # per polygon: rings of (k, 2) lon/lat degrees, closed
    points_ecef: np.ndarray  # (n, 3) densified boundary points on the ellipsoid
    points_up: np.ndarray  # (n, 3) their ellipsoid normals
    points_sq: np.ndarray  # (n,) |P|²
    points_up_dot: np.ndarray  # (n,) P·up_P
    centre_unit: np.ndarray  # (3,) unit vector to the centre of the AOI's bounding cap
    radius_rad: float  # Earth-central angle from centre to the farthest boundary point
    centroid_lat: float  # degrees
    centroid_lon: float
    beyond_180: bool  # some longitude is outside [-180, 180]

    @classmethod
    def from_geometry(cls, aoi: Any) -> _Aoi:
        geom = _geometry_dict(aoi)
        kind = geom.get("type")
        if kind == "Polygon":
            polygons = [geom["coordinates"]]
        elif kind == "MultiPolygon":
            polygons = geom["coordinates"]
        else:
            raise InvalidInput("The AOI must be a Polygon or MultiPolygon.")
        rings: list[list[np.ndarray]] = []
        for polygon in polygons:
            poly_rings = []
            for ring in polygon:
                arr = np.asarray(ring, dtype=float)[:, :2]
                if len(arr) < 4:
                    raise InvalidInput("Every AOI ring needs at least 4 positions.")
                if not np.array_equal(arr[0], arr[-1]):
                    arr = np.vstack([arr, arr[:1]])
                poly_rings.append(arr)
            rings.append(poly_rings)
        if not rings:
            raise InvalidInput("The AOI is empty.")

        # Densify every ring to ≤ spacing, with the spacing widened to respect the points setting.
        all_rings = [ring for poly in rings for ring in poly]
        total_len = sum(float(np.hypot(*np.diff(r, axis=0).T).sum()) for r in all_rings)
        spacing = max(AOI_SPACING_DEG, total_len / settings.TASKING_ORBIT_MAX_AOI_POINTS)
        boundary = []
        for ring in all_rings:
            for a, b in zip(ring[:-1], ring[1:], strict=True):
                pieces = max(1, math.ceil(float(np.hypot(*(b - a))) / spacing))
                frac = np.arange(pieces)[:, None] / pieces
                boundary.append(a + frac * (b - a))
        lonlat = np.vstack(boundary)
        lat_rad, lon_rad = np.radians(lonlat[:, 1]), np.radians(lonlat[:, 0])
        points = geodetic_to_ecef(lat_rad, lon_rad)
        up = np.stack(
            [np.cos(lat_rad) * np.cos(lon_rad), np.cos(lat_rad) * np.sin(lon_rad), np.sin(lat_rad)],
            axis=-1,
        )
        centre = up.mean(axis=0)
        centre /= np.linalg.norm(centre)
        radius = float(np.arccos(np.clip(up @ centre, -1.0, 1.0)).max())
        c_lon, c_lat = _centroid(rings)
        return cls(
            rings=rings,
            points_ecef=points,
            points_up=up,
            points_sq=np.einsum("nc,nc->n", points, points),
            points_up_dot=np.einsum("nc,nc->n", points, up),
            centre_unit=centre,
            radius_rad=radius,
            centroid_lat=c_lat,
            centroid_lon=c_lon,
            beyond_180=bool(np.abs(lonlat[:, 0]).max() > 180.0),
        )

    def contains(self, lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
        """Even-odd point-in-polygon test, vectorised over points."""
        inside_any = np.zeros(lon_deg.shape, dtype=bool)
        for poly in self.rings:
            inside = np.zeros(lon_deg.shape, dtype=bool)
            for ring in poly:
                x1, y1 = ring[:-1, 0], ring[:-1, 1]
                x2, y2 = ring[1:, 0], ring[1:, 1]
                px, py = lon_deg[:, None], lat_deg[:, None]
                crosses = (y1 > py) != (y2 > py)
                with np.errstate(divide="ignore", invalid="ignore"):
                    x_at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
                hits = crosses & (px < x_at)
                inside ^= (hits.sum(axis=1) % 2).astype(bool)
            inside_any |= inside
        return inside_any


def _centroid(rings: list[list[np.ndarray]]) -> tuple[float, float]:
    """Area-weighted planar centroid (lon, lat) of the polygons; fine for a sun elevation."""
    total = cx = cy = 0.0
    for poly in rings:
        for index, ring in enumerate(poly):
            x, y = ring[:, 0], ring[:, 1]
            cross = x[:-1] * y[1:] - x[1:] * y[:-1]
            signed_area = cross.sum() / 2
            if signed_area == 0:
                continue
            weight = abs(signed_area) * (1 if index == 0 else -1)  # holes subtract
            total += weight
            cx += weight * ((x[:-1] + x[1:]) * cross).sum() / (6 * signed_area)
            cy += weight * ((y[:-1] + y[1:]) * cross).sum() / (6 * signed_area)
    if total <= 0:  # degenerate (zero-area) AOI: fall back to the mean vertex
        first = rings[0][0]
        return float(first[:-1, 0].mean()), float(first[:-1, 1].mean())
    return cx / total, cy / total


class _Propagator:
    """SGP4 for one TLE over time offsets (seconds from the window start)."""

    def __init__(self, tle: TLE, start: datetime) -> None:
        self.tle = tle
        self.sat = Satrec.twoline2rv(tle.line1, tle.line2)
        self.start = start
        self.jd0, self.fr0 = _jday(start)

    def state(self, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(Earth-fixed positions (N,3) km, TEME velocities (N,3), ok mask (N,))."""
        fr = self.fr0 + offsets / 86400.0
        jd = np.full(offsets.shape, self.jd0)
        err, r, v = self.sat.sgp4_array(jd, fr)
        ok = err == 0
        return teme_to_ecef(r, jd + fr), v, ok

    def off_nadir(self, offsets: np.ndarray, target: _Aoi) -> np.ndarray:
        """Off-nadir angle (rad) to the AOI's nearest point at each offset; +inf if unreachable."""
        pos, _, ok = self.state(offsets)
        lat, lon, _ = ecef_to_geodetic(pos)
        nadir = -np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)
        # Expanded dot products, so everything is an (N, 3) @ (3, n) product and no (N, n, 3)
        # array is ever built:  |P - S|² = |P|² - 2 P·S + |S|²,  (P - S)·d = P·d - S·d.
        pts = target.points_ecef
        los_sq = target.points_sq[None, :] - 2.0 * (pos @ pts.T) + np.einsum("kc,kc->k", pos, pos)[:, None]
        along = nadir @ pts.T - np.einsum("kc,kc->k", pos, nadir)[:, None]
        cos_eta = along / np.sqrt(np.maximum(los_sq, 1e-9))
        # The point must see the satellite above its horizon: (S - P)·up_P > 0.
        visible = (pos @ target.points_up.T) > target.points_up_dot[None, :]
        best_cos = np.where(visible, cos_eta, -np.inf).max(axis=1)
        eta = np.where(np.isfinite(best_cos), np.arccos(np.clip(best_cos, -1.0, 1.0)), np.inf)
        lon_deg, lat_deg = np.degrees(lon), np.degrees(lat)
        over = target.contains(lon_deg, lat_deg)
        if target.beyond_180:  # rings written with longitudes past ±180 (crossing the antimeridian)
            over |= target.contains(lon_deg + 360.0, lat_deg) | target.contains(lon_deg - 360.0, lat_deg)
        eta = np.where(over, 0.0, eta)
        return np.where(ok, eta, np.inf)


def _reach_rad(r_km: np.ndarray, max_off_nadir_rad: float) -> np.ndarray:
    """Earth-central angle from the sub-satellite point to the farthest point seen within the limit."""
    # Smallest Earth radius makes r/R largest, so the reach (and the scan) errs on the wide side.
    ratio = np.clip(r_km / WGS84_B_KM * math.sin(max_off_nadir_rad), 0.0, 1.0)
    return np.arcsin(ratio) - max_off_nadir_rad


def _passes_for(
    *,
    tle: TLE,
    target: _Aoi,
    start: datetime,
    end: datetime,
    max_off_nadir_rad: float,
    step_seconds: float,
) -> list[Pass]:
    prop = _Propagator(tle, start)
    span = (end - start).total_seconds()
    limit = max_off_nadir_rad

    # 1. Prefilter: when is the ground track close enough that the AOI might be in reach? The
    #    margin covers the ground the satellite travels between two prefilter samples.
    coarse = np.append(np.arange(0.0, span, PREFILTER_SECONDS), span)
    pos, _, ok = prop.state(coarse)
    if not ok.any():
        logger.warning("SGP4 failed over the whole window for NORAD %s", tle.norad_id)
        return []
    r_km = np.linalg.norm(pos, axis=-1)
    central = np.arccos(np.clip((pos / r_km[:, None]) @ target.centre_unit, -1.0, 1.0))
    margin = MAX_GROUND_SPEED_KM_S * PREFILTER_SECONDS / WGS84_B_KM + math.radians(0.5)
    near = ok & (central <= _reach_rad(r_km, limit) + target.radius_rad + margin)

    passes: list[Pass] = []
    for first, last in _runs(near):
        # Candidate interval, padded by one prefilter step either side (neighbours may merge).
        lo = float(coarse[max(first - 1, 0)])
        hi = float(coarse[min(last + 1, len(coarse) - 1)])
        # 2. Access scan every step_seconds.
        t = np.append(np.arange(lo, hi, step_seconds), hi)
        eta = prop.off_nadir(t, target)
        # 3. A pass shorter than the step can fall between two samples: re-sample finely around
        #    every local minimum of the off-nadir angle that stayed above the limit.
        if len(t) > 2:
            mid = eta[1:-1]
            dips = np.flatnonzero(np.isfinite(mid) & (mid > limit) & (mid <= eta[:-2]) & (mid <= eta[2:]))
            if dips.size:
                offsets = np.arange(-step_seconds, step_seconds, FINE_STEP_SECONDS)[1:]
                extra = (t[dips + 1][:, None] + offsets[None, :]).ravel()
                extra = extra[(extra > lo) & (extra < hi)]
                t = np.concatenate([t, extra])
                eta = np.concatenate([eta, prop.off_nadir(extra, target)])
                order = np.argsort(t, kind="stable")
                t, eta = t[order], eta[order]
        for a, b in _runs(eta <= limit):
            passes.append(_build_pass(prop, target, t, eta, a, b, limit, start))
    return passes


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive index ranges of consecutive True values."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(s), int(e) - 1) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def _edge(prop: _Propagator, target: _Aoi, inside: float, outside: float, limit: float) -> float:
    """Last accessible instant between an accessible and an inaccessible sample (either order).

    Each round samples the bracket on a REFINE_SAMPLES grid in one vectorised call.
    """
    while abs(outside - inside) > EDGE_TOLERANCE_SECONDS:
        grid = np.linspace(inside, outside, REFINE_SAMPLES + 1)
        ok = prop.off_nadir(grid, target) <= limit
        # First grid point (walking from the inside) that is no longer accessible.
        k = int(np.argmin(ok))
        if k == 0:  # cannot happen (grid[0] is the accessible sample); never loop on it
            break
        inside, outside = float(grid[k - 1]), float(grid[k])
    return inside


def _peak(prop: _Propagator, target: _Aoi, lo: float, hi: float) -> tuple[float, float]:
    """(time, off-nadir) of the minimum off-nadir angle in [lo, hi], by grid shrinking."""
    best_t, best_eta = lo, math.inf
    while True:
        grid = np.linspace(lo, hi, REFINE_SAMPLES + 1)
        eta = prop.off_nadir(grid, target)
        k = int(np.argmin(eta))
        if eta[k] <= best_eta:
            best_t, best_eta = float(grid[k]), float(eta[k])
        cell = (hi - lo) / REFINE_SAMPLES
        if cell <= EDGE_TOLERANCE_SECONDS:
            return best_t, best_eta
        lo, hi = max(lo, best_t - cell), min(hi, best_t + cell)


def _build_pass(
    prop: _Propagator,
    target: _Aoi,
    t: np.ndarray,
    eta: np.ndarray,
    a: int,
    b: int,
    limit: float,
    start: datetime,
) -> Pass:
    # An edge at the candidate interval's end is the window's own edge: keep it as is.
    t_start = _edge(prop, target, float(t[a]), float(t[a - 1]), limit) if a > 0 else float(t[a])
    t_end = _edge(prop, target, float(t[b]), float(t[b + 1]), limit) if b + 1 < len(t) else float(t[b])

    overhead = np.flatnonzero(eta[a : b + 1] == 0.0)
    if overhead.size:
        # The satellite flies over the AOI: the peak is the middle of the overflight.
        peak, peak_eta = float(t[a + overhead[0]] + t[a + overhead[-1]]) / 2, 0.0
    else:
        best = a + int(np.argmin(eta[a : b + 1]))
        lo = float(t[best - 1]) if best > 0 else float(t[best])
        hi = float(t[best + 1]) if best + 1 < len(t) else float(t[best])
        peak, peak_eta = _peak(prop, target, max(lo, t_start), min(hi, t_end))
    _, vel, _ = prop.state(np.array([peak]))

    def at(offset: float) -> datetime:
        return start + timedelta(seconds=round(offset, 3))

    peak_time = at(peak)
    return Pass(
        norad_id=prop.tle.norad_id,
        satellite=prop.tle.name,
        start=at(t_start),
        end=at(t_end),
        peak_time=peak_time,
        min_off_nadir_deg=round(math.degrees(peak_eta), 3),
        sun_elevation_deg=round(
            sun_elevation_deg(when=peak_time, lat=target.centroid_lat, lon=target.centroid_lon), 2
        ),
        ascending=bool(vel[0, 2] > 0),
        tle_epoch=prop.tle.epoch,
    )
