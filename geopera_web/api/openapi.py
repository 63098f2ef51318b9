"""The OpenAPI 3.1 document this server serves, built from the operation registry.

Input schemas are derived from each operation's DRF serializer, whose class name is the
reference's component name (e.g. `ArchiveEstimateInput`), so the field names are the reference's.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.http import HttpRequest
from rest_framework import fields as f
from rest_framework import serializers

from .registry import Effect, Operation, all_operations

PROBLEM_SCHEMA: dict[str, Any] = {
    "description": "RFC 7807 problem detail object. Extension members (e.g. `current_status`, "
    "`client_secret`, `required_scope`) carry machine-readable context.",
    "type": "object",
    "required": ["title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "default": "about:blank",
            "description": "A URI reference identifying the problem type.",
        },
        "title": {"type": "string", "description": "A short, human-readable summary of the problem type."},
        "status": {"type": "integer", "description": "The HTTP status code generated for this occurrence."},
        "detail": {
            "type": "string",
            "description": "A human-readable explanation specific to this occurrence.",
        },
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
VALIDATION_SCHEMAS: dict[str, Any] = {
    "ValidationError": {
        "type": "object",
        "required": ["loc", "msg", "type"],
        "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
    },
    "HTTPValidationError": {
        "type": "object",
        "properties": {
            "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
        },
    },
}

_ERROR_STATUSES = {
    "400": "Bad Request (malformed JSON, unusable input such as an invalid geometry)",
    "401": "Unauthorized",
    "402": "Payment Required",
    "403": "Forbidden (missing scope, API key on a person-only operation, role)",
    "404": "Not Found (unknown operation, or an object that is not the caller's)",
    "409": "Conflict (state, or Idempotency-Key reuse)",
    "410": "Gone (expired)",
    "429": "Too Many Requests",
    "500": "Internal Server Error",
}


_CHAR = "[^\\u0000]"
_STRING = f"^{_CHAR}*$"
_NON_BLANK_STRING = f"^{_CHAR}*[^\\s\\u0000]{_CHAR}*$"


def _array_bounds(field: f.ListField | serializers.ListSerializer, schema: dict[str, Any]) -> None:
    min_items = field.min_length or 0
    if not getattr(field, "allow_empty", True):
        min_items = max(min_items, 1)
    if min_items:
        schema["minItems"] = min_items
    if field.max_length is not None:
        schema["maxItems"] = field.max_length


def field_schema(field: f.Field, components: dict[str, Any], *, request: bool = False) -> dict[str, Any]:
    """The JSON Schema of one serializer field. `request`: it is read from a request, so the rules
    the server enforces on input (non-blank, no NUL, list bounds) are declared too."""
    schema: dict[str, Any]
    if isinstance(field, serializers.ListSerializer):
        schema = {"type": "array", "items": serializer_ref(field.child, components, request=request)}
        if request:
            _array_bounds(field, schema)
    elif isinstance(field, serializers.Serializer):
        schema = serializer_ref(field, components, request=request)
    elif isinstance(field, f.ChoiceField):
        schema = {"type": "string", "enum": [str(c) for c in field.choices]}
    elif isinstance(field, f.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, f.IntegerField):
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
    elif isinstance(field, f.FloatField | f.DecimalField):
        schema = {"type": "number"}
        if getattr(field, "min_value", None) is not None:
            schema["minimum"] = field.min_value
        if getattr(field, "max_value", None) is not None:
            schema["maximum"] = field.max_value
    elif isinstance(field, f.UUIDField):
        schema = {"type": "string", "format": "uuid"}
    elif isinstance(field, f.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, f.DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, f.ListField):
        schema = {"type": "array", "items": field_schema(field.child, components, request=request)}
        if request:
            _array_bounds(field, schema)
    elif isinstance(field, f.DictField | f.JSONField | f.HStoreField):
        schema = {"type": "object"}
    elif isinstance(field, f.CharField):
        schema = {"type": "string"}
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        if field.min_length is not None:
            schema["minLength"] = field.min_length
        if request:
            # DRF refuses NUL in every string and, trimming whitespace, a string that is only
            # whitespace where blank is not allowed: minLength and the pattern say exactly that.
            if not field.allow_blank:
                schema["minLength"] = max(field.min_length or 0, 1)
            schema["pattern"] = (
                _STRING if field.allow_blank or not field.trim_whitespace else _NON_BLANK_STRING
            )
            if isinstance(field, f.RegexField):
                # The field's own expression is the rule.
                regex = next(v.regex for v in field.validators if isinstance(v, RegexValidator))
                schema["pattern"] = f"^$|{regex.pattern}" if field.allow_blank else regex.pattern
    else:
        schema = {}
    if field.help_text:
        schema["description"] = str(field.help_text)
    if field.default is not f.empty and not callable(field.default):
        schema["default"] = field.default
    if getattr(field, "allow_null", False):
        schema = {
            "anyOf": [schema, {"type": "null"}],
            **({"default": schema.pop("default")} if "default" in schema else {}),
        }
    return schema


def serializer_ref(
    serializer: serializers.Serializer, components: dict[str, Any], *, request: bool = False
) -> dict[str, Any]:
    name = type(serializer).__name__
    if name not in components:
        components[name] = {}  # placeholder against recursion
        props: dict[str, Any] = {}
        required: list[str] = []
        for field_name, field in serializer.fields.items():
            if field.read_only:
                continue
            props[field_name] = field_schema(field, components, request=request)
            if field.required:
                required.append(field_name)
        components[name] = {"type": "object", "title": name, "properties": props}
        if required:
            components[name]["required"] = required
        if serializer.__doc__:
            components[name]["description"] = serializer.__doc__.strip()
    return {"$ref": f"#/components/schemas/{name}"}


def _operation_object(op: Operation, components: dict[str, Any], *, alias: bool) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "tags": list(op.tags),
        "summary": op.summary,
        "operationId": f"{op.id}.route" if alias else op.id,
        "description": (
            (op.description + "\n\n" if op.description else "")
            + f"Scope `{op.scope}`; side-effect **{op.effect}**."
            + (" API keys are refused: a person must run it." if op.user_only else "")
            + (f" Also at `POST {op.op_path}`." if alias else f" Also at `POST {op.route}`.")
        ),
        "security": [{"HTTPBearer": []}, {"apiKeyBearer": []}, {"apiKeyHeader": []}],
        "parameters": [
            {
                "name": "x-api-key",
                "in": "header",
                "required": False,
                "schema": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
        ],
        "x-required-scope": op.scope,
        "x-side-effect": str(op.effect),
    }
    if op.accepts_idempotency_key:
        obj["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Claims (org, operation, key): a retry within 24 h replays the first response; "
                "the same key with another body is 409.",
                "schema": {"type": "string", "maxLength": 255},
            }
        )
    body_schema = (
        serializer_ref(op.input(), components, request=True)
        if op.input
        else {"anyOf": [{"type": "object"}, {"type": "null"}], "title": "Body"}
    )
    # Required exactly when the server refuses a missing body: when the input has a required field
    # (an input whose fields are all optional treats no body as `{}`).
    body_required = op.input is not None and any(f.required for f in op.input().fields.values())
    obj["requestBody"] = {
        "required": body_required,
        "content": {"application/json": {"schema": body_schema}},
    }
    success_schema = serializer_ref(op.output(), components) if op.output else {}
    obj["responses"] = {
        str(op.success_status): {
            "description": "Successful Response",
            "content": {
                media: {"schema": success_schema if media == "application/json" else {}}
                for media in op.response_types
            },
        },
        "422": {
            "description": "Validation Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
        },
    }
    for status, text in _ERROR_STATUSES.items():
        if status == "402" and op.effect != Effect.SPEND:
            continue
        obj["responses"][status] = {
            "description": text,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return obj


def build_openapi(request: HttpRequest | None = None) -> dict[str, Any]:
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA, **VALIDATION_SCHEMAS}
    paths: dict[str, Any] = {}
    for op in all_operations():
        paths[op.op_path] = {"post": _operation_object(op, components, alias=False)}
        paths[op.route] = {"post": _operation_object(op, components, alias=True)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "geopera-web operations API",
            "version": "2.1.0",
            "description": "Orders, tasking, catalog search and coverage. Every operation is at "
            "`POST /v1/op/{operation_id}` and at its resource route. Errors are RFC 7807 "
            "`application/problem+json`; request validation failures are 422 `HTTPValidationError`.",
        },
        "servers": [{"url": request.build_absolute_uri("/").rstrip("/") if request else "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "HTTPBearer": {"type": "http", "scheme": "bearer", "description": "A user token (gput_…)."},
                "apiKeyBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (gpra_…) on the Authorization header.",
                },
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
