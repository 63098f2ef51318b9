"""The one registry of fulfilment adapters, keyed by provider host (`DataProduct.host`).

Adapters come from `settings.FULFILMENT_ADAPTERS` ({host: dotted path of the adapter class}); the
built-in simulator is there only when settings name it. An order whose host has no adapter is an
error (`UnknownProvider`), never a silent fallback: in a money system a product with a mistyped
host must not be "fulfilled" by the simulator and charged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

from geopera_web.errors import ApplicationError

from .adapters import FulfilmentAdapter

if TYPE_CHECKING:
    from ..models import Order


class UnknownProvider(ApplicationError):
    """No fulfilment adapter is configured for a product's host (a configuration error)."""

    status, title, slug = 409, "Conflict", "unknown-provider"


_REGISTERED: dict[str, FulfilmentAdapter] = {}
_LOADED: dict[str, FulfilmentAdapter] = {}


def register(adapter: FulfilmentAdapter) -> FulfilmentAdapter:
    """Register an adapter instance under its `name` (wins over settings; tests and plug-ins)."""
    _REGISTERED[adapter.name] = adapter
    return adapter


def unregister(name: str) -> None:
    _REGISTERED.pop(name, None)


def _configured() -> dict[str, str]:
    return dict(getattr(settings, "FULFILMENT_ADAPTERS", {}) or {})


def adapter_get(host: str) -> FulfilmentAdapter:
    """The adapter for `host`. Raises UnknownProvider when none is registered or configured."""
    if host in _REGISTERED:
        return _REGISTERED[host]
    path = _configured().get(host)
    if path is None:
        known = sorted(set(_REGISTERED) | set(_configured()))
        raise UnknownProvider(
            f"No fulfilment provider is configured for host {host!r} (configured: {', '.join(known) or 'none'}).",
            host=host,
        )
    cached = _LOADED.get(host)
    if cached is None or type(cached).__module__ + "." + type(cached).__qualname__ != path:
        cached = _LOADED[host] = import_string(path)()
    return cached


def is_configured(host: str) -> bool:
    return host in _REGISTERED or host in _configured()


def hosts_of(order: Order) -> set[str]:
    """The provider hosts an order's products name: the order's product, or its groups' products."""
    if order.data_product_id:
        return {order.data_product.host}
    return set(
        order.groups.exclude(data_product=None).values_list("data_product__host", flat=True).distinct()
    )


def adapter_for(order: Order) -> FulfilmentAdapter:
    """The adapter that fulfils `order`. An order whose products name no host, or several, is a
    configuration error too (UnknownProvider)."""
    hosts = hosts_of(order)
    if len(hosts) != 1:
        raise UnknownProvider(
            f"Order {order.pk} names {len(hosts)} provider hosts ({', '.join(sorted(hosts)) or 'none'}); "
            "one order is fulfilled by one provider.",
            hosts=sorted(hosts),
        )
    return adapter_get(next(iter(hosts)))
