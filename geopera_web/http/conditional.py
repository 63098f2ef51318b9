"""Conditional GET for cacheable public documents (STAC, the OpenAPI document).

The view may set `Last-Modified` (from the data's own timestamps); the ETag is a hash of the
uncompressed body. `If-None-Match` / `If-Modified-Since` then give a 304 with no body (Django's
ConditionalGetMiddleware logic, RFC 9110 precedence). `Cache-Control: no-cache` lets every cache
keep the document but makes it revalidate first, so an import shows at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import conditional_page


def revalidated(*, public: bool = True) -> Callable:
    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        conditional_view = conditional_page(view)

        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            response = conditional_view(request, *args, **kwargs)
            if response.status_code in (200, 304):
                patch_cache_control(response, no_cache=True, **({"public": True} if public else {}))
            return response

        return wrapped

    return decorator


def set_last_modified(response: HttpResponseBase, when: datetime | None) -> None:
    if when is not None:
        response["Last-Modified"] = http_date(when.timestamp())
