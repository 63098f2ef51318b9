"""What `/metrics` says about the background work: Celery task counts, failures and latency by
task, the broker queue's depth, and the decisions waiting in the inbox.

Tasks run in worker processes, which Prometheus does not scrape; each worker adds what it ran to
counters in Redis (the cache's Redis: one pipelined round trip per task, after the task), and the
web's `/metrics` reads them back through a prometheus_client collector at scrape time, together with
the queue depth (the broker's list length and its unacknowledged count) and the pending decisions
per kind (one COUNT per kind, on the `decision` index). Counters start again at 0 if that Redis
loses its data, which Prometheus treats as a counter reset. Nothing here may fail a task or a
scrape: Redis being away is logged and skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import redis
from celery.signals import task_failure, task_postrun, task_prerun
from django.conf import settings
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# Upper bounds of the task latency histogram, in seconds.
BUCKETS: tuple[float, ...] = (0.05, 0.25, 1.0, 5.0, 30.0, 120.0, 600.0)
_STARTED = "_geopera_metrics_started"
_FAILED = "_geopera_metrics_failed"


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)


def _prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'geopera')}:metrics:task:"


def _cache_redis() -> redis.Redis:
    return _client(settings.CACHES["default"]["LOCATION"])


def task_observed(*, name: str, seconds: float, failed: bool) -> None:
    """Count one finished run of task `name` (called in the worker, after the task)."""
    key = _prefix() + name
    pipe = _cache_redis().pipeline(transaction=False)
    pipe.hincrby(key, "failure" if failed else "success", 1)
    pipe.hincrbyfloat(key, "seconds_sum", seconds)
    for bound in BUCKETS:
        if seconds <= bound:
            pipe.hincrby(key, f"le_{bound}", 1)
    pipe.execute()


@task_prerun.connect
def _task_started(task: Any = None, **_: Any) -> None:
    if task is not None:
        setattr(task.request, _STARTED, time.monotonic())


@task_failure.connect
def _task_failed(sender: Any = None, **_: Any) -> None:
    if sender is not None:
        setattr(sender.request, _FAILED, True)


@task_postrun.connect
def _task_finished(task: Any = None, **_: Any) -> None:
    if task is None:
        return
    started = getattr(task.request, _STARTED, None)
    if started is None:
        return
    try:
        task_observed(
            name=task.name,
            seconds=time.monotonic() - started,
            failed=bool(getattr(task.request, _FAILED, False)),
        )
    except redis.RedisError as exc:
        logger.warning("task metrics of %s not recorded: %s", task.name, exc.__class__.__name__)


def _task_families() -> list[Any]:
    total = CounterMetricFamily(
        "geopera_celery_tasks", "Celery task runs by task and outcome", labels=["task", "state"]
    )
    latency = HistogramMetricFamily(
        "geopera_celery_task_duration_seconds", "Celery task run time by task", labels=["task"]
    )
    client = _cache_redis()
    prefix = _prefix()
    keys = sorted(client.scan_iter(match=prefix + "*", count=500))
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    for key, fields in zip(keys, pipe.execute(), strict=True):
        name = key.decode()[len(prefix) :]
        values = {k.decode(): float(v) for k, v in fields.items()}
        success, failure = values.get("success", 0.0), values.get("failure", 0.0)
        total.add_metric([name, "success"], success)
        total.add_metric([name, "failure"], failure)
        buckets = [(str(b), values.get(f"le_{b}", 0.0)) for b in BUCKETS] + [("+Inf", success + failure)]
        latency.add_metric([name], buckets, values.get("seconds_sum", 0.0))
    return [total, latency]


def _queue_families() -> list[Any]:
    depth = GaugeMetricFamily(
        "geopera_celery_queue_depth", "Messages waiting in the broker queue", labels=["queue"]
    )
    unacked = GaugeMetricFamily(
        "geopera_celery_unacked", "Messages taken by a worker and not yet acknowledged"
    )
    client = _client(settings.CELERY_BROKER_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    pipe = client.pipeline(transaction=False)
    pipe.llen(queue)
    pipe.hlen("unacked")
    waiting, taken = pipe.execute()
    depth.add_metric([queue], waiting)
    unacked.add_metric([], taken)
    return [depth, unacked]


def _decision_families() -> list[Any]:
    from orders.decisions import AbstractDecision, decision_kinds

    pending = GaugeMetricFamily(
        "geopera_pending_decisions", "Decisions waiting for an organization, by kind", labels=["kind"]
    )
    for kind in decision_kinds():
        count = kind.model.objects.filter(decision=AbstractDecision.Decision.PENDING).count()
        pending.add_metric([kind.slug], count)
    return [pending]


class BackgroundWorkCollector(Collector):
    """Read at scrape time; each part that cannot be read is left out (and logged), not a 500."""

    def describe(self) -> list[Any]:
        return []  # nothing to read at registration (no database or Redis before a scrape)

    def collect(self) -> Iterator[Any]:
        for part in (_task_families, _queue_families, _decision_families):
            try:
                yield from part()
            except Exception as exc:  # noqa: BLE001 - a scrape must not fail on one part
                logger.warning("metrics part %s not collected: %s", part.__name__, exc.__class__.__name__)


_registered = False


def collector_register() -> None:
    """Register the collector with the default registry once per process (AppConfig.ready)."""
    global _registered
    if _registered:
        return
    from prometheus_client import REGISTRY

    REGISTRY.register(BackgroundWorkCollector())
    _registered = True
