"""Spatial and temporal extents of the catalog's collections (STAC `extent`).

Computed in PostGIS (ST_Extent and min/max of the acquisition time, both served by the
collection indexes) and kept in the cache; every import (`seed_catalog`, `import_catalog`) and
every saved or deleted capture forgets the collections it touched once its transaction commits,
so a collection's extent follows its captures. A cache that is down only costs the aggregate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.gis.db.models import Extent
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max, Min
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ..models import Capture

logger = logging.getLogger(__name__)
_KEY = "catalog:extent:v1:{}"
_TTL_SECONDS = 24 * 3600
WHOLE_EARTH = [-180.0, -90.0, 180.0, 90.0]


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _compute(collection: str) -> dict[str, Any]:
    agg = Capture.objects.filter(collection=collection).aggregate(
        box=Extent("footprint"), lo=Min("acquired_at"), hi=Max("acquired_at")
    )
    bbox = [round(v, 6) for v in agg["box"]] if agg["box"] else WHOLE_EARTH
    return {"spatial": {"bbox": [bbox]}, "temporal": {"interval": [[_iso(agg["lo"]), _iso(agg["hi"])]]}}


def collection_extent(collection: str) -> dict[str, Any]:
    """The collection's STAC extent: the bbox of its footprints (the whole Earth while empty, as
    STAC requires a bbox) and the first and last acquisition."""
    key = _KEY.format(collection)
    try:
        cached = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage degrades to computing
        logger.warning("catalog extent cache unavailable", exc_info=True)
        cached = None
    if cached is not None:
        return cached
    extent = _compute(collection)
    try:
        cache.set(key, extent, _TTL_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("catalog extent cache unavailable", exc_info=True)
    return extent


def collection_extents_forget(collections: Iterable[str]) -> None:
    """Drop the cached extents of `collections` now and again once the current transaction commits
    (a reader may have cached the old extent in between)."""
    keys = [_KEY.format(c) for c in set(collections)]

    def forget() -> None:
        try:
            cache.delete_many(keys)
        except Exception:  # noqa: BLE001
            logger.warning("catalog extent cache unavailable", exc_info=True)

    forget()
    transaction.on_commit(forget)


@receiver([post_save, post_delete], sender=Capture, dispatch_uid="catalog-extent-forget")
def _capture_changed(sender, instance: Capture, **kwargs: Any) -> None:
    # Bulk loads (COPY) send no signals: captures_bulk_load and catalog_import forget explicitly.
    collection_extents_forget([instance.collection])
