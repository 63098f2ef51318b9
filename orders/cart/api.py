"""The archive estimate (orders.archive.estimate) and the wire shapes of a priced archive cart.

orders.archive.place, whose answer is the order resource, is registered with the other order
operations in `orders/api.py`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from geopera_web.accounts.models import Scope
from geopera_web.api.fields import GEOJSON_POLYGONAL, JSONSchemaField, SettingBoundsMixin
from geopera_web.api.registry import Effect, OpContext, operation

from ..geometry import GeometryError, geojson_geometry
from ..services import LICENSE_TYPES, MAX_DISPLAY_NAME, TAGS_BOUNDS, TAGS_HELP
from .pricing import ArchiveQuote, QuoteGroup, archive_quote


def _km2(value: float) -> float:
    return round(value, 6)


def quote_group_to_wire(group: QuoteGroup) -> dict[str, Any]:
    return {
        "captures": list(group.capture_ids),
        "aoi_km2": _km2(group.area_km2),
        "credits": group.credits,
        "aud": group.aud,
        "dataProduct": group.data_product.pk,
        "dataProductName": group.data_product.name,
        "acquisitionDate": group.acquisition_date.isoformat() if group.acquisition_date else None,
        "billedAreaKm2": _km2(group.billed_area_km2),
        "creditsPerKm2": group.data_product.credits_per_km2,
        "minAreaKm2": group.data_product.min_area_km2,
    }


def quote_to_wire(quote: ArchiveQuote) -> dict[str, Any]:
    return {
        "groups": [quote_group_to_wire(g) for g in quote.groups],
        "errors": [e.as_dict() for e in quote.errors],
        "total_aud": quote.total_aud,
        "total_credits": quote.total_credits,
    }


class PolygonalGeometryField(JSONSchemaField):
    """A GeoJSON Polygon or MultiPolygon geometry object (its shape declared and checked here; its
    positions' ranges, ring closure and vertex count by orders.geometry when the capture is priced)."""

    json_schema = GEOJSON_POLYGONAL
    what = "a GeoJSON Polygon or MultiPolygon"

    def explain(self, data: Any, error: Any) -> str:
        # orders.geometry says what is wrong in the words every other geometry input uses.
        try:
            geojson_geometry(data, polygonal=True)
        except GeometryError as exc:
            return exc.detail
        return super().explain(data, error)


class ArchiveCaptureList(serializers.ListSerializer):
    """A cart's captures: the common case — every item a plain `{"id": "...", "geometry": ...}`
    with a clean id — is read without running a serializer per item (at 500 captures DRF's
    per-item machinery cost more than pricing the cart). Anything else, or any doubt, takes DRF's
    own path, so errors are exactly what the serializer reports."""

    def to_internal_value(self, data: Any) -> Any:
        fast = self._fast(data)
        return fast if fast is not None else super().to_internal_value(data)

    def _fast(self, data: Any) -> list[dict[str, Any]] | None:
        if not isinstance(data, list) or not data or (self.max_length and len(data) > self.max_length):
            return None
        if self.min_length and len(data) < self.min_length:
            return None
        id_field = self.child.fields["id"]
        geometry_field = self.child.fields["geometry"]
        out = []
        for item in data:
            if not isinstance(item, dict) or not item.keys() <= {"id", "geometry"}:
                return None
            scene_id = item.get("id")
            if not (isinstance(scene_id, str) and 0 < len(scene_id) <= id_field.max_length):
                return None
            if scene_id != scene_id.strip():
                return None
            value: dict[str, Any] = {"id": scene_id}
            if "geometry" in item:
                if item["geometry"] is not None:
                    try:
                        value["geometry"] = geometry_field.run_validation(item["geometry"])
                    except serializers.ValidationError:
                        return None
                else:
                    value["geometry"] = None
            out.append(value)
        return out


class ArchiveCaptureInput(SettingBoundsMixin, serializers.Serializer):
    class Meta:
        list_serializer_class = ArchiveCaptureList

    setting_bounds = {"geometry": {"text_vertices": "GEOMETRY_MAX_VERTICES"}}

    id = serializers.CharField(max_length=200, help_text="The capture's id (its STAC item / scene id).")
    geometry = PolygonalGeometryField(
        required=False,
        allow_null=True,
        help_text="Optional GeoJSON Polygon/MultiPolygon: bill only footprint ∩ this geometry. "
        "At most {text_vertices} vertices (setting `GEOMETRY_MAX_VERTICES`); "
        "positions are [longitude, latitude] in range and every ring is closed (else the capture is "
        "listed in `errors` with code invalid_geometry).",
    )


# Captures per estimate / placement: a cart's size (CART_MAX_CAPTURES), read when the input is built.
CAPTURES_BOUNDS = {"captures": {"max_length": "CART_MAX_CAPTURES"}}
CAPTURES_HELP = "At most {max_length} captures (CART_MAX_CAPTURES)."


class ArchiveEstimateInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = CAPTURES_BOUNDS

    captures = ArchiveCaptureInput(many=True, required=False, default=list, help_text=CAPTURES_HELP)
    splitByDate = serializers.BooleanField(required=False, allow_null=True, default=False)  # noqa: N815


class ArchiveEstimateGroup(serializers.Serializer):
    """One priced group: a data product (and an acquisition date when `splitByDate`)."""

    captures = serializers.ListField(child=serializers.CharField(), help_text="Capture ids in this group.")
    aoi_km2 = serializers.FloatField(help_text="Geodesic km² of the union of the billed geometries.")
    credits = serializers.IntegerField(help_text="creditsPerKm2 × max(aoi_km2, minAreaKm2), rounded up.")
    aud = serializers.FloatField(help_text="credits / 100.")
    dataProduct = serializers.CharField(help_text="Data product id (sets the rate).")  # noqa: N815
    dataProductName = serializers.CharField()  # noqa: N815
    acquisitionDate = serializers.DateField(  # noqa: N815
        allow_null=True, help_text="UTC date of the group's captures when splitByDate, else null."
    )
    billedAreaKm2 = serializers.FloatField(help_text="max(aoi_km2, minAreaKm2): the area paid for.")  # noqa: N815
    creditsPerKm2 = serializers.IntegerField()  # noqa: N815
    minAreaKm2 = serializers.FloatField()  # noqa: N815


class ArchiveEstimateError(serializers.Serializer):
    """A capture that could not be priced. `code`: unknown_capture, ambiguous_capture,
    unsupported_product, invalid_geometry, geometry_outside_footprint."""

    id = serializers.CharField()
    captureId = serializers.CharField(help_text="Same as id.")  # noqa: N815
    code = serializers.CharField()
    message = serializers.CharField()


class ArchiveEstimateOutput(serializers.Serializer):
    """The server-authoritative price of a cart. Nothing is persisted."""

    groups = ArchiveEstimateGroup(many=True)
    errors = ArchiveEstimateError(many=True)
    total_aud = serializers.FloatField()
    total_credits = serializers.IntegerField()


class ArchivePlaceInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {**CAPTURES_BOUNDS, **TAGS_BOUNDS}

    captures = ArchiveCaptureInput(many=True, min_length=1, help_text=CAPTURES_HELP)
    projectId = serializers.CharField(  # noqa: N815
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Workspace that owns the order; the org's default workspace when omitted.",
    )
    licenseType = serializers.ChoiceField(  # noqa: N815
        choices=list(LICENSE_TYPES), required=False, default="standard", help_text="standard | extended"
    )
    splitByDate = serializers.BooleanField(required=False, allow_null=True, default=False)  # noqa: N815
    displayName = serializers.CharField(  # noqa: N815
        required=False, allow_blank=True, default="", max_length=MAX_DISPLAY_NAME
    )
    tags = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text=TAGS_HELP
    )
    approvalNote = serializers.CharField(  # noqa: N815
        required=False,
        allow_blank=True,
        default="",
        max_length=1000,
        help_text="An operator's note for the admin when the order is above the approval threshold.",
    )


@operation(
    "orders.archive.estimate",
    scope=Scope.ORDERS_READ,
    effect=Effect.READ,
    input=ArchiveEstimateInput,
    output=ArchiveEstimateOutput,
    summary="Preview the server-authoritative AOI price for a cart of archive captures.",
)
def archive_estimate(ctx: OpContext, data: dict) -> dict:
    quote = archive_quote(
        captures=list(data.get("captures") or []), split_by_date=bool(data.get("splitByDate"))
    )
    return quote_to_wire(quote)
