"""The real wiring of watches: an import commits, on_commit queues `match_watches` on Redis, a real
worker matches and the watcher is told (in the app and by e-mail) from the watch.matched event."""

from __future__ import annotations

import json
import time

import pytest
from django.core import mail

from geopera_web.events.models import Notification
from orders.catalog.services import archive_products_ensure, catalog_import
from orders.models import WatchAlert
from orders.watches.services import watch_create
from tests.factories import make_user
from tests.geometry import geojson_box

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def celery_includes():
    return ["celery.contrib.testing.tasks", "geopera_web.api.tasks", "orders.tasks"]


def test_an_import_is_matched_by_a_real_worker_after_commit(org, celery_worker):
    archive_products_ensure()
    user = make_user(org=org, role="operator", email="watcher@acme.example")
    watch_create(org=org, user=user, name="Sydney", aoi=geojson_box(151.0, -34.0, 151.2, -33.8))
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "WORKER-1",
        "collection": "pleiades",
        "geometry": geojson_box(151.05, -33.95, 151.15, -33.85),
        "properties": {
            "datetime": "2026-11-30T00:00:00Z",
            "eo:cloud_cover": 1,
            "gsd": 0.5,
            "view:off_nadir": 5,
        },
    }
    catalog_import(text=json.dumps({"type": "FeatureCollection", "features": [item]}))
    # A bounded wait for the worker, not a timing assertion: the alert commits, then the
    # watch.matched event's fan-out writes the notification and mails it after its own commit.
    for _ in range(150):
        if WatchAlert.objects.exists() and mail.outbox:
            break
        time.sleep(0.1)
    alert = WatchAlert.objects.get()
    assert alert.capture_count == 1 and alert.watch.name == "Sydney"
    assert [m.to for m in mail.outbox] == [["watcher@acme.example"]]
    assert Notification.objects.filter(user=user, kind="watch.matched").count() == 1
