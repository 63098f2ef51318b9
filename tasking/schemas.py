"""One JSON Schema (draft 2020-12) per tasking product, generated from its sensor's facts.

The same schema is used three ways, so the API, the form and the validation cannot drift:
  (a) served by `orders.get_schema`;
  (b) rendered as the tasking params form (`schema_form_fields` + templates/tasking/_params_form.html);
  (c) validating params on the server (`params_validate`), with 422 errors that name the field.

Parameter names follow the UP42-style order form of reference 003 (displayName, acquisitionStart,
acquisitionEnd, acquisitionMode, cloudCoverage, incidenceAngle, geometricProcessing,
radiometricProcessing, spectralProcessing, deliveredAs, pixelCoding, projection, extraDescription),
plus the template library's settings (resolution, captureFrequency, datum, groundControl).
`geometry` is accepted but is drawn on the map, not in the form (x-widget "map").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from jsonschema import Draft202012Validator

from geopera_web.errors import InvalidInput

from .models import Sensor, SensorType, TaskingProduct

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_EPSG_NAMES = {
    4326: "WGS 84 (EPSG:4326)",
    7844: "GDA2020 geographic (EPSG:7844)",
    4283: "GDA94 geographic (EPSG:4283)",
    3577: "GDA94 / Australian Albers (EPSG:3577)",
    3857: "Web Mercator (EPSG:3857)",
}
_FREQUENCY_TITLES = {"ONCE": "Once", "DAILY": "Daily", "WEEKLY": "Weekly", "MONTHLY": "Monthly"}
_MODE_TITLES = {"mono": "Mono", "stereo": "Stereo", "tristereo": "Tri-stereo"}


def _choices(values: list[Any], titles: dict[Any, str] | None = None) -> dict[str, Any]:
    """An enum with human titles: `oneOf` of `const`+`title` (the 2020-12 idiom for labelled enums)."""
    return {"oneOf": [{"const": v, "title": (titles or {}).get(v, str(v))} for v in values]}


def product_schema(product: TaskingProduct) -> dict[str, Any]:
    """The params schema of a tasking product. Property order is the form's field order."""
    sensor: Sensor = product.sensor
    is_sar = sensor.sensor_type == SensorType.SAR
    resolutions = product.offered_resolutions
    props: dict[str, Any] = {
        "displayName": {
            "type": "string",
            "title": "Order name",
            "description": "A name you will recognise in the order list.",
            "minLength": 1,
            "maxLength": 200,
        },
        "acquisitionStart": {
            "type": "string",
            "format": "date-time",
            "title": "Acquisition start",
            "description": "Start of the capture window (ISO 8601, UTC).",
        },
        "acquisitionEnd": {
            "type": "string",
            "format": "date-time",
            "title": "Acquisition end",
            "description": f"End of the capture window; after the start, and at least {sensor.min_window_days} "
            f"day{'s' if sensor.min_window_days != 1 else ''} later for {sensor.name}.",
            "x-minWindowDays": sensor.min_window_days,
        },
        "resolution": {
            "type": "string",
            "title": "Resolution",
            "default": resolutions[0],
            **_choices(resolutions),
        },
    }
    if sensor.acquisition_modes:
        props["acquisitionMode"] = {
            "type": "string",
            "title": "Acquisition mode",
            "description": "Mono, or stereo/tri-stereo pairs for elevation models.",
            "default": sensor.acquisition_modes[0],
            **_choices(sensor.acquisition_modes, _MODE_TITLES),
        }
    props["captureFrequency"] = {
        "type": "string",
        "title": "Capture frequency",
        "default": "ONCE" if "ONCE" in sensor.capture_frequencies else sensor.capture_frequencies[0],
        **_choices(sensor.capture_frequencies, _FREQUENCY_TITLES),
    }
    if any(f != "ONCE" for f in sensor.capture_frequencies):
        # A recurring request (tasking.series): the window above is the first occurrence's.
        props["occurrences"] = {
            "type": "integer",
            "title": "Number of occurrences",
            # A person reads this under the field: the limit's value, not the setting's name.
            "description": "Repeat the acquisition this many times at the capture frequency (leave empty "
            f"for a single acquisition; 2 to {settings.TASKING_SERIES_MAX_OCCURRENCES}). The window above "
            "is the first occurrence's.",
            "minimum": 2,
            "maximum": settings.TASKING_SERIES_MAX_OCCURRENCES,
        }
        props["recurUntil"] = {
            "type": "string",
            "format": "date-time",
            "title": "Or repeat until",
            "description": "Instead of a number: repeat while occurrences start on or before this date (UTC).",
        }
        props["rollRemainder"] = {
            "type": "boolean",
            "title": "Roll the remainder into the next occurrence",
            "description": "An occurrence that ends short passes the area it did not cover to the next one.",
        }
    if not is_sar:
        props["cloudCoverage"] = {
            "type": "integer",
            "title": "Maximum cloud cover (%)",
            "description": f"Captures cloudier than this are retaken ({sensor.name}: "
            f"{sensor.min_cloud_coverage}–{sensor.max_cloud_coverage}%).",
            "minimum": sensor.min_cloud_coverage,
            "maximum": sensor.max_cloud_coverage,
            "default": min(20, sensor.max_cloud_coverage),
        }
    props["incidenceAngle"] = {
        "type": "integer",
        "title": "Maximum incidence angle (°)" if is_sar else "Maximum off-nadir angle (°)",
        "description": (
            f"Radar incidence angle, {sensor.min_off_nadir}–{sensor.max_off_nadir}° for {sensor.name}."
            if is_sar
            else f"Angle between the ground normal and the look direction; lower is sharper "
            f"({sensor.name}: up to {sensor.max_off_nadir}°)."
        ),
        "minimum": sensor.min_off_nadir,
        "maximum": sensor.max_off_nadir,
        "default": sensor.max_off_nadir if is_sar else min(30, sensor.max_off_nadir),
    }
    if sensor.processing_levels:
        props["geometricProcessing"] = {
            "type": "string",
            "title": "Product type" if is_sar else "Geometric processing",
            "default": sensor.processing_levels[-1],
            **_choices(sensor.processing_levels),
        }
    if sensor.radiometric_processing:
        props["radiometricProcessing"] = {
            "type": "string",
            "title": "Radiometric processing",
            "default": sensor.radiometric_processing[0],
            **_choices(sensor.radiometric_processing),
        }
    if sensor.spectral_bundles:
        props["spectralProcessing"] = {
            "type": "string",
            "title": "Polarisation" if is_sar else "Spectral bands",
            "default": sensor.spectral_bundles[0],
            **_choices(sensor.spectral_bundles),
        }
    props["deliveredAs"] = {
        "type": "string",
        "title": "File format",
        "default": sensor.file_formats[0],
        **_choices(sensor.file_formats),
    }
    if sensor.pixel_codings:
        props["pixelCoding"] = {
            "type": "string",
            "title": "Pixel coding",
            "default": sensor.pixel_codings[0],
            **_choices(sensor.pixel_codings),
        }
    if sensor.projections:
        props["projection"] = {
            "type": "integer",
            "title": "Projection",
            "description": "EPSG code of the delivered imagery.",
            "default": sensor.projections[0],
            **_choices(sensor.projections, _EPSG_NAMES),
        }
    props["datum"] = {
        "type": "string",
        "title": "Datum",
        "default": sensor.datums[0],
        **_choices(sensor.datums),
    }
    props["groundControl"] = {
        "type": "boolean",
        "title": "Use ground control points",
        "description": "Orthorectify against ground control for better absolute accuracy.",
        "default": False,
    }
    props["extraDescription"] = {
        "type": "string",
        "title": "Notes for the tasking team",
        "description": "Anything the provider should know (access windows, targets of interest).",
        "maxLength": 2000,
        "x-widget": "textarea",
    }
    props["geometry"] = {
        "type": "object",
        "title": "Area of interest",
        "description": "GeoJSON Polygon or MultiPolygon in WGS 84; drawn on the map and validated separately.",
        "required": ["type", "coordinates"],
        "properties": {"type": {"enum": ["Polygon", "MultiPolygon"]}, "coordinates": {"type": "array"}},
        "x-widget": "map",
    }
    data_product = product.data_product
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://api.geopera.com/schemas/tasking/{data_product.id}.json",
        "title": f"{data_product.name}: tasking parameters",
        "description": f"Order-form parameters for {data_product.name} on {sensor.name} ({sensor.operator}). "
        f"Feasibility is {sensor.get_feasibility_display().lower()}.",
        "type": "object",
        "required": ["displayName", "acquisitionStart", "acquisitionEnd"],
        "properties": props,
        "additionalProperties": False,
        "x-geopera": {
            "dataProductId": data_product.id,
            "sensor": sensor.id,
            "sensorType": sensor.sensor_type,
            "feasibility": sensor.feasibility,
            "creditsPerKm2": data_product.credits_per_km2,
            "minAreaKm2": data_product.min_area_km2,
            "maxAreaKm2": data_product.max_area_km2,
        },
    }


