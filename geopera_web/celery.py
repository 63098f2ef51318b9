"""The Celery application. Tasks are discovered from every installed app's `tasks.py`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geopera_web.settings")

app = Celery("geopera_web")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
