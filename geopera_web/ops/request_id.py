"""A request id per request: taken from a well-formed incoming `X-Request-ID` (a proxy's) or made
here, returned in the `X-Request-ID` response header, put on every log line of the request
(`%(request_id)s`), and carried in the headers of every Celery task the request enqueues, so the
worker's log lines of that task carry it too."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def request_id_from(raw: str | None) -> str:
    """The caller's id when it is a plain token (8-64 of [A-Za-z0-9._-]), else a new one."""
    return raw if raw and _VALID.match(raw) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id_from(request.headers.get(HEADER))
        request.request_id = rid
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = rid
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (\"-\" outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


@before_task_publish.connect
def _put_request_id_in_task_headers(headers: dict | None = None, **_: Any) -> None:
    rid = request_id_var.get()
    if headers is not None and rid != "-":
        headers.setdefault("request_id", rid)


@task_prerun.connect
def _take_request_id_from_task(task: Any = None, **_: Any) -> None:
    rid = getattr(task.request, "request_id", None) if task is not None else None
    request_id_var.set(request_id_from(rid) if rid else "-")


@task_postrun.connect
def _forget_request_id(**_: Any) -> None:
    request_id_var.set("-")
