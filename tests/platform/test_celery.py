from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from geopera_web.api.models import IdempotencyRecord
from geopera_web.api.tasks import purge_expired_idempotency_records
from tests.factories import make_org


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_a_task_to_completion(celery_worker):
    org = make_org(name="Celery Org")
    now = timezone.now()
    IdempotencyRecord.objects.create(
        org=org, operation="x", key="old", request_hash="h", expires_at=now - dt.timedelta(minutes=1)
    )
    IdempotencyRecord.objects.create(
        org=org, operation="x", key="fresh", request_hash="h", expires_at=now + dt.timedelta(hours=1)
    )
    result = purge_expired_idempotency_records.delay()
    assert result.get(timeout=30) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]


def test_beat_schedule_names_only_registered_tasks():
    from django.conf import settings

    from geopera_web.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"beat entry {name} names an unknown task {entry['task']}"
