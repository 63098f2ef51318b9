"""/metrics covers the background work (issue 15): task runs by task and outcome with their
latency (counted by the worker that ran them), the broker queue's depth, and pending decisions."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from geopera_web.api.tasks import purge_expired_idempotency_records
from geopera_web.celery import app
from tests.factories import make_study, make_tasking_request

TOKEN = "scrape-secret-456"


def _scrape(settings) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    settings.METRICS_TOKEN = TOKEN
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name.startswith("geopera_")
    }


PURGE = purge_expired_idempotency_records.name


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_task_run_by_a_real_worker_is_counted_with_its_latency(celery_worker, settings):
    assert purge_expired_idempotency_records.delay().get(timeout=30) == 0
    assert purge_expired_idempotency_records.delay().get(timeout=30) == 0
    metrics = _scrape(settings)
    assert metrics[("geopera_celery_tasks_total", (("state", "success"), ("task", PURGE)))] == 2
    assert metrics[("geopera_celery_tasks_total", (("state", "failure"), ("task", PURGE)))] == 0
    assert metrics[("geopera_celery_task_duration_seconds_count", (("task", PURGE),))] == 2
    assert metrics[("geopera_celery_task_duration_seconds_bucket", (("le", "+Inf"), ("task", PURGE)))] == 2
    assert metrics[("geopera_celery_task_duration_seconds_sum", (("task", PURGE),))] > 0


@pytest.mark.django_db
def test_a_failing_task_is_counted_as_a_failure(settings):
    result = purge_expired_idempotency_records.apply(args=("unexpected", "arguments"), throw=False)
    assert result.failed()
    metrics = _scrape(settings)
    assert metrics[("geopera_celery_tasks_total", (("state", "failure"), ("task", PURGE)))] == 1
    assert metrics[("geopera_celery_tasks_total", (("state", "success"), ("task", PURGE)))] == 0


@pytest.mark.django_db
def test_queue_depth_is_what_waits_in_the_broker(settings):
    queue = f"geopera-metrics-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    try:
        for _ in range(3):
            app.send_task(PURGE, queue=queue)
        metrics = _scrape(settings)
        assert metrics[("geopera_celery_queue_depth", (("queue", queue),))] == 3
        assert ("geopera_celery_unacked", ()) in metrics
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


@pytest.mark.django_db
def test_pending_decisions_by_kind(settings, org, operator_user, staff_user):
    from tasking.services import sensor_catalog_seed

    sensor_catalog_seed()
    before = _scrape(settings)[("geopera_pending_decisions", (("kind", "feasibility"),))]
    make_study(make_tasking_request(org, operator_user), staff_user)
    after = _scrape(settings)
    assert after[("geopera_pending_decisions", (("kind", "feasibility"),))] == before + 1
    assert ("geopera_pending_decisions", (("kind", "quotation"),)) in after


@pytest.mark.django_db
def test_a_scrape_survives_the_cache_redis_being_away(settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    metrics = _scrape(settings)
    assert not any(name.startswith("geopera_celery_tasks") for name, _ in metrics)
    assert any(name == "geopera_pending_decisions" for name, _ in metrics)
