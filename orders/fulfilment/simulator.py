"""The built-in simulated provider (host `geopera-sim`): one adapter for archive and tasking orders,
deterministic for an order and a seed, so the demo and the tests can watch orders be fulfilled.

- Archive orders: the scenes are ready `ARCHIVE_DELAY_SECONDS` after the order was placed, in one
  batch with a COG asset per scene; a deterministic share (`ARCHIVE_FAILURE_RATE`) of order ids
  fails under `SEED`.
- Tasking orders: strip-shaped acquisitions over each AOI delivered in several batches after
  activation (see `plan`).

It is registered only when settings name it (`FULFILMENT_ADAPTERS`, see `orders.fulfilment.registry`).
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.utils.dateparse import parse_datetime

from .adapters import COG, BatchData, CaptureData, FulfilmentState, FulfilmentStatus

if TYPE_CHECKING:
    from ..models import Order


def activated_at(order: Order) -> datetime:
    """When the order became ACTIVE (its status event), the clock the simulated provider runs on."""
    from ..models import OrderEvent

    event = (
        order.events.filter(kind=OrderEvent.Kind.STATUS_CHANGED, to_status__startswith="active")
        .order_by("created_at", "id")
        .first()
    )
    return event.created_at if event else order.created_at


class SimulatedProvider:
    """The simulated provider for both order types.

    Tasking: strip-shaped captures over each AOI, in several batches, deterministically. The plan
    depends only on (order id, seed) and the AOIs: every strip is a sun-synchronous pass (swath
    12–18 km, heading 8–12° off north–south, running well past the AOI at both ends), the strips
    tile the AOI across-track with some overlap. An AOI is either covered fully (most) or only
    partly (a contiguous block of strips: the rest never gets imaged in the window). Some
    acquisitions fail (too cloudy, downlink lost) and are re-acquired in a later batch.

    `order.metadata["simulation"]` may pin `seed`, per-AOI `coverage` fractions (by group
    position), the number of `batches`, and a `schedule` of ISO delivery times for the first
    batches — the demo uses them to show one AOI at ~60% and one complete, with a history over
    several days.

    Archive: every scene of the order in one batch `ARCHIVE_DELAY_SECONDS` after placement, unless
    the order is one of the deterministic failures.
    """

    name = "geopera-sim"
    ASSET_BASE = "https://assets.geopera-sim.example/tasking"
    ARCHIVE_ASSET_BASE = "https://assets.geopera-sim.example/deliveries"
    MAX_STRIPS = 40

    def __init__(self, *, overrides: dict | None = None) -> None:
        # Overrides of settings.SIMULATED_PROVIDER (the demo seeder wants one order delivered now).
        self.overrides = overrides or {}

    def _config(self) -> dict:
        return {**(getattr(settings, "SIMULATED_PROVIDER", {}) or {}), **self.overrides}

    def _is_archive(self, order: Order) -> bool:
        from ..models import OrderType

        return order.order_type == OrderType.ARCHIVE

    # --- the adapter protocol ----------------------------------------------------------------

    def place(self, *, order: Order) -> str:
        return f"sim-{order.pk.hex[:16]}" if self._is_archive(order) else f"sim-task-{order.pk.hex[:16]}"

    def poll(self, *, order: Order, now: datetime) -> FulfilmentStatus:
        if self._is_archive(order):
            return self._archive_poll(order=order, now=now)
        plan = self.plan(order=order, start=activated_at(order))
        ready = sum(1 for b in plan if b.available_at <= now)
        if ready == len(plan):
            state = FulfilmentState.COMPLETE
        else:
            state = FulfilmentState.DELIVERING if ready else FulfilmentState.PROCESSING
        return FulfilmentStatus(state, ready, len(plan), f"{ready} of {len(plan)} passes delivered.")

    def fetch_deliveries(self, *, order: Order, now: datetime) -> list[BatchData]:
        if self._is_archive(order):
            return self._archive_batches(order=order, now=now)
        return [b for b in self.plan(order=order, start=activated_at(order)) if b.available_at <= now]

    # --- archive -----------------------------------------------------------------------------

    def will_fail(self, order: Order) -> bool:
        cfg = self._config()
        digest = hashlib.sha256(f"{cfg.get('SEED', 0)}:{order.pk}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        return draw < float(cfg.get("ARCHIVE_FAILURE_RATE", 0.0))

    def _archive_ready_at(self, order: Order) -> datetime:
        return order.created_at + timedelta(seconds=float(self._config().get("ARCHIVE_DELAY_SECONDS", 0)))

    def _archive_poll(self, *, order: Order, now: datetime) -> FulfilmentStatus:
        ready_at = self._archive_ready_at(order)
        if now < ready_at:
            wait = (ready_at - now).total_seconds()
            return FulfilmentStatus(FulfilmentState.PROCESSING, 0, 1, "Being prepared.", retry_after=wait)
        if self.will_fail(order):
            return FulfilmentStatus(
                FulfilmentState.FAILED, 0, 1, "The simulated provider could not retrieve the scenes."
            )
        return FulfilmentStatus(FulfilmentState.COMPLETE, 1, 1, "Delivered.")

    def _archive_batches(self, *, order: Order, now: datetime) -> list[BatchData]:
        if self._archive_poll(order=order, now=now).state != FulfilmentState.COMPLETE:
            return []
        captures = []
        for group in order.groups.prefetch_related("captures").order_by("position"):
            for capture in sorted(group.captures.all(), key=lambda c: c.scene_id):
                href = f"{self.ARCHIVE_ASSET_BASE}/{order.pk}/{capture.scene_id}/visual.tif"
                captures.append(
                    CaptureData(
                        group_id=group.pk,
                        scene_id=capture.scene_id,
                        footprint=capture.footprint,
                        acquired_at=capture.acquired_at,
                        cloud_cover=capture.cloud_cover,
                        assets={"visual": {"href": href, "type": COG, "roles": ["data", "visual"]}},
                        properties={"collection": capture.collection},
                    )
                )
        ref = f"sim-{order.pk.hex[:16]}-archive"
        return [BatchData(ref=ref, available_at=self._archive_ready_at(order), captures=tuple(captures))]

    # --- tasking -----------------------------------------------------------------------------

    def seed_for(self, order: Order) -> int:
        sim = (order.metadata or {}).get("simulation") or {}
        return int(sim.get("seed", self._config().get("SEED", 0)))

    def batch_seconds(self) -> float:
        return float(self._config().get("TASKING_BATCH_SECONDS", 60))

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


# The tasking simulator's historic name (it is the same adapter).
SimulatedTaskingProvider = SimulatedProvider
