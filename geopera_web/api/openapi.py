"""The OpenAPI 3.1 document this server serves, built from the operation registry.

Input schemas are derived from each operation's DRF serializer, whose class name is the
reference's component name (e.g. `ArchiveEstimateInput`), so the field names are the reference's.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.http import HttpRequest
from rest_framework import fields as f
from rest_framework import serializers

from .fields import JSONSchemaField
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


def _error_statuses() -> dict[str, str]:
    """The error responses every operation may give, with the limits (named settings, read when
    the document is built) that lead to them."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["principal"]
    return {
        "400": "Bad Request (malformed JSON, JSON nested deeper than "
        f"{settings.API_MAX_JSON_DEPTH} levels (setting `API_MAX_JSON_DEPTH`), unusable input such as "
        "an invalid geometry)",
        "401": "Unauthorized",
        "402": "Payment Required",
        "403": "Forbidden (missing scope, API key on a person-only operation, role)",
        "404": "Not Found (unknown operation, or an object named by id that does not exist or is not the "
        "caller's)",
        "409": "Conflict (state, or Idempotency-Key reuse)",
        "410": "Gone (expired)",
        "413": f"Payload Too Large: a body over {settings.API_MAX_BODY_BYTES:,} bytes (setting "
        "`API_MAX_BODY_BYTES`), refused before it is read",
        "429": f"Too Many Requests: over {rate} per API key or user (setting `API_RATE_LIMIT`), or over "
        "the key's own `rate_limit` per minute; `Retry-After` says when to retry",
        "500": "Internal Server Error",
    }


def _limits_text() -> str:
    s = settings
    return (
        "\n\n**Limits** (each a setting of the server, named here with its value; exceeding one is the "
        "problem named): request body "
        f"{s.API_MAX_BODY_BYTES:,} bytes (`API_MAX_BODY_BYTES`, 413); JSON nesting {s.API_MAX_JSON_DEPTH} "
        f"levels (`API_MAX_JSON_DEPTH`, 400); {s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['principal']} "
        "per API key or user (`API_RATE_LIMIT`, 429 with `Retry-After`); "
        f"{s.GEOMETRY_MAX_VERTICES:,} vertices per geometry (`GEOMETRY_MAX_VERTICES`) and "
        f"{s.GEOMETRY_MAX_FEATURES} features per FeatureCollection (`GEOMETRY_MAX_FEATURES`), 422, counted "
        f"before the geometry is built; {s.TASKING_PREDICTION_MAX_FEATURE_DAYS} areas × window days per "
        "feasibility_check / opportunities_list request (`TASKING_PREDICTION_MAX_FEATURE_DAYS`, 422); "
        f"catalog.search pages of at most {s.CATALOG_SEARCH_MAX_LIMIT} (`CATALOG_SEARCH_MAX_LIMIT`); "
        f"catalog.search_stream {s.CATALOG_STREAM_DEFAULT_ITEMS:,} items by default "
        f"(`CATALOG_STREAM_DEFAULT_ITEMS`), at most {s.CATALOG_STREAM_MAX_ITEMS:,} "
        f"(`CATALOG_STREAM_MAX_ITEMS`); at most {s.CATALOG_SEARCH_MAX_IDS:,} `ids` "
        f"(`CATALOG_SEARCH_MAX_IDS`) and {s.CATALOG_SEARCH_MAX_COLLECTIONS} `collections` "
        "(`CATALOG_SEARCH_MAX_COLLECTIONS`), 422. Page sizes, list lengths and string lengths are the "
        "`maximum`, `maxItems` and `maxLength` of each schema."
    )


