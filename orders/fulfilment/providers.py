"""Provider adapters: how an order reaches whoever fulfils it, and how we learn what happened.

The interface is deliberately small. An adapter:

- `place(order=...) -> str`: submits the order; returns the provider's reference for it (stored on
  `Order.provider_ref`). Called once per order (the caller records the reference in the same
  transaction, so a retried task does not submit twice).
- `poll(order=...) -> ProviderStatus`: where the order stands now (processing / fulfilled / failed,
  with a message a person can read). Must be side-effect free on our side and cheap to repeat.
- `fetch_deliveries(order=...) -> list[Delivery]`: what was delivered, once `poll` says fulfilled:
  one Delivery per item (capture scene id, an asset href and its media type). Coverage and tasking
  deliveries extend this with footprints of their own.

Adapters never touch money or order status: `orders.services.archive_order_sync` does, from their
answers. `provider_for(order)` picks the adapter from the order's data product's `host`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.utils import timezone

if TYPE_CHECKING:
    from ..models import Order


class ProviderState(StrEnum):
    PROCESSING = "processing"
    FULFILLED = "fulfilled"
    FAILED = "failed"


@dataclass(frozen=True)
class ProviderStatus:
    state: ProviderState
    message: str = ""
    # Seconds until it is worth asking again (None: no idea; the periodic poller will ask).
    retry_after: float | None = None


@dataclass(frozen=True)
class Delivery:
    capture_id: str  # the capture's scene id (STAC item id)
    href: str
    media_type: str = "image/tiff; application=geotiff; profile=cloud-optimized"


class ProviderAdapter(Protocol):
    name: str

    def place(self, *, order: Order) -> str: ...
    def poll(self, *, order: Order) -> ProviderStatus: ...
    def fetch_deliveries(self, *, order: Order) -> list[Delivery]: ...


class SimulatedProvider:
    """The built-in provider for the demo and tests. An archive order is ready
    `ARCHIVE_DELAY_SECONDS` after it was placed, and fails for a deterministic share
    (`ARCHIVE_FAILURE_RATE`) of order ids under `SEED`: the same order always has the same fate."""

    name = "geopera-sim"
    ASSET_BASE = "https://assets.geopera-sim.example/deliveries"

    def __init__(self, *, overrides: dict | None = None) -> None:
        # Overrides of settings.SIMULATED_PROVIDER (the demo seeder wants one order delivered now).
        self.overrides = overrides or {}

    def _config(self) -> dict:
        return {**settings.SIMULATED_PROVIDER, **self.overrides}

    def place(self, *, order: Order) -> str:
        return f"sim-{order.pk.hex[:16]}"

    def will_fail(self, order: Order) -> bool:
        cfg = self._config()
        digest = hashlib.sha256(f"{cfg.get('SEED', 0)}:{order.pk}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        return draw < float(cfg.get("ARCHIVE_FAILURE_RATE", 0.0))

    def poll(self, *, order: Order) -> ProviderStatus:
        delay = float(self._config().get("ARCHIVE_DELAY_SECONDS", 0))
        waited = (timezone.now() - order.created_at).total_seconds()
        if waited < delay:
            return ProviderStatus(ProviderState.PROCESSING, "Being prepared.", retry_after=delay - waited)
        if self.will_fail(order):
            return ProviderStatus(
                ProviderState.FAILED, "The simulated provider could not retrieve the scenes."
            )
        return ProviderStatus(ProviderState.FULFILLED, "Delivered.")

    def fetch_deliveries(self, *, order: Order) -> list[Delivery]:
        scene_ids = sorted(
            {c.scene_id for g in order.groups.prefetch_related("captures") for c in g.captures.all()}
        )
        return [Delivery(sid, f"{self.ASSET_BASE}/{order.pk}/{sid}/visual.tif") for sid in scene_ids]


_ADAPTERS: dict[str, ProviderAdapter] = {SimulatedProvider.name: SimulatedProvider()}


def register_provider(adapter: ProviderAdapter) -> None:
    _ADAPTERS[adapter.name] = adapter


def provider_for(order: Order) -> ProviderAdapter:
    """The adapter for the order's host; the simulated provider when none is registered for it
    (every host in the demo catalog is simulated)."""
    host = order.data_product.host if order.data_product_id else SimulatedProvider.name
    return _ADAPTERS.get(host, _ADAPTERS[SimulatedProvider.name])
