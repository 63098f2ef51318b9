"""`/healthz` (liveness) and `/readyz` (readiness) on django-health-check.

- `/healthz`: the process answers. No database, no versions, nothing an attacker can learn from.
- `/readyz`: the database, the cache Redis, the broker Redis, a Celery worker heartbeat and a beat
  heartbeat younger than `READY_HEARTBEAT_MAX_AGE_SECONDS`. 200 with every part "ok", else 503 with
  each failed part named (JSON: `{"status": "unavailable", "failed": ["broker"], "checks": {...}}`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness only: answering is the whole check."""
    return HttpResponse("ok\n", content_type="text/plain")


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker answers (a connection and a round trip, bounded by `timeout`)."""

    timeout = datetime.timedelta(seconds=2)

    def run(self) -> None:
        from geopera_web.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, timeout=self.timeout.total_seconds())
                conn.default_channel.client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure to reach it is "unavailable"
            raise ServiceUnavailable(f"broker unreachable ({exc.__class__.__name__})") from exc


@dataclasses.dataclass
class _HeartbeatCheck(HealthCheck):
    component = ""

    def run(self) -> None:
        from .heartbeats import heartbeat_latest, heartbeat_max_age

        try:
            seen = heartbeat_latest(component=self.component)
        except Exception as exc:  # noqa: BLE001 - the database check names the cause
            raise ServiceUnavailable("heartbeats unreadable") from exc
        max_age = heartbeat_max_age()
        if seen is None:
            raise ServiceUnavailable(f"no {self.component} has ever beaten")
        age = timezone.now() - seen
        if age > max_age:
            raise ServiceUnavailable(
                f"last {self.component} heartbeat {age.total_seconds():.0f} s ago "
                f"(READY_HEARTBEAT_MAX_AGE_SECONDS={max_age.total_seconds():.0f})"
            )


@dataclasses.dataclass
class WorkerHeartbeat(_HeartbeatCheck):
    component = "worker"


@dataclasses.dataclass
class BeatHeartbeat(_HeartbeatCheck):
    component = "beat"


# (name in the answer, check) — the names are the "which part failed" of a 503.
READY_CHECKS: tuple[tuple[str, type[HealthCheck], dict], ...] = (
    ("database", Database, {}),
    ("cache", Cache, {"timeout": datetime.timedelta(seconds=2)}),
    ("broker", Broker, {}),
    ("worker", WorkerHeartbeat, {}),
    ("beat", BeatHeartbeat, {}),
)


class ReadyView(HealthCheckView):
    checks = tuple((check, options) for _, check, options in READY_CHECKS)

    async def get(self, request, *args, **kwargs):
        names = [name for name, _, _ in READY_CHECKS if name not in settings.READY_CHECKS_SKIP]
        checks = [check(**options) for name, check, options in READY_CHECKS if name in names]
        with self.get_executor() as executor:
            results = await asyncio.gather(*(check.get_result(executor) for check in checks))
        report = {
            name: ("ok" if not r.error else str(r.error)) for name, r in zip(names, results, strict=True)
        }
        failed = [name for name, r in zip(names, results, strict=True) if r.error]
        body = {"status": "unavailable" if failed else "ok", "failed": failed, "checks": report}
        return JsonResponse(body, status=503 if failed else 200)


readyz = ReadyView.as_view()
