"""Operations of watches (beyond the reference, in its style): orders.watches.list, .get, .create,
.delete, .watch (join or leave its watchers) and orders.watches.matches.list (imported by
`orders/api.py`). Viewers read; operators and admins create and delete; any member may watch.
Another org's watch is a 404."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.conf import settings
from rest_framework import serializers

from geopera_web.accounts.models import Scope
from geopera_web.api.fields import SettingBoundsMixin, numbered_page, page_field
from geopera_web.api.openapi import NON_BLANK_STRING
from geopera_web.api.registry import Effect, OpContext, operation
from geopera_web.errors import NotFound, parse_uuid

from ..cart.api import PolygonalGeometryField
from .models import Watch, WatchMatch
from .selectors import watch_get, watch_list
from .services import watch_create, watch_delete, watch_watcher_set

WATCH_ID_HELP = "A watch's `id` (orders.watches.list)."


WATCHES_PAGE_BOUNDS = {"size": {"max_value": "WATCHES_PAGE_MAX_SIZE"}}


def _size_field(default: int) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        default=default,
        min_value=1,
        help_text="Page size, at most {max_value} (WATCHES_PAGE_MAX_SIZE).",
    )


class WatchesListInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = WATCHES_PAGE_BOUNDS

    page = page_field()
    size = _size_field(20)


class WatchIdInput(serializers.Serializer):
    watch_id = serializers.CharField(max_length=64, help_text=WATCH_ID_HELP)


class WatchMatchesInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = WATCHES_PAGE_BOUNDS

    watch_id = serializers.CharField(max_length=64, help_text=WATCH_ID_HELP)
    page = page_field()
    size = _size_field(50)


class WatchCreateInput(serializers.Serializer):
    """An area (`aoi`) or a tasking order whose remainder to watch (`orderId`: the area is computed
    on the server and follows the order's coverage), plus archive filters."""

    # watch_create's rule, as the document states it: an area, or an order's remainder.
    openapi_schema_extra: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"required": ["aoi"], "properties": {"aoi": {"type": "object"}}},
            {
                "required": ["orderId"],
                "properties": {"orderId": {"type": "string", "pattern": NON_BLANK_STRING}},
            },
        ]
    }

    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    aoi = PolygonalGeometryField(
        required=False,
        allow_null=True,
        help_text="GeoJSON Polygon or MultiPolygon; at most GEOMETRY_MAX_VERTICES vertices. Omit with `orderId`.",
    )
    orderId = serializers.CharField(  # noqa: N815
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=64,
        help_text="Watch this order's remainder.",
    )
    maxCloudCover = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=100)  # noqa: N815
    maxOffNadir = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=90)  # noqa: N815
    collections = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50, default=list
    )
    minNewCoveragePercent = serializers.FloatField(  # noqa: N815
        required=False,
        allow_null=True,
        min_value=0,
        max_value=100,
        help_text="Alert only when one import's matching captures cover at least this share of the area.",
    )


class WatchWatchInput(serializers.Serializer):
    watch_id = serializers.CharField(max_length=64, help_text=WATCH_ID_HELP)
    watching = serializers.BooleanField(help_text="true: be told of its matches; false: stop.")