# --- (c) validation ------------------------------------------------------------------------------


def _enum_values(prop: dict[str, Any]) -> list[Any]:
    if "enum" in prop:
        return list(prop["enum"])
    return [c["const"] for c in prop.get("oneOf", []) if "const" in c]


def _message(error: Any, schema: dict[str, Any]) -> tuple[str, str, str]:
    """(field, message, type) for a jsonschema error, in words that name the field."""
    path = list(error.absolute_path)
    name = str(path[0]) if path else ""
    prop = schema["properties"].get(name, {})
    v = error.validator
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return missing, f"{missing} is required.", "missing"
    if v == "additionalProperties":
        extras = sorted(set(error.instance) - set(schema["properties"]))
        extra = extras[0] if extras else name
        return extra, f"{extra} is not a parameter of this data product.", "extra_forbidden"
    if v in ("oneOf", "enum", "const"):
        allowed = ", ".join(map(str, _enum_values(prop)))
        return name, f"{name} must be one of: {allowed} (got {error.instance!r}).", "enum"
    if v == "minimum":
        return (
            name,
            f"{name} must be at least {error.validator_value} (got {error.instance}).",
            "greater_than_equal",
        )
    if v == "maximum":
        return (
            name,
            f"{name} must be at most {error.validator_value} (got {error.instance}).",
            "less_than_equal",
        )
    if v == "type":
        kind = {
            "integer": "a whole number",
            "number": "a number",
            "string": "text",
            "boolean": "true or false",
        }
        expected = kind.get(str(error.validator_value), str(error.validator_value))
        return name, f"{name} must be {expected}.", f"type_error.{error.validator_value}"
    if v == "minLength":
        return name, f"{name} must not be empty.", "string_too_short"
    if v == "maxLength":
        return name, f"{name} must be at most {error.validator_value} characters.", "string_too_long"
    return name or "params", f"{name or 'params'}: {error.message}", f"value_error.{v}"