# OpenAPI links: what a response's ids open (so generated clients and schemathesis's stateful
# phase can follow them). source operation -> [(target operation, {target body field: pointer into
# the source's response body})].
_ORDER_BY_ID = [
    "orders.get",
    "orders.update",
    "orders.cancel",
    "orders.list_assets",
    "orders.coverage.get",
    "orders.coverage.groups.list",
    "orders.tasking.groups.list",
]
_SUBSCRIPTION_BY_ID = [
    "event_subscriptions.get",
    "event_subscriptions.update",
    "event_subscriptions.test",
    "event_subscriptions.rotate_secret",
    "event_subscriptions.replay",
    "event_subscriptions.delete",
]
_PROJECT_BY_ID = [
    "projects.update",
    "projects.archive",
    "projects.add_member",
    "projects.delete",
]
LINKS: dict[str, list[tuple[str, dict[str, str]]]] = {
    **{
        source: [(target, {"order_id": "/id"}) for target in _ORDER_BY_ID]
        for source in (
            "orders.archive.place",
            "orders.place",
            "orders.tasking.place",
            "orders.get",
            "orders.update",
        )
    },
    "orders.list": [("orders.get", {"order_id": "/content/0/id"})],
    "api_keys.create": [("api_keys.revoke", {"key_id": "/id"})],
    "api_keys.list": [("api_keys.revoke", {"key_id": "/keys/0/id"})],
    "event_subscriptions.create": [(t, {"subscription_id": "/id"}) for t in _SUBSCRIPTION_BY_ID],
    "event_subscriptions.get": [(t, {"subscription_id": "/id"}) for t in _SUBSCRIPTION_BY_ID],
    "event_subscriptions.list": [("event_subscriptions.get", {"subscription_id": "/subscriptions/0/id"})],
    "projects.create": [
        *[(t, {"project_id": "/id"}) for t in _PROJECT_BY_ID],
        ("orders.policies.update", {"workspaceId": "/id"}),
        ("orders.list", {"workspaceId": "/id"}),
    ],
    "projects.list": [(t, {"project_id": "/projects/0/id"}) for t in _PROJECT_BY_ID],
    "projects.add_member": [
        ("projects.update_member", {"project_id": "/project_id", "user_id": "/user_id"}),
        ("projects.remove_member", {"project_id": "/project_id", "user_id": "/user_id"}),
    ],
    "notifications.list": [
        ("notifications.mark_read", {"notification_id": "/notifications/0/id"}),
        ("notifications.dismiss", {"notification_id": "/notifications/0/id"}),
    ],
    "orders.approvals.list": [("orders.approvals.decide", {"approval_id": "/items/0/id"})],
    "orders.tasking.series.get": [("orders.tasking.series.cancel", {"series_id": "/id"})],
    "orders.tasking.templates.save": [
        ("orders.tasking.templates.delete", {"template_id": "/id"}),
        ("orders.tasking.templates.save", {"id": "/id"}),
    ],
    "orders.tasking.templates.list": [
        ("orders.tasking.templates.delete", {"template_id": "/templates/0/id"})
    ],
}


def _links(op: Operation) -> dict[str, Any]:
    return {
        target.replace(".", "_"): {
            "operationId": target,
            "requestBody": {name: f"$response.body#{pointer}" for name, pointer in body.items()},
            "description": f"{target} of this response's {', '.join(body)}.",
        }
        for target, body in LINKS.get(op.id, [])
    }


_CHAR = "[^\\u0000]"
_STRING = f"^{_CHAR}*$"
_NON_BLANK_STRING = f"^{_CHAR}*[^\\s\\u0000]{_CHAR}*$"
NON_BLANK_STRING = _NON_BLANK_STRING  # for serializers' `openapi_schema_extra`


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
        if getattr(field, "allow_blank", False) and "" not in schema["enum"]:
            schema["enum"].append("")
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
    elif isinstance(field, JSONSchemaField):
        schema = copy.deepcopy(field.json_schema)
    elif isinstance(field, f.DictField | f.JSONField | f.HStoreField):
        schema = {"type": "object"}
        if request:
            # Its members are the caller's; a key (like every string in a body) holds no NUL.
            schema["propertyNames"] = {"pattern": _STRING}
            child = getattr(field, "child", None)
            if child is not None and not isinstance(child, f._UnvalidatedField):
                schema["additionalProperties"] = field_schema(child, components, request=request)
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
        # Rules across fields, stated by the serializer beside the code that enforces them.
        components[name].update(copy.deepcopy(getattr(serializer, "openapi_schema_extra", {})))
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
    links = _links(op) if not alias else {}
    obj["responses"] = {
        str(op.success_status): {
            "description": "Successful Response",
            **({"links": links} if links else {}),
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
    for status, text in _error_statuses().items():
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
            "`application/problem+json`; request validation failures are 422 `HTTPValidationError`. "
            "No string in a body, keys included, may hold a NUL (U+0000)." + _limits_text(),
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
