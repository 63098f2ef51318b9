"""Bounded work per request: body-size limits checked before anything parses the body, and
fixed-window rate limits for pages and public endpoints that DRF's throttles do not cover.

- `RequestBodyLimitMiddleware` answers 413 from `CONTENT_LENGTH` alone (the body is never read),
  `API_MAX_BODY_BYTES` under /v1 and /stac, `PAGE_MAX_BODY_BYTES` elsewhere (uploads). A chunked body
  (no length up front) is refused with 411 under /v1 and /stac. Django caps every later read at
  the declared length, DRF's parsers included.
- `RateLimitMiddleware` limits the views named in `VIEW_RATE_LIMITS` (URL name -> (who, setting)),
  per signed-in user or per client IP, in the shared Redis cache: 429 with `Retry-After`. If the
  cache is down it lets the request through and logs a warning (a limit must never take the site down).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from geopera_web.api.problems import is_api_path, problem_response
from geopera_web.ops.degrade import cache_or_default
from geopera_web.security import client_ip

logger = logging.getLogger(__name__)


def _too_large(request: HttpRequest, *, size: int | None, limit: int, setting: str) -> HttpResponse:
    said = f"The request body is {size:,} bytes; " if size is not None else ""
    detail = f"{said}the limit is {limit:,} bytes ({setting}). Send less per request."
    if is_api_path(request.path):
        return problem_response(
            status=413, title="Payload Too Large", detail=detail, slug="payload-too-large", limit=limit
        )
    return _page_error(request, status=413, title="Too large", detail=detail)


def _page_error(request: HttpRequest, *, status: int, title: str, detail: str) -> HttpResponse:
    if request.headers.get("HX-Request") == "true":
        response = render(
            request, "_partials/toast.html", {"level": "error", "message": detail}, status=status
        )
        response["HX-Retarget"] = "#toasts"
        response["HX-Reswap"] = "beforeend"
        return response
    error = {"status": status, "title": title, "detail": detail}
    return render(request, "error.html", {"error": error}, status=status)


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = is_api_path(request.path)
        limit, setting = (
            (settings.API_MAX_BODY_BYTES, "API_MAX_BODY_BYTES")
            if api
            else (settings.PAGE_MAX_BODY_BYTES, "PAGE_MAX_BODY_BYTES")
        )
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        if raw_length:
            try:
                length = int(raw_length)
            except ValueError:
                length = -1
            if length < 0:
                if api:
                    return problem_response(
                        status=400,
                        title="Bad Request",
                        detail="Content-Length is not a number.",
                        slug="malformed-request",
                    )
                return _page_error(
                    request, status=400, title="Bad request", detail="Content-Length is not a number."
                )
            if length > limit:
                return _too_large(request, size=length, limit=limit, setting=setting)
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and api:
            return problem_response(
                status=411,
                title="Length Required",
                detail=f"Send the body with a Content-Length (at most {limit:,} bytes, {setting}); "
                "chunked request bodies are not accepted.",
                slug="length-required",
                limit=limit,
            )
        return self.get_response(request)


class NulCharacterMiddleware:
    """PostgreSQL text cannot hold NUL (0x00): a `%00` in a query string or a url-encoded form would
    reach a filter or a column and answer 500. Refuse it up front with a 400 that says so (JSON
    bodies are checked by the serializers, uploads are files and may hold any byte)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = None
        if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.META.get("QUERY_STRING", ""):
            where = "query string"
        elif request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            body = request.body  # already bounded by RequestBodyLimitMiddleware; Django keeps it
            if b"%00" in body or b"\x00" in body:
                where = "form"
        if where is None:
            return self.get_response(request)
        detail = f"The {where} contains a NUL character (%00), which no field accepts. Remove it."
        if is_api_path(request.path):
            return problem_response(status=400, title="Bad Request", detail=detail, slug="malformed-request")
        return _page_error(request, status=400, title="Bad request", detail=detail)


# --- rate limits ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """ "30/min", "5/s", "1000/hour", "100/day"."""
        count, _, unit = text.partition("/")
        seconds = {
            "s": 1,
            "sec": 1,
            "second": 1,
            "m": 60,
            "min": 60,
            "minute": 60,
            "h": 3600,
            "hour": 3600,
        }.get(unit.strip().lower(), 86400 if unit.strip().lower() in ("d", "day") else None)
        if seconds is None:
            raise ValueError(f"Unknown rate unit in {text!r}")
        return cls(count=int(count), seconds=seconds)

    def __str__(self) -> str:
        unit = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}[self.seconds]
        return f"{self.count} per {unit}"


def _count_hit(key: str, *, ttl: int) -> int:
    """Add one to the window's counter and make sure it expires, in one MULTI/EXEC: no moment
    exists where the counter is there without its TTL. (Django's `add` then `incr` checked that the
    key exists, then INCRed it in a second command: a key expiring in between was re-created by
    INCR with no TTL, and stayed in Redis for good.) Re-setting the TTL on every hit is harmless:
    the window's number is in the key, so a key outlives its window by at most `ttl`."""
    client = cache._cache.get_client(key, write=True)
    pipe = client.pipeline(transaction=True)
    redis_key = cache.make_and_validate_key(key)
    pipe.incr(redis_key)
    pipe.expire(redis_key, ttl)
    count, _ = pipe.execute()
    return int(count)


def rate_check(*, scope: str, ident: str, rate: Rate) -> int | None:
    """Count one request; None when allowed, else seconds until the window resets. Fails open (and
    logs) when the cache cannot be reached."""
    now = int(time.time())
    window = now // rate.seconds
    key = f"rl:{scope}:{ident}:{window}"
    count = cache_or_default(f"rate limit {scope}", lambda: _count_hit(key, ttl=rate.seconds + 1), None)
    if count is None:  # the cache is down: fail open (logged by degrade)
        return None
    if count <= rate.count:
        return None
    return (window + 1) * rate.seconds - now or 1


def _ident(request: HttpRequest, who: str) -> str:
    user = getattr(request, "user", None)
    if who == "principal" and user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request) or 'unknown'}"


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        match = request.resolver_match
        rule = settings.VIEW_RATE_LIMITS.get(match.view_name) if match else None
        if rule is None:
            return None
        who, setting = rule
        rate = Rate.parse(getattr(settings, setting))
        retry_after = rate_check(scope=match.view_name, ident=_ident(request, who), rate=rate)
        if retry_after is None:
            return None
        per = "per user" if who == "principal" else "per client address"
        detail = f"Too many requests: the limit here is {rate} {per} ({setting}). Retry in {retry_after} s."
        if is_api_path(request.path):
            response = problem_response(
                status=429,
                title="Too Many Requests",
                detail=detail,
                slug="rate-limited",
                limit=rate.count,
                windowSeconds=rate.seconds,
                retryAfter=retry_after,
            )
        else:
            response = _page_error(request, status=429, title="Too many requests", detail=detail)
        response["Retry-After"] = str(retry_after)
        return response