def _parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value.strip().replace("z", "Z"))
    if parsed is None or timezone.is_naive(parsed):
        return None
    return parsed


def params_validate(
    *, product: TaskingProduct, params: dict[str, Any], partial: bool = False
) -> dict[str, Any]:
    """Validate tasking `params` against the product's schema; return them with defaults filled in.
    `partial=True` (feasibility checks, pass predictions, the request page's live check: params
    that are still being filled in) checks every field given by the same rules, but none is required.

    Raises InvalidInput(status=422) whose `errors` are [{"loc": ["body", "params", field], "msg",
    "type"}] — one per offending field, each message naming the field: bounds, enums, types, unknown
    parameters, date-times that are not ISO 8601 with a timezone, an end not after the start (or a
    window shorter than the sensor's minimum), an end already in the past.
    """
    schema = product_schema(product)
    if not isinstance(params, dict):
        raise InvalidInput(
            "params must be an object.",
            status=422,
            errors=[
                {"loc": ["body", "params"], "msg": "params must be a JSON object.", "type": "type_error.dict"}
            ],
        )
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for error in sorted(
        Draft202012Validator(schema).iter_errors(params), key=lambda e: list(e.absolute_path)
    ):
        if partial and error.validator == "required":
            continue
        field_name, msg, type_ = _message(error, schema)
        if field_name in seen:
            continue
        seen.add(field_name)
        errors.append({"loc": ["body", "params", field_name], "msg": msg, "type": type_})
    # jsonschema only annotates "format" unless a format checker (and rfc3339-validator) is present:
    # the date-times are checked here, with the window rules that need both ends anyway.
    start = _parse_instant(params.get("acquisitionStart"))
    end = _parse_instant(params.get("acquisitionEnd"))
    for name, parsed in (("acquisitionStart", start), ("acquisitionEnd", end)):
        if name in params and parsed is None and name not in seen:
            seen.add(name)
            errors.append(
                {
                    "loc": ["body", "params", name],
                    "msg": f"{name} must be an ISO 8601 date-time with a timezone, e.g. 2026-12-01T00:00:00Z.",
                    "type": "datetime_parsing",
                }
            )
    if start and end and "acquisitionEnd" not in seen:
        min_days = product.sensor.min_window_days
        if end <= start:
            errors.append(
                {
                    "loc": ["body", "params", "acquisitionEnd"],
                    "msg": "acquisitionEnd must be after acquisitionStart.",
                    "type": "value_error.date_order",
                }
            )
        elif end - start < timedelta(days=min_days):
            errors.append(
                {
                    "loc": ["body", "params", "acquisitionEnd"],
                    "msg": f"acquisitionEnd must be at least {min_days} days after acquisitionStart for "
                    f"{product.sensor.name}.",
                    "type": "value_error.window_too_short",
                }
            )
        elif end <= timezone.now():
            errors.append(
                {
                    "loc": ["body", "params", "acquisitionEnd"],
                    "msg": "acquisitionEnd is in the past; choose a window that has not ended.",
                    "type": "value_error.past",
                }
            )
    if errors:
        raise InvalidInput(
            "The tasking parameters are not valid for this product: " + " ".join(e["msg"] for e in errors),
            status=422,
            errors=errors,
        )
    out = dict(params)
    for name, prop in schema["properties"].items():
        if name not in out and "default" in prop:
            out[name] = prop["default"]
    return out


