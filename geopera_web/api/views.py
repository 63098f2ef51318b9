"""The dispatcher: one view serves every registered operation at both of its routes."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from rest_framework import exceptions as drf
from rest_framework.request import Request
from rest_framework.views import APIView

from geopera_web import jsonbounds
from geopera_web.errors import NotFound, PermissionDenied
from geopera_web.http.conditional import revalidated

from .idempotency import run_idempotent
from .openapi import build_openapi
from .problems import drf_errors_to_detail, validation_response
from .registry import OpContext, Operation, Principal, get_operation, get_operation_by_route
from .strict import json_integral_floats, json_type_errors
from .throttling import PrincipalRateThrottle


def json_response(payload: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(payload, cls=DjangoJSONEncoder), status=status, content_type="application/json"
    )


class OperationView(APIView):
    throttle_classes = [PrincipalRateThrottle]

    @property
    def allowed_methods(self) -> list[str]:
        # What `Allow` advertises is what /v1/openapi.json documents: POST (and CORS's OPTIONS).
        return ["POST", "OPTIONS"]

    def _operation(self, kwargs: dict[str, Any]) -> Operation:
        op_id = kwargs.get("op_id")
        op = get_operation(op_id) if op_id else get_operation_by_route(kwargs.get("route", ""))
        if op is None:
            raise NotFound(
                f"No operation {op_id or kwargs.get('route')!r}. The list of operations is at /v1/openapi.json.",
                slug="unknown-operation",
            )
        return op

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Resolve the operation before authentication so an unknown one is a 404 for everybody.
        self.operation = self._operation(kwargs)
        super().initial(request, *args, **kwargs)

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # An operation that declares other media types (GeoJSON, NDJSON streams) chooses its own
        # response from Accept; DRF, which only knows its JSON renderer, must not 406 it first.
        accept = request.META.get("HTTP_ACCEPT", "")
        declared = any(media in accept for media in self.operation.response_types)
        return super().perform_content_negotiation(request, force=force or declared)

    def post(self, request: Request, **kwargs: Any) -> HttpResponse:
        data = request.data
        if data is None and self.operation.input is None:
            data = {}  # the document allows `null` for an operation without input
        elif hasattr(data, "dict") and not data:
            data = {}  # no body at all
        # A JSON `null` for an operation with an input is refused below (the document says object).
        return self._run(request, data)

    def get(self, request: Request, **kwargs: Any) -> HttpResponse:
        # Every operation is a POST with a JSON body, as /v1/openapi.json declares: a method the
        # document does not declare is a 405, never a second undocumented way in.
        raise drf.MethodNotAllowed(
            "GET",
            detail=f"{self.operation.id} is called with POST and a JSON body (see /v1/openapi.json).",
        )

    @staticmethod
    def refuse_bad_strings(data: Any) -> HttpResponse | None:
        """A 422 naming the field when a string in the body (a key too) holds a NUL or a lone
        surrogate, whatever parsed it (BoundedJSONParser already refuses it for JSON bodies)."""
        try:
            jsonbounds.check_strings(data)
        except jsonbounds.JSONBadString as exc:
            return validation_response(exc.errors())
        except jsonbounds.JSONTooDeep:
            return None  # the parser bounds depth; a body from elsewhere is walked by the serializer
        return None

    def _run(self, request: Request, data: Any) -> HttpResponse:
        op = self.operation
        principal: Principal | None = request.auth
        # For the access log (geopera_web/ops/logs.py): the org and how the caller authenticated.
        request._request.principal = principal
        request._request.principal_kind = getattr(request.successful_authenticator, "principal_kind", None)
        if principal is None:
            raise drf.NotAuthenticated(
                "Authenticate with 'Authorization: Bearer <token or gpra_ API key>' or 'X-API-Key'."
            )
        if op.scope not in principal.scopes:
            raise PermissionDenied(
                f"{op.id} needs the {op.scope} scope, which this credential does not have.",
                slug="missing-scope",
                required_scope=op.scope,
            )
        if op.user_only and principal.is_api_key:
            raise PermissionDenied(
                f"API keys cannot run {op.id}: it spends the organization's money and needs a person "
                "(sign in, or use a user token).",
                slug="api-key-not-allowed",
            )
        if not isinstance(data, dict):
            return validation_response(
                [
                    {
                        "loc": ["body"],
                        "msg": "The request body must be a JSON object.",
                        "type": "type_error.dict",
                    }
                ]
            )
        if not all(issubclass(p, jsonbounds.BoundedJSONParser) for p in self.parser_classes):
            # BoundedJSONParser checked every string while parsing; another parser did not.
            refused = self.refuse_bad_strings(data)
            if refused is not None:
                return refused
        validated: dict[str, Any] = data
        if op.input is not None:
            # JSON bodies are held to the document's types (a form-encoded body is all strings);
            # an integral float (63.0) is an integer, as JSON Schema says.
            # One serializer (its fields are built once, and that is most of DRF's cost here).
            serializer = op.input(data=data)
            is_json = (request.content_type or "").startswith("application/json")
            if is_json:
                wrong_types = json_type_errors(serializer, data, ["body"])
                if wrong_types:
                    return validation_response(wrong_types)
                serializer.initial_data = json_integral_floats(serializer, data)
            if not serializer.is_valid():
                return validation_response(drf_errors_to_detail(serializer.errors))
            validated = dict(serializer.validated_data)
        key = request.headers.get("Idempotency-Key") if op.accepts_idempotency_key else None
        ctx = OpContext(request=request._request, principal=principal, operation=op, idempotency_key=key)

        def execute() -> HttpResponseBase:
            result = op.handler(ctx, validated)
            if isinstance(result, HttpResponseBase):  # streams (StreamingHttpResponse) too
                return result
            return json_response(result, status=op.success_status)

        if key is not None:
            return run_idempotent(org=principal.org, operation=op.id, key=key, body=data, execute=execute)
        return execute()


@require_GET
@revalidated()
def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(build_openapi(request), json_dumps_params={"indent": 1})


@require_GET
def docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html")
