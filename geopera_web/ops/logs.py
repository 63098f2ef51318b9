"""Logs: plain readable lines (`LOG_FORMAT=console`, the default with DEBUG) or one JSON object per
line (`LOG_FORMAT=json`, the default without DEBUG), rendered by structlog's ProcessorFormatter
from ordinary `logging` records, so every library's lines come out in the same format. Each line
carries the request id (`request_id`, "-" outside a request or task): the web's lines of that
request and the worker's lines of every task the request enqueued (see request_id.py).

`AccessLogMiddleware` writes one line per request on the `geopera.request` logger: method, route
(the URL pattern, not the path with its ids), status, duration in ms, org id and principal kind
(`session`, `user_token`, `api_key` or `anonymous`)."""

from __future__ import annotations

import logging
import time
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse

access_logger = logging.getLogger("geopera.request")

LOG_FORMATS = ("console", "json")


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING dict for `log_format` ("console" or "json")."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    formatters: dict[str, Any] = {
        "console": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"},
        "json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(sort_keys=False, default=str),
            ],
            "foreign_pre_chain": [
                structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                structlog.processors.format_exc_info,
            ],
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "geopera_web.ops.request_id.RequestIdFilter"}},
        "formatters": formatters,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }


def principal_kind(request: HttpRequest) -> str:
    """How the caller authenticated: the API's authenticator says so (`principal_kind`), a page
    has a session or nobody."""
    kind = getattr(request, "principal_kind", None)
    if kind:
        return kind
    user = getattr(request, "user", None)
    return "session" if user is not None and user.is_authenticated else "anonymous"


def _org_id(request: HttpRequest) -> str | None:
    principal = getattr(request, "principal", None)
    org = principal.org if principal is not None else getattr(request, "org", None)
    return str(org.pk) if org is not None else None


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unresolved>"
    return "/" + match.route if match.route else match.view_name or "<unnamed>"


class AccessLogMiddleware:
    """One line per request (after the response is made, errors included)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        fields = {
            "method": request.method,
            "route": _route(request),
            "status": response.status_code,
            "duration_ms": duration_ms,
            "org_id": _org_id(request),
            "principal": principal_kind(request),
        }
        access_logger.info(
            "%s %s %s %sms", fields["method"], fields["route"], fields["status"], duration_ms, extra=fields
        )
        return response
