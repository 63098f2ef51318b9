"""Operations of coverage: orders.coverage.get and orders.coverage.groups.list."""

from __future__ import annotations

import json

from django.http import HttpResponse
from rest_framework import serializers

from geopera_web.api.registry import Effect, OpContext, operation

from .selectors import coverage_features, coverage_group_figures
from .services import coverage_target_for

NDJSON_TYPES = ("application/x-ndjson", "application/geo+json-seq")


class CoverageInput(serializers.Serializer):
    order_id = serializers.CharField(max_length=100)


class CoverageGroupFigures(serializers.Serializer):
    groupId = serializers.UUIDField()  # noqa: N815 - wire names are the reference's camelCase
    name = serializers.CharField()
    requestedSqKm = serializers.FloatField(help_text="Geodesic km² of the AOI.")  # noqa: N815
    coveredSqKm = serializers.FloatField(help_text="km² of AOI ∩ union of delivered footprints.")  # noqa: N815
    remainderSqKm = serializers.FloatField(help_text="km² of AOI − union of delivered footprints.")  # noqa: N815
    coveredPercentage = serializers.FloatField()  # noqa: N815
    remainderPercentage = serializers.FloatField()  # noqa: N815
    capturesDelivered = serializers.IntegerField(help_text="Delivered captures touching the AOI.")  # noqa: N815
    lastDeliveryAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    computedAt = serializers.DateTimeField(allow_null=True, help_text="When these figures were computed.")  # noqa: N815


class CoverageGroupsOutput(serializers.Serializer):
    orderId = serializers.UUIDField()  # noqa: N815
    status = serializers.CharField()
    coverageTarget = serializers.FloatField(help_text="Percent each AOI must reach for fulfilment.")  # noqa: N815
    coveredPercentage = serializers.FloatField(help_text="All AOIs together, area-weighted.")  # noqa: N815
    groups = CoverageGroupFigures(many=True)


class CoverageFeatureCollection(serializers.Serializer):
    type = serializers.CharField(default="FeatureCollection")
    features = serializers.ListField(
        child=serializers.DictField(),
        help_text="Per AOI three Features, property `kind` = requested | covered | remainder, with "
        "`groupId`, `name`, `sqKmArea`, `percentage`, `capturesDelivered`, `lastDeliveryAt`; an empty "
        "covered or remainder part has a null geometry.",
    )


def _wants_ndjson(ctx: OpContext) -> str | None:
    accept = ctx.request.headers.get("Accept", "")
    for media in NDJSON_TYPES:
        if media in accept:
            return media
    return None


@operation(
    "orders.coverage.get",
    scope="orders:read",
    effect=Effect.READ,
    input=CoverageInput,
    output=CoverageFeatureCollection,
    response_types=("application/geo+json", *NDJSON_TYPES),
    summary="Covered-vs-remainder coverage for a fulfilled/fulfilling tasking order.",
    description="A GeoJSON FeatureCollection with, per AOI, the requested, covered and remainder "
    "geometries (property `kind`), each with `sqKmArea` (geodesic) and `percentage` of the AOI. "
    "Send `Accept: application/x-ndjson` (or `application/geo+json-seq`, RFC 8142) for one Feature "
    "per line. Another organization's order is 404; an archive order is 409 `not-a-tasking-order`.",
)
def coverage_get(ctx: OpContext, data: dict) -> HttpResponse:
    order, features = coverage_features(org=ctx.org, order_id=data["order_id"])
    media = _wants_ndjson(ctx)
    if media:
        # RFC 8142 GeoJSON text sequences start every record with RS; NDJSON is one per line.
        prefix = "\x1e" if media == "application/geo+json-seq" else ""
        body = "".join(prefix + json.dumps(f, separators=(",", ":")) + "\n" for f in features)
        return HttpResponse(body, content_type=media)
    body = {"type": "FeatureCollection", "features": features, "geopera:order_id": str(order.pk)}
    return HttpResponse(json.dumps(body), content_type="application/geo+json")


@operation(
    "orders.coverage.groups.list",
    scope="orders:read",
    effect=Effect.READ,
    input=CoverageInput,
    output=CoverageGroupsOutput,
    summary="Per-AOI delivered-vs-requested coverage for a tasking order (any status).",
    description="The latest coverage figures of each AOI (an AOI with no delivery yet is 0% "
    "covered). Another organization's order is 404; an archive order is 409 `not-a-tasking-order`.",
)
def coverage_groups_list(ctx: OpContext, data: dict) -> dict:
    order, figures = coverage_group_figures(org=ctx.org, order_id=data["order_id"])
    requested = sum(f.requested_km2 for f in figures)
    covered = sum(f.covered_km2 for f in figures)
    return {
        "orderId": str(order.pk),
        "status": order.status,
        "coverageTarget": coverage_target_for(order),
        "coveredPercentage": round(100.0 * covered / requested, 4) if requested else 0.0,
        "groups": [f.as_wire() for f in figures],
    }
