"""Operations of the tasking app: the configuration (orders.tasking.sensors, orders.get_schema,
orders.tasking.templates.*), the tasking flow (orders.tasking.place, .estimate, .feasibility_check,
.opportunities_list, the decisions inbox, studies, quotations and their decide paths), and the
tasking placer that orders.place / orders.estimate (in `orders/api.py`) dispatch to."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from geopera_web.api.fields import (
    PAGE_SIZE_BOUNDS,
    PAGE_SIZE_HELP,
    PatternField,
    SettingBoundsMixin,
    comma_separated_field,
    page_field,
)
from geopera_web.api.registry import Effect, OpContext, operation
from geopera_web.billing.services import credits_to_aud
from geopera_web.errors import InvalidInput, NotFound
from orders.api import CancelSeriesOccurrence, OrderPlaceInput, OrderPlaceOutput
from orders.inbox import CURSOR_PATTERN, inbox_kind_slugs
from orders.models import OrderType
from orders.placement import Placer, order_place, register_placer

from .aoi import check_feature, check_features
from .feasibility import feature_feasibility, pass_out, predict_passes, prediction_work_ensure
from .models import CaptureFrequency, Feasibility, Sensor, SeriesPricing, TaskingTemplate
from .schemas import params_validate, product_schema
from .selectors import (
    decisions_pending,
    quotation_list,
    sensor_list,
    study_list,
    tasking_product_get,
    template_list,
)
from .services import (
    feasibility_decide,
    quotation_decide,
    tasking_order_place,
    template_delete,
    template_save,
)

# --- serializers (class names = the reference's component names) --------------------------------


class TaskingSensorsInput(serializers.Serializer):
    """No fields: the catalog is the same for every organization."""


class SensorProductOut(serializers.Serializer):
    """A tasking data product on a sensor, with its pricing inputs."""

    data_product_id = serializers.CharField(help_text="Use with orders.get_schema and orders.tasking.*.")
    name = serializers.CharField()
    credits_per_km2 = serializers.IntegerField(help_text="Price per km² in credits (100 credits = A$1).")
    min_area_km2 = serializers.FloatField(help_text="Smaller areas are billed as this area.")
    max_area_km2 = serializers.FloatField(allow_null=True, help_text="Largest area one AOI may have.")
    resolutions = serializers.ListField(child=serializers.CharField())


class SatelliteOut(serializers.Serializer):
    name = serializers.CharField()
    norad_id = serializers.IntegerField(
        allow_null=True, help_text="NORAD catalog number; null when unverified."
    )


class RangeOut(serializers.Serializer):
    min = serializers.IntegerField()
    max = serializers.IntegerField()


class SensorOut(serializers.Serializer):
    """One tasking sensor: what it can capture and the settings a template or request may use."""

    id = serializers.CharField(help_text="Stable sensor id; the `sensor` of a template.")
    name = serializers.CharField()
    constellation = serializers.CharField()
    operator = serializers.CharField()
    type = serializers.ChoiceField(choices=["optical", "hyperspectral", "sar"])
    description = serializers.CharField()
    satellites = SatelliteOut(many=True)
    norad_ids = serializers.ListField(child=serializers.IntegerField())
    resolutions = serializers.ListField(child=serializers.CharField(), help_text='Best first, e.g. "30cm".')
    bands = serializers.ListField(
        child=serializers.DictField(), help_text="{name, min_nm, max_nm} or radar band."
    )
    spectral_bundles = serializers.ListField(child=serializers.CharField())
    acquisition_modes = serializers.ListField(child=serializers.CharField())
    processing_levels = serializers.ListField(child=serializers.CharField())
    radiometric_processing = serializers.ListField(child=serializers.CharField())
    pixel_codings = serializers.ListField(child=serializers.CharField())
    projections = serializers.ListField(child=serializers.IntegerField(), help_text="EPSG codes.")
    capture_frequencies = serializers.ListField(
        child=serializers.ChoiceField(choices=CaptureFrequency.values)
    )
    file_formats = serializers.ListField(child=serializers.CharField())
    datums = serializers.ListField(child=serializers.CharField())
    feasibility = serializers.ChoiceField(
        choices=["automatic", "manual"], help_text="manual: support staff study each request."
    )
    cloud_coverage = RangeOut(help_text="Allowed max-cloud settings, percent.")
    off_nadir = RangeOut(help_text="Allowed max off-nadir (incidence for radar) settings, degrees.")
    swath_km = serializers.FloatField(allow_null=True)
    revisit_days = serializers.FloatField(allow_null=True)
    min_window_days = serializers.IntegerField(help_text="Shortest acquisition window accepted.")
    credits_per_km2 = serializers.IntegerField(allow_null=True, help_text="Of the first product.")
    min_area_km2 = serializers.FloatField(allow_null=True, help_text="Of the first product.")
    max_area_km2 = serializers.FloatField(allow_null=True, help_text="Of the first product.")
    products = SensorProductOut(many=True)
    sources = serializers.CharField(help_text="Where the facts come from; what is unverified.")


class TaskingSensorsOutput(serializers.Serializer):
    sensors = SensorOut(many=True)


class OrderSchemaInput(serializers.Serializer):
    data_product_id = serializers.CharField()


class TemplateOut(serializers.Serializer):
    """A template as listed and saved (TemplateSaveInput's fields plus bookkeeping)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    capture_asap = serializers.BooleanField()
    resolution = serializers.CharField()
    sensor = serializers.CharField(help_text="Sensor id (orders.tasking.sensors).")
    sensor_name = serializers.CharField()
    data_product_id = serializers.CharField(allow_null=True, help_text="The product the template prefills.")
    capture_frequency = serializers.CharField()
    datum = serializers.CharField()
    file_format = serializers.CharField()
    has_control = serializers.BooleanField()
    max_cloud_coverage = serializers.IntegerField()
    max_nadir_angle = serializers.IntegerField()
    usage_count = serializers.IntegerField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TemplateSaveInput(serializers.Serializer):
    """Create a template, or update one when `id` is given (an extension of the reference's input:
    without `id` every save creates)."""

    id = serializers.UUIDField(
        required=False, help_text="Update this active template instead of creating one."
    )
    name = serializers.CharField(max_length=255, min_length=1)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
    capture_asap = serializers.BooleanField(required=False, default=True)
    resolution = serializers.CharField()
    sensor = serializers.CharField()
    capture_frequency = serializers.CharField()
    datum = serializers.CharField()
    file_format = serializers.CharField()
    has_control = serializers.BooleanField(required=False, default=False)
    max_cloud_coverage = serializers.IntegerField(required=False, default=0)
    max_nadir_angle = serializers.IntegerField(required=False, default=0)


class TemplateSaveOutput(TemplateOut):
    created = serializers.BooleanField(help_text="true when a new template was created, false on update.")


class TemplateListInput(serializers.Serializer):
    """No fields: the caller's org's active templates, most recently used first."""


class TemplateListOutput(serializers.Serializer):
    templates = TemplateOut(many=True)


class TemplateDeleteInput(serializers.Serializer):
    template_id = serializers.CharField()


class TemplateDeleteOutput(serializers.Serializer):
    template_id = serializers.CharField()
    deleted = serializers.BooleanField(default=True)


# --- output builders -----------------------------------------------------------------------------


def sensor_out(sensor: Sensor) -> dict[str, Any]:
    products = [p for p in sensor.products.all() if p.data_product.is_active]
    first = products[0].data_product if products else None
    return {
        "id": sensor.id,
        "name": sensor.name,
        "constellation": sensor.constellation,
        "operator": sensor.operator,
        "type": sensor.sensor_type,
        "description": sensor.description,
        "satellites": [{"name": s.get("name"), "norad_id": s.get("norad_id")} for s in sensor.satellites],
        "norad_ids": sensor.norad_ids,
        "resolutions": sensor.resolutions,
        "bands": sensor.bands,
        "spectral_bundles": sensor.spectral_bundles,
        "acquisition_modes": sensor.acquisition_modes,
        "processing_levels": sensor.processing_levels,
        "radiometric_processing": sensor.radiometric_processing,
        "pixel_codings": sensor.pixel_codings,
        "projections": sensor.projections,
        "capture_frequencies": sensor.capture_frequencies,
        "file_formats": sensor.file_formats,
        "datums": sensor.datums,
        "feasibility": sensor.feasibility,
        "cloud_coverage": {"min": sensor.min_cloud_coverage, "max": sensor.max_cloud_coverage},
        "off_nadir": {"min": sensor.min_off_nadir, "max": sensor.max_off_nadir},
        "swath_km": sensor.swath_km,
        "revisit_days": sensor.revisit_days,
        "min_window_days": sensor.min_window_days,
        "credits_per_km2": first.credits_per_km2 if first else None,
        "min_area_km2": first.min_area_km2 if first else None,
        "max_area_km2": first.max_area_km2 if first else None,
        "products": [
            {
                "data_product_id": p.data_product_id,
                "name": p.data_product.name,
                "credits_per_km2": p.data_product.credits_per_km2,
                "min_area_km2": p.data_product.min_area_km2,
                "max_area_km2": p.data_product.max_area_km2,
                "resolutions": p.offered_resolutions,
            }
            for p in products
        ],
        "sources": sensor.sources,
    }


def template_out(template: TaskingTemplate) -> dict[str, Any]:
    product = next(iter(template.sensor.products.all()), None)
    return {
        "id": str(template.id),
        "name": template.name,
        "description": template.description or None,
        "capture_asap": template.capture_asap,
        "resolution": template.resolution,
        "sensor": template.sensor_id,
        "sensor_name": template.sensor.name,
        "data_product_id": product.data_product_id if product else None,
        "capture_frequency": template.capture_frequency,
        "datum": template.datum,
        "file_format": template.file_format,
        "has_control": template.has_control,
        "max_cloud_coverage": template.max_cloud_coverage,
        "max_nadir_angle": template.max_nadir_angle,
        "usage_count": template.usage_count,
        "last_used_at": template.last_used_at,
        "created_by": str(template.created_by) if template.created_by_id else None,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


# --- operations ----------------------------------------------------------------------------------


@operation(
    "orders.tasking.sensors",
    scope="orders:read",
    effect=Effect.READ,
    input=TaskingSensorsInput,
    output=TaskingSensorsOutput,
    summary="List the tasking sensor catalog (ids, resolution, bands, pricing inputs).",
)
def tasking_sensors(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Every active sensor with its satellites (NORAD ids), resolutions, bands, the settings a
    template or request may use (frequencies, formats, datums, cloud and off-nadir ranges),
    whether feasibility is automatic or manual, and its products' pricing inputs."""
    return {"sensors": [sensor_out(s) for s in sensor_list()]}


@operation(
    "orders.get_schema",
    scope="items:read",
    effect=Effect.READ,
    input=OrderSchemaInput,
    summary="Get the dynamic order-form schema for a data product (reference).",
)
def get_schema(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for the `params` of a tasking order of this data product,
    generated from its sensor's facts: enums, bounds, defaults and titles. The web form is rendered
    from it and orders.tasking.* validate params with it. Unknown product: 404."""
    return product_schema(tasking_product_get(product_id=data["data_product_id"]))


@operation(
    "orders.tasking.templates.save",
    scope="orders:write",
    effect=Effect.COMPUTE,
    input=TemplateSaveInput,
    output=TemplateSaveOutput,
    summary="Save a reusable tasking acquisition template for the caller's organization.",
)
def templates_save(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Creates a template; with `id`, updates that active template of the organization (404 if it
    is not one). Every field is checked against the named sensor (422 naming the field); names are
    unique among the organization's active templates, ignoring case (409). Viewers: 403."""
    template_id = data.pop("id", None)
    if data.get("description") is None:
        data["description"] = ""
    template, created = template_save(org=ctx.org, actor=ctx.user, data=data, template_id=template_id)
    return {**template_out(template), "created": created}


@operation(
    "orders.tasking.templates.list",
    scope="orders:read",
    effect=Effect.READ,
    input=TemplateListInput,
    output=TemplateListOutput,
    summary="List the caller organization's active tasking templates.",
)
def templates_list(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Active (not deleted) templates of the caller's organization, most recently used first."""
    qs = template_list(org=ctx.org).prefetch_related("sensor__products")
    return {"templates": [template_out(t) for t in qs]}


@operation(
    "orders.tasking.templates.delete",
    scope="orders:write",
    effect=Effect.COMPUTE,
    input=TemplateDeleteInput,
    output=TemplateDeleteOutput,
    summary="Soft-delete a tasking template (org-scoped).",
)
def templates_delete(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Soft delete: the template leaves the list and frees its name; orders made from it keep
    naming it. Another organization's (or an already deleted) template: 404. Viewers: 403."""
    if not str(data.get("template_id") or "").strip():
        raise InvalidInput(
            "template_id is required.",
            status=422,
            errors=[{"loc": ["body", "template_id"], "msg": "template_id is required.", "type": "missing"}],
        )
    template = template_delete(org=ctx.org, actor=ctx.user, template_id=data["template_id"])
    return {"template_id": str(template.id), "deleted": True}


# =================================================================================================
# Tasking flow: requests, feasibility, opportunities, estimates, studies, quotations, decisions.
# =================================================================================================


class FeasibilityCheckInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = {
        "featureCollection": {
            "text_features": "GEOMETRY_MAX_FEATURES",
            "text_vertices": "GEOMETRY_MAX_VERTICES",
            "text_days": "TASKING_PREDICTION_MAX_FEATURE_DAYS",
        }
    }

    dataProduct = serializers.CharField()  # noqa: N815
    displayName = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    featureCollection = serializers.DictField(  # noqa: N815
        required=False,
        default=dict,
        help_text="GeoJSON FeatureCollection of Polygon/MultiPolygon AOIs: at most {text_features} features "
        "(`GEOMETRY_MAX_FEATURES`), {text_vertices} vertices each (`GEOMETRY_MAX_VERTICES`); valid areas × "
        "window days at most {text_days} (`TASKING_PREDICTION_MAX_FEATURE_DAYS`, 422 before any prediction).",
    )
    params = serializers.DictField(required=False, allow_null=True, default=None)


class TaskingEstimateInput(serializers.Serializer):
    """groups: [{"dataProduct": id, "geometry": GeoJSON Polygon/MultiPolygon, "name"?: str}]."""

    groups = serializers.ListField(child=serializers.DictField(), required=False, default=list)


class TaskingEstimateOutput(serializers.Serializer):
    groups = serializers.ListField(child=serializers.DictField())
    errors = serializers.ListField(child=serializers.DictField())
    totalAud = serializers.FloatField()  # noqa: N815
    totalCredits = serializers.IntegerField()  # noqa: N815


class StudiesListInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = PAGE_SIZE_BOUNDS

    id = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    workspaceId = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    orderId = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    decision = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    page = page_field()
    size = serializers.IntegerField(required=False, default=20, min_value=1, help_text=PAGE_SIZE_HELP)


class DecisionsPendingInput(SettingBoundsMixin, serializers.Serializer):
    setting_bounds = PAGE_SIZE_BOUNDS

    workspaceId = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # noqa: N815
    page = page_field()
    size = serializers.IntegerField(required=False, default=20, min_value=1, help_text=PAGE_SIZE_HELP)
    kinds = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # see __init__
    cursor = PatternField(
        CURSOR_PATTERN,
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=512,
        help_text="The `nextCursor` of the previous page (keyset paging; `page` is then ignored). A "
        "cursor this server did not issue is a 404.",
        error_messages={"invalid": "Not a cursor: use the nextCursor of a previous page, or leave it out."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The decision kinds registered when the serializer is made (the document too).
        kinds = inbox_kind_slugs()
        self.fields["kinds"] = comma_separated_field(
            kinds,
            help_text=f"Comma-separated kinds: {', '.join(kinds)}; all when empty.",
            error_messages={
                "invalid": f"Unknown kind(s); use {', '.join(kinds)}, or several comma-separated (no spaces)."
            },
        )


class FeasibilityDecideInput(serializers.Serializer):
    study_id = serializers.CharField()
    acceptedOptionId = serializers.CharField()  # noqa: N815
    approvalNote = serializers.CharField(  # noqa: N815
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="An operator's note for the admin when the price is above the approval threshold.",
    )


class QuotationDecideInput(serializers.Serializer):
    quotation_id = serializers.CharField()
    decision = serializers.RegexField(r"^(ACCEPTED|REJECTED)$")
    approvalNote = serializers.CharField(  # noqa: N815
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="An operator's note for the admin when the price is above the approval threshold.",
    )


# --- output builders -----------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _geojson(geom: Any) -> dict[str, Any]:
    return json.loads(geom.geojson)


def group_out(group: Any) -> dict[str, Any]:
    return {
        "id": str(group.id),
        "name": group.name,
        "position": group.position,
        "areaKm2": round(group.area_km2, 3),
        "billedAreaKm2": round(group.billed_area_km2, 3),
        "credits": group.credits,
        "geometry": _geojson(group.geometry),
    }


def order_out(order: Any) -> dict[str, Any]:
    return {
        "id": str(order.id),
        "workspaceId": str(order.workspace_id),
        "orderType": order.order_type,
        "status": order.status,
        "subStatus": order.sub_status,
        "displayName": order.display_name,
        "dataProduct": order.data_product_id,
        "params": order.params,
        "tags": order.tags,
        "estimatedCredits": order.total_credits,
        "groups": [group_out(g) for g in order.groups.all()],
        "createdAt": _iso(order.created_at),
    }


def option_out(option: Any) -> dict[str, Any]:
    return {
        "id": str(option.id),
        "description": option.description,
        "acquisitionStart": _iso(option.window_start),
        "acquisitionEnd": _iso(option.window_end),
        "expectedCaptures": option.expected_captures,
        "expectedRevisits": option.expected_revisits,
        "maxOffNadirDeg": option.max_off_nadir,
        "priceCredits": option.price_credits,
        "priceAud": credits_to_aud(option.price_credits) if option.price_credits is not None else None,
        "validUntil": _iso(option.valid_until),
    }


def study_out(study: Any) -> dict[str, Any]:
    return {
        "id": str(study.id),
        "kind": "feasibility",
        "orderId": str(study.order_id),
        "workspaceId": str(study.order.workspace_id),
        "decision": study.decision,
        "source": study.source,
        "notes": study.notes,
        "deadline": _iso(study.deadline),
        "acceptedOptionId": str(study.accepted_option_id) if study.accepted_option_id else None,
        "decidedBy": str(study.decided_by) if study.decided_by_id else None,
        "decidedAt": _iso(study.decided_at),
        "createdAt": _iso(study.created_at),
        "options": [option_out(o) for o in study.options.all()],
    }


def quotation_out(quotation: Any) -> dict[str, Any]:
    return {
        "id": str(quotation.id),
        "kind": "quotation",
        "orderId": str(quotation.order_id),
        "workspaceId": str(quotation.order.workspace_id),
        "decision": quotation.decision,
        "credits": quotation.credits,
        "aud": credits_to_aud(quotation.credits),
        "validUntil": _iso(quotation.valid_until),
        "deadline": _iso(quotation.valid_until),
        "notes": quotation.notes,
        "decidedBy": str(quotation.decided_by) if quotation.decided_by_id else None,
        "decidedAt": _iso(quotation.decided_at),
        "createdAt": _iso(quotation.created_at),
    }


def _pending_out(row: Any) -> dict[str, Any]:
    from orders.approvals.kinds import approval_to_wire

    if row.kind == "feasibility":
        return study_out(row.obj)
    if row.kind == "approval":
        return approval_to_wire(row.obj)
    return quotation_out(row.obj)


def _approval_part(obj: Any) -> dict[str, Any]:
    """`approval`: the spend approval an operator's acceptance above the threshold created."""
    from orders.approvals.kinds import approval_to_wire

    held = getattr(obj, "pending_approval", None)
    return {"approval": approval_to_wire(held)} if held is not None else {}


def _page(items: list[Any] | Any, page: int, size: int) -> tuple[list[Any], int]:
    total = len(items) if isinstance(items, list) else items.count()
    return list(items[page * size : (page + 1) * size]), total


def _tasking_product(data_product_id: str) -> Any:
    return tasking_product_get(product_id=data_product_id)


def _estimate(product: Any, feature_collection: Any) -> dict[str, Any]:
    checks = check_features(feature_collection, product.data_product)
    groups = [
        {
            "index": c.index,
            "name": c.name or f"AOI {c.index + 1}",
            "dataProduct": product.id,
            "areaKm2": c.area_km2,
            "billedAreaKm2": c.billed_area_km2,
            "credits": c.credits,
            "aud": credits_to_aud(c.credits) if c.credits is not None else None,
            "warnings": c.warnings,
        }
        for c in checks
        if c.ok
    ]
    errors = [e | {"index": c.index} for c in checks for e in c.errors]
    total = sum(g["credits"] for g in groups)
    return {"groups": groups, "errors": errors, "totalCredits": total, "totalAud": credits_to_aud(total)}


# --- operations ----------------------------------------------------------------------------------


def _place_tasking(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    order = tasking_order_place(
        org=ctx.org,
        actor=ctx.principal,
        data_product_id=data["dataProduct"],
        params=data.get("params") or {},
        feature_collection=data.get("featureCollection"),
        workspace_id=data.get("workspaceId"),
        display_name=data.get("displayName") or "",
        tags=data.get("tags"),
    )
    return order_out(order) | series_place_fields(order)


def series_place_fields(order: Any) -> dict[str, Any]:
    """What a client needs to follow a recurring request it just placed (all null for a one-off
    request): the series id for orders.tasking.series.get / .cancel, its frequency and how many
    occurrences it has. `estimatedCredits` is then the series' (per-occurrence × count)."""
    recurrence = (order.metadata or {}).get("recurrence") or {}
    count = recurrence.get("occurrences")
    per_occurrence = order.total_credits // count if count else None
    if count and recurrence.get("pricing") == SeriesPricing.OCCURRENCE:
        # Decided per occurrence the parent's estimate is 0: one occurrence's is kept aside.
        per_occurrence = int(recurrence.get("perOccurrenceEstimate") or 0)
    return {
        "seriesId": recurrence.get("seriesId"),
        "captureFrequency": recurrence.get("frequency"),
        "occurrenceCount": count,
        "perOccurrenceCredits": per_occurrence,
    }


def _estimate_tasking(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """One priced group per feature (geodesic km², billed at the product minimum), `errors` for
    features that cannot be priced, `totalCredits` and `totalAud`."""
    return _estimate(_tasking_product(data["dataProduct"]), data.get("featureCollection"))


# orders.place / orders.estimate (in orders/api.py) dispatch tasking products here.
register_placer(Placer(order_type=OrderType.TASKING, place=_place_tasking, estimate=_estimate_tasking))


@operation(
    "orders.tasking.place",
    scope="orders:write",
    effect=Effect.SPEND,
    input=OrderPlaceInput,
    output=OrderPlaceOutput,
    success_status=202,
    summary="Invoke Tasking Place.",
)
def tasking_place(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """The orders.place body (workspaceId and dataProduct required; params, featureCollection,
    displayName, tags); 202 with the queued order (dispatched like orders.place)."""
    return order_place(ctx, data)


@operation(
    "orders.tasking.estimate",
    scope="orders:read",
    effect=Effect.READ,
    input=TaskingEstimateInput,
    output=TaskingEstimateOutput,
    summary="Preview the server-authoritative price for an AOI-priced tasking request.",
)
def tasking_estimate(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Each group is {"dataProduct", "geometry", "name"?}; the answer prices each one and lists the
    groups that cannot be priced in `errors` (with their index) instead of failing the whole call."""
    groups: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for i, g in enumerate(data.get("groups") or []):
        try:
            product = tasking_product_get(product_id=str(g.get("dataProduct") or ""))
        except NotFound as exc:
            errors.append(
                {
                    "index": i,
                    "loc": ["body", "groups", i, "dataProduct"],
                    "msg": exc.detail,
                    "type": "value_error.unknown_product",
                }
            )
            continue
        geometry = g.get("geometry") or g.get("featureCollection")
        feature = {"type": "Feature", "geometry": geometry, "properties": {"name": g.get("name") or ""}}
        check = check_feature(feature, i, product.data_product)
        if not check.ok:
            errors += [e | {"index": i, "loc": ["body", "groups", i, "geometry"]} for e in check.errors]
            continue
        groups.append(
            {
                "index": i,
                "name": check.name or f"Group {i + 1}",
                "dataProduct": product.id,
                "areaKm2": check.area_km2,
                "billedAreaKm2": check.billed_area_km2,
                "credits": check.credits,
                "aud": credits_to_aud(check.credits or 0),
                "warnings": check.warnings,
            }
        )
    total = sum(g["credits"] for g in groups)
    return {"groups": groups, "errors": errors, "totalCredits": total, "totalAud": credits_to_aud(total)}


@operation(
    "orders.tasking.feasibility_check",
    scope="orders:read",
    effect=Effect.READ,
    input=FeasibilityCheckInput,
    summary="Predict whether a tasking order needs a feasibility study (per-feature).",
)
def feasibility_check(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Per feature: `needsStudy` and the `reasons` (manual-feasibility sensor, area above the
    automatic limit, window too short, cloud or off-nadir stricter than automatic limits, no
    predicted pass). Invalid features are listed in `errors`."""
    product = _tasking_product(data["dataProduct"])
    params = data.get("params") or {}
    params_validate(product=product, params=params, partial=True)  # the placement rules: 422
    checks = check_features(data.get("featureCollection"), product.data_product)
    prediction_work_ensure(product=product, checks=checks, params=params)  # 422 above the limit
    features = [feature_feasibility(product=product, check=c, params=params).out() for c in checks if c.ok]
    return {
        "dataProduct": product.id,
        "feasibility": product.sensor.feasibility,
        "needsStudy": any(f["needsStudy"] for f in features),
        "features": features,
        "errors": [e | {"index": c.index} for c in checks for e in c.errors],
    }


@operation(
    "orders.tasking.opportunities_list",
    scope="orders:read",
    effect=Effect.READ,
    input=FeasibilityCheckInput,
    summary="Predicted satellite passes for a tasking AOI (manual-feasibility: empty).",
)
def opportunities_list(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Passes of the product's satellites over each feature inside params' acquisition window
    (SGP4 on shipped TLEs), with satellite, time window, off-nadir and sun elevation. Sensors whose
    feasibility is manual return an empty list: only the provider's desk can answer for them."""
    product = _tasking_product(data["dataProduct"])
    params = data.get("params") or {}
    params_validate(product=product, params=params, partial=True)  # the placement rules: 422
    checks = check_features(data.get("featureCollection"), product.data_product)
    prediction_work_ensure(product=product, checks=checks, params=params)  # 422 above the limit
    opportunities: list[dict[str, Any]] = []
    if product.sensor.feasibility == Feasibility.AUTOMATIC:
        for c in checks:
            if c.ok:
                opportunities += [
                    pass_out(p, c.index) for p in predict_passes(product=product, check=c, params=params)
                ]
    opportunities.sort(key=lambda o: str(o["start"]))
    return {
        "dataProduct": product.id,
        "feasibility": product.sensor.feasibility,
        "opportunities": opportunities,
        "errors": [e | {"index": c.index} for c in checks for e in c.errors],
    }


@operation(
    "orders.tasking.decisions.pending",
    scope="orders:read",
    effect=Effect.READ,
    input=DecisionsPendingInput,
    summary="Unified inbox of the org's pending decisions (feasibility + quotation + spend approval).",
)
def decisions_pending_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Every pending feasibility study, quotation and spend approval of the org, newest first;
    `kinds` is "feasibility", "quotation", "approval" or several comma-separated (approvals use the
    orders.approvals.list item shape, with `kind: "approval"`).

    Paging: `page` (0-based, as the reference defines it) or, cheaper on deep pages, `cursor`: the
    `nextCursor` of the previous answer (null on the last page). Either way the page, its items'
    data and `total` come from one SQL statement (`orders.inbox.decisions_page`)."""
    size, page, cursor = data["size"], data["page"], data.get("cursor") or None
    filters = {"workspace_id": data.get("workspaceId"), "kinds": data.get("kinds")}
    result = decisions_pending(
        org=ctx.org,
        size=size,
        cursor=cursor,
        offset=page * size,
        with_groups=False,
        with_total=True,
        **filters,
    )
    return {
        "items": [_pending_out(r) for r in result.rows],
        "page": page,
        "size": size,
        "total": result.total or 0,
        "nextCursor": result.next_cursor,
    }


@operation(
    "orders.tasking.feasibility_studies.list",
    scope="orders:read",
    effect=Effect.READ,
    input=StudiesListInput,
    summary="List the org's feasibility studies (+ their options, paged).",
)
def studies_list(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    rows, total = _page(study_list(org=ctx.org, filters=data), data["page"], data["size"])
    return {"items": [study_out(s) for s in rows], "page": data["page"], "size": data["size"], "total": total}


@operation(
    "orders.tasking.quotations.list",
    scope="orders:read",
    effect=Effect.READ,
    input=StudiesListInput,
    summary="List the org's tasking quotations (paged).",
)
def quotations_list(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    rows, total = _page(quotation_list(org=ctx.org, filters=data), data["page"], data["size"])
    return {
        "items": [quotation_out(q) for q in rows],
        "page": data["page"],
        "size": data["size"],
        "total": total,
    }


@operation(
    "orders.tasking.feasibility_decide",
    scope="orders:write",
    effect=Effect.SPEND,
    input=FeasibilityDecideInput,
    user_only=True,
    summary="Accept a feasibility-study option (one-step priced accept reserves/post-pays).",
)
def feasibility_decide_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins; operators too where a spend policy sets an approval threshold: at or under it
    they accept, above it the answer carries `approval` (a pending spend approval for an admin, see
    orders.approvals.decide) and the study stays pending. A priced option charges per billing mode
    (402 when short, or `budget-exceeded`) and activates the order; an unpriced one sends it to the
    quotation step. Already decided: 409 with `current_decision`; past the deadline: 410."""
    ctx.require_role("admin", "operator", action="decide on feasibility studies")
    study = feasibility_decide(
        org=ctx.org,
        actor=ctx.principal,
        study_id=data["study_id"],
        option_id=data["acceptedOptionId"],
        idempotency_key=ctx.idempotency_key,
        approval_note=data.get("approvalNote") or "",
    )
    study.order.refresh_from_db()
    return {
        **study_out(study),
        **_approval_part(study),
        "order": {
            "id": str(study.order_id),
            "status": study.order.status,
            "subStatus": study.order.sub_status,
        },
    }


@operation(
    "orders.tasking.quotation_decide",
    scope="orders:write",
    effect=Effect.SPEND,
    input=QuotationDecideInput,
    user_only=True,
    summary="Accept or reject a tasking quotation (accept reserves/post-pays).",
)
def quotation_decide_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    """Org admins; operators may ACCEPT where a spend policy sets an approval threshold: at or
    under it they accept, above it the answer carries `approval` (a pending spend approval for an
    admin) and the quotation stays pending. ACCEPTED charges per billing mode (402 when short, or
    `budget-exceeded`) and activates the order; REJECTED (admins) rejects it. Already decided: 409
    with `current_decision`; past validity: 410."""
    ctx.require_role("admin", "operator", action="decide on quotations")
    quotation = quotation_decide(
        org=ctx.org,
        actor=ctx.principal,
        quotation_id=data["quotation_id"],
        decision=data["decision"],
        idempotency_key=ctx.idempotency_key,
        approval_note=data.get("approvalNote") or "",
    )
    quotation.order.refresh_from_db()
    return {
        **quotation_out(quotation),
        **_approval_part(quotation),
        "order": {
            "id": str(quotation.order_id),
            "status": quotation.order.status,
            "subStatus": quotation.order.sub_status,
        },
    }


# --- recurring acquisitions (tasking series; beyond the reference, in its style) -----------------


class SeriesGetInput(serializers.Serializer):
    series_id = serializers.UUIDField(
        help_text="The series id, or the id of its parent order (what orders.tasking.place answered)."
    )


class SeriesCancelInput(serializers.Serializer):
    series_id = serializers.UUIDField()
    dryRun = serializers.BooleanField(  # noqa: N815
        required=False, default=False, help_text="true: change nothing, answer what cancelling would do."
    )
    expectedChargeCredits = serializers.IntegerField(  # noqa: N815
        required=False,
        allow_null=True,
        min_value=0,
        help_text="The `chargedCredits` of the dry run the person confirmed. When deliveries since then "
        "changed it, nothing is cancelled and the 409 problem carries the new `preview`.",
    )


class SeriesOccurrenceOut(serializers.Serializer):
    index = serializers.IntegerField(help_text="1-based position in the series.")
    state = serializers.ChoiceField(
        choices=["planned", "quoted", "ordered", "missed", "declined", "cancelled"],
        help_text="planned: not ordered yet; quoted: decided per occurrence, its child order waits for "
        "its own quotation (see quotationId); ordered: its child order exists (see orderStatus); "
        "declined: its quotation was rejected or expired.",
    )
    acquisitionStart = serializers.DateTimeField()  # noqa: N815
    acquisitionEnd = serializers.DateTimeField()  # noqa: N815
    credits = serializers.IntegerField(
        help_text="Its share of the series price, charged when it is ordered; decided per occurrence, "
        "its estimate (the list price for the AOIs), then its quoted price."
    )
    orderId = serializers.UUIDField(allow_null=True)  # noqa: N815
    quotationId = serializers.UUIDField(  # noqa: N815
        allow_null=True,
        help_text="The occurrence's own quotation waiting for a decision (orders.tasking.quotations.decide, "
        "or the inbox), else null.",
    )
    decisionDeadline = serializers.DateTimeField(  # noqa: N815
        allow_null=True, help_text="When that quotation expires (its window opens), else null."
    )
    orderStatus = serializers.CharField(allow_null=True)  # noqa: N815
    coveragePercent = serializers.FloatField(allow_null=True)  # noqa: N815
    rolledInKm2 = serializers.FloatField(help_text="Remainder rolled in from the previous occurrence.")  # noqa: N815
    note = serializers.CharField(allow_blank=True)


class SeriesOut(serializers.Serializer):
    """A recurring tasking request: the parent order (its study and quote) and each occurrence's
    own child order, window, coverage and charge."""

    id = serializers.UUIDField()
    orderId = serializers.UUIDField(help_text="The parent order (study, quotation).")  # noqa: N815
    state = serializers.ChoiceField(choices=["waiting", "running", "cancelled", "ended", "closed"])
    frequency = serializers.ChoiceField(choices=["DAILY", "WEEKLY", "MONTHLY"])
    occurrenceCount = serializers.IntegerField()  # noqa: N815
    until = serializers.DateTimeField(allow_null=True)
    rollRemainder = serializers.BooleanField()  # noqa: N815
    pricing = serializers.ChoiceField(
        choices=["series", "occurrence"],
        help_text="series: one quotation priced for the series; occurrence: the product is decided per "
        "occurrence (the series' quotation accepts the schedule, each occurrence is quoted when due).",
    )
    totalCredits = serializers.IntegerField(  # noqa: N815
        help_text="The series price (0 until its quote is accepted; always 0 decided per occurrence)."
    )
    perOccurrenceCredits = serializers.IntegerField(  # noqa: N815
        help_text="The series price over its occurrences; decided per occurrence, the estimate of one "
        "(the list price for the AOIs at placing; each occurrence's quotation has its own price)."
    )
    occurrences = SeriesOccurrenceOut(many=True)


class SeriesCancelledOccurrence(serializers.Serializer):
    index = serializers.IntegerField()
    orderId = serializers.UUIDField(allow_null=True)  # noqa: N815
    money = serializers.DictField(
        required=False, help_text="The child order's cancel preview (orders.cancel)."
    )


class SeriesCancelOutput(serializers.Serializer):
    seriesId = serializers.UUIDField()  # noqa: N815
    state = serializers.CharField()
    dryRun = serializers.BooleanField()  # noqa: N815
    cancelledOccurrences = SeriesCancelledOccurrence(many=True)  # noqa: N815
    runningOn = CancelSeriesOccurrence(many=True)  # noqa: N815
    releasedCredits = serializers.IntegerField()  # noqa: N815
    chargedCredits = serializers.IntegerField(  # noqa: N815
        help_text="What cancelling charges for imagery already delivered to the occurrences it cancels "
        "(pass it back as expectedChargeCredits)."
    )
    summary = serializers.CharField()


def series_out(series: Any) -> dict[str, Any]:
    from .series import series_occurrences, series_price

    return {
        "id": str(series.pk),
        "orderId": str(series.parent_id),
        "state": series.state,
        "frequency": series.frequency,
        "occurrenceCount": series.occurrence_count,
        "until": _iso(series.until),
        "rollRemainder": series.roll_remainder,
        "pricing": series.pricing,
        "totalCredits": series.total_credits,
        "perOccurrenceCredits": series_price(series)[1],
        "occurrences": [
            {
                "index": o.index + 1,
                "state": o.state,
                "acquisitionStart": _iso(o.window_start),
                "acquisitionEnd": _iso(o.window_end),
                "credits": o.credits,
                "orderId": str(o.order_id) if o.order_id else None,
                "quotationId": str(o.pending_quotation.id) if o.pending_quotation else None,
                "decisionDeadline": _iso(o.pending_quotation.valid_until) if o.pending_quotation else None,
                "orderStatus": o.order.status if o.order_id else None,
                "coveragePercent": o.coverage_percent,
                "rolledInKm2": round(o.rolled_in_km2, 3),
                "note": o.note,
            }
            for o in series_occurrences(series)
        ],
    }


@operation(
    "orders.tasking.series.get",
    scope="orders:read",
    effect=Effect.READ,
    input=SeriesGetInput,
    output=SeriesOut,
    summary="Get a recurring tasking series and its occurrences.",
    description="A tasking request placed with `params.occurrences` (or `params.recurUntil`) and a "
    "`captureFrequency` of DAILY, WEEKLY or MONTHLY is a series: one parent order with one feasibility "
    "study and quotation priced for the whole series, and one child order per occurrence, ordered and "
    "charged its share `TASKING_SERIES_LEAD_HOURS` before its window opens. A product decided per "
    "occurrence (`pricing: occurrence`) has a series quotation that accepts the schedule only; each "
    "occurrence, when due, is a pending child order with its own quotation (`quotationId`, in "
    "orders.tasking.decisions.pending) valid until its window opens. `series_id` is the series id or "
    "its parent order's id; another organization's series is 404.",
)
def series_get_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    from .models import TaskingSeries
    from .series import series_get

    by_parent = TaskingSeries.objects.filter(org=ctx.org, parent_id=data["series_id"]).values_list(
        "pk", flat=True
    )
    return series_out(series_get(org=ctx.org, series_id=by_parent.first() or data["series_id"]))


@operation(
    "orders.tasking.series.cancel",
    scope="orders:write",
    effect=Effect.SPEND,
    input=SeriesCancelInput,
    output=SeriesCancelOutput,
    summary="Cancel the occurrences of a series not yet started.",
    description="Cancels every occurrence whose window has not opened: an ordered one through "
    "orders.cancel's settlement (its reservation or hold released), a planned one before any money "
    "moves; occurrences already started run on. `dryRun: true` answers the same without changing "
    "anything. Admins and operators (viewers: 403); a series already over: 409.",
)
def series_cancel_op(ctx: OpContext, data: dict[str, Any]) -> dict[str, Any]:
    from .series import series_cancel, series_cancel_preview

    if data.get("dryRun"):
        series, plan = series_cancel_preview(org=ctx.org, series_id=data["series_id"])
    else:
        ctx.require_role("admin", "operator", action="cancel a series", api_keys=True)
        series, plan = series_cancel(
            org=ctx.org,
            actor=ctx.principal,
            series_id=data["series_id"],
            expected_charge_credits=data.get("expectedChargeCredits"),
        )
    return {
        "seriesId": str(series.pk),
        "state": series.state,
        "dryRun": bool(data.get("dryRun")),
        **plan.as_wire(),
        "chargedCredits": plan.effect(series.parent.billing_mode).charged_credits,
    }
