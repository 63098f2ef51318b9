"""RFC 7807 problem+json for every error under /v1 (and /stac), and 422 in the
HTTPValidationError shape for request validation failures."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions as drf

from geopera_web.db.availability import (
    DATABASE_RETRY_AFTER_SECONDS,
    Unavailable,
    database_unavailability,
    database_used_since_request_start,
)
from geopera_web.errors import ApplicationError

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://api.geopera.com/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    *, status: int, title: str, detail: str, slug: str, instance: str | None = None, **extra: Any
) -> HttpResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


def validation_response(errors: list[dict[str, Any]]) -> HttpResponse:
    return HttpResponse(
        json.dumps({"detail": errors}, cls=DjangoJSONEncoder), status=422, content_type="application/json"
    )


def drf_errors_to_detail(detail: Any, loc: tuple[Any, ...] = ("body",)) -> list[dict[str, Any]]:
    """Flatten DRF's nested error structure into HTTPValidationError items (`loc`, `msg`, `type`)."""
    out: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = loc if key in ("non_field_errors", "__all__") else (*loc, key)
            out.extend(drf_errors_to_detail(value, sub))
    elif isinstance(detail, list):
        if detail and all(isinstance(d, str) for d in detail):
            for d in detail:
                out.append(
                    {"loc": list(loc), "msg": str(d), "type": getattr(d, "code", None) or "value_error"}
                )
        else:
            for i, value in enumerate(detail):
                if value:
                    out.extend(drf_errors_to_detail(value, (*loc, i)))
    elif detail:
        out.append(
            {"loc": list(loc), "msg": str(detail), "type": getattr(detail, "code", None) or "value_error"}
        )
    return out


def application_error_response(exc: ApplicationError, request: HttpRequest | None = None) -> HttpResponse:
    if exc.status == 422 and "errors" in exc.extra:
        return validation_response(exc.extra["errors"])
    return problem_response(
        status=exc.status,
        title=exc.title,
        detail=exc.detail,
        slug=exc.slug,
        instance=request.path if request is not None else None,
        **exc.extra,
    )