class WatchOutput(serializers.Serializer):
    """A watch: its filters, the area's size (`aoiKm2`; a remainder watch's follows its order's
    coverage, `remainderUpdatedAt`, and `coveredAt` is set once nothing is left), how many people
    are told of its matches (`watcherCount`) and whether the caller is (`watching`), its alerts."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    aoiKm2 = serializers.FloatField()  # noqa: N815
    orderId = serializers.UUIDField(allow_null=True)  # noqa: N815
    maxCloudCover = serializers.FloatField(allow_null=True)  # noqa: N815
    maxOffNadir = serializers.FloatField(allow_null=True)  # noqa: N815
    collections = serializers.ListField(child=serializers.CharField())
    minNewCoveragePercent = serializers.FloatField()  # noqa: N815
    createdBy = serializers.CharField(allow_null=True)  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815
    remainderUpdatedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    coveredAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    watcherCount = serializers.IntegerField()  # noqa: N815
    watching = serializers.BooleanField()
    alertCount = serializers.IntegerField()  # noqa: N815
    matchCount = serializers.IntegerField()  # noqa: N815
    lastAlertAt = serializers.DateTimeField(allow_null=True)  # noqa: N815


class WatchDetailOutput(WatchOutput):
    aoi = serializers.JSONField(help_text="The watched area now (GeoJSON MultiPolygon).")


class WatchesPage(serializers.Serializer):
    items = WatchOutput(many=True)
    page = serializers.IntegerField()
    size = serializers.IntegerField()
    total = serializers.IntegerField()


class WatchMatchOutput(serializers.Serializer):
    sceneId = serializers.CharField()  # noqa: N815
    collection = serializers.CharField()
    acquiredAt = serializers.DateTimeField()  # noqa: N815
    cloudCover = serializers.FloatField()  # noqa: N815
    offNadir = serializers.FloatField()  # noqa: N815
    alertId = serializers.UUIDField()  # noqa: N815
    matchedAt = serializers.DateTimeField()  # noqa: N815


class WatchMatchesPage(serializers.Serializer):
    items = WatchMatchOutput(many=True)
    page = serializers.IntegerField()
    size = serializers.IntegerField()
    total = serializers.IntegerField()


class WatchDeleted(serializers.Serializer):
    id = serializers.UUIDField()
    deleted = serializers.BooleanField()


def _wire(w: Watch, *, with_aoi: bool = False) -> dict[str, Any]:
    out = {
        "id": str(w.pk),
        "name": w.name,
        "aoiKm2": round(w.aoi_km2, 3),
        "orderId": str(w.order_id) if w.order_id else None,
        "maxCloudCover": w.max_cloud_cover,
        "maxOffNadir": w.max_off_nadir,
        "collections": list(w.collections),
        "minNewCoveragePercent": w.min_new_coverage_percent,
        "createdBy": str(w.created_by) if w.created_by else None,
        "createdAt": w.created_at.isoformat(),
        "remainderUpdatedAt": w.remainder_updated_at.isoformat() if w.remainder_updated_at else None,
        "coveredAt": w.covered_at.isoformat() if w.covered_at else None,
        "watcherCount": w.watcher_count,
        "watching": bool(getattr(w, "watching", False)),
        "alertCount": w.alert_count,
        "matchCount": w.match_count,
        "lastAlertAt": w.last_alert_at.isoformat() if w.last_alert_at else None,
    }
    if with_aoi:
        out["aoi"] = json.loads(w.aoi.geojson)
    return out


def _one(ctx: OpContext, watch_id: object) -> Watch:
    pk = parse_uuid(watch_id)
    watch = watch_list(org=ctx.org, user=ctx.user).filter(pk=pk).defer(None).first() if pk else None
    if watch is None:
        raise NotFound("No such watch.")
    return watch


@operation(
    "orders.watches.list",
    scope=Scope.ORDERS_READ,
    effect=Effect.READ,
    input=WatchesListInput,
    output=WatchesPage,
    summary="List the org's watches (saved archive areas and filters), newest first, paged.",
)
def watches_list_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Every watch of the org with its alert figures, how many people watch it and whether the
    caller does (always false for an API key)."""
    qs = watch_list(org=ctx.org, user=ctx.user)
    size = min(data["size"], settings.WATCHES_PAGE_MAX_SIZE)
    return numbered_page(qs, page=data["page"], size=size, wire=_wire)


