"""The Celery application. Tasks are discovered from every installed app's `tasks.py`.

Reliability settings (at-least-once delivery, visibility timeout, reconnecting) are in
`geopera_web/settings.py` under "Celery"; the worker heartbeat step is added here."""

from __future__ import annotations

import os

from celery import Celery

from geopera_web.ops import request_id  # noqa: F401  (carries request ids into task headers)
from geopera_web.ops.worker import HeartbeatStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geopera_web.settings")

app = Celery("geopera_web")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["consumer"].add(HeartbeatStep)
app.autodiscover_tasks()
