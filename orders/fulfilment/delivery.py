"""Tasking deliveries: the provider adapter interface, the simulated provider, and upload parsing.

A tasking provider adapter has three calls (the same shape as the archive adapters of
`orders/fulfilment/providers.py`, extended with footprints):

- `place(order=...) -> str`: submit the activated order; returns the provider's reference.
- `poll(order=..., now=...) -> TaskingStatus`: how far acquisition has got (batches ready / total).
- `fetch_deliveries(order=..., now=...) -> list[BatchData]`: every batch delivered so far, each with
  its captures (scene id, footprint, acquisition time, cloud, STAC assets). Returning batches that
  were already ingested is fine: `orders.services.delivery_batch_record` skips known batch refs.

Adapters never touch money, order status or the database; `orders.services` does, from their
answers. `tasking_provider_for(order)` picks one by the order's data product host.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from geopera_web.errors import InvalidInput

from ..geometry import GeometryError, geojson_geometry

if TYPE_CHECKING:
    from ..models import Order

COG = "image/tiff; application=geotiff; profile=cloud-optimized"


@dataclass(frozen=True)
class CaptureData:
    group_id: Any
    scene_id: str
    footprint: MultiPolygon
    acquired_at: datetime
    cloud_cover: float | None
    status: str = "delivered"  # or "failed"
    status_reason: str = ""
    assets: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BatchData:
    ref: str
    available_at: datetime
    captures: tuple[CaptureData, ...]


@dataclass(frozen=True)
class TaskingStatus:
    state: str  # "acquiring" | "complete"
    batches_ready: int
    batches_total: int
    message: str = ""


class TaskingProvider(Protocol):
    name: str

    def place(self, *, order: Order) -> str: ...
    def poll(self, *, order: Order, now: datetime) -> TaskingStatus: ...
    def fetch_deliveries(self, *, order: Order, now: datetime) -> list[BatchData]: ...


def activated_at(order: Order) -> datetime:
    """When the order became ACTIVE (its status event), the clock the simulated provider runs on."""
    from ..models import OrderEvent

    event = (
        order.events.filter(kind=OrderEvent.Kind.STATUS_CHANGED, to_status__startswith="active")
        .order_by("created_at", "id")
        .first()
    )
    return event.created_at if event else order.created_at


class SimulatedTaskingProvider:
    """Delivers strip-shaped captures over each AOI, in several batches, deterministically.

    The plan depends only on (order id, seed) and the AOIs: every strip is a sun-synchronous pass
    (swath 12–18 km, heading 8–12° off north–south, running well past the AOI at both ends), the
    strips tile the AOI across-track with some overlap. An AOI is either covered fully (most) or
    only partly (a contiguous block of strips: the rest never gets imaged in the window). Some
    acquisitions fail (too cloudy, downlink lost) and are re-acquired in a later batch.

    `order.metadata["simulation"]` may pin `seed`, per-AOI `coverage` fractions (by group
    position), the number of `batches`, and a `schedule` of ISO delivery times for the first batches — the demo uses them to
    show one AOI at ~60% and one complete, with a history over several days.
    """

    name = "geopera-sim"
    ASSET_BASE = "https://assets.geopera-sim.example/tasking"
    MAX_STRIPS = 40

    def _config(self) -> dict:
        return getattr(settings, "SIMULATED_PROVIDER", {}) or {}

    def seed_for(self, order: Order) -> int:
        sim = (order.metadata or {}).get("simulation") or {}
        return int(sim.get("seed", self._config().get("SEED", 0)))

    def batch_seconds(self) -> float:
        return float(self._config().get("TASKING_BATCH_SECONDS", 60))

    def place(self, *, order: Order) -> str:
        return f"sim-task-{order.pk.hex[:16]}"

    def poll(self, *, order: Order, now: datetime) -> TaskingStatus:
        plan = self.plan(order=order, start=activated_at(order))
        ready = sum(1 for b in plan if b.available_at <= now)
        state = "complete" if ready == len(plan) else "acquiring"
        return TaskingStatus(state, ready, len(plan), f"{ready} of {len(plan)} passes delivered.")

    def fetch_deliveries(self, *, order: Order, now: datetime) -> list[BatchData]:
        return [b for b in self.plan(order=order, start=activated_at(order)) if b.available_at <= now]

    # --- the deterministic plan --------------------------------------------------------------

    def plan(
        self, *, order: Order, start: datetime, interval_seconds: float | None = None
    ) -> list[BatchData]:
        """Every batch this order will ever get, batch k available at start + (k+1) × interval."""
        interval = timedelta(seconds=interval_seconds or self.batch_seconds())
        sim = (order.metadata or {}).get("simulation") or {}
        # `key` stands in for the order id when a plan must repeat across databases (the demo).
        rng = random.Random(f"{self.seed_for(order)}:{sim.get('key') or order.pk}")
        pinned = sim.get("coverage") or []
        max_cloud = _number(order.params.get("cloudCoverage"), 20.0)
        strips: list[tuple[Any, int, MultiPolygon, dict]] = []
        for group in order.groups.order_by("position"):
            fate = pinned[group.position] if group.position < len(pinned) else None
            if fate is None:
                fate = 1.0 if rng.random() < 0.65 else rng.uniform(0.45, 0.8)
            over = _strips_over(group.geometry, rng, self.MAX_STRIPS)
            keep = max(1, round(len(over) * float(fate))) if fate > 0 else 0
            first = 0 if rng.random() < 0.5 else len(over) - keep
            strips += [(group.id, i, poly, meta) for i, (poly, meta) in enumerate(over[first : first + keep])]
        # Passes come in 3–5 batches (never an empty one); a strip's failed attempt (too cloudy,
        # downlink lost) lands in an earlier batch than its successful re-acquisition.
        n_batches = max(1, min(int(sim.get("batches") or rng.randint(3, 5)), len(strips)))
        rng.shuffle(strips)
        slots: list[list[tuple[Any, int, MultiPolygon, dict, str, str]]] = [[] for _ in range(n_batches)]
        for t, (group_id, i, poly, meta) in enumerate(strips):
            ok_in = t % n_batches
            if ok_in > 0 and rng.random() < 0.25:
                reason = (
                    "too-cloudy" if rng.random() < 0.6 else "Downlink lost; the pass will be re-acquired."
                )
                slots[rng.randrange(ok_in)].append((group_id, i, poly, meta, "failed", reason))
            slots[ok_in].append((group_id, i, poly, meta, "delivered", ""))
        short = order.pk.hex[:8].upper()
        batches = []
        schedule = [parse_datetime(str(t)) for t in sim.get("schedule") or []]
        schedule = [t for t in schedule if t is not None]
        for k, items in enumerate(slots):
            if k < len(schedule):
                # A pinned delivery time (the demo's history); acquisition a few hours before it.
                available = schedule[k]
                lag = timedelta(hours=rng.uniform(4, 30))
            else:
                base = schedule[-1] if schedule else start
                available = base + interval * (k + 1 - len(schedule))
                lag = interval * rng.uniform(0.2, 0.8)
            captures = []
            for j, (group_id, i, poly, meta, status, reason) in enumerate(items):
                acquired = available - lag - timedelta(seconds=j * 9)
                cloud = round(rng.uniform(0.0, max_cloud), 1)
                if reason == "too-cloudy":
                    cloud = round(rng.uniform(max(max_cloud + 15, 45), 95), 1)
                    reason = (
                        f"Cloud cover {cloud:.0f}% is above the order's {max_cloud:.0f}% limit; re-tasked."
                    )
                scene = f"SIM-{short}-B{k + 1}-{str(group_id)[:4].upper()}-{i:03d}{'-F' if status == 'failed' else ''}"
                captures.append(
                    CaptureData(
                        group_id=group_id,
                        scene_id=scene,
                        footprint=poly,
                        acquired_at=acquired,
                        cloud_cover=cloud,
                        status=status,
                        status_reason=reason,
                        assets=self._assets(order, scene) if status == "delivered" else {},
                        properties={
                            "platform": "geopera-sim-2",
                            "constellation": "geopera-sim",
                            "gsd": 0.5,
                            "view:off_nadir": round(rng.uniform(2, 22), 1),
                            "view:sun_elevation": round(rng.uniform(35, 65), 1),
                            "eo:cloud_cover": cloud,
                            **meta,
                            "pass": j + 1,
                            # Which strip of which AOI: a failed strip is re-acquired under the same key.
                            "geopera:strip": f"{str(group_id)[:8]}-{i:03d}",
                        },
                    )
                )
            batches.append(
                BatchData(ref=f"sim-{short}-b{k + 1}", available_at=available, captures=tuple(captures))
            )
        return [b for b in batches if b.captures]

    def _assets(self, order: Order, scene: str) -> dict:
        base = f"{self.ASSET_BASE}/{order.pk}/{scene}"
        return {
            "visual": {
                "href": f"{base}/visual.tif",
                "type": COG,
                "title": "True colour",
                "roles": ["visual"],
            },
            "analytic": {"href": f"{base}/analytic.tif", "type": COG, "title": "4-band", "roles": ["data"]},
            "thumbnail": {"href": f"{base}/thumb.png", "type": "image/png", "roles": ["thumbnail"]},
        }


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _strips_over(aoi: MultiPolygon, rng: random.Random, max_strips: int) -> list[tuple[MultiPolygon, dict]]:
    """Strips along a sun-synchronous ground track that tile the AOI's extent across-track.

    Worked out in a local kilometre frame around the AOI (x east, y north, linear in lon/lat so
    strips that tile in the frame tile in lon/lat too), rotated so strips run along the track.
    """
    lon0, lat0 = aoi.centroid.coords
    kx, ky = 111.320 * math.cos(math.radians(lat0)), 110.574
    descending = rng.random() < 0.75
    tilt = math.radians(rng.uniform(8, 12))
    # Along-track unit vector (pointing north-ish); descending passes run NNE→SSW, ascending SSE→NNW.
    ux, uy = (math.sin(tilt), math.cos(tilt)) if descending else (-math.sin(tilt), math.cos(tilt))
    vx, vy = uy, -ux  # across-track
    pts = [((lon - lon0) * kx, (lat - lat0) * ky) for poly in aoi for ring in poly for lon, lat in ring]
    across = [x * vx + y * vy for x, y in pts]
    along = [x * ux + y * uy for x, y in pts]
    a0, a1, b0, b1 = min(across), max(across), min(along), max(along)
    swath = rng.uniform(12, 18)
    n = max(1, math.ceil((a1 - a0) / (swath * 0.88)))
    if n > max_strips:  # a very large AOI: the provider uses a wide-swath mode
        n = max_strips
        swath = (a1 - a0) / (n * 0.88)
    step = (a1 - a0 + swath * 0.12) / n if n > 1 else 0
    start = a0 - swath * 0.06 + swath / 2 if n > 1 else (a0 + a1) / 2
    heading = (180 + math.degrees(tilt)) % 360 if descending else (360 - math.degrees(tilt)) % 360
    strips = []
    for i in range(n):
        c = start + i * step + rng.uniform(-0.04, 0.04) * swath
        lo, hi = b0 - rng.uniform(10, 35), b1 + rng.uniform(10, 35)
        if hi - lo < 4 * swath:  # a scene is always a long strip, even over a small AOI
            pad = (4 * swath - (hi - lo)) / 2
            lo, hi = lo - pad * rng.uniform(0.6, 1.4), hi + pad * rng.uniform(0.6, 1.4)
        meta = {
            "sat:orbit_state": "descending" if descending else "ascending",
            "geopera:heading": round(heading, 1),
        }
        # The strip is delivered as scenes of 40–60 km along-track (never shorter than 2.5 swaths),
        # overlapping by a kilometre, each one capture.
        scenes = max(1, min(round((hi - lo) / rng.uniform(40, 60)), math.floor((hi - lo) / (2.5 * swath))))
        cut = (hi - lo) / scenes
        for j in range(scenes):
            s0, s1 = max(lo, lo + j * cut - 1), min(hi, lo + (j + 1) * cut + 1)
            steps = max(2, math.ceil((s1 - s0) / 20))
            left = [(c - swath / 2, s0 + (s1 - s0) * k / steps) for k in range(steps + 1)]
            right = [(c + swath / 2, s1 - (s1 - s0) * k / steps) for k in range(steps + 1)]
            ring = []
            for a, b in left + right + left[:1]:
                x, y = a * vx + b * ux, a * vy + b * uy
                ring.append((round(lon0 + x / kx, 7), round(lat0 + y / ky, 7)))
            strips.append((MultiPolygon(Polygon(ring, srid=4326), srid=4326), meta))
    return strips


_ADAPTERS: dict[str, TaskingProvider] = {SimulatedTaskingProvider.name: SimulatedTaskingProvider()}


def register_tasking_provider(adapter: TaskingProvider) -> None:
    _ADAPTERS[adapter.name] = adapter


def tasking_provider_for(order: Order) -> TaskingProvider:
    """The adapter for the order's product host; the simulated provider when none is registered."""
    host = order.data_product.host if order.data_product_id else SimulatedTaskingProvider.name
    return _ADAPTERS.get(host, _ADAPTERS[SimulatedTaskingProvider.name])


