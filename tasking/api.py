"""Operations of the tasking configuration: orders.tasking.sensors, orders.get_schema and
orders.tasking.templates.save|list|delete. (Tasking requests, feasibility and quotations register
their operations in this module too, from the tasking-flow work.)"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from geopera_web.api.registry import Effect, OpContext, operation
from geopera_web.errors import InvalidInput

from .models import CaptureFrequency, Sensor, TaskingTemplate
from .schemas import product_schema
from .selectors import sensor_list, tasking_product_get, template_list
from .services import template_delete, template_save

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