@operation(
    "orders.watches.get",
    scope=Scope.ORDERS_READ,
    effect=Effect.READ,
    input=WatchIdInput,
    output=WatchDetailOutput,
    summary="One watch with its area as it is now.",
)
def watches_get_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """The watch and its current area (a remainder watch's area follows its order's coverage).
    Another org's watch is a 404."""
    return _wire(_one(ctx, data["watch_id"]), with_aoi=True)


@operation(
    "orders.watches.create",
    scope=Scope.ORDERS_WRITE,
    effect=Effect.COMPUTE,
    input=WatchCreateInput,
    output=WatchDetailOutput,
    user_only=True,
    summary="Watch an area (or a tasking order's remainder) for new archive captures.",
)
def watches_create_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Operators and admins. Give `aoi` or `orderId` (one of the org's tasking orders: its
    remainder is computed here and follows its coverage). The caller is its first watcher. At most
    WATCHES_MAX_PER_ORG watches per organization (400 beyond); a geometry with no area is a 400
    naming it; an unknown collection, or another org's order, is a 404."""
    ctx.require_role("admin", "operator", action="create watches")
    watch = watch_create(  # an unknown collection is the service's 404 (UnknownCollection)
        org=ctx.org,
        user=ctx.user,
        name=data.get("name") or "",
        aoi=data.get("aoi"),
        order_id=data.get("orderId") or None,
        max_cloud_cover=data.get("maxCloudCover"),
        max_off_nadir=data.get("maxOffNadir"),
        collections=data.get("collections") or [],
        min_new_coverage_percent=data.get("minNewCoveragePercent"),
    )
    return _wire(_one(ctx, watch.pk), with_aoi=True)


@operation(
    "orders.watches.delete",
    scope=Scope.ORDERS_WRITE,
    effect=Effect.COMPUTE,
    input=WatchIdInput,
    output=WatchDeleted,
    user_only=True,
    summary="Delete a watch (its alerts and matches go with it).",
)
def watches_delete_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Operators and admins; another org's watch is a 404."""
    watch = watch_get(org=ctx.org, watch_id=data["watch_id"])
    ctx.require_role("admin", "operator", action="delete watches")
    watch_delete(org=ctx.org, user=ctx.user, watch_id=watch.pk)
    return {"id": str(watch.pk), "deleted": True}


@operation(
    "orders.watches.watch",
    scope=Scope.ORDERS_READ,
    effect=Effect.COMPUTE,
    input=WatchWatchInput,
    output=WatchOutput,
    user_only=True,
    summary="Start or stop being told of a watch's new matches (the caller only).",
)
def watches_watch_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Any member of the org, a viewer too (it changes only what the caller is told); idempotent.
    Another org's watch is a 404."""
    watch_watcher_set(org=ctx.org, user=ctx.user, watch_id=data["watch_id"], watching=data["watching"])
    return _wire(_one(ctx, data["watch_id"]))


@operation(
    "orders.watches.matches.list",
    scope=Scope.ORDERS_READ,
    effect=Effect.READ,
    input=WatchMatchesInput,
    output=WatchMatchesPage,
    summary="The archive captures a watch matched, newest match first, paged.",
)
def watches_matches_list_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Each matched capture once, with the alert that reported it. Another org's watch is a 404."""
    watch = watch_get(org=ctx.org, watch_id=data["watch_id"])
    qs = WatchMatch.objects.filter(watch=watch).select_related("capture").order_by("-created_at", "-id")
    size = min(data["size"], settings.WATCHES_PAGE_MAX_SIZE)
    return numbered_page(qs, page=data["page"], size=size, wire=_match_wire)


def _match_wire(m: WatchMatch) -> dict[str, Any]:
    return {
        "sceneId": m.capture.scene_id,
        "collection": m.capture.collection,
        "acquiredAt": m.capture.acquired_at.isoformat(),
        "cloudCover": m.capture.cloud_cover,
        "offNadir": m.capture.off_nadir,
        "alertId": str(m.alert_id),
        "matchedAt": m.created_at.isoformat(),
    }