# --- manual uploads (support staff) --------------------------------------------------------------

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_VERTICES = 20_000


@dataclass(frozen=True)
class ParsedUpload:
    footprint: MultiPolygon
    scene_id: str
    acquired_at: datetime | None
    cloud_cover: float | None
    assets: dict
    properties: dict
    kind: str  # "stac-item" | "geojson"


def _bad(msg: str) -> InvalidInput:
    return InvalidInput(msg, slug="invalid-delivery-file")


def parse_delivery_upload(raw: bytes) -> ParsedUpload:
    """A STAC Item, a GeoJSON Feature/FeatureCollection (one feature) or a bare Polygon /
    MultiPolygon, as a valid MultiPolygon in EPSG:4326. Every refusal says what to fix."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise _bad(f"The file is {len(raw) // 1024} KB; the limit is {MAX_UPLOAD_BYTES // 1024 // 1024} MB.")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(f"The file is not JSON ({exc}). Upload a STAC Item or a GeoJSON footprint.") from None
    if not isinstance(doc, dict) or "type" not in doc:
        raise _bad(
            'The file is JSON but not GeoJSON: it needs a "type" (Feature, FeatureCollection or Polygon).'
        )
    kind = "geojson"
    props: dict = {}
    assets: dict = {}
    scene_id = ""
    if doc["type"] == "FeatureCollection":
        feats = doc.get("features") or []
        if len(feats) != 1:
            raise _bad(
                f"The FeatureCollection has {len(feats)} features; upload one capture's footprint at a time."
            )
        doc = feats[0]
    if doc.get("type") == "Feature":
        if "stac_version" in doc:
            kind = "stac-item"
        props = doc.get("properties") or {}
        assets = doc.get("assets") or {}
        scene_id = str(doc.get("id") or "")
        geometry = doc.get("geometry")
        if not isinstance(props, dict) or not isinstance(assets, dict):
            raise _bad("The feature's properties and assets must be JSON objects.")
    else:
        geometry = doc
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        got = geometry.get("type") if isinstance(geometry, dict) else "nothing"
        raise _bad(f"The footprint must be a Polygon or MultiPolygon; the file has {got}.")
    footprint = _footprint(geometry)
    acquired = None
    if props.get("datetime") or props.get("start_datetime"):
        acquired = parse_datetime(str(props.get("datetime") or props.get("start_datetime")))
        if acquired is None:
            raise _bad(f"properties.datetime {props.get('datetime')!r} is not an ISO 8601 date-time.")
        if timezone.is_naive(acquired):
            acquired = timezone.make_aware(acquired, UTC)
    cloud = props.get("eo:cloud_cover")
    if cloud is not None:
        cloud = _number(cloud, -1)
        if not 0 <= cloud <= 100:
            raise _bad("properties.eo:cloud_cover must be a percentage between 0 and 100.")
    if kind == "stac-item" and not assets:
        raise _bad("The STAC Item has no assets; a delivery needs at least one asset href.")
    for name, asset in assets.items():
        if not isinstance(asset, dict) or not isinstance(asset.get("href"), str):
            raise _bad(f"Asset {name!r} has no href.")
    return ParsedUpload(footprint, scene_id[:200], acquired, cloud, assets, props, kind)


# The delivery page's wording for what `orders.geometry` refuses in a footprint file.
_FOOTPRINT_MESSAGES: dict[str, str] = {
    "no_coordinates": "The footprint has no coordinates.",
    "empty_polygon": "Each polygon needs at least one ring of coordinates.",
    "ring_too_short": "Each ring needs at least 4 positions (the first repeated at the end).",
    "bad_position": "{position_text} is not a [longitude, latitude] position.",
    "out_of_range": "Position {position} is outside longitude −180…180 / latitude −90…90: "
    "coordinates must be WGS84 degrees, longitude first.",
    "ring_not_closed": "A ring is not closed: its last position must repeat its first.",
    "too_many_vertices": "The footprint has {count} vertices; simplify it below {limit}.",
    "unreadable": "The footprint geometry cannot be read: {reason}.",
    "empty": "The footprint has no area (are all its positions on one line?).",
    "no_area": "The footprint has no area (are all its positions on one line?).",
}


def _footprint(geometry: dict) -> MultiPolygon:
    try:
        return geojson_geometry(geometry, field="footprint", polygonal=True, max_vertices=MAX_VERTICES)
    except GeometryError as exc:
        template = _FOOTPRINT_MESSAGES.get(exc.code)
        if template is None:
            raise _bad(exc.detail) from None
        params = {**exc.params, "position_text": str(exc.params.get("position"))[:40]}
        raise _bad(template.format(**params)) from None