# --- (b) form rendering --------------------------------------------------------------------------


@dataclass
class FormField:
    """One form control derived from one schema property (what _params_form.html renders)."""

    name: str
    title: str
    widget: str  # text | textarea | number | select | checkbox | datetime
    description: str = ""
    required: bool = False
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    minimum: Any = None
    maximum: Any = None
    max_length: int | None = None
    error: str = ""

    @property
    def str_value(self) -> str:
        return "" if self.value is None else str(self.value)


def _datetime_local(value: Any) -> str:
    """An ISO date-time as the value of <input type=datetime-local> (UTC, minutes)."""
    parsed = _parse_instant(value) if isinstance(value, str) else value
    if isinstance(parsed, datetime):
        return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    return ""


def schema_form_fields(
    schema: dict[str, Any], values: dict[str, Any] | None = None, errors: list[dict[str, Any]] | None = None
) -> list[FormField]:
    """Form controls for every property of `schema` (skipping map-drawn ones), filled from `values`
    (else the schema default) and carrying the per-field error messages of a 422."""
    values = values or {}
    by_field: dict[str, str] = {}
    for e in errors or []:
        loc = e.get("loc") or []
        if loc:
            by_field.setdefault(str(loc[-1]), e.get("msg", ""))
    required = set(schema.get("required", []))
    out: list[FormField] = []
    for name, prop in schema["properties"].items():
        if prop.get("x-widget") == "map":
            continue
        value = values.get(name, prop.get("default"))
        f = FormField(
            name=name,
            title=prop.get("title", name),
            widget="text",
            description=prop.get("description", ""),
            required=name in required,
            value=value,
            minimum=prop.get("minimum"),
            maximum=prop.get("maximum"),
            max_length=prop.get("maxLength"),
            error=by_field.get(name, ""),
        )
        if "oneOf" in prop or "enum" in prop:
            f.widget = "select"
            f.options = (
                [(str(c["const"]), c.get("title", str(c["const"]))) for c in prop["oneOf"]]
                if "oneOf" in prop
                else [(str(v), str(v)) for v in prop["enum"]]
            )
        elif prop.get("type") == "boolean":
            f.widget = "checkbox"
        elif prop.get("type") in ("integer", "number"):
            f.widget = "number"
        elif prop.get("format") == "date-time":
            f.widget = "datetime"
            f.value = _datetime_local(value) if value else ""
        elif prop.get("x-widget") == "textarea":
            f.widget = "textarea"
        out.append(f)
    return out


