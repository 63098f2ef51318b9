"""The one adapter protocol between an order and whoever fulfils it, for every provider and order
type (archive scenes or tasking acquisitions):

- `place(order=...) -> str`: hand the order to the provider; returns the provider's reference (kept
  on `Order.provider_ref`). Called once per order: the caller stores the reference under the order's
  row lock, so a retried task never submits twice.
- `poll(order=..., now=...) -> FulfilmentStatus`: where the order stands at the provider — a typed
  `FulfilmentState`, how many delivery batches are ready out of how many, a message a person can
  read, and when it is worth asking again. Side-effect free on our side; cheap to repeat.
- `fetch_deliveries(order=..., now=...) -> list[BatchData]`: every batch delivered so far, each with
  its captures (scene id, the order group it serves, footprint, acquisition time, cloud, STAC
  assets). Returning batches already stored is fine: batch refs are unique per order.

Adapters never touch money, order status or the database: `orders.fulfilment.services` does, from
their answers. `orders.fulfilment.registry.adapter_for(order)` picks one by the product's host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.contrib.gis.geos import MultiPolygon

    from ..models import Order

COG = "image/tiff; application=geotiff; profile=cloud-optimized"


class FulfilmentState(StrEnum):
    PROCESSING = "processing"  # accepted, nothing delivered yet
    DELIVERING = "delivering"  # some batches delivered, more to come
    COMPLETE = "complete"  # everything the provider will deliver is delivered
    FAILED = "failed"  # the provider gave up; nothing more will come


@dataclass(frozen=True)
class FulfilmentStatus:
    state: FulfilmentState
    batches_ready: int = 0
    batches_total: int | None = None
    message: str = ""
    # Seconds until it is worth asking again (None: no idea; the periodic poller will ask).
    retry_after: float | None = None


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


class FulfilmentAdapter(Protocol):
    name: str

    def place(self, *, order: Order) -> str: ...
    def poll(self, *, order: Order, now: datetime) -> FulfilmentStatus: ...
    def fetch_deliveries(self, *, order: Order, now: datetime) -> list[BatchData]: ...
