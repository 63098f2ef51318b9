"""`orders.place` and `orders.estimate` dispatch here: the data product's order type picks the
placer registered for it. The archive placer is registered by `orders/api.py`; the tasking app
registers its own (`tasking/api.py`), so `orders` never imports `tasking` and `tasking` never reads
the archive catalog to decide what a request is.

A placer is two functions of (operation context, validated input): `place` (the response body of
orders.place) and `estimate` (that of orders.estimate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geopera_web.errors import NotFound

from .models import DataProduct

if TYPE_CHECKING:
    from geopera_web.api.registry import OpContext

PlacerFn = Callable[["OpContext", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Placer:
    order_type: str
    place: PlacerFn
    estimate: PlacerFn


_PLACERS: dict[str, Placer] = {}


def register_placer(placer: Placer) -> Placer:
    _PLACERS[placer.order_type] = placer
    return placer


def placer_for(*, data_product_id: str) -> Placer:
    """The placer for a data product's order type; an unknown product is a 404."""
    order_type = (
        DataProduct.objects.filter(id=str(data_product_id)).values_list("order_type", flat=True).first()
    )
    if order_type is None or order_type not in _PLACERS:
        raise NotFound(
            f"No data product {data_product_id!r}. Archive products are listed by catalog.search (each "
            "capture names its product); tasking products by orders.tasking.sensors.",
            slug="unknown-data-product",
        )
    return _PLACERS[order_type]


def order_place(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    return placer_for(data_product_id=data["dataProduct"]).place(ctx, data)


def order_estimate(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    return placer_for(data_product_id=data["dataProduct"]).estimate(ctx, data)