def params_from_form(schema: dict[str, Any], data: Any) -> dict[str, Any]:
    """Turn submitted form data (a QueryDict) into params typed as the schema says. Values that do
    not convert are passed through as text so params_validate names the field."""
    params: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        if prop.get("x-widget") == "map":
            continue
        kind = prop.get("type")
        if kind == "boolean":
            params[name] = data.get(name) in ("on", "true", "1", "True")
            continue
        raw = data.get(name)
        if raw is None or raw == "":
            continue
        if kind == "integer":
            try:
                params[name] = int(raw)
            except ValueError:
                params[name] = raw
        elif kind == "number":
            try:
                params[name] = float(raw)
            except ValueError:
                params[name] = raw
        elif prop.get("format") == "date-time":
            # <input type=datetime-local> has no zone: the form is in UTC (its label says so).
            text = raw if len(raw) > 16 else f"{raw}:00"
            params[name] = text if _parse_instant(text) else f"{text}Z"
        else:
            params[name] = raw
    return params


# --- templates <-> params ------------------------------------------------------------------------


def default_window(product: TaskingProduct, *, now: datetime | None = None) -> tuple[str, str]:
    """An "as soon as possible" acquisition window: from now (to the minute) for 30 days, or the
    sensor's minimum window if longer. ISO 8601 UTC strings."""
    start = (now or timezone.now()).astimezone(UTC).replace(second=0, microsecond=0)
    end = start + timedelta(days=max(product.sensor.min_window_days, 30))
    return start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z")


def template_params(template: Any, product: TaskingProduct, *, now: datetime | None = None) -> dict[str, Any]:
    """Params a template prefills on the tasking form for `product` (only those the schema has)."""
    now = now or timezone.now()
    schema = product_schema(product)
    props = schema["properties"]
    params: dict[str, Any] = {
        "resolution": template.resolution,
        "captureFrequency": template.capture_frequency,
        "cloudCoverage": template.max_cloud_coverage,
        "incidenceAngle": template.max_nadir_angle,
        "deliveredAs": template.file_format,
        "datum": template.datum,
        "groundControl": template.has_control,
    }
    if template.capture_asap:
        params["acquisitionStart"], params["acquisitionEnd"] = default_window(product, now=now)
    return {k: v for k, v in params.items() if k in props}


def template_fields_from_params(*, sensor: Sensor, params: dict[str, Any]) -> dict[str, Any]:
    """Template fields from tasking params (e.g. an order's), for "Save as template"."""
    return {
        "sensor": sensor.id,
        "resolution": params.get("resolution") or (sensor.resolutions[0] if sensor.resolutions else ""),
        "capture_frequency": params.get("captureFrequency") or "ONCE",
        "datum": params.get("datum") or (sensor.datums[0] if sensor.datums else ""),
        "file_format": params.get("deliveredAs") or (sensor.file_formats[0] if sensor.file_formats else ""),
        "max_cloud_coverage": int(params.get("cloudCoverage") or 0),
        "max_nadir_angle": int(params.get("incidenceAngle") or sensor.min_off_nadir),
        "has_control": bool(params.get("groundControl", False)),
        "capture_asap": True,
    }