_DRF_MAP: dict[type, tuple[str, str]] = {
    drf.ParseError: ("Bad Request", "malformed-request"),
    drf.NotAuthenticated: ("Unauthorized", "unauthorized"),
    drf.AuthenticationFailed: ("Unauthorized", "unauthorized"),
    drf.PermissionDenied: ("Forbidden", "forbidden"),
    drf.NotFound: ("Not Found", "not-found"),
    drf.MethodNotAllowed: ("Method Not Allowed", "method-not-allowed"),
    drf.NotAcceptable: ("Not Acceptable", "not-acceptable"),
    drf.UnsupportedMediaType: ("Unsupported Media Type", "unsupported-media-type"),
    drf.Throttled: ("Too Many Requests", "rate-limited"),
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """DRF's EXCEPTION_HANDLER: every refusal becomes problem+json with the right status."""
    request = context.get("request")
    path = request.path if request is not None else None
    if isinstance(exc, ApplicationError):
        return application_error_response(exc, request)
    if isinstance(exc, drf.ValidationError):
        return validation_response(drf_errors_to_detail(exc.detail))
    if isinstance(exc, Http404):
        return problem_response(
            status=404, title="Not Found", detail="Not found.", slug="not-found", instance=path
        )
    if isinstance(exc, drf.APIException):
        title, slug = _DRF_MAP.get(type(exc), ("Error", "error"))
        detail = str(exc.detail)
        if isinstance(exc, drf.ParseError):
            detail = f"The request body is not valid JSON: {exc.detail}"
            if "Out of range float" in detail:
                detail += (
                    ". NaN and Infinity are not JSON numbers: every number (a coordinate too) must be finite."
                )
        response = problem_response(
            status=exc.status_code, title=title, detail=detail, slug=slug, instance=path
        )
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            response["Retry-After"] = str(int(exc.wait) + 1)
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
        return response
    return None


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def nothing_was_changed(request: HttpRequest, kind: Unavailable) -> bool:
    """May we tell the client nothing was changed? Only when no statement reached the database
    (the failure was at connect time, before the request ran any) or the method cannot change
    anything. A connection lost under a POST may have cut a COMMIT that landed; a connect refused
    after the request's first steps committed on a connection since lost changed something."""
    if request.method in _SAFE_METHODS:
        return True
    return kind is Unavailable.CONNECT and not database_used_since_request_start()


def database_unavailable_response(request: HttpRequest, kind: Unavailable) -> HttpResponse:
    """503 + Retry-After while the database is unreachable: problem+json under /v1 and /stac, a
    plain page (rendered without the request: no context processor may query the database)
    elsewhere. It says "nothing was changed" only when that is known to be true."""
    unchanged = nothing_was_changed(request, kind)
    if is_api_path(request.path):
        if unchanged:
            detail = (
                "The service is briefly unavailable (its database is not reachable). Nothing was "
                "changed; retry after the number of seconds in Retry-After."
            )
        else:
            detail = (
                "The connection to the database was lost while this request was being processed: "
                "it may or may not have taken effect. Retry after the number of seconds in "
                "Retry-After with the same Idempotency-Key (a keyed request is applied at most "
                "once); without a key, check the outcome before retrying."
            )
        response = problem_response(
            status=503,
            title="Service Unavailable",
            slug="service-unavailable",
            instance=request.path,
            detail=detail,
            outcome="unchanged" if unchanged else "unknown",
        )
    else:
        from django.template.loader import render_to_string

        response = HttpResponse(render_to_string("503.html", {"unchanged": unchanged}), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def is_api_path(path: str) -> bool:
    return path.startswith(("/v1/", "/stac"))


_TITLES = {404: "Not Found", 405: "Method Not Allowed", 400: "Bad Request", 403: "Forbidden"}
_SLUGS = {404: "not-found", 405: "method-not-allowed", 400: "malformed-request", 403: "forbidden"}
_DETAILS = {
    404: "No such endpoint: {path}. The STAC API starts at /stac/; operations are listed at /v1/openapi.json.",
    405: "{method} is not allowed on {path}; allowed: {allow}.",
}


class ApiProblemMiddleware:
    """Under /v1 and /stac, no HTML error page ever: an unexpected exception is a 500 problem
    (logged with its traceback), an unknown URL a 404 problem."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api_path(request.path)
            and response.status_code >= 400
            and not response.streaming
            and (response.get("Content-Type") or "").startswith("text/html")
        ):
            # Django's own pages (the DEBUG 404 page for an unknown URL, an empty 405 from
            # require_GET) never reach an API client as HTML.
            problem = problem_response(
                status=response.status_code,
                title=_TITLES.get(response.status_code, "Error"),
                slug=_SLUGS.get(response.status_code, "error"),
                instance=request.path,
                detail=_DETAILS.get(response.status_code, "The request failed.").format(
                    path=request.path, method=request.method, allow=response.get("Allow", "")
                ),
            )
            if response.has_header("Allow"):
                problem["Allow"] = response["Allow"]
            return problem
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None
        if isinstance(exc, ApplicationError):
            return application_error_response(exc, request)
        if isinstance(exc, Http404):
            return problem_response(
                status=404, title="Not Found", detail="Not found.", slug="not-found", instance=request.path
            )
        if (kind := database_unavailability(exc)) is not None:
            logger.warning("Database unavailable (%s) on %s: %s", kind.value, request.path, exc)
            return database_unavailable_response(request, kind)
        logger.exception("Unhandled error on %s", request.path)
        return internal_error_response(request)


def internal_error_response(request: HttpRequest) -> HttpResponse:
    """The 500 problem. A read changes nothing; a write may have: an operation commits as it goes
    (a step in its own transaction, an after-commit hook that failed once the work was saved), so
    only a safe method may be told that nothing was changed."""
    if request.method in _SAFE_METHODS:
        detail = (
            "Something went wrong on our side. This request only reads, so nothing was changed; "
            "please retry, and contact support if it keeps happening."
        )
    else:
        detail = (
            "Something went wrong on our side while processing this request: it may or may not "
            "have taken effect. Retry with the same Idempotency-Key (a keyed request is applied "
            "at most once); without a key, check the outcome before retrying. Contact support if "
            "it keeps happening."
        )
    return problem_response(
        status=500,
        title="Internal Server Error",
        slug="internal-error",
        instance=request.path,
        detail=detail,
        outcome="unchanged" if request.method in _SAFE_METHODS else "unknown",
    )
